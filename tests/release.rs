//! The release artifacts of `scripts/release.sh`, installed by the real
//! `terraform` the ways a team distributes them: from a filesystem mirror
//! (beside another mirrored provider, under an explicit
//! `provider_installation` block) and from a network mirror served over HTTPS
//! on loopback with a throwaway CA. Also: the lock file's hashes, `terraform
//! providers lock` from a network mirror and from a filesystem mirror of two
//! platforms, a tampered zip refused, signing, the refused official address,
//! `--version`, the build under `CARGO_TARGET_DIR`, and the README's "Try it
//! by hand" run as written.
//!
//! The release is made once per test binary from the provider binary cargo
//! built for these tests (`--binary`): the artifact format is what is under
//! test, and a fat-LTO release build would take minutes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

const SOURCE: &str = "terraform.local/tidbcloud/tidbcloud";
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The provider binary cargo built for these tests, copied once: a test
/// runs `scripts/release.sh`, whose build puts another one at cargo's path.
fn provider_binary() -> &'static str {
    static COPY: OnceLock<String> = OnceLock::new();
    COPY.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("release-test-bin");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let copy = dir.join("terraform-provider-tidbcloud");
        let staged = dir.join(format!(".copy-{}", std::process::id()));
        std::fs::copy(env!("CARGO_BIN_EXE_terraform-provider-tidbcloud"), &staged)
            .expect("copy the provider");
        std::fs::rename(&staged, &copy).expect("rename the copy");
        copy.display().to_string()
    })
}

/// Terraform's name for this machine's platform, such as `linux_amd64`.
fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `scripts/release.sh` with `args`, returning its output.
fn release_script(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("scripts/release.sh"))
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::null())
        .env_remove("GPG_FINGERPRINT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run scripts/release.sh")
}

/// The release of this version for this platform, made once per test
/// binary under the target directory.
fn release() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        let dist = Path::new(env!("CARGO_TARGET_TMPDIR")).join("release-test-dist");
        let _ = std::fs::remove_dir_all(&dist);
        let out = release_script(
            &[
                "--binary",
                provider_binary(),
                "--out",
                &dist.display().to_string(),
                VERSION,
            ],
            &[],
        );
        assert!(
            out.status.success(),
            "scripts/release.sh failed:\n{}",
            text(&out)
        );
        dist
    })
}

fn zip_name() -> String {
    format!("terraform-provider-tidbcloud_{VERSION}_{}.zip", platform())
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(
        std::fs::read(path).expect("read file"),
    ))
}

/// The hashes the network mirror lists for this platform: `(h1, zh)`.
fn mirror_hashes(dist: &Path) -> (String, String) {
    let doc = read_json(&dist.join(format!("mirror/network/{SOURCE}/{VERSION}.json")));
    let hashes: Vec<String> = doc["archives"][platform()]["hashes"]
        .as_array()
        .expect("hashes")
        .iter()
        .map(|h| h.as_str().expect("hash").to_string())
        .collect();
    let find = |p: &str| {
        hashes
            .iter()
            .find(|h| h.starts_with(p))
            .unwrap_or_else(|| panic!("no {p} hash in {hashes:?}"))
            .clone()
    };
    (find("h1:"), find("zh:"))
}

/// Rewrites `zip` as a valid zip whose binary differs: what a compromised
/// mirror would serve.
fn tamper(zip: &Path) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, zipfile\n\
             z = zipfile.ZipFile(sys.argv[1]); n = z.namelist()[0]; d = z.read(n); z.close()\n\
             with zipfile.ZipFile(sys.argv[1], 'w') as w:\n    w.writestr(n, d + b'tampered')\n",
        )
        .arg(zip)
        .output()
        .expect("python3");
    assert!(out.status.success(), "tampering failed: {}", text(&out));
}

// --- terraform -----------------------------------------------------------

fn terraform_binary() -> PathBuf {
    std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join("terraform"))
                    .find(|p| p.is_file())
            })
        })
        .unwrap_or_else(|| {
            panic!("terraform (1.8 or later; tested on 1.11.4) is not on PATH: install it or set TERRAFORM")
        })
}

/// A terraform working directory with its own CLI configuration.
struct Tf {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Tf {
    /// A directory whose configuration requires this provider (and
    /// `extra_providers`, lines of `required_providers`), with
    /// `installation` as the CLI configuration's `provider_installation`.
    fn new(installation: &str, extra_providers: &str) -> Tf {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("terraform.tfrc"),
            format!("provider_installation {{\n{installation}}}\n"),
        )
        .expect("CLI config");
        std::fs::write(
            dir.path().join("main.tf"),
            format!(
                "terraform {{\n  required_providers {{\n    tidbcloud = {{\n      source  = \"{SOURCE}\"\n      version = \"{VERSION}\"\n    }}\n{extra_providers}  }}\n}}\n"
            ),
        )
        .expect("main.tf");
        let env = vec![
            (
                "TF_CLI_CONFIG_FILE".to_string(),
                dir.path().join("terraform.tfrc").display().to_string(),
            ),
            ("CHECKPOINT_DISABLE".to_string(), "1".to_string()),
            ("TF_IN_AUTOMATION".to_string(), "1".to_string()),
        ];
        Tf { dir, env }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    fn run(&self, args: &[&str]) -> (bool, String) {
        let mut cmd = Command::new(terraform_binary());
        cmd.args(args)
            .current_dir(self.path())
            .stdin(Stdio::null())
            .env_remove("TF_PLUGIN_CACHE_DIR")
            .env_remove("TF_LOG")
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run terraform");
        (out.status.success(), text(&out))
    }

