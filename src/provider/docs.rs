//! The documentation under `docs/`: the provider's pages as the Terraform
//! Registry publishes them, generated from the schema descriptions and the
//! examples under `examples/`, so that the docs cannot drift from what the
//! provider accepts. `cargo run --bin tidbcloud-docs` writes them; a test
//! fails when they are out of date.
//!
//! The layout (which example files a page shows, titles, subcategories) is
//! this provider's; the rendering is the framework's (`framework::docs`).
//! `docs/index.md` and `docs/guides/` are written by hand: only the parts of
//! the index between `BEGIN GENERATED`/`END GENERATED` markers are
//! generated.

use std::path::{Path, PathBuf};

use super::{TidbCloudProvider, TYPE_NAME};
use crate::framework::docs::{self, ResourcePage};
use crate::framework::Provider;

/// The subcategory of resource and data source pages in the Registry's
/// navigation.
const SUBCATEGORY: &str = "Private Link";

/// Every generated file: its path relative to the crate root and its text.
/// Fails when the hand-written index lacks its markers.
pub fn render_all(root: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let provider = TidbCloudProvider;
    let mut files = vec![(PathBuf::from("docs/index.md"), index(&provider, root)?)];
    let mut resources = provider.resources();
    resources.sort_by_key(|r| r.type_name());
    for r in resources {
        let name = r.type_name();
        let dir = format!("examples/resources/{name}");
        let schema = r.schema();
        let text = docs::resource_page(&ResourcePage {
            name,
            kind: "Resource",
            provider: TYPE_NAME,
            subcategory: SUBCATEGORY,
            schema: &schema,
            examples: read_example(root, &format!("{dir}/resource.tf"))
                .into_iter()
                .collect(),
            import_block: read_example(root, &format!("{dir}/import-by-string-id.tf")),
            import_command: read_example(root, &format!("{dir}/import.sh")),
        });
        files.push((
            PathBuf::from(format!("docs/resources/{}.md", short(name))),
            text,
        ));
    }
    let mut data_sources = provider.data_sources();
    data_sources.sort_by_key(|d| d.type_name());
    for d in data_sources {
        let name = d.type_name();
        let schema = d.schema();
        let text = docs::resource_page(&ResourcePage {
            name,
            kind: "Data Source",
            provider: TYPE_NAME,
            subcategory: SUBCATEGORY,
            schema: &schema,
            examples: read_example(
                root,
                &format!("examples/data-sources/{name}/data-source.tf"),
            )
            .into_iter()
            .collect(),
            import_block: None,
            import_command: None,
        });
        files.push((
            PathBuf::from(format!("docs/data-sources/{}.md", short(name))),
            text,
        ));
    }
    let mut functions = provider.functions();
    functions.sort_by_key(|f| f.name());
    for f in functions {
        let examples: Vec<String> = read_example(
            root,
            &format!("examples/functions/{}/function.tf", f.name()),
        )
        .into_iter()
        .collect();
        files.push((
            PathBuf::from(format!("docs/functions/{}.md", f.name())),
            docs::function_page(f.as_ref(), TYPE_NAME, "", &examples),
        ));
    }
    Ok(files)
}

fn short(type_name: &str) -> &str {
    type_name
        .strip_prefix(TYPE_NAME)
        .and_then(|s| s.strip_prefix('_'))
        .unwrap_or(type_name)
}

fn read_example(root: &Path, relative: &str) -> Option<String> {
    std::fs::read_to_string(root.join(relative)).ok()
}

/// The hand-written `docs/index.md` with its example and schema regenerated.
fn index(provider: &TidbCloudProvider, root: &Path) -> Result<String, String> {
    let path = root.join("docs/index.md");
    let page = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let example = read_example(root, "examples/provider/provider.tf")
        .ok_or("examples/provider/provider.tf is missing")?;
    let page = docs::splice(&page, "example", &docs::code_block("terraform", &example))
        .map_err(|e| format!("docs/index.md: {e}"))?;
    docs::splice(&page, "schema", &docs::schema_markdown(&provider.schema()))
        .map_err(|e| format!("docs/index.md: {e}"))
}
