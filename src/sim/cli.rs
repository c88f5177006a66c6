//! Command-line flags of `tidbcloud-sim`, parsed by hand (the set is small and
//! fixed by `SIMULATOR.md`).

use std::path::PathBuf;
use std::time::Duration;

use crate::model::DomainStates;

/// The key that is accepted when no `--api-key` is given.
pub const DEFAULT_API_KEY: (&str, &str) = ("demo-public", "demo-private");

/// Usage text for `--help` and for flag errors.
pub const USAGE: &str = "\
tidbcloud-sim: a local TiDB Cloud API for private link connections

USAGE:
    tidbcloud-sim [--listen ADDR] [--api-key PUBLIC:PRIVATE[:read-only]]...
                  [--transition-delay-ms N] [--rate-limit-rpm N]
                  [--rate-limit-window-s N] [--seed FILE]
                  [--domain-states succeeded|attached]

FLAGS:
    --listen ADDR              address to listen on (default 127.0.0.1:8090;
                               port 0 picks a free port)
    --api-key PUBLIC:PRIVATE   an accepted API key pair; repeatable; replaces
                               the default demo-public:demo-private; a
                               `:read-only` suffix makes a key that may only
                               GET (403 PERMISSION_DENIED otherwise)
    --transition-delay-ms N    how long each transitional state lasts
                               (default 2000)
    --rate-limit-rpm N         authenticated requests allowed per key and
                               window (default 100; 0 turns the limit off)
    --rate-limit-window-s N    length of a rate-limit window in seconds
                               (default 60)
    --seed FILE                JSON world replacing the default clusters and
                               endpoint services
    --domain-states WORDS      the words attached domains move through:
                               succeeded (default: CREATING -> SUCCEEDED,
                               DELETING, FAILED) or attached (ATTACHING ->
                               ATTACHED, DETACHING, FAILED)
    -h, --help                 print this help
    -V, --version              print the version

The first line on stdout is `tidbcloud-sim listening on http://HOST:PORT`.
Logs go to stderr (level from TIDBCLOUD_SIM_LOG: error, warn, info, debug).
See docs/simulator.md.
";

/// Everything the command line configures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to bind, as given (resolved when binding).
    pub listen: String,
    /// Accepted API keys as (public, private) pairs.
    pub api_keys: Vec<(String, String)>,
    /// Accepted read-only API keys (GET only), as (public, private) pairs.
    pub read_only_keys: Vec<(String, String)>,
    /// Duration of each transitional state.
    pub transition_delay: Duration,
    /// Requests allowed per key and window; 0 disables the limit.
    pub rate_limit: u32,
    /// Length of a rate-limit window.
    pub rate_limit_window: Duration,
    /// Optional seed file replacing the default world.
    pub seed: Option<PathBuf>,
    /// The words of domain states.
    pub domain_states: DomainStates,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8090".to_string(),
            api_keys: vec![(DEFAULT_API_KEY.0.to_string(), DEFAULT_API_KEY.1.to_string())],
            transition_delay: Duration::from_millis(2000),
            rate_limit: 100,
            rate_limit_window: Duration::from_secs(60),
            seed: None,
            read_only_keys: Vec::new(),
            domain_states: DomainStates::Succeeded,
        }
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Run the simulator.
    Run(Config),
    /// Print the usage text and exit.
    Help,
    /// Print the version and exit.
    Version,
}