    fn ok(&self, args: &[&str]) -> String {
        let (success, output) = self.run(args);
        assert!(success, "terraform {args:?} failed:\n{output}");
        output
    }

    fn lock_file(&self) -> String {
        std::fs::read_to_string(self.path().join(".terraform.lock.hcl")).expect("lock file")
    }

    /// The installed provider works: terraform starts it and reads its
    /// schema.
    fn assert_provider_runs(&self) {
        let schema: Value =
            serde_json::from_str(&self.ok(&["providers", "schema", "-json"])).expect("schema");
        assert!(
            schema["provider_schemas"][SOURCE]["resource_schemas"]
                .get("tidbcloud_private_link_connection")
                .is_some(),
            "the installed provider serves its schema"
        );
    }
}

/// The hashes the lock file records for `source`.
fn locked_hashes(lock: &str, source: &str) -> Vec<String> {
    let start = lock
        .find(&format!("provider \"{source}\""))
        .unwrap_or_else(|| panic!("no {source} in the lock file:\n{lock}"));
    let block = &lock[start..];
    let block = &block[..block.find("\n}").unwrap_or(block.len())];
    block
        .split('"')
        .filter(|s| s.starts_with("h1:") || s.starts_with("zh:"))
        .map(str::to_string)
        .collect()
}

/// The local filesystem mirror holding `hashicorp/aws` for this platform
/// (`$TF_PLUGIN_MIRROR`, else `/opt/tf-plugins`), if there is one.
fn local_aws_mirror() -> Option<PathBuf> {
    let mirror = std::env::var_os("TF_PLUGIN_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/tf-plugins"));
    let versions = std::fs::read_dir(mirror.join("registry.terraform.io/hashicorp/aws")).ok()?;
    let has_platform = versions
        .filter_map(Result::ok)
        .any(|v| v.path().join(platform()).is_dir());
    has_platform.then_some(mirror)
}

// --- a static HTTPS server on loopback -------------------------------------

/// A throwaway CA and a `localhost`/`127.0.0.1` certificate it signed.
struct Pki {
    ca_pem: String,
    server_config: Arc<rustls::ServerConfig>,
}

impl Pki {
    fn generate() -> Pki {
        let now = std::time::SystemTime::now();
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "Release test CA");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        ca.not_before = (now - std::time::Duration::from_secs(60)).into();
        ca.not_after = (now + std::time::Duration::from_secs(24 * 3600)).into();
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let issuer = rcgen::Issuer::new(ca, ca_key);

        let key = rcgen::KeyPair::generate().expect("server key");
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("server params");
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress(std::net::IpAddr::from([
                127, 0, 0, 1,
            ])));
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = (now - std::time::Duration::from_secs(60)).into();
        params.not_after = (now + std::time::Duration::from_secs(24 * 3600)).into();
        let cert = params.signed_by(&key, &issuer).expect("server certificate");

        let server_config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone(), ca_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server config");
        Pki {
            ca_pem: pem("CERTIFICATE", ca_cert.der()),
            server_config: Arc::new(server_config),
        }
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// Serves the files under a directory over HTTPS (HTTP/1.1, GET only) on a
/// free loopback port, and records the paths asked for.
struct StaticHttps {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl StaticHttps {
    fn serve(root: &Path, config: Arc<rustls::ServerConfig>) -> StaticHttps {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (root, seen, stopped) = (root.to_path_buf(), requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (root, seen, config) = (root.clone(), seen.clone(), config.clone());
                std::thread::spawn(move || {
                    let _ = handle(stream, &root, &seen, config);
                });
            }
        });
        StaticHttps {
            url: format!("https://127.0.0.1:{port}/"),
            requests,
            stop,
            port,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

impl Drop for StaticHttps {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn handle(
    tcp: TcpStream,
    root: &Path,
    seen: &Mutex<Vec<String>>,
    config: Arc<rustls::ServerConfig>,
) -> std::io::Result<()> {
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut reader = BufReader::new(&mut tls);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    drop(reader);
    let mut words = request_line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or("/"));
    let path = target.split('?').next().unwrap_or("/").to_string();
    seen.lock().expect("requests").push(path.clone());
    let file = root.join(path.trim_start_matches('/'));
    let safe = !path.split('/').any(|s| s == "..");
    let (status, body, kind) = match std::fs::read(&file) {
        Ok(body) if method == "GET" && safe && file.is_file() => {
            let kind = if path.ends_with(".json") {
                "application/json"
            } else {
                "application/zip"
            };
            ("200 OK", body, kind)
        }
        _ => ("404 Not Found", b"not found\n".to_vec(), "text/plain"),
    };
    write!(
        tls,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    tls.write_all(&body)?;
    tls.flush()?;
    tls.conn.send_close_notify();
    tls.flush()?;
    let mut rest = Vec::new();
    let _ = tls.read_to_end(&mut rest);
    Ok(())
}

/// Copies the directory tree `from` into `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn network_mirror_config(url: &str) -> String {
    format!("  network_mirror {{\n    url     = \"{url}\"\n    include = [\"{SOURCE}\"]\n  }}\n")
}

// --- tests ---------------------------------------------------------------

#[test]
fn the_release_has_the_registry_layout_and_hashes() {
    let dist = release();
    let prefix = format!("terraform-provider-tidbcloud_{VERSION}");
    let zip = dist.join(zip_name());
    assert!(zip.is_file(), "{} exists", zip.display());

    // The zip holds exactly the binary, executable, named as Terraform
    // expects.
    let listing = Command::new("python3")
        .arg("-c")
        .arg("import sys, zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): print(i.filename, oct(i.external_attr >> 16), i.date_time[0])")
        .arg(&zip)
        .output()
        .expect("python3");
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout),
        format!("terraform-provider-tidbcloud_v{VERSION} 0o100755 1980\n")
    );

