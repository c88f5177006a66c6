//! Writes the documentation under `docs/` from the provider's schemas and
//! the examples under `examples/`. Run from anywhere in the repository:
//! `cargo run --bin tidbcloud-docs`.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = match tidbcloud_provider::provider::docs::render_all(root) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("tidbcloud-docs: {e}");
            return ExitCode::FAILURE;
        }
    };
    for (path, text) in files {
        let full = root.join(&path);
        let written = full
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&full, text));
        if let Err(e) = written {
            eprintln!("tidbcloud-docs: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
