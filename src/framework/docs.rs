//! Markdown documentation from schemas, in the layout the Terraform Registry
//! publishes (the one `tfplugindocs` writes): YAML frontmatter, then the
//! page's description, examples, the schema grouped into Required, Optional
//! and Read-Only, nested schemas below with anchors, and for resources both
//! import forms; function pages as `function: <name>` with a signature and
//! numbered arguments.
//!
//! Everything here works on text it is given: which examples exist, how a
//! page is titled and grouped and where it is written is up to the caller.

use std::fmt::Write as _;

use super::resource::Function;
use super::schema::{AttrType, Attribute, Block, Nesting, Schema};
use super::value::{Type, Value};

/// The frontmatter the Registry reads: `page_title`, `subcategory` and a
/// plain-text `description`.
pub fn frontmatter(page_title: &str, subcategory: &str, description: &str) -> String {
    let mut out = String::from("---\n");
    let _ = writeln!(out, "page_title: {}", yaml_string(page_title));
    let _ = writeln!(out, "subcategory: {}", yaml_string(subcategory));
    out.push_str("description: |-\n");
    let plain = plain_text(description);
    for line in plain.trim().lines() {
        if line.trim().is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "  {}", line.trim_end());
        }
    }
    out.push_str("---\n");
    out
}