    let manifest = read_json(&dist.join(format!("{prefix}_manifest.json")));
    assert_eq!(
        manifest,
        serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}})
    );

    // SHA256SUMS covers the zip and the manifest, in sha256sum's format.
    let sums = std::fs::read_to_string(dist.join(format!("{prefix}_SHA256SUMS"))).expect("sums");
    let mut want = vec![
        format!("{}  {}", sha256_hex(&zip), zip_name()),
        format!(
            "{}  {prefix}_manifest.json",
            sha256_hex(&dist.join(format!("{prefix}_manifest.json")))
        ),
    ];
    want.sort_by_key(|line| line.split_once("  ").map(|(_, name)| name.to_string()));
    assert_eq!(sums.lines().collect::<Vec<_>>(), want);
    assert!(
        !dist.join(format!("{prefix}_SHA256SUMS.sig")).exists(),
        "no signature without GPG_FINGERPRINT"
    );

    // The network mirror: index.json lists the version, VERSION.json the
    // archive with h1: and zh: hashes; zh: is the zip's SHA-256.
    let net = dist.join(format!("mirror/network/{SOURCE}"));
    assert_eq!(
        read_json(&net.join("index.json")),
        serde_json::json!({"versions": {VERSION: {}}})
    );
    let (h1, zh) = mirror_hashes(dist);
    assert_eq!(zh, format!("zh:{}", sha256_hex(&zip)));
    assert!(h1.len() > 10 && h1 != zh, "{h1}");
    assert_eq!(
        read_json(&net.join(format!("{VERSION}.json")))["archives"][platform()]["url"],
        zip_name()
    );
    assert_eq!(sha256_hex(&net.join(zip_name())), sha256_hex(&zip));
    // The filesystem mirror, packed layout.
    assert_eq!(
        sha256_hex(&dist.join(format!("mirror/filesystem/{SOURCE}/{}", zip_name()))),
        sha256_hex(&zip)
    );
}

#[test]
fn the_same_binary_gives_the_same_zip() {
    let dist = release();
    let again = tempfile::tempdir().expect("temp dir");
    let out = release_script(
        &[
            "--binary",
            provider_binary(),
            "--out",
            &again.path().display().to_string(),
            VERSION,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        sha256_hex(&again.path().join(zip_name())),
        sha256_hex(&dist.join(zip_name()))
    );
}

#[test]
fn terraform_init_installs_the_release_from_a_filesystem_mirror_beside_another_provider() {
    let dist = release();
    let (h1, _) = mirror_hashes(dist);
    // An explicit provider_installation block, as needed as soon as one
    // provider comes from a mirror: this provider from the release's
    // filesystem mirror, hashicorp/aws from the machine's mirror (or, with
    // none, the registry).
    let ours = format!(
        "  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{SOURCE}\"]\n  }}\n",
        dist.join("mirror/filesystem").display()
    );
    let aws = match local_aws_mirror() {
        Some(dir) => format!(
            "  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n",
            dir.display()
        ),
        None => "  direct {\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }\n".to_string(),
    };
    let tf = Tf::new(
        &format!("{ours}{aws}"),
        "    aws = {\n      source = \"hashicorp/aws\"\n    }\n",
    );
    let (success, init) = tf.run(&["init", "-no-color", "-input=false"]);
    assert!(
        success,
        "terraform init failed (hashicorp/aws comes from $TF_PLUGIN_MIRROR or /opt/tf-plugins, \
         holding registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/, else from \
         registry.terraform.io):\n{init}"
    );
    assert!(
        init.contains(&format!("Installed {SOURCE} v{VERSION}")),
        "{init}"
    );
    assert!(init.contains("Installed hashicorp/aws"), "{init}");

    let lock = tf.lock_file();
    assert!(
        locked_hashes(&lock, SOURCE).contains(&h1),
        "the lock file records the release's h1: hash {h1}:\n{lock}"
    );
    assert!(!locked_hashes(&lock, "registry.terraform.io/hashicorp/aws").is_empty());
    tf.assert_provider_runs();
}

#[test]
fn terraform_init_installs_the_release_from_a_network_mirror_over_https() {
    let dist = release();
    let (h1, zh) = mirror_hashes(dist);
    let pki = Pki::generate();
    let server = StaticHttps::serve(&dist.join("mirror/network"), pki.server_config.clone());

    let mut tf = Tf::new(&network_mirror_config(&server.url), "");
    // Without the CA, terraform does not trust the mirror.
    let (success, output) = tf.run(&["init", "-no-color", "-input=false"]);
    assert!(!success, "an untrusted mirror must be refused:\n{output}");
    assert!(output.contains("certificate"), "{output}");

    let ca = tf.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).expect("CA file");
    tf.set_env("SSL_CERT_FILE", &ca.display().to_string());
    let init = tf.ok(&["init", "-no-color", "-input=false"]);
    assert!(
        init.contains(&format!("Installed {SOURCE} v{VERSION}")),
        "{init}"
    );
    let requests = server.requests();
    for path in [
        format!("/{SOURCE}/index.json"),
        format!("/{SOURCE}/{VERSION}.json"),
        format!("/{SOURCE}/{}", zip_name()),
    ] {
        assert!(requests.contains(&path), "{path} not in {requests:?}");
    }
    let lock = tf.lock_file();
    let locked = locked_hashes(&lock, SOURCE);
    assert!(
        locked.contains(&h1),
        "the lock file records h1 {h1}:\n{lock}"
    );
    println!(
        "== terraform init from the network mirror at {}\n{init}",
        server.url
    );
    println!("== .terraform.lock.hcl\n{lock}");
    println!("== the mirror's hashes for {}: {h1} {zh}", platform());
    tf.assert_provider_runs();

    // `terraform providers lock -net-mirror` fills a lock file from it.
    let mut locker = Tf::new(&network_mirror_config(&server.url), "");
    locker.set_env("SSL_CERT_FILE", &ca.display().to_string());
    let platform_flag = format!("-platform={}", platform());
    let mirror_flag = format!("-net-mirror={}", server.url);
    let out = locker.ok(&[
        "providers",
        "lock",
        "-no-color",
        &mirror_flag,
        &platform_flag,
        SOURCE,
    ]);
    let lock = locker.lock_file();
    assert!(
        locked_hashes(&lock, SOURCE).contains(&h1),
        "providers lock records h1 {h1}:\n{out}\n{lock}"
    );
    println!("== terraform providers lock {mirror_flag} {platform_flag}\n{out}\n{lock}");
}

