//! The documentation under `docs/`: generated pages match the schemas,
//! every page the Registry publishes carries its frontmatter, and every link
//! and every referenced repository file exists.

use std::path::{Path, PathBuf};

use tidbcloud_provider::provider::docs::render_all;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every Markdown file under `dir`, recursively.
fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The committed docs are what the schemas say; regenerate with
/// `cargo run --bin tidbcloud-docs` when this fails.
#[test]
fn docs_are_up_to_date() {
    let files = render_all(root()).expect("render the docs");
    let mut stale = Vec::new();
    for (path, text) in &files {
        let on_disk = std::fs::read_to_string(root().join(path)).unwrap_or_default();
        if &on_disk != text {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date (run `cargo run --bin tidbcloud-docs`): {stale:?}"
    );
    // A page left behind by a renamed resource is stale too.
    let generated: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
    for kind in ["resources", "data-sources", "functions"] {
        for page in markdown_files(&root().join("docs").join(kind)) {
            let page = relative(&page);
            assert!(
                generated.contains(&page),
                "{page} is not generated from any schema; remove it"
            );
        }
    }
}

#[test]
fn every_attribute_and_argument_is_documented() {
    for (path, text) in render_all(root()).expect("render the docs") {
        for line in text.lines() {
            let item = line.starts_with("- `") || line.starts_with("1. `");
            // `- `name` (Kind)` with nothing after the kind.
            if item && line.ends_with(')') && line.matches('(').count() == 1 {
                panic!("{}: no description: {line}", path.display());
            }
        }
    }
}

/// The pages the Registry publishes: the index, resources, data sources,
/// functions and guides.
fn registry_pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("docs/index.md")];
    for kind in ["resources", "data-sources", "functions", "guides"] {
        let dir = root().join("docs").join(kind);
        let found = markdown_files(&dir);
        assert!(!found.is_empty(), "{} has no pages", dir.display());
        pages.extend(found);
    }
    pages
}

#[test]
fn every_registry_page_has_frontmatter() {
    for page in registry_pages() {
        let text = std::fs::read_to_string(&page).expect("page");
        let name = relative(&page);
        let body = text
            .strip_prefix("---\n")
            .unwrap_or_else(|| panic!("{name} does not start with frontmatter (`---`)"));
        let (front, rest) = body
            .split_once("\n---\n")
            .unwrap_or_else(|| panic!("{name}: frontmatter is not closed with `---`"));
        for key in ["page_title: \"", "subcategory: \"", "description: |-\n  "] {
            assert!(
                front.starts_with(key) || front.contains(&format!("\n{key}")),
                "{name}: frontmatter lacks `{}`:\n{front}",
                key.trim_end()
            );
        }
        assert!(
            !front.contains('`'),
            "{name}: the frontmatter description should be plain text:\n{front}"
        );
        assert!(
            rest.trim_start().starts_with("# "),
            "{name}: the page should open with its title after the frontmatter"
        );
    }
}

#[test]
fn function_pages_are_in_the_registry_format() {
    for page in markdown_files(&root().join("docs/functions")) {
        let text = std::fs::read_to_string(&page).expect("page");
        let name = page.file_stem().expect("name").to_string_lossy();
        assert!(
            text.contains(&format!("page_title: \"{name} function - tidbcloud\"\n")),
            "{}",
            relative(&page)
        );
        for part in [
            format!("\n# function: {name}\n"),
            "\n## Signature\n\n```text\n".to_string(),
            format!("\n{name}("),
            "\n## Arguments\n\n1. `".to_string(),
        ] {
            assert!(text.contains(&part), "{} lacks {part:?}", relative(&page));
        }
    }
}

#[test]
fn resource_pages_show_timeouts_as_an_optional_block_and_both_import_forms() {
    for page in markdown_files(&root().join("docs/resources")) {
        let text = std::fs::read_to_string(&page).expect("page");
        let name = relative(&page);
        assert!(
            text.contains("- `timeouts` (Block, Optional) "),
            "{name}: timeouts"
        );
        let import = text
            .find("\n## Import\n")
            .unwrap_or_else(|| panic!("{name}: no Import"));
        let block = text[import..]
            .find("```terraform\n")
            .map(|i| &text[import + i..])
            .unwrap_or_else(|| panic!("{name}: no import block"));
        assert!(block.contains("import {\n  to = "), "{name}: import block");
        assert!(
            text[import..].contains("```shell\n") && text[import..].contains("terraform import "),
            "{name}: no terraform import command"
        );
    }
}

/// The targets of Markdown links `[text](target)` in `text`.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            found.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    found
}

