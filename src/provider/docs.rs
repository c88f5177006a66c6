//! The documentation under `docs/`, generated from the schema descriptions
//! (and the examples under `examples/`), so that the docs cannot drift from
//! what the provider accepts. `cargo run --bin tidbcloud-docs` writes them; a
//! test fails when they are out of date.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::TidbCloudProvider;
use crate::framework::schema::{AttrType, Attribute, Block, Nesting};
use crate::framework::{Provider, Schema, Type};

/// Every generated file: its path relative to the crate root and its text.
pub fn render_all(root: &Path) -> Vec<(PathBuf, String)> {
    let provider = TidbCloudProvider;
    let mut files = vec![(
        PathBuf::from("docs/index.md"),
        index(&provider.schema(), root),
    )];
    let mut resources = provider.resources();
    resources.sort_by_key(|r| r.type_name());
    for r in resources {
        let name = r.type_name();
        let example = read_example(root, &format!("examples/resources/{name}/resource.tf"));
        let import = read_example(root, &format!("examples/resources/{name}/import.sh"));
        files.push((
            PathBuf::from(format!("docs/resources/{}.md", short(name))),
            page(
                name,
                "Resource",
                &r.schema(),
                example.as_deref(),
                import.as_deref(),
            ),
        ));
    }
    let mut data_sources = provider.data_sources();
    data_sources.sort_by_key(|d| d.type_name());
    for d in data_sources {
        let name = d.type_name();
        let example = read_example(
            root,
            &format!("examples/data-sources/{name}/data-source.tf"),
        );
        files.push((
            PathBuf::from(format!("docs/data-sources/{}.md", short(name))),
            page(name, "Data Source", &d.schema(), example.as_deref(), None),
        ));
    }
    let mut functions = provider.functions();
    functions.sort_by_key(|f| f.name());
    for f in functions {
        let mut out = format!(
            "# {} (Function)\n\n{}\n\n{}\n\n## Signature\n\n```text\n{}(",
            f.name(),
            f.summary(),
            f.description(),
            f.name()
        );
        let params = f.parameters();
        let sig: Vec<String> = params
            .iter()
            .map(|p| format!("{} {}", p.name, type_name(&p.ty)))
            .collect();
        let _ = write!(
            out,
            "{}) {}\n```\n\n",
            sig.join(", "),
            type_name(&f.return_type())
        );
        let example = read_example(
            root,
            &format!("examples/functions/{}/function.tf", f.name()),
        );
        if let Some(example) = example {
            let _ = write!(out, "## Example Usage\n\n```terraform\n{example}```\n\n");
        }
        out.push_str("## Arguments\n\n");
        for (i, p) in params.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. `{}` ({}) {}",
                i + 1,
                p.name,
                type_name(&p.ty),
                p.description
            );
        }
        files.push((
            PathBuf::from(format!("docs/functions/{}.md", f.name())),
            out,
        ));
    }
    files
}

fn short(type_name: &str) -> &str {
    type_name.strip_prefix("tidbcloud_").unwrap_or(type_name)
}

fn read_example(root: &Path, relative: &str) -> Option<String> {
    std::fs::read_to_string(root.join(relative)).ok()
}

fn index(schema: &Schema, root: &Path) -> String {
    let mut out = String::from("# TiDB Cloud Provider\n\n");
    let _ = writeln!(out, "{}\n", schema.description);
    out.push_str("Use the provider through a local build (see the README) under the source address `terraform.local/tidbcloud/tidbcloud`.\n\n");
    if let Some(example) = read_example(root, "examples/provider/provider.tf") {
        let _ = write!(out, "## Example Usage\n\n```terraform\n{}```\n\n", example);
    }
    out.push_str("## Schema\n\n");
    attributes_section(&mut out, &schema.attributes, &schema.blocks);
    out
}