#[test]
fn a_tampered_zip_is_refused() {
    let dist = release();
    let pki = Pki::generate();

    // A network mirror serving a different binary under the listed hashes.
    let bad = tempfile::tempdir().expect("temp dir");
    copy_tree(&dist.join("mirror/network"), bad.path());
    tamper(&bad.path().join(format!("{SOURCE}/{}", zip_name())));
    let server = StaticHttps::serve(bad.path(), pki.server_config.clone());
    let mut tf = Tf::new(&network_mirror_config(&server.url), "");
    let ca = tf.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).expect("CA file");
    tf.set_env("SSL_CERT_FILE", &ca.display().to_string());
    let (success, output) = tf.run(&["init", "-no-color", "-input=false"]);
    assert!(!success, "a tampered zip must be refused:\n{output}");
    assert!(output.contains("checksum"), "{output}");
    assert!(
        !tf.path().join(".terraform/providers").join(SOURCE).exists(),
        "nothing is installed"
    );

    // A filesystem mirror whose zip changed after the lock file recorded it.
    let fs_mirror = tempfile::tempdir().expect("temp dir");
    copy_tree(&dist.join("mirror/filesystem"), fs_mirror.path());
    let tf = Tf::new(
        &format!(
            "  filesystem_mirror {{\n    path = \"{}\"\n  }}\n",
            fs_mirror.path().display()
        ),
        "",
    );
    tf.ok(&["init", "-no-color", "-input=false"]);
    std::fs::remove_dir_all(tf.path().join(".terraform")).expect("remove .terraform");
    tamper(&fs_mirror.path().join(format!("{SOURCE}/{}", zip_name())));
    let (success, output) = tf.run(&["init", "-no-color", "-input=false"]);
    assert!(
        !success,
        "a zip unlike the lock file must be refused:\n{output}"
    );
    let words = output.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(
            "doesn't match any of the checksums previously recorded in the dependency lock file"
        ),
        "{output}"
    );
}

#[test]
fn the_script_refuses_the_official_address_and_bad_versions_and_takes_a_team_namespace() {
    let stub = tempfile::tempdir().expect("temp dir");
    let binary = stub.path().join("provider");
    std::fs::write(&binary, "#!/bin/sh\nexit 0\n").expect("stub");
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&binary)
        .status()
        .expect("chmod");
    let binary = binary.display().to_string();
    let out_dir = stub.path().join("dist").display().to_string();
    let base = ["--binary", &binary, "--out", &out_dir];

    for official in [
        "tidbcloud/tidbcloud",
        "registry.terraform.io/tidbcloud/tidbcloud",
    ] {
        let out = release_script(&[&base[..], &["--source", official, "1.0.0"]].concat(), &[]);
        assert!(!out.status.success(), "{official} must be refused");
        assert!(text(&out).contains("official"), "{}", text(&out));
    }
    for bad in ["v1.0.0", "1.0", "latest"] {
        let out = release_script(&[&base[..], &[bad]].concat(), &[]);
        assert!(!out.status.success(), "version {bad} must be refused");
        assert!(text(&out).contains("semantic version"), "{}", text(&out));
    }

    // A team's own namespace on its own host.
    let out = release_script(
        &[
            &base[..],
            &[
                "--source",
                "terraform.example.com/acme/tidbcloud",
                "1.2.0-rc.1",
            ],
        ]
        .concat(),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let net = stub
        .path()
        .join("dist/mirror/network/terraform.example.com/acme/tidbcloud");
    assert_eq!(
        read_json(&net.join("index.json")),
        serde_json::json!({"versions": {"1.2.0-rc.1": {}}})
    );
    assert!(stub
        .path()
        .join(format!(
            "dist/mirror/filesystem/terraform.example.com/acme/tidbcloud/terraform-provider-tidbcloud_1.2.0-rc.1_{}.zip",
            platform()
        ))
        .is_file());
}

