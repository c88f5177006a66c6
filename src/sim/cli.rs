//! Command-line flags of `tidbcloud-sim` (the set is fixed by the
//! simulator's documented interface), parsed with `clap`. Defaults live in
//! [`Config::default`]; a flag given twice keeps the last value, except
//! `--api-key`, which accumulates.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};

use crate::jitter;
use crate::model::DomainStates;

/// The key that is accepted when no `--api-key` is given.
pub const DEFAULT_API_KEY: (&str, &str) = ("demo-public", "demo-private");

/// What `--version` prints after the program name: the release and the
/// commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\ncommit: ",
    env!("TIDBCLOUD_PROVIDER_COMMIT")
);

const USAGE: &str = "\
tidbcloud-sim [--listen ADDR] [--api-key PUBLIC:PRIVATE[:read-only]]...
                     [--transition-delay-ms N] [--rate-limit-rpm N]
                     [--rate-limit-window-s N] [--seed FILE]
                     [--domain-states succeeded|attached]
                     [--transition-jitter PCT] [--jitter-seed N]";

const AFTER_HELP: &str = "\
The first line on stdout is `tidbcloud-sim listening on http://HOST:PORT`.
Logs go to stderr (level from TIDBCLOUD_SIM_LOG: error, warn, info, debug,
trace or off; default info). See docs/simulator.md.";

/// The flags as given; [`parse`] lays them over the defaults.
#[derive(Debug, Parser)]
#[command(
    name = "tidbcloud-sim",
    version = VERSION,
    about = "tidbcloud-sim: a local TiDB Cloud API for private link connections",
    override_usage = USAGE,
    after_help = AFTER_HELP,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    allow_negative_numbers = true
)]
struct Flags {
    /// address to listen on (default 127.0.0.1:8090;
    /// port 0 picks a free port)
    #[arg(verbatim_doc_comment, long, value_name = "ADDR", value_parser = listen)]
    listen: Option<String>,

    /// an accepted API key pair; repeatable; replaces
    /// the default demo-public:demo-private; a
    /// `:read-only` suffix makes a key that may only
    /// GET (403 PERMISSION_DENIED otherwise)
    #[arg(
        verbatim_doc_comment,
        long = "api-key",
        value_name = "PUBLIC:PRIVATE",
        value_parser = api_key,
        action = ArgAction::Append,
        allow_hyphen_values = true
    )]
    api_keys: Vec<ApiKey>,

    /// how long each transitional state lasts
    /// (default 2000)
    #[arg(verbatim_doc_comment, long, value_name = "N", value_parser = whole_number)]
    transition_delay_ms: Option<u64>,

    /// authenticated requests allowed per key and
    /// window (default 100; 0 turns the limit off)
    #[arg(verbatim_doc_comment, long, value_name = "N", value_parser = rate_limit)]
    rate_limit_rpm: Option<u32>,

    /// length of a rate-limit window in seconds
    /// (default 60)
    #[arg(verbatim_doc_comment, long, value_name = "N", value_parser = window)]
    rate_limit_window_s: Option<u64>,

    /// JSON world replacing the default clusters and
    /// endpoint services
    #[arg(verbatim_doc_comment, long, value_name = "FILE")]
    seed: Option<PathBuf>,

    /// the words attached domains move through:
    /// succeeded (default: CREATING -> SUCCEEDED,
    /// DELETING, FAILED) or attached (ATTACHING ->
    /// ATTACHED, DETACHING, FAILED)
    #[arg(verbatim_doc_comment, long, value_name = "WORDS", value_parser = domain_states)]
    domain_states: Option<DomainStates>,

    /// each transition lasts the delay times a factor
    /// drawn uniformly from [1-PCT/100, 1+PCT/100],
    /// per object and transition (0 to 100; default 0)
    #[arg(verbatim_doc_comment, long, value_name = "PCT", value_parser = jitter_pct)]
    transition_jitter: Option<f64>,

    /// seed of the jitter's draws: the same seed and
    /// the same order of operations give the same
    /// durations (default: a random seed, printed on
    /// stderr at start)
    #[arg(verbatim_doc_comment, long, value_name = "N", value_parser = whole_number)]
    jitter_seed: Option<u64>,

    /// print this help
    #[arg(short = 'h', long, action = ArgAction::Help)]
    help: Option<bool>,

    /// print the version and the commit
    #[arg(short = 'V', long, action = ArgAction::Version)]
    version: Option<bool>,
}

/// Everything the command line configures.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Address to bind, as given (resolved when binding).
    pub listen: String,
    /// Accepted API keys as (public, private) pairs.
    pub api_keys: Vec<(String, String)>,
    /// Accepted read-only API keys (GET only), as (public, private) pairs.
    pub read_only_keys: Vec<(String, String)>,
    /// Duration of each transitional state (before jitter).
    pub transition_delay: Duration,
    /// Jitter of each transition's duration, in percent of the delay.
    pub transition_jitter: f64,
    /// Seed of the jitter's draws; `None`: a random one.
    pub jitter_seed: Option<u64>,
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
            transition_jitter: 0.0,
            jitter_seed: None,
            rate_limit: 100,
            rate_limit_window: Duration::from_secs(60),
            seed: None,
            read_only_keys: Vec::new(),
            domain_states: DomainStates::Succeeded,
        }
    }
}

