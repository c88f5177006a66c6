//! The layering rule of ARCHITECTURE.md, enforced: every `crate::<module>`
//! path (also inside `use crate::{…}` groups) and every `super::` that
//! climbs out of a top-level module is an edge between top-level modules of
//! the library, and each edge must be in [`ALLOWED`]. The simulator (a
//! separate binary) must use nothing of the library. Reads the sources only;
//! nothing is built.
//!
//! `cargo test --test layers -- --nocapture` prints the import graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Which top-level modules each top-level module of the library may use.
/// Higher layers first; a module may always use itself.
const ALLOWED: &[(&str, &[&str])] = &[
    // The composition root: provider schema and configure, the registration list.
    (
        "provider",
        &[
            "resources",
            "data_sources",
            "functions",
            "services",
            "framework",
            "api",
        ],
    ),
    ("resources", &["services", "framework", "api"]),
    ("data_sources", &["services", "framework", "api"]),
    ("functions", &["services", "framework"]),
    // Product services shared by resources, data sources and functions.
    ("services", &["framework", "api"]),
    // Generic layers: nothing of TiDB.
    ("framework", &["proto"]),
    ("plugin", &["proto"]),
    ("api", &[]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The source without comments and string literals (so prose and messages
/// that mention a module are not taken for imports).
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'r' && (b[i..].starts_with(b"r\"") || b[i..].starts_with(b"r#")) {
            // Raw string: r"…", r#"…"#, …
            let mut j = i + 1;
            let mut hashes = 0;
            while j < b.len() && b[j] == b'#' {
                hashes += 1;
                j += 1;
            }
            if j < b.len() && b[j] == b'"' && (i == 0 || !is_ident(b[i - 1])) {
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                j += 1;
                while j < b.len() && !b[j..].starts_with(&close) {
                    j += 1;
                }
                i = j + close.len();
                out.push_str("\"\"");
            } else {
                out.push('r');
                i += 1;
            }
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', '\'') or a lifetime ('a).
            if b.get(i + 1) == Some(&b'\\') {
                i += 2;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
                i += 1;
            } else if b.get(i + 2) == Some(&b'\'') {
                i += 3;
            } else {
                out.push('\'');
                i += 1;
            }
        } else {
            let ch = text[i..].chars().next().expect("char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn ident_at(s: &str) -> &str {
    let end = s.bytes().position(|c| !is_ident(c)).unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules named right after `crate::` (a group names several).
fn crate_paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].bytes().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| is_ident(c) || c == b'$') {
            continue;
        }
        let after = rest.trim_start();
        if let Some(group) = after.strip_prefix('{') {
            // Top-level names of `{a, b::c, d::{e, f}}`.
            let mut depth = 0;
            let mut expecting = true;
            for (k, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => expecting = true,
                    c if expecting && depth == 0 && (c.is_ascii_alphabetic() || c == '_') => {
                        found.push(ident_at(&group[k..]).to_string());
                        expecting = false;
                    }
                    c if c.is_whitespace() => {}
                    _ => expecting = expecting && depth == 0 && c.is_whitespace(),
                }
            }
        } else {
            let name = ident_at(after);
            if !name.is_empty() {
                found.push(name.to_string());
            }
        }
    }
    found
}

/// How many `super::` a file may climb and stay inside its top-level module:
/// `src/a/b.rs` is `a::b` (one), `src/a/mod.rs` is `a` (none), and an inline
/// `mod tests` adds one per level, which is why the count is per line: the
/// deepest `mod` a line sits in is found by brace nesting.
fn super_escapes(rel: &[String], code: &str) -> Vec<usize> {
    let file_depth = {
        let mut d = rel.len(); // path components under src/
        if rel.last().is_some_and(|f| f == "mod.rs") {
            d -= 1;
        }
        d.saturating_sub(1) // levels below the top-level module
    };
    // Track inline `mod x {` nesting.
    let mut escapes = Vec::new();
    let mut mod_stack: Vec<usize> = Vec::new(); // brace depth at each inline mod
    let mut depth = 0usize;
    let mut pending_mod = false;
    for (n, line) in code.lines().enumerate() {
        let mut supers_here = 0;
        let mut s = line;
        while let Some(at) = s.find("super::") {
            let before = s[..at].bytes().last();
            if !before.is_some_and(is_ident) {
                // Count a chain `super::super::…`.
                let mut chain = 0;
                let mut t = &s[at..];
                while let Some(r) = t.strip_prefix("super::") {
                    chain += 1;
                    t = r;
                }
                supers_here = supers_here.max(chain);
            }
            s = &s[at + "super::".len()..];
        }
        if supers_here > file_depth + mod_stack.len() {
            escapes.push(n + 1);
        }
        let trimmed = line.trim_start();
        let words: Vec<&str> = trimmed
            .split(|c: char| c.is_whitespace() || c == '{')
            .filter(|w| !w.is_empty())
            .collect();
        let is_mod = words.iter().position(|w| *w == "mod").is_some_and(|k| {
            words[..k]
                .iter()
                .all(|w| w.starts_with("pub") || w.starts_with("#["))
        });
        for c in line.chars() {
            match c {
                '{' => {
                    if pending_mod || is_mod {
                        mod_stack.push(depth);
                        pending_mod = false;
                    }
                    depth += 1;
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    if mod_stack.last() == Some(&depth) {
                        mod_stack.pop();
                    }
                }
                ';' if is_mod => pending_mod = false,
                _ => {}
            }
        }
        if is_mod && !line.contains('{') && !line.contains(';') {
            pending_mod = true;
        }
    }
    escapes
}