#[test]
fn sha256sums_are_signed_when_gpg_fingerprint_names_a_key() {
    let work = tempfile::tempdir().expect("temp dir");
    let binary = work.path().join("provider");
    std::fs::write(&binary, "#!/bin/sh\nexit 0\n").expect("stub");
    Command::new("chmod")
        .arg("+x")
        .arg(&binary)
        .status()
        .expect("chmod");
    let binary = binary.display().to_string();
    let out_dir = work.path().join("dist");
    let out_arg = out_dir.display().to_string();
    let args = ["--binary", &binary, "--out", &out_arg, "0.3.0"];
    let sums = out_dir.join("terraform-provider-tidbcloud_0.3.0_SHA256SUMS");
    let sig = out_dir.join("terraform-provider-tidbcloud_0.3.0_SHA256SUMS.sig");

    let gpg_installed = Command::new("gpg")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !gpg_installed {
        // Without gpg, asking for a signature is an error, not a silent
        // unsigned release.
        let out = release_script(&args, &[("GPG_FINGERPRINT", "0123456789ABCDEF")]);
        assert!(!out.status.success());
        assert!(
            text(&out).contains("gpg is not installed"),
            "{}",
            text(&out)
        );
        return;
    }

    let home = work.path().join("gnupg");
    std::fs::create_dir(&home).expect("GNUPGHOME");
    let home_arg = home.display().to_string();
    let gpg = |args: &[&str]| {
        let out = Command::new("gpg")
            .args(["--homedir", &home_arg, "--batch"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("gpg");
        assert!(out.status.success(), "gpg {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    gpg(&[
        "--passphrase",
        "",
        "--quick-gen-key",
        "Release Test <release@example.com>",
        "ed25519",
        "sign",
        "never",
    ]);
    let fingerprint = gpg(&["--with-colons", "--list-secret-keys"])
        .lines()
        .find_map(|l| l.strip_prefix("fpr:::::::::"))
        .map(|f| f.trim_end_matches(':').to_string())
        .expect("fingerprint");

    let out = release_script(
        &args,
        &[("GNUPGHOME", &home_arg), ("GPG_FINGERPRINT", &fingerprint)],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(sig.is_file(), "the detached signature exists");
    gpg(&[
        "--verify",
        &sig.display().to_string(),
        &sums.display().to_string(),
    ]);

    // A fingerprint with no key is an error, and leaves no stale signature.
    let out = release_script(
        &args,
        &[
            ("GNUPGHOME", &home_arg),
            (
                "GPG_FINGERPRINT",
                "0000000000000000000000000000000000000000",
            ),
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("names no secret key"), "{}", text(&out));
    let _ = Command::new("gpgconf")
        .args(["--homedir", &home_arg, "--kill", "all"])
        .status();
}

#[test]
fn version_prints_the_version_commit_protocol_and_platform() {
    let out = Command::new(provider_binary())
        .arg("--version")
        .output()
        .expect("run the provider");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    // `-V` is `--version`, as for the simulator.
    let short = Command::new(provider_binary())
        .arg("-V")
        .output()
        .expect("run the provider");
    assert!(short.status.success(), "-V: {}", self::text(&short));
    assert_eq!(String::from_utf8_lossy(&short.stdout), text);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("terraform-provider-tidbcloud {VERSION}"));
    let commit = lines[1].strip_prefix("commit: ").expect("commit line");
    match Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo())
        .output()
    {
        Ok(head) if head.status.success() => {
            assert_eq!(commit, String::from_utf8_lossy(&head.stdout).trim())
        }
        // Built from a source archive: no git to ask.
        _ => assert!(!commit.is_empty()),
    }
    assert_eq!(lines[2], "plugin protocol: 6");
    assert_eq!(lines[3], format!("platform: {}", platform()));

    // Without Terraform's cookie it still refuses to serve.
    let out = Command::new(provider_binary())
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .expect("run the provider");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Terraform"));
}

/// The fenced block of `lang` that follows `marker` in the README.
fn readme_block(readme: &str, marker: &str, lang: &str) -> String {
    let from = readme
        .find(marker)
        .unwrap_or_else(|| panic!("README has no {marker:?}"));
    let fence = format!("```{lang}\n");
    let start = readme[from..]
        .find(&fence)
        .unwrap_or_else(|| panic!("no ```{lang} block after {marker:?}"))
        + from
        + fence.len();
    let end = readme[start..].find("```").expect("closing fence") + start;
    readme[start..end].to_string()
}

/// The `sh` blocks of the README's section headed `heading`, in order.
fn readme_section_blocks(readme: &str, heading: &str) -> Vec<String> {
    let from = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no {heading:?}"));
    let body = &readme[from + heading.len() + 2..];
    let section = &body[..body.find("\n## ").unwrap_or(body.len())];
    let mut blocks = Vec::new();
    let mut rest = section;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let (lang, code) = after.split_once('\n').expect("fence line");
        let end = code.find("\n```").expect("closing fence");
        assert_eq!(
            lang, "sh",
            "{heading}: a ```{lang} block; every block there is run"
        );
        blocks.push(code[..end + 1].to_string());
        rest = &code[end + 4..];
    }
    blocks
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The README's "Try it by hand", every block as written, in one shell, as
/// a user whose home is a temporary directory. Three changes, so that it
/// runs anywhere: `cargo install` gets `--root "$HOME/.cargo" --debug` and
/// this checkout's target directory (the binaries `cargo test` built, not a
/// fresh release build); the simulator's port is a free one; and
/// `/opt/tf-plugins` is this machine's mirror of `hashicorp/aws`, if any.
#[test]
fn the_readme_try_it_by_hand_section_runs_as_written() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let blocks = readme_section_blocks(&readme, "## Try it by hand");
    assert!(blocks.len() >= 6, "{blocks:#?}");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target directory")
        .to_path_buf();
    let real_home = PathBuf::from(std::env::var_os("HOME").expect("HOME"));
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| real_home.join(".cargo"));
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| real_home.join(".rustup"));
    let home = tempfile::tempdir().expect("home");
    let empty = tempfile::tempdir().expect("empty mirror");
    let aws = local_aws_mirror().unwrap_or_else(|| empty.path().to_path_buf());
    let port = free_port();

    let mut script = String::from("trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n");
    let mut installs = 0;
    for line in blocks.iter().flat_map(|b| b.lines()) {
        let mut line = line
            .replace("127.0.0.1:8090", &format!("127.0.0.1:{port}"))
            .replace("/opt/tf-plugins", &aws.display().to_string());
        if line.starts_with("cargo install ") {
            installs += 1;
            line.push_str(" --root \"$HOME/.cargo\" --debug");
        }
        script.push_str(&line);
        script.push('\n');
    }
    assert_eq!(installs, 1, "one cargo install:\n{script}");
    assert!(
        script.contains("--bin terraform-provider-tidbcloud --bin tidbcloud-sim"),
        "{script}"
    );
    let path = std::env::join_paths(std::iter::once(home.path().join(".cargo/bin")).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let mut cmd = Command::new("bash");
    cmd.args(["-euo", "pipefail", "-c", &script])
        .current_dir(repo())
        .stdin(Stdio::null())
        .env("HOME", home.path())
        .env("PATH", path)
        .env("CARGO_HOME", &cargo_home)
        .env("RUSTUP_HOME", &rustup_home)
        .env("CARGO_TARGET_DIR", &target)
        .env("CHECKPOINT_DISABLE", "1");
    for key in [
        "TF_CLI_CONFIG_FILE",
        "TF_PLUGIN_CACHE_DIR",
        "TF_LOG",
        "TF_LOG_PROVIDER",
        "TIDBCLOUD_PUBLIC_KEY",
        "TIDBCLOUD_PRIVATE_KEY",
        "TIDBCLOUD_SERVERLESS_ENDPOINT",
        "TIDBCLOUD_SETTLE_TIMES_FILE",
    ] {
        cmd.env_remove(key);
    }
    let out = cmd.output().expect("bash");
    let output = text(&out);
    assert!(
        out.status.success(),
        "the README's commands failed:\n{script}\n{output}"
    );
    // Neither set-up puts tidbcloud-docs on PATH.
    assert!(!home.path().join(".cargo/bin/tidbcloud-docs").exists());
    assert_eq!(
        output.matches("Apply complete!").count(),
        2,
        "applied with dev_overrides, then from the mirror:\n{output}"
    );
    assert_eq!(output.matches("Destroy complete!").count(), 2, "{output}");
    assert!(
        output.contains(&format!("Installed {SOURCE} v{VERSION} (unauthenticated)")),
        "{output}"
    );

    // What the section says of dev_overrides: once another provider is
    // needed, `terraform init` fails on this one.
    let work = home.path().join("tidbcloud-try");
    let main_tf = std::fs::read_to_string(work.join("main.tf")).expect("main.tf");
    let with_aws = main_tf.replacen(
        "    tidbcloud = {",
        "    aws = {\n      source = \"hashicorp/aws\"\n    }\n    tidbcloud = {",
        1,
    );
    assert_ne!(with_aws, main_tf, "{main_tf}");
    std::fs::write(work.join("main.tf"), with_aws).expect("main.tf");
    let out = Command::new(terraform_binary())
        .args(["init", "-no-color", "-input=false"])
        .current_dir(&work)
        .env("HOME", home.path())
        .env("TF_CLI_CONFIG_FILE", work.join("dev.tfrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_PLUGIN_CACHE_DIR")
        .output()
        .expect("terraform init");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains("could not connect to terraform.local"),
        "{}",
        text(&out)
    );
}