/// The anchors a page offers: `<a id="...">` and GitHub-style heading slugs.
fn anchors(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("<a id=\"") {
            if let Some(end) = rest.find('"') {
                found.push(rest[..end].to_string());
            }
        }
        let heading = line.trim_start_matches('#');
        if heading.len() < line.len() && heading.starts_with(' ') {
            let slug: String = heading
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect();
            found.push(slug);
        }
    }
    found
}

/// Paths of repository files a page mentions in code spans, such as
/// `examples/aws-kafka` or `modules/aws-kafka-privatelink/main.tf`.
fn repository_paths(text: &str) -> Vec<String> {
    let tops = [
        "examples/",
        "modules/",
        "docs/",
        "src/",
        "tests/",
        "scripts/",
        "benches/",
        "proto/",
        "reference/",
    ];
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| {
            tops.iter().any(|t| span.starts_with(t))
                && span
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
        })
        .map(|s| s.trim_end_matches('/').to_string())
        .collect()
}

#[test]
fn every_link_and_referenced_file_exists() {
    let mut broken = Vec::new();
    for page in markdown_files(&root().join("docs")) {
        let text = std::fs::read_to_string(&page).expect("page");
        let name = relative(&page);
        let dir = page.parent().expect("directory");
        for link in links(&text) {
            if link.starts_with("http://") || link.starts_with("https://") {
                continue;
            }
            let (file, anchor) = match link.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (link.as_str(), None),
            };
            let target = if file.is_empty() {
                page.clone()
            } else {
                dir.join(file)
            };
            if !target.exists() {
                broken.push(format!("{name}: {link} (no {})", relative(&target)));
                continue;
            }
            if let Some(anchor) = anchor {
                let target_text = std::fs::read_to_string(&target).unwrap_or_default();
                if !anchors(&target_text).iter().any(|a| a == anchor) {
                    broken.push(format!("{name}: {link} (no such anchor)"));
                }
            }
        }
        for path in repository_paths(&text) {
            if !root().join(&path).exists() {
                broken.push(format!("{name}: `{path}` is not in the repository"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "broken references:\n{}",
        broken.join("\n")
    );
}

/// `key = "value"` of `section` in Cargo.toml (`[package]` or
/// `[package.metadata.terraform]`).
fn manifest_value(section: &str, key: &str) -> String {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let manifest = format!("\n{manifest}");
    let body = manifest
        .split(&format!("\n[{section}]\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no [{section}] in Cargo.toml"));
    body.lines()
        .take_while(|l| !l.starts_with('['))
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
        })
        .unwrap_or_else(|| panic!("no {key} in [{section}] of Cargo.toml"))
}

/// Every `source = "…"` in `text`, with its line number and the lines of
/// the block around it up to the closing brace.
fn sources(text: &str) -> Vec<(usize, String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() != "source" {
            continue;
        }
        let value = value.trim();
        let value = value.split(" #").next().unwrap_or(value).trim();
        let Some(value) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
            continue;
        };
        let block: String = lines[i..]
            .iter()
            .take_while(|l| l.trim() != "}")
            .map(|l| format!("{l}\n"))
            .collect();
        found.push((i + 1, value.to_string(), block));
    }
    found
}

