//! Settle times remembered between provider processes.
//!
//! Terraform starts a new provider process for every command (and for the
//! plan and the apply of one `terraform apply`), so the watcher would learn
//! afresh, in every process, how long a create, delete, attach or detach
//! takes, by polling the first operation of each kind closely. Against the
//! real API, where an operation takes minutes, that costs tens of requests
//! per kind and process from a budget shared by everyone on the key.
//!
//! The watcher's estimates are therefore kept in a small JSON file, per API
//! endpoint, and a new process starts from them: the first operation of a
//! kind then starts polling at three quarters of the remembered time (so an
//! operation that became faster is still seen early, and the estimate
//! follows it down) instead of half a second after the request.
//!
//! The file holds durations and endpoint URLs only. It lives in the user's
//! cache directory (`$XDG_CACHE_HOME`, else `~/.cache`), under
//! `terraform-provider-tidbcloud/settle-times.json`; the environment can move
//! it or turn it off (see the provider's documentation). A file that cannot
//! be read or written is ignored: the process then learns as if it were the
//! first.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::watcher::Kind;

/// Endpoints kept in the file: the most recently updated ones.
const MAX_ENDPOINTS: usize = 32;

/// Where a process reads and writes the settle times of one endpoint.
#[derive(Debug, Clone)]
pub struct SettleMemory {
    path: PathBuf,
    endpoint: String,
}

#[derive(Serialize, Deserialize, Default)]
struct File {
    version: u32,
    #[serde(default)]
    endpoints: HashMap<String, Entry>,
}

#[derive(Serialize, Deserialize, Default, Clone)]
struct Entry {
    /// Milliseconds since the Unix epoch when a process last wrote this
    /// entry (later writes always get a larger number).
    updated_ms: u64,
    /// Milliseconds from a write's answer to its settled state, by kind.
    #[serde(default)]
    settle_ms: HashMap<String, u64>,
}

const VERSION: u32 = 1;

fn kind_name(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Create => Some("create"),
        Kind::Delete => Some("delete"),
        Kind::Attach => Some("attach"),
        Kind::Detach => Some("detach"),
        Kind::Observe => None,
    }
}

fn kind_of(name: &str) -> Option<Kind> {
    [Kind::Create, Kind::Delete, Kind::Attach, Kind::Detach]
        .into_iter()
        .find(|k| kind_name(*k) == Some(name))
}

/// The default file: `$XDG_CACHE_HOME/terraform-provider-tidbcloud/settle-times.json`,
/// else under `$HOME/.cache`, else (Windows) under `%LOCALAPPDATA%`; `None`
/// when none is set.
pub fn default_path() -> Option<PathBuf> {
    default_path_from(|name| std::env::var_os(name))
}

fn default_path_from(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = set("XDG_CACHE_HOME")
        .or_else(|| set("HOME").map(|h| h.join(".cache")))
        .or_else(|| set("LOCALAPPDATA"))?;
    Some(
        base.join("terraform-provider-tidbcloud")
            .join("settle-times.json"),
    )
}