/// `key = "value"` from `[package.metadata.terraform]` in Cargo.toml.
fn terraform_metadata(key: &str) -> String {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).expect("Cargo.toml");
    let section = manifest
        .split("[package.metadata.terraform]")
        .nth(1)
        .expect("[package.metadata.terraform] in Cargo.toml");
    section
        .lines()
        .take_while(|l| !l.starts_with('['))
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
        })
        .unwrap_or_else(|| panic!("no {key} in [package.metadata.terraform]"))
}

/// Files under `dir` (recursively) whose name ends with `suffix`.
fn files_under(dir: &Path, suffix: &str, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.') {
                files_under(&path, suffix, found);
            }
        } else if name.ends_with(suffix) {
            found.push(path);
        }
    }
}

#[test]
fn the_terraform_version_range_is_stated_once_and_agrees_everywhere() {
    let required = terraform_metadata("required_version");
    let tested = terraform_metadata("tested_version");
    let minimum = required.trim_start_matches(">=").trim();
    assert_eq!(terraform_metadata("plugin_protocol"), "6");

    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    assert!(
        readme.contains(&format!("Terraform:** {minimum} or later"))
            && readme.contains(&format!("tested\n  on {tested}")),
        "the README's Versions section states {required}, tested on {tested}"
    );

    // Every "terraform ... X.Y or later" in the prose and scripts names the
    // same minimum.
    let mut files = vec![
        repo().join("README.md"),
        repo().join("CHANGELOG.md"),
        repo().join("ARCHITECTURE.md"),
        repo().join(".ci/run"),
    ];
    files_under(&repo().join("docs"), ".md", &mut files);
    files_under(&repo().join("scripts"), ".sh", &mut files);
    let mut problems = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            if !line.to_lowercase().contains("terraform") {
                continue;
            }
            for (at, _) in line.match_indices(" or later") {
                let before = &line[..at];
                let version = before
                    .rsplit(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .next()
                    .unwrap_or("");
                if !version.is_empty() && version != minimum {
                    problems.push(format!(
                        "{}:{}: {version} or later, not {minimum}",
                        file.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    // Every required_version in the examples (and modules) is the same.
    let mut tf_files = Vec::new();
    files_under(&repo().join("examples"), ".tf", &mut tf_files);
    files_under(&repo().join("modules"), ".tf", &mut tf_files);
    for file in &tf_files {
        let text = std::fs::read_to_string(file).expect("read .tf");
        for line in text.lines() {
            if let Some((key, value)) = line.split_once('=') {
                if key.trim() == "required_version" {
                    let value = value.trim().trim_matches('"');
                    if value != required {
                        problems.push(format!(
                            "{}: required_version {value:?}, not {required:?}",
                            file.display()
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // And the installed terraform is in the range.
    let out = Command::new(terraform_binary())
        .args(["version", "-json"])
        .output()
        .expect("terraform version");
    let installed: Value = serde_json::from_slice(&out.stdout).expect("version JSON");
    let installed = installed["terraform_version"].as_str().expect("version");
    let parse = |v: &str| -> Vec<u32> { v.split('.').filter_map(|p| p.parse().ok()).collect() };
    assert!(
        parse(installed) >= parse(minimum),
        "terraform {installed} is older than {minimum}"
    );
}

/// With `CARGO_TARGET_DIR` set (as many Rust users have it globally), the
/// script packages the binary cargo built there, not one under `target/`.
#[test]
fn the_script_finds_the_build_under_cargo_target_dir() {
    // The other tests use their copy from now on.
    let _ = provider_binary();
    // Another name for this checkout's target directory, so that the build
    // is the one `cargo test` just made and costs nothing.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .to_path_buf();
    let work = tempfile::tempdir().expect("temp dir");
    let elsewhere = work.path().join("elsewhere");
    std::os::unix::fs::symlink(&target, &elsewhere).expect("symlink");
    let out_dir = work.path().join("dist");
    let out = release_script(
        &[
            "--profile",
            "dev",
            "--out",
            &out_dir.display().to_string(),
            VERSION,
        ],
        &[("CARGO_TARGET_DIR", &elsewhere.display().to_string())],
    );
    assert!(out.status.success(), "{}", text(&out));
    let built = elsewhere.join("debug/terraform-provider-tidbcloud");
    assert!(
        text(&out).contains(&format!("packaging {}", built.display())),
        "the script names the binary it packages, under CARGO_TARGET_DIR:\n{}",
        text(&out)
    );
    assert!(out_dir.join(zip_name()).is_file());
}

/// The README's `terraform providers lock -fs-mirror=…` command, with the
/// platforms it names.
fn readme_fs_mirror_lock_command() -> (String, Vec<String>) {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let command = readme_block(
        &readme,
        "<!-- tests/release.rs runs this command against a two-platform mirror -->",
        "sh",
    );
    assert!(
        command.contains("-fs-mirror=/opt/terraform-mirror"),
        "{command}"
    );
    let platforms: Vec<String> = command
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("-platform="))
        .map(str::to_string)
        .collect();
    assert!(platforms.len() >= 2, "{command}");
    (command, platforms)
}

/// A release whose filesystem mirror holds a zip for each of `platforms`
/// (and this machine's), made as the README says: the other machines' zips
/// copied into `dist/`, then the script run again. Only this machine's
/// target builds here, so the other zips hold a placeholder binary.
fn multi_platform_release(work: &Path, platforms: &[String]) -> PathBuf {
    let dist = work.join("dist");
    let elsewhere = work.join("other-machines");
    let placeholder = work.join("placeholder");
    std::fs::write(&placeholder, "#!/bin/sh\nexit 0\n").expect("placeholder");
    std::fs::create_dir_all(&dist).expect("dist");
    for other in platforms.iter().filter(|p| **p != platform()) {
        let out = Command::new("python3")
            .arg(repo().join("scripts/release_package.py"))
            .args(["--version", VERSION, "--source", SOURCE, "--out"])
            .arg(&elsewhere)
            .arg("--package")
            .arg(format!("{other}={}", placeholder.display()))
            .output()
            .expect("python3");
        assert!(out.status.success(), "{}", text(&out));
        let zip = format!("terraform-provider-tidbcloud_{VERSION}_{other}.zip");
        std::fs::copy(elsewhere.join(&zip), dist.join(&zip)).expect("copy the zip");
    }
    let out = release_script(
        &[
            "--binary",
            provider_binary(),
            "--out",
            &dist.display().to_string(),
            VERSION,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    for p in platforms {
        let zip = format!("terraform-provider-tidbcloud_{VERSION}_{p}.zip");
        assert!(
            dist.join(format!("mirror/filesystem/{SOURCE}/{zip}"))
                .is_file(),
            "the filesystem mirror holds {zip}"
        );
    }
    dist
}

/// The hashes the network mirror lists for `platform`.
fn h1_for(dist: &Path, platform: &str) -> String {
    let doc = read_json(&dist.join(format!("mirror/network/{SOURCE}/{VERSION}.json")));
    doc["archives"][platform]["hashes"]
        .as_array()
        .expect("hashes")
        .iter()
        .filter_map(Value::as_str)
        .find(|h| h.starts_with("h1:"))
        .expect("an h1: hash")
        .to_string()
}

/// After an install from a filesystem mirror the lock file covers this
/// platform only, and Terraform's suggested `providers lock -platform=…`
/// cannot reach `terraform.local`; the README's `-fs-mirror` command
/// completes it from the same mirror, for every platform whose zip the
/// mirror holds.
#[test]
fn providers_lock_from_a_filesystem_mirror_covers_every_platform() {
    let (command, platforms) = readme_fs_mirror_lock_command();
    let work = tempfile::tempdir().expect("temp dir");
    let dist = multi_platform_release(work.path(), &platforms);
    let mirror = dist.join("mirror/filesystem");
    let tf = Tf::new(
        &format!(
            "  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{SOURCE}\"]\n  }}\n  direct {{\n    exclude = [\"{SOURCE}\"]\n  }}\n",
            mirror.display()
        ),
        "",
    );
    let init = tf.ok(&["init", "-no-color", "-input=false"]);
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    // What the README explains: a filesystem mirror has no signatures.
    assert!(
        init.contains(&format!("Installed {SOURCE} v{VERSION} (unauthenticated)")),
        "{init}"
    );
    assert!(
        words(&init).contains("Incomplete lock file information for providers"),
        "{init}"
    );
    assert_eq!(
        locked_hashes(&tf.lock_file(), SOURCE),
        vec![h1_for(&dist, &platform())]
    );

    // The suggestion in that warning, as printed, fails.
    let host_flag = format!("-platform={}", platform());
    let (success, output) = tf.run(&["providers", "lock", "-no-color", &host_flag]);
    assert!(!success, "{output}");
    assert!(
        words(&output).contains("could not connect to terraform.local"),
        "{output}"
    );

    // The README's command, with this mirror's path.
    let command = command.replace("/opt/terraform-mirror", &mirror.display().to_string());
    let mut cmd = Command::new("bash");
    cmd.args(["-euo", "pipefail", "-c", &command])
        .current_dir(tf.path())
        .stdin(Stdio::null())
        .env_remove("TF_PLUGIN_CACHE_DIR");
    for (k, v) in &tf.env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("bash");
    let output = text(&out);
    assert!(out.status.success(), "{command}\n{output}");
    for p in &platforms {
        assert!(
            output.contains(&format!(
                "Retrieved {SOURCE} {VERSION} for {p} (unauthenticated)"
            )),
            "{output}"
        );
    }
    let mut locked = locked_hashes(&tf.lock_file(), SOURCE);
    locked.sort();
    let mut want: Vec<String> = platforms.iter().map(|p| h1_for(&dist, p)).collect();
    if !platforms.contains(&platform()) {
        want.push(h1_for(&dist, &platform()));
    }
    want.sort();
    assert_eq!(locked, want, "{output}\n{}", tf.lock_file());

    // With the lock file complete, init no longer warns.
    std::fs::remove_dir_all(tf.path().join(".terraform")).expect("remove .terraform");
    let init = tf.ok(&["init", "-no-color", "-input=false"]);
    assert!(!words(&init).contains("Incomplete lock file"), "{init}");

    // A platform the mirror holds no zip for cannot be locked from it.
    let mirror_flag = format!("-fs-mirror={}", mirror.display());
    let (success, output) = tf.run(&[
        "providers",
        "lock",
        "-no-color",
        &mirror_flag,
        "-platform=windows_386",
        SOURCE,
    ]);
    assert!(!success, "{output}");
    assert!(
        words(&output).contains("is not available for windows_386"),
        "{output}"
    );
}