/// Every `.tf` and `.md` file under `dir`.
fn config_and_doc_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e == "md" || e == "tf" || e == "tfvars")
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The provider's address and the repository are stated once, in
/// Cargo.toml; every `source` in the docs, the examples and the modules is
/// this provider's address, another provider's, or a module: in the docs
/// (which the Registry shows without the repository) the repository's git
/// address at this version's tag, elsewhere that or a path that exists.
#[test]
fn every_source_names_the_stated_provider_address_or_a_reachable_module() {
    let ours = manifest_value("package.metadata.terraform", "source");
    let repository = manifest_value("package", "repository");
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        repository.starts_with("https://") && !repository.ends_with('/'),
        "{repository}"
    );
    assert_eq!(
        ours.split('/').count(),
        3,
        "HOSTNAME/NAMESPACE/TYPE: {ours}"
    );
    assert!(ours.ends_with("/tidbcloud"), "{ours}");
    // The release script's default and the binary's debug-mode address.
    for (file, line) in [
        ("scripts/release.sh", format!("source_address={ours}\n")),
        (
            "src/main.rs",
            format!("const DEFAULT_ADDRESS: &str = \"{ours}\";"),
        ),
    ] {
        let text = std::fs::read_to_string(root().join(file)).expect(file);
        assert!(text.contains(&line), "{file} does not say {line:?}");
    }
    // Other providers the configurations use.
    let others = ["hashicorp/aws", "aliyun/alicloud"];
    let git_prefix = format!("git::{repository}.git//");
    let git_suffix = format!("?ref=v{version}");
    let minor = version.rsplit_once('.').map(|(m, _)| m).unwrap_or(version);
    let constraint = format!("version = \"~> {minor}\"");

    let mut problems = Vec::new();
    let mut files = Vec::new();
    for dir in ["docs", "examples", "modules"] {
        files.extend(config_and_doc_files(&root().join(dir)));
    }
    files.push(root().join("README.md"));
    for file in files {
        let name = relative(&file);
        let text = std::fs::read_to_string(&file).expect("read");
        let in_docs = name.starts_with("docs/");
        for (line, value, block) in sources(&text) {
            let at = format!("{name}:{line}: source = {value:?}");
            if value == ours {
                if in_docs && !block.contains(&constraint) {
                    problems.push(format!("{at} has no `{constraint}` beside it"));
                }
            } else if others.contains(&value.as_str()) {
            } else if let Some(rest) = value.strip_prefix(&git_prefix) {
                match rest.strip_suffix(&git_suffix) {
                    Some(path) if root().join(path).join("main.tf").is_file() => {}
                    Some(path) => problems.push(format!("{at}: no module at {path}")),
                    None => problems.push(format!("{at}: not at ref v{version}")),
                }
            } else if value.starts_with("./") || value.starts_with("../") {
                let base = file.parent().expect("directory");
                if in_docs {
                    problems.push(format!(
                        "{at}: a path Registry readers do not have; use {git_prefix}<path>{git_suffix}"
                    ));
                } else if name.ends_with(".md") || !base.join(&value).join("main.tf").is_file() {
                    // A README's path is relative to the reader's configuration.
                    problems.push(format!("{at}: use {git_prefix}<path>{git_suffix}"));
                }
            } else {
                problems.push(format!(
                    "{at}: neither this provider ({ours}), another known provider ({others:?}) nor a module of {repository}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Links into the repository (`<repository>/tree/v<version>/<path>` or
/// `/blob/`) name files that exist, at this version's tag.
#[test]
fn links_into_the_repository_name_existing_files_at_this_version() {
    let repository = manifest_value("package", "repository");
    let version = env!("CARGO_PKG_VERSION");
    let mut problems = Vec::new();
    let mut pages = markdown_files(&root().join("docs"));
    pages.extend(markdown_files(&root().join("modules")));
    for page in pages {
        let text = std::fs::read_to_string(&page).expect("page");
        for link in links(&text) {
            let Some(rest) = link.strip_prefix(&format!("{repository}/")) else {
                continue;
            };
            let path = rest
                .strip_prefix(&format!("tree/v{version}/"))
                .or_else(|| rest.strip_prefix(&format!("blob/v{version}/")));
            match path {
                Some(path) if root().join(path.split('#').next().unwrap_or(path)).exists() => {}
                _ => problems.push(format!("{}: {link}", relative(&page))),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The Registry shows `docs/` without the repository: the guides mention
/// no repository path in code spans (link to it instead), and the index's
/// example pins a version and manages something.
#[test]
fn registry_pages_stand_without_the_repository() {
    let mut problems = Vec::new();
    for page in registry_pages() {
        let text = std::fs::read_to_string(&page).expect("page");
        for path in repository_paths(&text) {
            problems.push(format!(
                "{}: `{path}` (a Registry reader has no checkout: link to it)",
                relative(&page)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let index = std::fs::read_to_string(root().join("docs/index.md")).expect("index");
    let example = &index[index.find("## Example Usage").expect("Example Usage")..];
    let example = &example[..example[3..].find("\n## ").map_or(example.len(), |i| i + 3)];
    assert!(
        example.contains("resource \"tidbcloud_private_link_connection\""),
        "{example}"
    );
    // A guide on trying the provider without an account.
    let guide = std::fs::read_to_string(root().join("docs/guides/try-without-an-account.md"))
        .expect("docs/guides/try-without-an-account.md");
    assert!(guide.contains("tidbcloud-sim"), "{guide}");
}

/// Every function page lists the ways a call fails, with the argument and
/// the message.
#[test]
fn function_pages_list_their_errors() {
    for page in markdown_files(&root().join("docs/functions")) {
        let text = std::fs::read_to_string(&page).expect("page");
        let errors = text
            .split("\n## Errors\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{}: no Errors section", relative(&page)));
        assert!(
            errors.lines().filter(|l| l.starts_with("- ")).count() >= 2,
            "{}: {errors}",
            relative(&page)
        );
    }
    // Each documented case fails, on an argument: the page quotes that error.
    use tidbcloud_provider::framework::Provider as _;
    for function in tidbcloud_provider::provider::TidbCloudProvider.functions() {
        for case in function.error_cases() {
            let error = function
                .call(&case.arguments)
                .err()
                .unwrap_or_else(|| panic!("{}: {:?} does not fail", function.name(), case.when));
            assert!(error.argument.is_some(), "{}: {error:?}", function.name());
        }
    }
}
