//! The layering rule of ARCHITECTURE.md, enforced: every `crate::<module>`
//! path (also inside `use crate::{…}` groups) and every `super::` that
//! climbs out of a top-level module is an edge between top-level modules of
//! the library, and each edge must be in [`ALLOWED`]. Inside a top-level
//! module, the submodules of each module import one way: no circle (see
//! [`submodule_edges`]; an import of an item that a parent re-exports is not
//! seen through the re-export). The simulator (a
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
        &["resources", "data_sources", "services", "framework", "api"],
    ),
    ("resources", &["services", "framework", "api"]),
    ("data_sources", &["services", "framework", "api"]),
    // Product services shared by resources and data sources.
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

/// The levels of inline `mod x { … }` each line of `code` starts in (found
/// by brace nesting; a `mod tests` inside a file is one).
fn inline_mod_depths(code: &str) -> Vec<usize> {
    let mut depths = Vec::new();
    let mut mod_stack: Vec<usize> = Vec::new(); // brace depth at each inline mod
    let mut depth = 0usize;
    let mut pending_mod = false;
    for line in code.lines() {
        depths.push(mod_stack.len());
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
    depths
}

/// How many `super::` a file may climb and stay inside its top-level module:
/// `src/a/b.rs` is `a::b` (one), `src/a/mod.rs` is `a` (none), and an inline
/// `mod tests` adds one per level, which is why the count is per line.
fn super_escapes(rel: &[String], code: &str) -> Vec<usize> {
    let file_depth = module_of(rel).len().saturating_sub(1); // levels below the top-level module
    let mut escapes = Vec::new();
    for ((n, line), inline) in code.lines().enumerate().zip(inline_mod_depths(code)) {
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
        if supers_here > file_depth + inline {
            escapes.push(n + 1);
        }
    }
    escapes
}

/// The module a file under `src/` is: `a/b.rs` is `a::b`, `a/mod.rs` is `a`.
fn module_of(rel: &[String]) -> Vec<String> {
    let mut m: Vec<String> = rel
        .iter()
        .map(|c| c.trim_end_matches(".rs").to_string())
        .collect();
    if m.last().is_some_and(|f| f == "mod") {
        m.pop();
    }
    m
}

/// Every path of `code` that starts at `crate`, `super` or `self`, with its
/// line, groups expanded: `use super::{a::X, b}` gives `super::a::X` and
/// `super::b`. A `self` inside a group names the group's prefix.
fn rooted_paths(code: &str) -> Vec<(usize, Vec<String>)> {
    let b = code.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = ["crate", "super", "self"].iter().any(|k| {
            code[i..].starts_with(k) && code[i + k.len()..].trim_start().starts_with("::")
        });
        let before_ok = i == 0 || !(is_ident(b[i - 1]) || b[i - 1] == b'$' || b[i - 1] == b':');
        if starts && before_ok {
            let line = code[..i].matches('\n').count();
            let (paths, used) = use_tree(&code[i..]);
            for p in paths {
                found.push((line, p));
            }
            i += used.max(1);
        } else {
            i += code[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    found
}

/// Parses a path or use tree at the start of `s`: its expanded paths and the
/// bytes it spans.
fn use_tree(s: &str) -> (Vec<Vec<String>>, usize) {
    let mut prefix: Vec<String> = Vec::new();
    let mut at = 0;
    loop {
        let rest = &s[at..];
        let skipped = rest.len() - rest.trim_start().len();
        at += skipped;
        let rest = &s[at..];
        if let Some(group) = rest.strip_prefix('{') {
            // Entries split at top-level commas, each a tree of its own.
            let mut paths = Vec::new();
            let mut depth = 0;
            let mut entry_start = 0;
            let mut end = group.len();
            for (k, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        end = k;
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        paths.extend(entry_paths(&prefix, &group[entry_start..k]));
                        entry_start = k + 1;
                    }
                    _ => {}
                }
            }
            paths.extend(entry_paths(&prefix, &group[entry_start..end]));
            return (paths, at + 1 + end + 1);
        }
        let name = ident_at(rest);
        if name.is_empty() {
            // `*`, or the end of the path.
            return (vec![prefix], at);
        }
        if name != "self" || prefix.is_empty() {
            prefix.push(name.to_string());
        }
        at += name.len();
        let after = &s[at..];
        let trimmed = after.trim_start();
        match trimmed.strip_prefix("::") {
            Some(_) => at += after.len() - trimmed.len() + 2,
            None => return (vec![prefix], at),
        }
    }
}

fn entry_paths(prefix: &[String], entry: &str) -> Vec<Vec<String>> {
    let entry = entry.trim();
    if entry.is_empty() {
        return Vec::new();
    }
    let (paths, _) = use_tree(entry);
    paths
        .into_iter()
        .map(|p| prefix.iter().cloned().chain(p).collect())
        .collect()
}

/// Resolves a rooted path written in `module`, `inline` levels of inline
/// `mod` deep, to the module it names (the longest prefix in `modules`);
/// `None` for a path inside the file itself or outside the library.
fn resolve(
    module: &[String],
    inline: usize,
    path: &[String],
    modules: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let (base, rest): (Vec<String>, &[String]) = match path.first().map(String::as_str) {
        Some("crate") => (Vec::new(), &path[1..]),
        Some("super") => {
            let climbs = path.iter().take_while(|s| *s == "super").count();
            // Climbs out of inline modules stay in the file.
            let out_of_file = climbs.checked_sub(inline).filter(|c| *c > 0)?;
            let kept = module.len().checked_sub(out_of_file)?;
            (module[..kept].to_vec(), &path[climbs..])
        }
        Some("self") if inline == 0 => (module.to_vec(), &path[1..]),
        _ => return None,
    };
    let full: Vec<String> = base.into_iter().chain(rest.iter().cloned()).collect();
    (1..=full.len())
        .rev()
        .map(|n| full[..n].to_vec())
        .find(|m| modules.contains(m))
}

/// The imports between sibling submodules inside each top-level module:
/// an import from `a::b::c` of `a::d::e` is the edge `a::b -> a::d` (each
/// side collapsed to the child of the modules' common parent). A module
/// importing its own parent or child is no edge. Each edge lists the files
/// that make it.
fn submodule_edges() -> BTreeMap<(String, String), BTreeSet<String>> {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let library: Vec<(Vec<String>, String, String)> = files
        .iter()
        .filter_map(|path| {
            let rel: Vec<String> = path
                .strip_prefix(&root)
                .expect("under src")
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            let top = rel[0].trim_end_matches(".rs");
            if matches!(top, "sim" | "main" | "bin" | "lib") {
                return None;
            }
            let text = std::fs::read_to_string(path).expect("source");
            Some((
                rel.clone(),
                format!("src/{}", rel.join("/")),
                code_only(&text),
            ))
        })
        .collect();
    let modules: BTreeSet<Vec<String>> = library.iter().map(|(rel, _, _)| module_of(rel)).collect();
    let mut edges: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (rel, shown, code) in &library {
        let from = module_of(rel);
        let inline = inline_mod_depths(code);
        for (line, path) in rooted_paths(code) {
            let depth = inline.get(line).copied().unwrap_or(0);
            let Some(to) = resolve(&from, depth, &path, &modules) else {
                continue;
            };
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common == 0 || from.len() == common || to.len() == common {
                continue; // across top-level modules, or to a parent or child
            }
            let side = |m: &[String]| m[..=common].join("::");
            edges
                .entry((side(&from), side(&to)))
                .or_default()
                .insert(format!("{shown}:{}", line + 1));
        }
    }
    edges
}

/// The strongly connected groups of more than one node: the import circles.
fn circles(edges: &BTreeSet<(String, String)>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = edges.iter().flat_map(|(a, b)| [a, b]).collect();
    let reach = |from: &String| {
        let mut seen: BTreeSet<&String> = BTreeSet::new();
        let mut todo = vec![from];
        while let Some(n) = todo.pop() {
            for (a, b) in edges {
                if a == n && seen.insert(b) {
                    todo.push(b);
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<&String>> =
        nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    for n in &nodes {
        let group: Vec<String> = nodes
            .iter()
            .filter(|m| reaches[*n].contains(*m) && reaches[*m].contains(*n))
            .map(|m| m.to_string())
            .collect();
        if group.len() > 1 {
            found.insert(group);
        }
    }
    found.into_iter().collect()
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

/// Import circles between the submodules of a module that are known and
/// due to go, each the sorted list of the modules in it. An entry is a debt:
/// the test below fails on an entry that matches no circle any more, so
/// delete it together with its circle.
const KNOWN_CIRCLES: &[&[&str]] = &[];

#[test]
fn submodules_of_a_module_import_one_way() {
    let edges = submodule_edges();
    let found = circles(&edges.keys().cloned().collect());
    let same = |known: &[&str], circle: &[String]| {
        known.iter().copied().eq(circle.iter().map(String::as_str))
    };
    let mut errors = Vec::new();
    for circle in &found {
        if KNOWN_CIRCLES.iter().any(|k| same(k, circle)) {
            continue;
        }
        let how: Vec<String> = edges
            .iter()
            .filter(|((a, b), _)| circle.contains(a) && circle.contains(b))
            .map(|((a, b), at)| {
                let at: Vec<&str> = at.iter().map(String::as_str).collect();
                format!("{a} -> {b} ({})", at.join(", "))
            })
            .collect();
        errors.push(format!(
            "import circle between {}:\n    {}",
            circle.join(", "),
            how.join("\n    ")
        ));
    }
    for known in KNOWN_CIRCLES {
        if !found.iter().any(|c| same(known, c)) {
            errors.push(format!(
                "the known circle {} is gone or has changed: delete or update its entry in KNOWN_CIRCLES",
                known.join(", ")
            ));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
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
    let inside = submodule_edges();
    let mut by_from: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to) in inside.keys() {
        by_from.entry(from).or_default().insert(to);
    }
    println!("\ninside modules:");
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
    let paths: Vec<Vec<String>> = rooted_paths(&code_only(
        "use super::{self, waits::{A, B}, x};\nlet y = crate::api::f(); $crate::no; pub(crate) fn g() { self::z::h() }",
    ))
    .into_iter()
    .map(|(_, p)| p)
    .collect();
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        joined,
        [
            "super::self",
            "super::waits::A",
            "super::waits::B",
            "super::x",
            "crate::api::f",
            "self::z::h"
        ]
    );
    let modules: BTreeSet<Vec<String>> = ["s", "s::a", "s::b", "s::b::c", "api"]
        .iter()
        .map(|m| m.split("::").map(str::to_string).collect())
        .collect();
    let m = |s: &str| s.split("::").map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        resolve(&m("s::a"), 0, &m("super::b::c::f"), &modules),
        Some(m("s::b::c"))
    );
    assert_eq!(resolve(&m("s::a"), 1, &m("super::f"), &modules), None);
    assert_eq!(
        resolve(&m("s::b::c"), 1, &m("super::super::a"), &modules),
        Some(m("s::b"))
    );
    assert_eq!(
        resolve(&m("s::b"), 0, &m("crate::s::a::X"), &modules),
        Some(m("s::a"))
    );
    let graph: BTreeSet<(String, String)> = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
        .iter()
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .collect();
    assert_eq!(circles(&graph), [["a", "b", "c"]]);
    assert!(allowed("data_sources", "resources").is_ok_and(|ok| !ok));
    assert!(allowed("services", "provider").is_ok_and(|ok| !ok));
    assert!(allowed("framework", "api").is_ok_and(|ok| !ok));
}