fn yaml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Markdown reduced to plain text, for frontmatter: code spans lose their
/// backticks and links keep only their text.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            rest = &rest[1..];
            continue;
        }
        if c == '[' {
            // [text](target) -> text
            if let Some(close) = rest.find("](") {
                if let Some(end) = rest[close..].find(')') {
                    out.push_str(&rest[1..close]);
                    rest = &rest[close + end + 1..];
                    continue;
                }
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A fenced code block of `language` holding `text`.
pub fn code_block(language: &str, text: &str) -> String {
    format!("```{language}\n{}\n```\n", text.trim_end())
}

/// What a resource or data source page is made of.
pub struct ResourcePage<'a> {
    /// The type name, e.g. `example_thing`.
    pub name: &'a str,
    /// `Resource` or `Data Source`.
    pub kind: &'a str,
    /// The provider's name as shown in page titles.
    pub provider: &'a str,
    pub subcategory: &'a str,
    pub schema: &'a Schema,
    /// Terraform configurations shown under Example Usage, in order.
    pub examples: Vec<String>,
    /// An `import { to = ..., id = ... }` configuration.
    pub import_block: Option<String>,
    /// A shell snippet running `terraform import`.
    pub import_command: Option<String>,
}

/// A resource or data source page.
pub fn resource_page(page: &ResourcePage<'_>) -> String {
    let description = page.schema.description.trim();
    let mut out = frontmatter(
        &format!("{} {} - {}", page.name, page.kind, page.provider),
        page.subcategory,
        description,
    );
    let _ = write!(
        out,
        "\n# {} ({})\n\n{description}\n\n",
        page.name, page.kind
    );
    examples_section(&mut out, &page.examples);
    out.push_str(schema_markdown(page.schema).trim_end());
    out.push('\n');
    if page.import_block.is_some() || page.import_command.is_some() {
        out.push_str("\n## Import\n\nImport is supported using the following syntax:\n");
    }
    if let Some(block) = &page.import_block {
        let _ = write!(
            out,
            "\nIn Terraform v1.5.0 and later, use an [`import` block](https://developer.hashicorp.com/terraform/language/import) with the `id` attribute, for example:\n\n{}",
            code_block("terraform", block)
        );
    }
    if let Some(command) = &page.import_command {
        let _ = write!(
            out,
            "\nThe [`terraform import` command](https://developer.hashicorp.com/terraform/cli/commands/import) can also be used, for example:\n\n{}",
            code_block("shell", command)
        );
    }
    out
}

fn examples_section(out: &mut String, examples: &[String]) {
    if examples.is_empty() {
        return;
    }
    out.push_str("## Example Usage\n");
    for example in examples {
        let _ = write!(out, "\n{}", code_block("terraform", example));
    }
    out.push('\n');
}

/// A function page: `function: <name>`, its description, examples, the
/// signature and the numbered arguments.
pub fn function_page(
    function: &dyn Function,
    provider: &str,
    subcategory: &str,
    examples: &[String],
) -> String {
    let name = function.name();
    let mut out = frontmatter(
        &format!("{name} function - {provider}"),
        subcategory,
        function.summary(),
    );
    let _ = write!(
        out,
        "\n# function: {name}\n\n{}\n\n",
        function.description().trim()
    );
    examples_section(&mut out, examples);
    let parameters = function.parameters();
    let signature: Vec<String> = parameters
        .iter()
        .map(|p| format!("{} {}", p.name, friendly_type(&p.ty)))
        .collect();
    let _ = write!(
        out,
        "## Signature\n\n{}\n## Arguments\n\n",
        code_block(
            "text",
            &format!(
                "{name}({}) {}",
                signature.join(", "),
                friendly_type(&function.return_type())
            )
        )
    );
    for p in &parameters {
        let _ = writeln!(
            out,
            "1. `{}` ({}) {}",
            p.name,
            type_name(&p.ty),
            p.description.trim()
        );
    }
    let _ = write!(
        out,
        "\n## Return Type\n\nThe function returns a {}.\n",
        friendly_type(&function.return_type())
    );
    let cases = function.error_cases();
    if !cases.is_empty() {
        let _ = write!(
            out,
            "\n## Errors\n\nThe call fails, naming the argument, when:\n\n"
        );
        for case in &cases {
            let call = format!(
                "provider::{provider}::{name}({})",
                case.arguments
                    .iter()
                    .map(literal)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            // The message is the function's own, from these arguments.
            let failure = match function.call(&case.arguments) {
                Err(e) => {
                    let argument = e
                        .argument
                        .and_then(|i| parameters.get(usize::try_from(i).ok()?))
                        .map_or("the call".to_string(), |p| format!("`{}`", p.name));
                    format!("fails on {argument} with `{}`", e.text.replace('`', "'"))
                }
                Ok(v) => format!("returns {} (this case does not fail)", literal(&v)),
            };
            let _ = writeln!(
                out,
                "- {}. For example, `{call}` {failure}",
                case.when.trim_end_matches('.')
            );
        }
    }
    out
}

/// A value as a Terraform literal, for examples.
fn literal(value: &Value) -> String {
    if let Some(s) = value.as_str() {
        return serde_json::to_string(s).unwrap_or_default();
    }
    if let Some(n) = value.as_number() {
        return n.to_string();
    }
    "null".to_string()
}

/// A type as Terraform writes it in signatures: `string`, `list of number`.
pub fn friendly_type(ty: &Type) -> String {
    match ty {
        Type::String => "string".into(),
        Type::Number => "number".into(),
        Type::Bool => "bool".into(),
        Type::Dynamic => "dynamic".into(),
        Type::List(t) => format!("list of {}", friendly_type(t)),
        Type::Set(t) => format!("set of {}", friendly_type(t)),
        Type::Map(t) => format!("map of {}", friendly_type(t)),
        Type::Object(_) => "object".into(),
        Type::Tuple(_) => "tuple".into(),
    }
}

/// A type as the schema lists show it: `String`, `List of String`.
pub fn type_name(ty: &Type) -> String {
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

/// The `## Schema` section of a schema: its attributes and blocks by group,
/// then every nested schema.
pub fn schema_markdown(schema: &Schema) -> String {
    let mut out = String::from("## Schema\n\n");
    let mut nested = Vec::new();
    let items: Vec<Item<'_>> = schema
        .attributes
        .iter()
        .map(Item::Attribute)
        .chain(schema.blocks.iter().map(Item::Block))
        .collect();
    write_group_items(&mut out, &[], &items, None, true, &mut nested);
    write_nested(&mut out, nested);
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Required,
    Optional,
    ReadOnly,
}

impl Group {
    const ALL: [Group; 3] = [Group::Required, Group::Optional, Group::ReadOnly];

    fn title(self, top_level: bool) -> &'static str {
        match (self, top_level) {
            (Group::Required, true) => "### Required",
            (Group::Optional, true) => "### Optional",
            (Group::ReadOnly, true) => "### Read-Only",
            (Group::Required, false) => "Required:",
            (Group::Optional, false) => "Optional:",
            (Group::ReadOnly, false) => "Read-Only:",
        }
    }
}

#[derive(Clone, Copy)]
enum Item<'a> {
    Attribute(&'a Attribute),
    Block(&'a Block),
}

impl Item<'_> {
    fn name(&self) -> &str {
        match self {
            Item::Attribute(a) => &a.name,
            Item::Block(b) => &b.name,
        }
    }

    /// The group of an item; an attribute without any flag (the children of
    /// a read-only nested attribute may carry none) takes its parent's.
    fn group(&self, parent: Option<Group>) -> Group {
        match self {
            Item::Attribute(a) if a.required => Group::Required,
            Item::Attribute(a) if a.optional => Group::Optional,
            Item::Attribute(a) if a.computed => Group::ReadOnly,
            Item::Attribute(_) => parent.unwrap_or(Group::Optional),
            Item::Block(b) => block_group(b),
        }
    }
}

/// A block without minimum items is optional when any of its attributes can
/// be set, read-only when none can.
fn block_group(block: &Block) -> Group {
    if block.attributes.is_empty() || block.attributes.iter().any(|a| a.required || a.optional) {
        Group::Optional
    } else {
        Group::ReadOnly
    }
}

/// A nested schema still to be written below the lists.
struct Nested<'a> {
    anchor: String,
    path: Vec<String>,
    items: Vec<Item<'a>>,
    group: Group,
    /// Blocks list their children by their own groups; nested attributes
    /// as well, defaulting to the parent's group.
    is_block: bool,
}

fn write_group_items<'a>(
    out: &mut String,
    parents: &[String],
    items: &[Item<'a>],
    parent_group: Option<Group>,
    top_level: bool,
    nested: &mut Vec<Nested<'a>>,
) {
    for group in Group::ALL {
        let mut members: Vec<&Item<'a>> = items
            .iter()
            .filter(|i| i.group(parent_group) == group)
            .collect();
        if members.is_empty() {
            continue;
        }
        members.sort_by(|a, b| a.name().cmp(b.name()));
        let _ = writeln!(out, "{}\n", group.title(top_level));
        for item in members {
            let mut path = parents.to_vec();
            path.push(item.name().to_string());
            let (kind, description, children, is_block, prefix) = match item {
                Item::Attribute(a) => {
                    let sensitive = if a.sensitive { ", Sensitive" } else { "" };
                    let kind = format!("{}{sensitive}", attribute_kind(a));
                    let children = a
                        .nested()
                        .map(|(_, inner)| inner.iter().collect::<Vec<_>>());
                    (
                        kind,
                        a.description.trim(),
                        children.map(|c| c.into_iter().map(Item::Attribute).collect()),
                        false,
                        "nestedatt",
                    )
                }
                Item::Block(b) => {
                    let kind = match (b.nesting, block_group(b)) {
                        (Nesting::List, _) => "Block List".to_string(),
                        (Nesting::Single, Group::ReadOnly) => "Block, Read-only".to_string(),
                        (Nesting::Single, _) => "Block, Optional".to_string(),
                    };
                    (
                        kind,
                        b.description.trim(),
                        Some(b.attributes.iter().map(Item::Attribute).collect()),
                        true,
                        "nestedblock",
                    )
                }
            };
            let _ = write!(out, "- `{}` ({kind})", item.name());
            if !description.is_empty() {
                let _ = write!(out, " {description}");
            }
            if let Some(children) = children {
                let anchor = format!("{prefix}--{}", path.join("--"));
                let _ = write!(out, " (see [below for nested schema](#{anchor}))");
                nested.push(Nested {
                    anchor,
                    path,
                    items: children,
                    group,
                    is_block,
                });
            }
            out.push('\n');
        }
        out.push('\n');
    }
}

fn write_nested(out: &mut String, nested: Vec<Nested<'_>>) {
    for n in nested {
        let _ = write!(
            out,
            "<a id=\"{}\"></a>\n### Nested Schema for `{}`\n\n",
            n.anchor,
            n.path.join(".")
        );
        let mut inner = Vec::new();
        let parent = if n.is_block { None } else { Some(n.group) };
        write_group_items(out, &n.path, &n.items, parent, false, &mut inner);
        write_nested(out, inner);
        out.push('\n');
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

/// Replaces the text between `<!-- BEGIN GENERATED name -->` and
/// `<!-- END GENERATED name -->` in a hand-written page, so that a page can
/// carry generated parts (a schema, an example) in prose written by hand.
pub fn splice(page: &str, name: &str, content: &str) -> Result<String, String> {
    let begin = format!("<!-- BEGIN GENERATED {name} -->\n");
    let end = format!("<!-- END GENERATED {name} -->");
    let start = page
        .find(&begin)
        .ok_or_else(|| format!("no `{}` marker", begin.trim_end()))?
        + begin.len();
    let stop = page[start..]
        .find(&end)
        .ok_or_else(|| format!("no `{end}` marker after `{}`", begin.trim_end()))?
        + start;
    Ok(format!(
        "{}{}\n{}",
        &page[..start],
        content.trim_end(),
        &page[stop..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{FunctionError, Parameter, Value};

    fn schema() -> Schema {
        let mut schema = Schema::new(
            "A `thing`. See [the guide](guides/x.md).",
            vec![
                Attribute::string("name")
                    .required()
                    .description("The name."),
                Attribute::string("secret")
                    .optional()
                    .sensitive()
                    .description("A secret."),
                Attribute::single_nested(
                    "service",
                    vec![
                        Attribute::string("name")
                            .required()
                            .description("Its name."),
                        Attribute::string("endpoint_id")
                            .computed()
                            .description("Its endpoint."),
                    ],
                )
                .required()
                .description("The service."),
                Attribute::list_nested(
                    "items",
                    vec![Attribute::string("id").description("An item id.")],
                )
                .computed()
                .description("The items."),
            ],
        );
        schema.blocks = vec![Block::single(
            "timeouts",
            "How long to wait.",
            vec![Attribute::string("create")
                .optional()
                .description("Create timeout.")],
        )];
        schema
    }

    #[test]
    fn schema_groups_sorts_and_links_nested_schemas() {
        let text = schema_markdown(&schema());
        let expected = "## Schema

### Required

- `name` (String) The name.
- `service` (Attributes) The service. (see [below for nested schema](#nestedatt--service))

### Optional

- `secret` (String, Sensitive) A secret.
- `timeouts` (Block, Optional) How long to wait. (see [below for nested schema](#nestedblock--timeouts))

### Read-Only

- `items` (Attributes List) The items. (see [below for nested schema](#nestedatt--items))

<a id=\"nestedatt--service\"></a>
### Nested Schema for `service`

Required:

- `name` (String) Its name.

Read-Only:

- `endpoint_id` (String) Its endpoint.


<a id=\"nestedblock--timeouts\"></a>
### Nested Schema for `timeouts`

Optional:

- `create` (String) Create timeout.


<a id=\"nestedatt--items\"></a>
### Nested Schema for `items`

Read-Only:

- `id` (String) An item id.


";
        assert_eq!(text, expected);
    }

    #[test]
    fn resource_page_has_frontmatter_and_both_import_forms() {
        let schema = schema();
        let page = resource_page(&ResourcePage {
            name: "x_thing",
            kind: "Resource",
            provider: "x",
            subcategory: "Things",
            schema: &schema,
            examples: vec!["resource \"x_thing\" \"a\" {}\n".into()],
            import_block: Some("import {\n  to = x_thing.a\n  id = \"1\"\n}\n".into()),
            import_command: Some("terraform import x_thing.a 1\n".into()),
        });
        assert!(
            page.starts_with(
                "---\npage_title: \"x_thing Resource - x\"\nsubcategory: \"Things\"\ndescription: |-\n  A thing. See the guide.\n---\n\n# x_thing (Resource)\n\nA `thing`."
            ),
            "{page}"
        );
        assert!(page.contains(
            "## Example Usage\n\n```terraform\nresource \"x_thing\" \"a\" {}\n```\n\n## Schema"
        ));
        let import = page.find("## Import").expect("import section");
        let block = page.find("```terraform\nimport {").expect("import block");
        let command = page
            .find("```shell\nterraform import x_thing.a 1\n```\n")
            .expect("CLI");
        assert!(import < block && block < command, "{page}");
        assert!(page.ends_with("```\n") && !page.ends_with("\n\n"));
    }

    struct Echo;

    impl Function for Echo {
        fn name(&self) -> &'static str {
            "echo"
        }
        fn summary(&self) -> &'static str {
            "Returns its `input`"
        }
        fn description(&self) -> &'static str {
            "Returns the input, repeated."
        }
        fn parameters(&self) -> Vec<Parameter> {
            vec![
                Parameter {
                    name: "input",
                    ty: Type::String,
                    description: "What to echo.",
                },
                Parameter {
                    name: "times",
                    ty: Type::list(Type::Number),
                    description: "How often.",
                },
            ]
        }
        fn return_type(&self) -> Type {
            Type::String
        }
        fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
            Ok(arguments[0].clone())
        }
    }

    #[test]
    fn function_page_in_registry_format() {
        let page = function_page(&Echo, "x", "", &[]);
        assert!(page.starts_with(
            "---\npage_title: \"echo function - x\"\nsubcategory: \"\"\ndescription: |-\n  Returns its input\n---\n\n# function: echo\n\nReturns the input, repeated.\n\n## Signature\n\n```text\necho(input string, times list of number) string\n```\n\n## Arguments\n\n1. `input` (String) What to echo.\n1. `times` (List of Number) How often.\n"
        ), "{page}");
    }

    #[test]
    fn splice_replaces_only_the_marked_part() {
        let page =
            "intro\n<!-- BEGIN GENERATED schema -->\nold\n<!-- END GENERATED schema -->\noutro\n";
        assert_eq!(
            splice(page, "schema", "new\n").expect("spliced"),
            "intro\n<!-- BEGIN GENERATED schema -->\nnew\n<!-- END GENERATED schema -->\noutro\n"
        );
        assert!(splice("nothing", "schema", "x").is_err());
    }
}
