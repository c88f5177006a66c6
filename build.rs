//! Generates the gRPC stubs for tfplugin6 and go-plugin's host services from
//! the project's own `proto/` files. `protox` parses the files in pure Rust, so
//! no system `protoc` is needed.
//!
//! Also records the git commit the binary is built from, for `--version`:
//! `$TIDBCLOUD_PROVIDER_COMMIT` when set (a build from a source archive),
//! else `git rev-parse HEAD`, else `unknown`.

use std::path::PathBuf;
use std::process::Command;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/tfplugin6.proto", "proto/plugin/go_plugin.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;

    println!("cargo:rerun-if-env-changed=TIDBCLOUD_PROVIDER_COMMIT");
    let commit = match std::env::var("TIDBCLOUD_PROVIDER_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => git_commit().unwrap_or_else(|| "unknown".to_string()),
    };
    println!("cargo:rustc-env=TIDBCLOUD_PROVIDER_COMMIT={commit}");
    Ok(())
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// HEAD's commit, and the files whose change means a new commit: HEAD, the
/// branch it points to and packed-refs (only those that exist, since cargo
/// reruns a build script for a missing one every time).
fn git_commit() -> Option<String> {
    let commit = git(&["rev-parse", "HEAD"])?;
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])?];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.extend(git(&["rev-parse", "--git-path", &branch]));
    }
    watched.extend(git(&["rev-parse", "--git-path", "packed-refs"]));
    for path in watched {
        if PathBuf::from(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some(commit)
}