/// Parses the arguments after the program name. Both `--flag value` and
/// `--flag=value` are accepted.
pub fn parse<I>(args: I) -> Result<Command, String>
where
    I: IntoIterator<Item = String>,
{
    let mut config = Config::default();
    let mut keys = Keys::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--listen"
            | "--api-key"
            | "--transition-delay-ms"
            | "--rate-limit-rpm"
            | "--rate-limit-window-s"
            | "--seed"
            | "--domain-states" => {
                let value = match inline {
                    Some(v) => v,
                    None => args.next().ok_or_else(|| format!("{flag} needs a value"))?,
                };
                apply(&mut config, &mut keys, &flag, value)?;
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    // Given keys (of either kind) replace the default one.
    if !keys.full.is_empty() || !keys.read_only.is_empty() {
        config.api_keys = keys.full;
        config.read_only_keys = keys.read_only;
    }
    Ok(Command::Run(config))
}

/// The `--api-key` values seen so far.
#[derive(Default)]
struct Keys {
    full: Vec<(String, String)>,
    read_only: Vec<(String, String)>,
}

/// The suffix that makes an `--api-key` read-only.
const READ_ONLY_SUFFIX: &str = ":read-only";

/// Applies one flag with its value.
fn apply(config: &mut Config, keys: &mut Keys, flag: &str, value: String) -> Result<(), String> {
    match flag {
        "--listen" => {
            if value.is_empty() {
                return Err("--listen needs an address such as 127.0.0.1:8090".into());
            }
            config.listen = value;
        }
        "--api-key" => {
            let (pair, read_only) = match value.strip_suffix(READ_ONLY_SUFFIX) {
                Some(pair) => (pair, true),
                None => (value.as_str(), false),
            };
            let (public, private) = pair
                .split_once(':')
                .filter(|(p, s)| !p.is_empty() && !s.is_empty())
                .ok_or("--api-key takes PUBLIC:PRIVATE or PUBLIC:PRIVATE:read-only, both keys non-empty")?;
            let key = (public.to_string(), private.to_string());
            if read_only {
                keys.read_only.push(key);
            } else {
                keys.full.push(key);
            }
        }
        "--domain-states" => {
            config.domain_states = DomainStates::parse(&value).ok_or_else(|| {
                format!("--domain-states takes succeeded or attached, not `{value}`")
            })?;
        }
        "--transition-delay-ms" => {
            config.transition_delay = Duration::from_millis(number(flag, &value)?);
        }
        "--rate-limit-rpm" => {
            config.rate_limit =
                u32::try_from(number(flag, &value)?).map_err(|_| format!("{flag} is too large"))?;
        }
        "--rate-limit-window-s" => {
            let secs = number(flag, &value)?;
            if secs == 0 {
                return Err(format!("{flag} must be at least 1"));
            }
            config.rate_limit_window = Duration::from_secs(secs);
        }
        "--seed" => config.seed = Some(PathBuf::from(value)),
        _ => return Err(format!("unknown argument `{flag}`")),
    }
    Ok(())
}

fn number(flag: &str, value: &str) -> Result<u64, String> {
    value
        .parse::<u64>()
        .map_err(|_| format!("{flag} takes a whole number, not `{value}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Config, String> {
        match parse(args.iter().map(|s| s.to_string()))? {
            Command::Run(c) => Ok(c),
            other => Err(format!("{other:?}")),
        }
    }

    #[test]
    fn defaults_match_the_interface() {
        let c = run(&[]).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.listen, "127.0.0.1:8090");
        assert_eq!(
            c.api_keys,
            vec![("demo-public".into(), "demo-private".into())]
        );
        assert_eq!(c.transition_delay, Duration::from_millis(2000));
        assert_eq!(c.rate_limit, 100);
        assert_eq!(c.rate_limit_window, Duration::from_secs(60));
        assert!(c.read_only_keys.is_empty());
        assert_eq!(c.domain_states, DomainStates::Succeeded);
    }

    #[test]
    fn read_only_keys_and_domain_states() {
        let c = run(&[
            "--api-key",
            "viewer:v:read-only",
            "--domain-states=attached",
        ])
        .unwrap();
        assert!(
            c.api_keys.is_empty(),
            "a read-only key replaces the default"
        );
        assert_eq!(c.read_only_keys, vec![("viewer".into(), "v".into())]);
        assert_eq!(c.domain_states, DomainStates::Attached);
        let c = run(&["--api-key", "a:b", "--api-key", "c:d:read-only"]).unwrap();
        assert_eq!(c.api_keys, vec![("a".into(), "b".into())]);
        assert_eq!(c.read_only_keys, vec![("c".into(), "d".into())]);
        assert!(run(&["--api-key", "a:read-only"]).is_err());
        assert!(run(&["--domain-states", "ready"]).is_err());
    }

    #[test]
    fn every_flag_in_both_spellings() {
        let c = run(&[
            "--listen",
            "127.0.0.1:0",
            "--api-key=a:b",
            "--api-key",
            "c:d:e",
            "--transition-delay-ms=50",
            "--rate-limit-rpm",
            "0",
            "--rate-limit-window-s=2",
            "--seed",
            "w.json",
        ])
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:0");
        assert_eq!(
            c.api_keys,
            vec![("a".into(), "b".into()), ("c".into(), "d:e".into())]
        );
        assert_eq!(c.transition_delay, Duration::from_millis(50));
        assert_eq!(c.rate_limit, 0);
        assert_eq!(c.rate_limit_window, Duration::from_secs(2));
        assert_eq!(c.seed, Some(PathBuf::from("w.json")));
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(run(&["--bogus"]).is_err());
        assert!(run(&["--listen"]).is_err());
        assert!(run(&["--api-key", "nocolon"]).is_err());
        assert!(run(&["--api-key", ":x"]).is_err());
        assert!(run(&["--transition-delay-ms", "-1"]).is_err());
        assert!(run(&["--rate-limit-window-s", "0"]).is_err());
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse(["--help".to_string()]), Ok(Command::Help));
        assert_eq!(parse(["-V".to_string()]), Ok(Command::Version));
    }
}