fn page(
    name: &str,
    kind: &str,
    schema: &Schema,
    example: Option<&str>,
    import: Option<&str>,
) -> String {
    let mut out = format!("# {name} ({kind})\n\n{}\n\n", schema.description);
    if let Some(example) = example {
        let _ = write!(out, "## Example Usage\n\n```terraform\n{example}```\n\n");
    }
    out.push_str("## Schema\n\n");
    attributes_section(&mut out, &schema.attributes, &schema.blocks);
    if let Some(import) = import {
        let _ = write!(out, "## Import\n\n```shell\n{import}```\n");
    }
    out
}

fn type_name(ty: &Type) -> String {
    match ty {
        Type::String => "String".into(),
        Type::Number => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(t) => format!("List of {}", type_name(t)),
        Type::Set(t) => format!("Set of {}", type_name(t)),
        Type::Map(t) => format!("Map of {}", type_name(t)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

fn attribute_kind(a: &Attribute) -> String {
    match &a.ty {
        AttrType::Plain(t) => type_name(t),
        AttrType::Nested {
            nesting: Nesting::Single,
            ..
        } => "Attributes".into(),
        AttrType::Nested {
            nesting: Nesting::List,
            ..
        } => "Attributes List".into(),
    }
}

/// Which attributes a section of the schema lists.
type Section = (&'static str, fn(&Attribute) -> bool);

fn attributes_section(out: &mut String, attributes: &[Attribute], blocks: &[Block]) {
    let groups: [Section; 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional && !a.required),
    ];
    let mut nested: Vec<(String, Vec<Attribute>)> = Vec::new();
    for (title, belongs) in groups {
        let mut items: Vec<&Attribute> = attributes.iter().filter(|a| belongs(a)).collect();
        let block_items: Vec<&Block> = if title == "Optional" {
            blocks.iter().collect()
        } else {
            Vec::new()
        };
        if items.is_empty() && block_items.is_empty() {
            continue;
        }
        items.sort_by(|a, b| a.name.cmp(&b.name));
        let _ = writeln!(out, "### {title}\n");
        for a in items {
            let sensitive = if a.sensitive { ", Sensitive" } else { "" };
            let see = if a.nested().is_some() {
                format!(
                    " (see [below for nested schema](#nested-schema-for-{}))",
                    a.name
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "- `{}` ({}{sensitive}) {}{see}",
                a.name,
                attribute_kind(a),
                a.description
            );
            if let Some((_, inner)) = a.nested() {
                nested.push((a.name.clone(), inner.to_vec()));
            }
        }
        for b in block_items {
            let _ = writeln!(
                out,
                "- `{}` (Block) {} (see [below for nested schema](#nested-schema-for-{}))",
                b.name, b.description, b.name
            );
            nested.push((b.name.clone(), b.attributes.clone()));
        }
        out.push('\n');
    }
    for (name, inner) in nested {
        let _ = writeln!(
            out,
            "<a id=\"nested-schema-for-{name}\"></a>\n### Nested Schema for `{name}`\n"
        );
        let mut sub = String::new();
        attributes_section(&mut sub, &inner, &[]);
        out.push_str(&sub.replace("### ", "#### "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed docs are what the schema says; regenerate with
    /// `cargo run --bin tidbcloud-docs` when this fails.
    #[test]
    fn docs_are_up_to_date() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut stale = Vec::new();
        for (path, text) in render_all(root) {
            let on_disk = std::fs::read_to_string(root.join(&path)).unwrap_or_default();
            if on_disk != text {
                stale.push(path.display().to_string());
            }
        }
        assert!(
            stale.is_empty(),
            "out of date (run `cargo run --bin tidbcloud-docs`): {stale:?}"
        );
    }

    #[test]
    fn every_attribute_is_documented() {
        for (path, text) in render_all(Path::new(env!("CARGO_MANIFEST_DIR"))) {
            assert!(
                !text.contains(") \n"),
                "{} has an attribute without description",
                path.display()
            );
        }
    }
}
