//! Writes the documentation under `docs/` from the provider's schemas and
//! the examples under `examples/`. Run from anywhere in the repository:
//! `cargo run --bin tidbcloud-docs`.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (path, text) in tidbcloud_provider::provider::docs::render_all(root) {
        let full = root.join(&path);
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&full, text)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