/// Parses the command line, program name first. `--help` and `--version`
/// come back as errors of kind `DisplayHelp` and `DisplayVersion`, which
/// print to stdout and exit 0; every other error exits 2.
pub fn parse<I, T>(args: I) -> Result<Config, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let flags = Flags::try_parse_from(args)?;
    let mut config = Config::default();
    let (read_only, full): (Vec<ApiKey>, Vec<ApiKey>) =
        flags.api_keys.into_iter().partition(|k| k.read_only);
    // Given keys (of either kind) replace the default one.
    if !full.is_empty() || !read_only.is_empty() {
        config.api_keys = full.into_iter().map(|k| (k.public, k.private)).collect();
        config.read_only_keys = read_only
            .into_iter()
            .map(|k| (k.public, k.private))
            .collect();
    }
    if let Some(listen) = flags.listen {
        config.listen = listen;
    }
    if let Some(ms) = flags.transition_delay_ms {
        config.transition_delay = Duration::from_millis(ms);
    }
    if let Some(rpm) = flags.rate_limit_rpm {
        config.rate_limit = rpm;
    }
    if let Some(secs) = flags.rate_limit_window_s {
        config.rate_limit_window = Duration::from_secs(secs);
    }
    if let Some(states) = flags.domain_states {
        config.domain_states = states;
    }
    if let Some(pct) = flags.transition_jitter {
        config.transition_jitter = pct;
    }
    config.seed = flags.seed;
    config.jitter_seed = flags.jitter_seed;
    Ok(config)
}

/// One `--api-key` value.
#[derive(Debug, Clone)]
struct ApiKey {
    public: String,
    private: String,
    read_only: bool,
}

/// The suffix that makes an `--api-key` read-only.
const READ_ONLY_SUFFIX: &str = ":read-only";

fn api_key(value: &str) -> Result<ApiKey, String> {
    let (pair, read_only) = match value.strip_suffix(READ_ONLY_SUFFIX) {
        Some(pair) => (pair, true),
        None => (value, false),
    };
    let (public, private) = pair
        .split_once(':')
        .filter(|(p, s)| !p.is_empty() && !s.is_empty())
        .ok_or("--api-key takes PUBLIC:PRIVATE or PUBLIC:PRIVATE:read-only, both keys non-empty")?;
    Ok(ApiKey {
        public: public.to_string(),
        private: private.to_string(),
        read_only,
    })
}

fn listen(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("--listen needs an address such as 127.0.0.1:8090".into());
    }
    Ok(value.to_string())
}

fn whole_number(value: &str) -> Result<u64, String> {
    value
        .parse::<u64>()
        .map_err(|_| format!("takes a whole number, not `{value}`"))
}

fn rate_limit(value: &str) -> Result<u32, String> {
    u32::try_from(whole_number(value)?).map_err(|_| format!("`{value}` is too large"))
}

fn window(value: &str) -> Result<u64, String> {
    match whole_number(value)? {
        0 => Err("must be at least 1".into()),
        secs => Ok(secs),
    }
}

fn domain_states(value: &str) -> Result<DomainStates, String> {
    DomainStates::parse(value)
        .ok_or_else(|| format!("--domain-states takes succeeded or attached, not `{value}`"))
}

fn jitter_pct(value: &str) -> Result<f64, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|p| (0.0..=jitter::MAX_PCT).contains(p))
        .ok_or_else(|| format!("takes a percentage from 0 to 100, not `{value}`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    fn run(args: &[&str]) -> Result<Config, clap::Error> {
        parse(std::iter::once("tidbcloud-sim").chain(args.iter().copied()))
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
        assert_eq!(c.transition_jitter, 0.0);
        assert_eq!(c.jitter_seed, None);
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
            "--transition-jitter=12.5",
            "--jitter-seed",
            "7",
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
        assert_eq!(c.transition_jitter, 12.5);
        assert_eq!(c.jitter_seed, Some(7));
    }

    #[test]
    fn the_last_value_wins() {
        let c = run(&[
            "--listen",
            "a:1",
            "--listen=b:2",
            "--transition-jitter",
            "5",
        ])
        .unwrap();
        assert_eq!(c.listen, "b:2");
        let c = run(&["--transition-jitter", "5", "--transition-jitter", "0"]).unwrap();
        assert_eq!(c.transition_jitter, 0.0);
    }

    #[test]
    fn bad_input_is_an_error() {
        for bad in [
            &["--bogus"][..],
            &["--listen"],
            &["--listen", ""],
            &["--api-key", "nocolon"],
            &["--api-key", ":x"],
            &["--transition-delay-ms", "-1"],
            &["--rate-limit-rpm", "4294967296"],
            &["--rate-limit-window-s", "0"],
            &["--transition-jitter", "100.5"],
            &["--transition-jitter", "NaN"],
            &["--jitter-seed", "-1"],
            &["positional"],
        ] {
            let err = run(bad).expect_err(&format!("{bad:?}"));
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn help_and_version() {
        for flag in ["-h", "--help"] {
            assert_eq!(run(&[flag]).unwrap_err().kind(), ErrorKind::DisplayHelp);
        }
        for flag in ["-V", "--version"] {
            let err = run(&[flag]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::DisplayVersion);
            assert_eq!(err.exit_code(), 0);
        }
    }
}