/// Edges between top-level modules of the library, with where each is seen.
struct Graph {
    edges: BTreeMap<(String, String), Vec<String>>,
    problems: Vec<String>,
}

fn scan() -> Graph {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut g = Graph {
        edges: BTreeMap::new(),
        problems: Vec::new(),
    };
    for path in files {
        let rel: Vec<String> = path
            .strip_prefix(&root)
            .expect("under src")
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        let text = std::fs::read_to_string(&path).expect("source");
        let code = code_only(&text);
        let shown = format!("src/{}", rel.join("/"));
        let top = rel[0].trim_end_matches(".rs").to_string();
        match top.as_str() {
            // The simulator is its own binary: nothing of the library.
            "sim" => {
                for bad in ["tidbcloud_provider", "#[path", "include!("] {
                    if code.contains(bad) {
                        g.problems
                            .push(format!("{shown}: the simulator uses `{bad}`"));
                    }
                }
                continue;
            }
            // Binaries join the layers through the library's public API.
            "main" | "bin" => continue,
            // The crate root declares the modules.
            "lib" => continue,
            _ => {}
        }
        if code.contains("#[path") || code.contains("include!(\"..") {
            g.problems.push(format!(
                "{shown}: `#[path]` or `include!` around the layers"
            ));
        }
        for to in crate_paths(&code) {
            if to != top {
                g.edges
                    .entry((top.clone(), to))
                    .or_default()
                    .push(shown.clone());
            }
        }
        for line in super_escapes(&rel, &code) {
            g.problems.push(format!(
                "{shown}:{line}: `super::` climbs out of `{top}`; name the module with `crate::`"
            ));
        }
    }
    g
}

fn allowed(from: &str, to: &str) -> Result<bool, String> {
    ALLOWED
        .iter()
        .find(|(m, _)| *m == from)
        .map(|(_, tos)| tos.contains(&to))
        .ok_or_else(|| format!("module `{from}` is not in the layer table of tests/layers.rs"))
}

#[test]
fn no_module_imports_a_higher_layer() {
    let g = scan();
    let mut errors = g.problems.clone();
    for ((from, to), files) in &g.edges {
        match allowed(from, to) {
            Ok(true) => {}
            Ok(false) => {
                let mut files = files.clone();
                files.dedup();
                errors.push(format!(
                    "`{from}` imports `{to}`, which it may not (in {})",
                    files.join(", ")
                ));
            }
            Err(e) => errors.push(e),
        }
    }
    assert!(
        errors.is_empty(),
        "layering violations (see ARCHITECTURE.md, Layers):\n  {}",
        errors.join("\n  ")
    );
}

#[test]
fn the_graph_has_no_cycles() {
    let g = scan();
    let edges: BTreeSet<(String, String)> = g.edges.keys().cloned().collect();
    for (a, b) in &edges {
        assert!(
            !edges.contains(&(b.clone(), a.clone())),
            "`{a}` and `{b}` import each other"
        );
    }
}

#[test]
fn print_the_graph() {
    let g = scan();
    let mut by_from: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to) in g.edges.keys() {
        by_from.entry(from).or_default().insert(to);
    }
    for (from, tos) in by_from {
        println!(
            "{from} -> {}",
            tos.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
}

#[test]
fn the_scanner_sees_what_it_must() {
    let paths = crate_paths(&code_only(
        "use crate::{api::{A, B}, framework, provider::X};\nlet x = crate::resources::f(); // crate::sim\nlet s = \"crate::plugin\";",
    ));
    assert_eq!(paths, ["api", "framework", "provider", "resources"]);
    let rel = |p: &str| p.split('/').map(str::to_string).collect::<Vec<_>>();
    assert!(super_escapes(&rel("a/b.rs"), "use super::c;").is_empty());
    assert_eq!(super_escapes(&rel("a/b.rs"), "use super::super::x;"), [1]);
    assert_eq!(super_escapes(&rel("a/mod.rs"), "use super::x;"), [1]);
    assert!(super_escapes(&rel("a/b.rs"), "mod tests {\n    use super::super::c;\n}").is_empty());
    assert!(allowed("data_sources", "resources").is_ok_and(|ok| !ok));
    assert!(allowed("services", "provider").is_ok_and(|ok| !ok));
    assert!(allowed("framework", "api").is_ok_and(|ok| !ok));
}