impl SettleMemory {
    pub fn new(path: PathBuf, endpoint: &str) -> SettleMemory {
        SettleMemory {
            path,
            endpoint: endpoint.trim_end_matches('/').to_string(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> File {
        std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<File>(&bytes).ok())
            .filter(|f| f.version == VERSION)
            .unwrap_or_default()
    }

    /// The settle times remembered for this endpoint (empty when there are
    /// none or the file cannot be read).
    pub fn load(&self) -> HashMap<Kind, Duration> {
        self.read()
            .endpoints
            .get(&self.endpoint)
            .map(|e| {
                e.settle_ms
                    .iter()
                    .filter_map(|(k, ms)| Some((kind_of(k)?, Duration::from_millis(*ms))))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Remembers `times` for this endpoint, over what the file holds (other
    /// kinds and endpoints are kept). Written to a temporary file and
    /// renamed, so a reader never sees half a file; the last writer of
    /// concurrent processes wins.
    pub fn save(&self, times: &HashMap<Kind, Duration>) -> std::io::Result<()> {
        // Saves of one process go one at a time (each reads what the last
        // wrote).
        static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let mut file = self.read();
        file.version = VERSION;
        let latest = file.endpoints.values().map(|e| e.updated_ms).max();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
            .max(latest.map_or(0, |l| l + 1));
        let entry = file.endpoints.entry(self.endpoint.clone()).or_default();
        entry.updated_ms = now;
        for (kind, d) in times {
            if let Some(name) = kind_name(*kind) {
                entry
                    .settle_ms
                    .insert(name.to_string(), d.as_millis() as u64);
            }
        }
        if file.endpoints.len() > MAX_ENDPOINTS {
            let mut by_age: Vec<(u64, String)> = file
                .endpoints
                .iter()
                .map(|(k, e)| (e.updated_ms, k.clone()))
                .collect();
            by_age.sort();
            for (_, k) in by_age.iter().take(file.endpoints.len() - MAX_ENDPOINTS) {
                file.endpoints.remove(k);
            }
        }
        let dir = self
            .path
            .parent()
            .ok_or_else(|| std::io::Error::other("the settle times file has no directory"))?;
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(
            ".settle-times.{}.{}.tmp",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        let bytes = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
        write_private(&tmp, &bytes)?;
        std::fs::rename(&tmp, &self.path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_is_in_the_user_cache_directory() {
        let path = |vars: &[(&str, &str)]| {
            let vars: HashMap<String, OsString> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), OsString::from(v)))
                .collect();
            default_path_from(|name| vars.get(name).cloned())
        };
        let file = Path::new("terraform-provider-tidbcloud").join("settle-times.json");
        assert_eq!(
            path(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")]),
            Some(Path::new("/x").join(&file))
        );
        assert_eq!(
            path(&[("XDG_CACHE_HOME", ""), ("HOME", "/h")]),
            Some(Path::new("/h/.cache").join(&file))
        );
        // Windows sets neither, but has a local application data folder.
        assert_eq!(
            path(&[("LOCALAPPDATA", "C:/Users/u/AppData/Local")]),
            Some(Path::new("C:/Users/u/AppData/Local").join(&file))
        );
        assert_eq!(path(&[]), None);
    }

    #[test]
    fn times_round_trip_per_endpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("settle-times.json");
        let a = SettleMemory::new(path.clone(), "https://a.example/");
        let b = SettleMemory::new(path.clone(), "https://b.example");
        assert!(a.load().is_empty());
        a.save(&HashMap::from([(
            Kind::Create,
            Duration::from_millis(10_150),
        )]))
        .unwrap();
        b.save(&HashMap::from([(Kind::Detach, Duration::from_secs(3))]))
            .unwrap();
        // A later save of another kind keeps the first.
        a.save(&HashMap::from([(Kind::Attach, Duration::from_secs(7))]))
            .unwrap();
        assert_eq!(
            a.load(),
            HashMap::from([
                (Kind::Create, Duration::from_millis(10_150)),
                (Kind::Attach, Duration::from_secs(7)),
            ])
        );
        assert_eq!(
            b.load(),
            HashMap::from([(Kind::Detach, Duration::from_secs(3))])
        );
        // The trailing slash does not make another endpoint.
        assert_eq!(
            SettleMemory::new(path.clone(), "https://a.example").load(),
            a.load()
        );
    }

    #[test]
    fn an_unreadable_file_is_no_memory_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settle-times.json");
        std::fs::write(&path, b"{ not json").unwrap();
        let m = SettleMemory::new(path.clone(), "https://a.example");
        assert!(m.load().is_empty());
        m.save(&HashMap::from([(Kind::Delete, Duration::from_secs(2))]))
            .unwrap();
        assert_eq!(
            m.load(),
            HashMap::from([(Kind::Delete, Duration::from_secs(2))])
        );
        // Nothing but the file is left in the directory.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("settle-times.json")]);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private_to_its_user() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settle-times.json");
        SettleMemory::new(path.clone(), "https://a.example")
            .save(&HashMap::from([(Kind::Create, Duration::from_secs(1))]))
            .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn only_the_most_recent_endpoints_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settle-times.json");
        for i in 0..MAX_ENDPOINTS + 5 {
            SettleMemory::new(path.clone(), &format!("http://127.0.0.1:{}", 1000 + i))
                .save(&HashMap::from([(Kind::Create, Duration::from_secs(1))]))
                .unwrap();
        }
        let file: File = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(file.endpoints.len(), MAX_ENDPOINTS);
        let last = format!("http://127.0.0.1:{}", 1000 + MAX_ENDPOINTS + 4);
        assert!(file.endpoints.contains_key(&last));
    }
}
