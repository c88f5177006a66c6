//! The waiting core across a grid of configurations, deterministically,
//! under tokio's paused clock: the provider's real resources, waits,
//! schedule and rate limiter, driven by a model of Terraform's walk
//! (`support::tf_walk`) over an in-process model of the API
//! (`support::api_model`), against two references (`support::floor`):
//! F_online, a centralised policy that knows no settle time in advance,
//! and F_oracle, the fastest schedule of the unavoidable requests.
//!
//! ```text
//! cargo test --release --test waiting_grid -- --ignored --nocapture
//! ```
//!
//! The grid itself is ignored by plain `cargo test` until every cell meets
//! its bounds; its parts (the references, the model, the design) run.
//!
//! Prints one row per cell and ends with the summary line
//! `grid: <cells> cells (<k> infeasible), apply max <r>x, destroy max <r>x, median <r>x, user 429s <n>`.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use support::api_model::{ApiModel, ModelConfig, Op};
use support::floor::{self, Command, Conditions, Policy, Reference, Workload};
use support::tf_walk;

const WINDOW: Duration = Duration::from_secs(60);
const KEY: &str = "grid-key";
/// The other client's requests are counted under this workspace.
const OTHER: usize = usize::MAX;
/// The seed of the settle times' jitter.
const SEED: u64 = 0x5eed_2025_0304;
/// A cell that needs more real time than this is stopped and failed: the
/// waiting core does not run on tokio's clock (or spins).
const REAL_TIME_PER_CELL: Duration = Duration::from_secs(5);
/// After this many such cells the rest are not run (and fail).
const MAX_STOPPED: usize = 2;

// ---- dimensions ---------------------------------------------------------------------------

const NS: [u64; 7] = [1, 3, 10, 15, 20, 30, 60];
const DOMAINS: [bool; 2] = [false, true];
const SETTLES_MS: [u64; 7] = [500, 2_000, 5_000, 10_000, 30_000, 120_000, 600_000];
const RPMS: [u64; 2] = [100, 30];
const PARALLELISMS: [u64; 2] = [10, 30];
const OTHERS: [bool; 2] = [false, true];
const JITTERS: [bool; 2] = [false, true];
const WORKSPACES: [usize; 3] = [1, 2, 5];

/// How many values each dimension has, in the order of [`Cell::from_levels`].
const LEVELS: [usize; 8] = [
    NS.len(),
    DOMAINS.len(),
    SETTLES_MS.len(),
    RPMS.len(),
    PARALLELISMS.len(),
    OTHERS.len(),
    JITTERS.len(),
    WORKSPACES.len(),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Cell {
    n: u64,
    domains: bool,
    settle_ms: u64,
    rpm: u64,
    parallelism: u64,
    other: bool,
    jitter: bool,
    workspaces: usize,
}

impl Cell {
    fn from_levels(l: &[usize]) -> Cell {
        Cell {
            n: NS[l[0]],
            domains: DOMAINS[l[1]],
            settle_ms: SETTLES_MS[l[2]],
            rpm: RPMS[l[3]],
            parallelism: PARALLELISMS[l[4]],
            other: OTHERS[l[5]],
            jitter: JITTERS[l[6]],
            workspaces: WORKSPACES[l[7]],
        }
    }

    /// The defaults of the dimensions other than N, domains and settle.
    fn at_defaults(n: u64, domains: bool, settle_ms: u64) -> Cell {
        Cell {
            n,
            domains,
            settle_ms,
            rpm: 100,
            parallelism: 10,
            other: false,
            jitter: false,
            workspaces: 1,
        }
    }

    fn settle(&self) -> Duration {
        Duration::from_millis(self.settle_ms)
    }

    /// Where the oracle bound applies: long settle times, nothing shared.
    fn oracle_bound(&self) -> bool {
        self.settle_ms >= 10_000 && !self.jitter && !self.other && self.workspaces == 1
    }

    fn label(&self) -> String {
        format!(
            "{:>2}{} {:>5}s {:>3}rpm P{:<2} {} {} {}ws",
            self.n,
            if self.domains { "+d" } else { "  " },
            self.settle_ms as f64 / 1000.0,
            self.rpm,
            self.parallelism,
            if self.other { "other" } else { "  -  " },
            if self.jitter { "±50%" } else { " -  " },
            self.workspaces
        )
    }
}

/// A pairwise design over dimensions of `levels` values: every pair of
/// values of any two dimensions is in some row. Greedy and deterministic:
/// each row starts from the first pair not yet covered and takes, in each
/// other dimension, the value that covers most new pairs (the lowest on
/// ties).
fn pairwise(levels: &[usize]) -> Vec<Vec<usize>> {
    let d = levels.len();
    let mut uncovered: BTreeSet<(usize, usize, usize, usize)> = BTreeSet::new();
    for i in 0..d {
        for j in i + 1..d {
            for a in 0..levels[i] {
                for b in 0..levels[j] {
                    uncovered.insert((i, a, j, b));
                }
            }
        }
    }
    let mut rows = Vec::new();
    while let Some(&(i, a, j, b)) = uncovered.iter().next() {
        let mut row: Vec<Option<usize>> = vec![None; d];
        row[i] = Some(a);
        row[j] = Some(b);
        for k in 0..d {
            if row[k].is_some() {
                continue;
            }
            let gain = |v: usize| {
                (0..d)
                    .filter_map(|m| row[m].map(|x| (m, x)))
                    .filter(|&(m, x)| {
                        let key = if m < k { (m, x, k, v) } else { (k, v, m, x) };
                        uncovered.contains(&key)
                    })
                    .count()
            };
            let best = (0..levels[k])
                .max_by_key(|&v| (gain(v), std::cmp::Reverse(v)))
                .expect("a dimension has values");
            row[k] = Some(best);
        }
        let row: Vec<usize> = row.into_iter().map(|v| v.expect("filled")).collect();
        for p in 0..d {
            for q in p + 1..d {
                uncovered.remove(&(p, row[p], q, row[q]));
            }
        }
        rows.push(row);
    }
    rows
}

/// Every cell of the grid: the pairwise design, the full product of N,
/// domains and settle at the other dimensions' defaults, and the cells of
/// `cargo bench --bench provider`; each once.
fn cells() -> Vec<Cell> {
    let mut all: Vec<Cell> = pairwise(&LEVELS)
        .iter()
        .map(|l| Cell::from_levels(l))
        .collect();
    for n in NS {
        for domains in DOMAINS {
            for settle_ms in SETTLES_MS {
                all.push(Cell::at_defaults(n, domains, settle_ms));
            }
        }
    }
    // The benchmark: 30 connections, 30 + 30 domains, two workspaces of
    // 15 on one key; 100 requests a minute, 10 s, parallelism 10.
    all.push(Cell::at_defaults(30, false, 10_000));
    all.push(Cell::at_defaults(30, true, 10_000));
    all.push(Cell {
        workspaces: 2,
        ..Cell::at_defaults(15, false, 10_000)
    });
    let mut seen = BTreeSet::new();
    all.retain(|c| seen.insert(*c));
    all
}

// ---- settle times -------------------------------------------------------------------------

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The settle time of one operation: `base`, or with `jitter` uniform on
/// [0.5, 1.5] x `base`, drawn from the seed and the operation's identity
/// (so that the model and the references agree whatever the order).
fn settle_of(
    base: Duration,
    jitter: bool,
    seed: u64,
    workspace: usize,
    op: Op,
    index: usize,
) -> Duration {
    if !jitter {
        return base;
    }
    let key = seed ^ splitmix(((workspace as u64) << 40) ^ ((op as u64) << 32) ^ index as u64);
    let u = (splitmix(key) >> 11) as f64 / (1u64 << 53) as f64;
    base.mul_f64(0.5 + u)
}

// ---- one cell -----------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Measured {
    time: Duration,
    requests: u64,
    errors: Vec<String>,
    user_429s: usize,
    answered_429: u64,
    summary: String,
    stopped: Option<String>,
}

struct CellResult {
    cell: Cell,
    apply: Measured,
    destroy: Measured,
    online: [Reference; 2],
    oracle: [Reference; 2],
}

fn references(cell: &Cell) -> ([Reference; 2], [Reference; 2]) {
    let base = cell.settle();
    let jitter = cell.jitter;
    let settle = move |w: usize, op: Op, i: usize| settle_of(base, jitter, SEED, w, op, i);
    let conditions = Conditions {
        parallelism: cell.parallelism,
        budget: cell.rpm,
        window: WINDOW,
        other_client: cell.other,
        settle: &settle,
    };
    let work = vec![
        Workload {
            n: cell.n,
            domains: cell.domains,
        };
        cell.workspaces
    ];
    let of = |policy, command| floor::reference(policy, command, &work, &conditions, jitter);
    (
        [
            of(Policy::Online, Command::Apply),
            of(Policy::Online, Command::Destroy),
        ],
        [
            of(Policy::Oracle, Command::Apply),
            of(Policy::Oracle, Command::Destroy),
        ],
    )
}

fn measure(model: &ApiModel, workspaces: usize, outcomes: &[tf_walk::Outcome]) -> Measured {
    let mut m = Measured::default();
    let mut summaries = Vec::new();
    for w in 0..workspaces {
        let counts = model.counts(w);
        m.requests += counts.total();
        m.answered_429 += counts.rejected;
        summaries.push(counts.summary());
    }
    for o in outcomes {
        m.time = m.time.max(o.elapsed);
        m.user_429s += o.rate_limit_errors();
        m.errors.extend(o.errors.iter().cloned());
    }
    m.summary = summaries.join(" | ");
    m
}

/// Runs `future` unless it needs more than `virtual_cap` of tokio's clock.
async fn bounded<T>(
    future: impl std::future::Future<Output = T>,
    virtual_cap: Duration,
) -> Result<T, String> {
    tokio::time::timeout(virtual_cap, future)
        .await
        .map_err(|_| format!("did not end within {virtual_cap:.0?} of tokio's clock"))
}

/// Runs a cell on a thread of its own; one that needs more than
/// [`REAL_TIME_PER_CELL`] of real time is stopped (its model refuses every
/// request from then on) and reported as such.
fn run_cell(cell: Cell) -> CellResult {
    let abort = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let flag = abort.clone();
    std::thread::spawn(move || {
        let _ = tx.send(run_cell_here(cell, flag));
    });
    let stopped = |why: &str| {
        let (online, oracle) = references(&cell);
        let m = || Measured {
            stopped: Some(why.to_string()),
            ..Measured::default()
        };
        CellResult {
            cell,
            apply: m(),
            destroy: m(),
            online,
            oracle,
        }
    };
    match rx.recv_timeout(REAL_TIME_PER_CELL) {
        Ok(r) => r,
        Err(_) => {
            abort.store(true, std::sync::atomic::Ordering::Relaxed);
            match rx.recv_timeout(Duration::from_secs(5)) {
                Ok(mut r) => {
                    for m in [&mut r.apply, &mut r.destroy] {
                        m.stopped.get_or_insert_with(|| format!("stopped after {REAL_TIME_PER_CELL:?} of real time: the waiting core does not run on tokio's paused clock"));
                    }
                    r
                }
                // Left running; the process ends with the test.
                Err(_) => stopped(&format!("stopped after {REAL_TIME_PER_CELL:?} of real time and did not end when its model refused requests: the waiting core does not run on tokio's paused clock")),
            }
        }
    }
}

fn run_cell_here(cell: Cell, abort: Arc<std::sync::atomic::AtomicBool>) -> CellResult {
    // The client's only random draws (reset and retry jitter) come from a
    // seed, so that every run of a cell is the same.
    tidbcloud_provider::api::backoff::seed_this_thread(SEED);
    let (online, oracle) = references(&cell);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let (apply, destroy) = runtime.block_on(async {
        let base = cell.settle();
        let jitter = cell.jitter;
        let model = ApiModel::new(ModelConfig {
            budget: cell.rpm,
            window: WINDOW,
            settle: Arc::new(move |name: &str, op: Op| {
                let (w, i) = tf_walk::parse_display_name(name).unwrap_or((0, 0));
                settle_of(base, jitter, SEED, w, op, i)
            }),
            abort: Some(abort),
        });
        let _other = cell.other.then(|| model.start_other_client(KEY, OTHER));
        let cap = |r: &Reference| r.time * 3 + Duration::from_secs(120);
        let walks = join_all((0..cell.workspaces).map(|w| {
            tf_walk::apply(
                &model,
                KEY,
                w,
                cell.n as usize,
                cell.domains,
                cell.parallelism as usize,
            )
        }));
        let (mut apply, states) = match bounded(walks, cap(&online[0])).await {
            Ok(done) => {
                let (outcomes, states): (Vec<_>, Vec<_>) = done.into_iter().unzip();
                (measure(&model, cell.workspaces, &outcomes), Some(states))
            }
            Err(why) => (
                Measured {
                    stopped: Some(why),
                    ..measure(&model, cell.workspaces, &[])
                },
                None,
            ),
        };
        let Some(states) = states else {
            apply.time = model.elapsed();
            return (
                apply,
                Measured {
                    stopped: Some("not run".into()),
                    ..Measured::default()
                },
            );
        };
        // The destroy starts in a fresh rate window.
        if let Some(end) = model.window_end(KEY) {
            tokio::time::sleep_until(end).await;
        }
        model.reset_counts();
        let walks = join_all(
            states
                .iter()
                .enumerate()
                .map(|(w, s)| tf_walk::destroy(&model, KEY, w, s, cell.parallelism as usize)),
        );
        let destroy = match bounded(walks, cap(&online[1])).await {
            Ok(outcomes) => measure(&model, cell.workspaces, &outcomes),
            Err(why) => Measured {
                stopped: Some(why),
                ..measure(&model, cell.workspaces, &[])
            },
        };
        (apply, destroy)
    });
    CellResult {
        cell,
        apply,
        destroy,
        online,
        oracle,
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    if b.is_zero() {
        if a.is_zero() {
            1.0
        } else {
            f64::INFINITY
        }
    } else {
        a.as_secs_f64() / b.as_secs_f64()
    }
}

/// The requests a command of a cell may send: the unavoidable ones plus,
/// per process, kind and cluster, the online reference's exploring polls.
///
/// - The unavoidable requests are F_oracle's: per workspace, its cluster
///   checks (one in the plan's process, one in the apply's), the refresh of
///   a destroy, a baseline listing per group of creates started together,
///   every write, and one observation at each settle time. The oracle
///   shares a listing only among the waits of one process, as the
///   processes of different workspaces cannot share a request.
/// - The exploring polls are F_online's, counted for each provider process
///   of each workspace and each kind of wait (create, delete, attach,
///   detach) on its own (`Reference::exploring_by`): its misses before the
///   process's first settled observation of the kind, listings for
///   connection waits and one GET per connection for domain waits. A
///   listing F_online shares among workspaces counts for each workspace
///   whose waits it explored for, since each process would send its own.
/// - In jitter cells the reference also counts its misses between 0.5x and
///   1.5x the settle time its process observed, on each wave
///   (`floor::reference`'s `jitter_window`).
///
/// Every request the model answered counts against it, those answered 429
/// too, as the simulator counts them; the references never send one.
fn allowance(oracle: &Reference, online: &Reference) -> u64 {
    oracle.requests + online.exploring_by.values().sum::<u64>()
}

/// Why a cell fails; empty when it passes.
fn failures(r: &CellResult) -> Vec<String> {
    let mut why = Vec::new();
    let feasible = r.online.iter().all(|o| o.feasible);
    for (name, m, online, oracle) in [
        ("apply", &r.apply, &r.online[0], &r.oracle[0]),
        ("destroy", &r.destroy, &r.online[1], &r.oracle[1]),
    ] {
        if let Some(s) = &m.stopped {
            why.push(format!("{name} {s}"));
            continue;
        }
        if !m.errors.is_empty() {
            why.push(format!("{name} failed: {}", m.errors[0]));
        }
        if m.user_429s > 0 {
            why.push(format!(
                "{name}: {} rate limit errors reached the user",
                m.user_429s
            ));
        }
        if !feasible {
            continue;
        }
        let on = ratio(m.time, online.time);
        if on > 1.25 {
            why.push(format!(
                "{name} took {:.1?}, {on:.2}x F_online ({:.1?})",
                m.time, online.time
            ));
        }
        let or = ratio(m.time, oracle.time);
        if r.cell.oracle_bound() && or > 1.25 {
            why.push(format!(
                "{name} took {:.1?}, {or:.2}x F_oracle ({:.1?})",
                m.time, oracle.time
            ));
        }
        let allowed = allowance(oracle, online);
        if m.requests > allowed {
            why.push(format!(
                "{name} sent {} requests ({} answered 429), more than the {} unavoidable + {} exploring polls ({})",
                m.requests,
                m.answered_429,
                oracle.requests,
                allowed - oracle.requests,
                m.summary
            ));
        }
    }
    why
}

fn secs(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

// ---- the grid -----------------------------------------------------------------------------

#[test]
#[ignore = "14 of 125 cells do not meet their bounds yet (several workspaces on one key, a jittered cell, 60 + 60 at 5 s, 20 + 20 at 10 s against F_oracle); run by hand with --ignored, see docs/performance.md"]
fn waiting_grid() {
    let cells = cells();
    println!("waiting grid: {} cells, seed {SEED:#x}", cells.len());
    println!(
        "{:<4} {:<38} | {:>7} {:>7} {:>7} {:>6} | {:>7} {:>7} {:>7} {:>6} | {:>13} {:>13} | {:>4} {:>4} | verdict",
        "#", "cell", "apply", "F_on", "F_or", "x_on", "destroy", "F_on", "F_or", "x_on", "req apply", "req destroy", "429a", "429u"
    );
    let mut results = Vec::new();
    let mut stopped = 0;
    for (k, cell) in cells.into_iter().enumerate() {
        let r = if stopped >= MAX_STOPPED {
            let (online, oracle) = references(&cell);
            let not_run = || Measured {
                stopped: Some("not run: earlier cells did not run on tokio's clock".into()),
                ..Measured::default()
            };
            CellResult {
                cell,
                apply: not_run(),
                destroy: not_run(),
                online,
                oracle,
            }
        } else {
            run_cell(cell)
        };
        if r.apply
            .stopped
            .as_deref()
            .is_some_and(|s| s.starts_with("stopped"))
            || r.destroy
                .stopped
                .as_deref()
                .is_some_and(|s| s.starts_with("stopped"))
        {
            stopped += 1;
        }
        let why = failures(&r);
        let feasible = r.online.iter().all(|o| o.feasible);
        let verdict = if !feasible {
            "infeasible".to_string()
        } else if why.is_empty() {
            "ok".to_string()
        } else {
            format!("FAIL: {}", why.join("; "))
        };
        println!(
            "{:<4} {:<38} | {:>7} {:>7} {:>7} {:>6.2} | {:>7} {:>7} {:>7} {:>6.2} | {:>5}/{:<3}+{:<3} {:>5}/{:<3}+{:<3} | {:>4} {:>4} | {verdict}",
            k,
            r.cell.label(),
            secs(r.apply.time),
            secs(r.online[0].time),
            secs(r.oracle[0].time),
            ratio(r.apply.time, r.online[0].time),
            secs(r.destroy.time),
            secs(r.online[1].time),
            secs(r.oracle[1].time),
            ratio(r.destroy.time, r.online[1].time),
            r.apply.requests,
            r.oracle[0].requests,
            r.online[0].exploring,
            r.destroy.requests,
            r.oracle[1].requests,
            r.online[1].exploring,
            r.apply.answered_429 + r.destroy.answered_429,
            r.apply.user_429s + r.destroy.user_429s,
        );
        results.push((r, why, feasible));
    }
    let infeasible = results.iter().filter(|(_, _, f)| !f).count();
    let feasible: Vec<&CellResult> = results
        .iter()
        .filter(|(_, _, f)| *f)
        .map(|(r, _, _)| r)
        .collect();
    let apply_max = feasible
        .iter()
        .map(|r| ratio(r.apply.time, r.online[0].time))
        .fold(0.0, f64::max);
    let destroy_max = feasible
        .iter()
        .map(|r| ratio(r.destroy.time, r.online[1].time))
        .fold(0.0, f64::max);
    let mut all: Vec<f64> = feasible
        .iter()
        .flat_map(|r| {
            [
                ratio(r.apply.time, r.online[0].time),
                ratio(r.destroy.time, r.online[1].time),
            ]
        })
        .collect();
    all.sort_by(f64::total_cmp);
    let median = if all.is_empty() {
        0.0
    } else {
        all[all.len() / 2]
    };
    let user_429s: usize = results
        .iter()
        .map(|(r, _, _)| r.apply.user_429s + r.destroy.user_429s)
        .sum();
    let failed: Vec<String> = results
        .iter()
        .filter(|(_, why, f)| *f && !why.is_empty())
        .map(|(r, why, _)| format!("{}: {}", r.cell.label(), why.join("; ")))
        .collect();
    println!(
        "grid: {} cells ({infeasible} infeasible), apply max {apply_max:.2}x, destroy max {destroy_max:.2}x, median {median:.2}x, user 429s {user_429s}",
        results.len()
    );
    assert!(
        failed.is_empty(),
        "{} of {} cells fail:\n{}",
        failed.len(),
        results.len(),
        failed.join("\n")
    );
}

// ---- the parts ----------------------------------------------------------------------------

#[test]
fn the_design_covers_every_pair_of_values() {
    let rows = pairwise(&LEVELS);
    for i in 0..LEVELS.len() {
        for j in i + 1..LEVELS.len() {
            for a in 0..LEVELS[i] {
                for b in 0..LEVELS[j] {
                    assert!(
                        rows.iter().any(|r| r[i] == a && r[j] == b),
                        "no row has value {a} of dimension {i} with value {b} of dimension {j}"
                    );
                }
            }
        }
    }
    // At least the product of the two largest dimensions, and far fewer
    // than the full product.
    assert!(rows.len() >= 49 && rows.len() <= 70, "{} rows", rows.len());
    assert_eq!(rows, pairwise(&LEVELS), "deterministic");
    let cells = cells();
    for n in NS {
        for d in DOMAINS {
            for s in SETTLES_MS {
                assert!(cells.contains(&Cell::at_defaults(n, d, s)));
            }
        }
    }
}

#[test]
fn jitter_is_uniform_on_half_to_one_and_a_half_and_reproducible() {
    let base = Duration::from_secs(10);
    assert_eq!(settle_of(base, false, SEED, 0, Op::Create, 3), base);
    let draws: Vec<Duration> = (0..2000)
        .map(|i| settle_of(base, true, SEED, i % 5, Op::Attach, i))
        .collect();
    assert!(draws.iter().all(|d| *d >= base / 2 && *d <= base * 3 / 2));
    let mean = draws.iter().map(Duration::as_secs_f64).sum::<f64>() / draws.len() as f64;
    assert!((mean - 10.0).abs() < 0.2, "mean {mean}");
    let low = draws.iter().filter(|d| **d < base).count();
    assert!((900..1100).contains(&low), "{low} below the base");
    assert_eq!(draws[7], settle_of(base, true, SEED, 2, Op::Attach, 7));
}

// ---- the references, by hand --------------------------------------------------------------

mod references {
    use super::*;

    fn conditions<'a>(
        budget: u64,
        parallelism: u64,
        other_client: bool,
        settle: &'a dyn Fn(usize, Op, usize) -> Duration,
    ) -> Conditions<'a> {
        Conditions {
            parallelism,
            budget,
            window: WINDOW,
            other_client,
            settle,
        }
    }

    fn one(n: u64, domains: bool) -> Vec<Workload> {
        vec![Workload { n, domains }]
    }

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn the_oracle_polls_once_at_each_settle_time() {
        let ten = |_: usize, _: Op, _: usize| Duration::from_secs(10);
        let c = conditions(100, 10, false, &ten);
        // Three waves of ten creates: before each, a listing; after each, a
        // listing at 10 s. Plus a cluster check and a same-name listing in
        // the plan's process and in the apply's: 4 + 3 x 11 + 3 = 40, as the
        // floor says.
        let r = floor::reference(Policy::Oracle, Command::Apply, &one(30, false), &c, false);
        assert_eq!((r.time, r.requests, r.exploring), (ms(30_000), 40, 0));
        assert!(r.feasible);
        let f = floor::floor(
            &[&floor::apply_phases(30, false)],
            floor::Limits {
                parallelism: 10,
                settle: Duration::from_secs(10),
                budget: 100,
                window: WINDOW,
            },
        );
        assert_eq!((f.time, f.requests), (r.time, r.requests));
        // The destroy: one listing for the refresh, then 30 deletes and a
        // listing per wave.
        let r = floor::reference(Policy::Oracle, Command::Destroy, &one(30, false), &c, false);
        assert_eq!((r.time, r.requests), (ms(30_000), 34));
        // 30 + 30 domains: the floor's 70 s and 130 requests.
        let r = floor::reference(Policy::Oracle, Command::Apply, &one(30, true), &c, false);
        assert_eq!((r.time, r.requests), (ms(70_000), 130));
        // Two workspaces of 15: each 2 checks, 2 same-name listings, 2 baselines, 15 creates and
        // its own listings at 10 and 20 s (independent processes cannot
        // share one).
        let two = vec![
            Workload {
                n: 15,
                domains: false
            };
            2
        ];
        let r = floor::reference(Policy::Oracle, Command::Apply, &two, &c, false);
        assert_eq!((r.time, r.requests), (ms(20_000), 46));
    }

    #[test]
    fn online_explores_one_second_apart_then_polls_at_what_it_observed() {
        let s = |_: usize, _: Op, _: usize| ms(2_500);
        let c = conditions(100, 10, false, &s);
        // Creates at 0; listings at 1 and 2 s miss, the one at 3 s ends them.
        let r = floor::reference(Policy::Online, Command::Apply, &one(3, false), &c, false);
        assert_eq!((r.time, r.requests, r.exploring), (ms(3_000), 11, 2));
        let oracle = floor::reference(Policy::Oracle, Command::Apply, &one(3, false), &c, false);
        assert_eq!((oracle.time, oracle.requests), (ms(2_500), 9));
        // The second wave (at 3 s) is polled once, at the 3 s observed.
        let r = floor::reference(Policy::Online, Command::Apply, &one(20, false), &c, false);
        assert_eq!((r.time, r.requests, r.exploring), (ms(6_000), 30, 2));
        // Domains: the connection as above (3 s), then a dry run and an
        // attach at 3 s, GETs at 4, 5 and 6 s (settled at 5.5 s).
        let r = floor::reference(Policy::Online, Command::Apply, &one(1, true), &c, false);
        assert_eq!((r.time, r.requests, r.exploring), (ms(6_000), 14, 4));
    }

    #[test]
    fn past_ten_seconds_online_polls_at_a_tenth_of_the_wait() {
        let s = |_: usize, _: Op, _: usize| ms(13_500);
        let c = conditions(100, 10, false, &s);
        // Polls at 1..=10 s, then 11, 12.1, 13.31 (misses) and 14.641 s.
        let r = floor::reference(Policy::Online, Command::Apply, &one(1, false), &c, false);
        assert_eq!(r.time, ms(14_641));
        assert_eq!((r.requests, r.exploring), (4 + 2 + 14, 13));
    }

    #[test]
    fn requests_past_the_budget_wait_for_the_window_to_reset() {
        let s = |_: usize, _: Op, _: usize| ms(1_000);
        // Five a window: two checks, two same-name listings and the baseline
        // at 0; the three creates at 60 s, their listing at 61 s.
        let c = conditions(5, 10, false, &s);
        let r = floor::reference(Policy::Oracle, Command::Apply, &one(3, false), &c, false);
        assert_eq!((r.time, r.requests), (ms(61_000), 9));
        // Another client (two a window, at 0 and 30 s) with four a window:
        // at 0 it takes one, the run three of its four checks and
        // listings; at 60 s the other client opens the window and the run
        // sends the last of them, the baseline and the create; the listing
        // that sees it waits for the third window, at 120 s.
        let c = conditions(4, 10, true, &s);
        let r = floor::reference(Policy::Oracle, Command::Apply, &one(1, false), &c, false);
        assert_eq!((r.time, r.requests), (ms(120_000), 7));
    }

    #[test]
    fn jittered_settle_times_end_each_operation_at_its_own() {
        // Operation i of a wave settles after 1 + i seconds: the oracle
        // sends one listing per settle instant.
        let s = |_: usize, _: Op, i: usize| ms(1_000 * (1 + i as u64));
        let c = conditions(100, 10, false, &s);
        let r = floor::reference(Policy::Oracle, Command::Apply, &one(3, false), &c, false);
        assert_eq!((r.time, r.requests), (ms(3_000), 4 + 1 + 3 + 3));
        // Online observes 1 s for the first and polls the others at 1 s
        // (miss, counted in the jitter window), then 2 s, 3 s.
        let r = floor::reference(Policy::Online, Command::Apply, &one(3, false), &c, true);
        assert_eq!((r.time, r.requests), (ms(3_000), 11));
    }

    #[test]
    fn an_operation_longer_than_its_default_timeout_is_infeasible() {
        // 27 minutes: online sees it by 28.6 (10 s x 1.1^54).
        let s = |_: usize, _: Op, _: usize| Duration::from_secs(27 * 60);
        let c = conditions(100, 10, false, &s);
        assert!(
            floor::reference(Policy::Online, Command::Apply, &one(1, false), &c, false).feasible
        );
        // Destroy of domains: detaches may take 20 minutes.
        let d = floor::reference(Policy::Online, Command::Destroy, &one(1, true), &c, false);
        assert!(!d.feasible);
        let s = |_: usize, _: Op, _: usize| Duration::from_secs(31 * 60);
        let c = conditions(100, 10, false, &s);
        assert!(
            !floor::reference(Policy::Oracle, Command::Apply, &one(1, false), &c, false).feasible
        );
    }
}

// ---- the request allowance, by hand --------------------------------------------------------

mod allowance {
    use super::*;
    use support::floor::Waits;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn conditions(settle: &dyn Fn(usize, Op, usize) -> Duration) -> Conditions<'_> {
        Conditions {
            parallelism: 10,
            budget: 100,
            window: WINDOW,
            other_client: false,
            settle,
        }
    }

    fn apply(work: &[Workload], c: &Conditions<'_>, jitter: bool) -> (Reference, Reference) {
        (
            floor::reference(Policy::Oracle, Command::Apply, work, c, jitter),
            floor::reference(Policy::Online, Command::Apply, work, c, jitter),
        )
    }

    fn by(r: &Reference) -> Vec<(usize, Op, u64)> {
        r.exploring_by
            .iter()
            .map(|(w, n)| (w.workspace, w.op, *n))
            .collect()
    }

    #[test]
    fn one_workspace_may_send_the_unavoidable_requests_and_each_kinds_exploring_polls() {
        // 3 connections and their domains, every operation 2.5 s.
        let s = |_: usize, _: Op, _: usize| ms(2_500);
        let c = conditions(&s);
        let (oracle, online) = apply(
            &[Workload {
                n: 3,
                domains: true,
            }],
            &c,
            false,
        );
        // Unavoidable: 2 cluster checks and 2 same-name listings (plan and
        // apply), a baseline, 3 creates, a listing at 2.5 s; 3 dry runs and
        // 3 attaches, a GET of each at 5 s.
        assert_eq!(oracle.requests, 4 + 1 + 3 + 1 + 3 + 3 + 3);
        // Online: listings at 1 and 2 s miss, the one at 3 s sees the
        // creates; attaches at 3 s, GETs of all three at 4 and 5 s miss
        // (nothing observed of attaches yet), those at 6 s see them.
        assert_eq!(
            by(&online),
            vec![(0, Op::Create, 2), (0, Op::Attach, 3 + 3)]
        );
        assert_eq!(allowance(&oracle, &online), 18 + 8);
        assert_eq!(online.requests, 4 + 1 + 3 + 3 + 3 + 3 + 9);
        assert!(online.requests <= allowance(&oracle, &online));
    }

    #[test]
    fn two_workspaces_observe_and_explore_each_for_its_own_process() {
        // Workspace 0: 1 connection and its domains; workspace 1: 1
        // connection; every operation 2.5 s.
        let s = |_: usize, _: Op, _: usize| ms(2_500);
        let c = conditions(&s);
        let work = [
            Workload {
                n: 1,
                domains: true,
            },
            Workload {
                n: 1,
                domains: false,
            },
        ];
        let (oracle, online) = apply(&work, &c, false);
        // Unavoidable, per workspace: 2 checks, 2 same-name listings, a baseline, a create and
        // its own listing at 2.5 s; workspace 0 also a dry run, an attach
        // and a GET at 5 s. One listing cannot serve both processes.
        assert_eq!(oracle.requests, (4 + 1 + 1 + 1 + 3) + (4 + 1 + 1 + 1));
        // Online shares its listings at 1 and 2 s between the workspaces;
        // each process would have sent its own, so each counts both. Then
        // workspace 0's GETs at 4 and 5 s miss.
        assert_eq!(
            by(&online),
            vec![(0, Op::Create, 2), (0, Op::Attach, 2), (1, Op::Create, 2)]
        );
        assert_eq!(allowance(&oracle, &online), 17 + 6);
        // Workspace 1 has no attaches, so nothing of them is allowed.
        assert_eq!(
            online.exploring_by.get(&Waits {
                workspace: 1,
                op: Op::Attach
            }),
            None
        );
    }

    #[test]
    fn a_jitter_cell_may_also_explore_between_half_and_one_and_a_half_times_the_estimate() {
        // 20 connections, 10 at a time: the first wave settles after
        // 2.5 s, the second after 4.5 s.
        let s = |_: usize, _: Op, i: usize| if i < 10 { ms(2_500) } else { ms(4_500) };
        let c = conditions(&s);
        let work = [Workload {
            n: 20,
            domains: false,
        }];
        let (oracle, online) = apply(&work, &c, true);
        // Unavoidable: 2 checks, 2 same-name listings; per wave a baseline, 10 creates and a
        // listing at its settle time (2.5 s, then 2.5 + 4.5 s).
        assert_eq!(
            (oracle.time, oracle.requests),
            (ms(7_000), 4 + 2 * (1 + 10 + 1))
        );
        // Online: wave 1 missed at 1 and 2 s and seen at 3 s (observed
        // 3 s); wave 2, written at 3 s, missed at 6 and 7 s (waited 3 and
        // 4 s, within 1.5 to 4.5 s) and seen at 8 s.
        assert_eq!(by(&online), vec![(0, Op::Create, 2 + 2)]);
        assert_eq!(
            (online.time, online.requests),
            (ms(8_000), 4 + 2 * (1 + 10 + 3))
        );
        assert_eq!(allowance(&oracle, &online), 28 + 4);
        // Without the jitter window only the misses before the first
        // observation count.
        let (oracle, online) = apply(&work, &c, false);
        assert_eq!(allowance(&oracle, &online), 28 + 2);
    }
}

// ---- the API model ------------------------------------------------------------------------

mod api_model {
    use super::*;
    use reqwest::Method;
    use support::api_model::Kind;
    use tidbcloud_provider::api::transport::{ApiRequest, Transport};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
    }

    fn header(r: &tidbcloud_provider::api::transport::ApiResponse, name: &str) -> String {
        r.headers[name].to_str().unwrap().to_string()
    }

    #[test]
    fn windows_start_at_the_first_request_after_the_previous_one_ended_and_429s_count() {
        runtime().block_on(async {
            let model = ApiModel::new(ModelConfig::uniform(2, WINDOW, Duration::from_secs(1)));
            let t = model.transport("k", 0);
            let cluster = ApiRequest::new(Method::GET, "/v1beta1/clusters/1000000000000000001");
            let r = t.send(&cluster).await.unwrap();
            assert_eq!(r.status, 200);
            assert_eq!(header(&r, "x-ratelimit-limit-minute"), "2");
            assert_eq!(header(&r, "x-ratelimit-remaining-minute"), "1");
            assert_eq!(header(&r, "x-ratelimit-reset"), "60");
            assert_eq!(header(&r, "date"), "Tue, 04 Mar 2025 10:00:00 GMT");
            tokio::time::sleep(Duration::from_millis(20_500)).await;
            let r = t.send(&cluster).await.unwrap();
            assert_eq!(
                (r.status, header(&r, "x-ratelimit-reset")),
                (200, "40".into())
            );
            assert_eq!(header(&r, "date"), "Tue, 04 Mar 2025 10:00:20 GMT");
            let r = t.send(&cluster).await.unwrap();
            assert_eq!(
                (r.status, header(&r, "x-ratelimit-remaining-minute")),
                (429, "0".into())
            );
            // Another key has its own window.
            assert_eq!(
                model
                    .transport("other", 1)
                    .send(&cluster)
                    .await
                    .unwrap()
                    .status,
                200
            );
            // The window of `k` started at 0 and ends at 60 s; a request
            // 10 s later opens the next one, whose reset is 60 s from it.
            tokio::time::sleep(Duration::from_secs(50)).await;
            let r = t.send(&cluster).await.unwrap();
            assert_eq!(
                (r.status, header(&r, "x-ratelimit-reset")),
                (200, "60".into())
            );
            let c = model.counts(0);
            assert_eq!((c.of(Kind::Cluster), c.rejected), (4, 1));
        });
    }

    #[test]
    fn connections_settle_by_the_models_clock_and_list_in_pages() {
        runtime().block_on(async {
            let model = ApiModel::new(ModelConfig::uniform(0, WINDOW, Duration::from_secs(5)));
            let client = tidbcloud_provider::api::Client::with_transport(
                "https://model.invalid",
                model.transport("k", 0),
                Default::default(),
            );
            let c = tidbcloud_provider::api::PrivateLinkConnection::aws(
                support::api_model::CLUSTER,
                "w0-c0",
                support::api_model::SERVICE,
                None,
            );
            let mut ids = Vec::new();
            for i in 0..3 {
                let mut c = c.clone();
                c.display_name = format!("w0-c{i}");
                let made = client
                    .create_private_link_connection(support::api_model::CLUSTER, &c)
                    .await
                    .unwrap();
                assert_eq!(made.state.unwrap().as_str(), "CREATING");
                assert_eq!(made.create_time.as_deref(), Some("2025-03-04T10:00:00Z"));
                ids.push(made.private_link_connection_id);
            }
            let page = client
                .list_private_link_connections_page(
                    support::api_model::CLUSTER,
                    None,
                    Some(2),
                    None,
                )
                .await
                .unwrap();
            assert_eq!(page.private_link_connections.len(), 2);
            let token = page.next_page_token.expect("a second page");
            let rest = client
                .list_private_link_connections_page(
                    support::api_model::CLUSTER,
                    None,
                    Some(2),
                    Some(&token),
                )
                .await
                .unwrap();
            assert_eq!(rest.private_link_connections.len(), 1);
            assert!(rest.next_page_token.is_none());
            tokio::time::sleep(Duration::from_millis(4_999)).await;
            let one = client
                .get_private_link_connection(support::api_model::CLUSTER, &ids[0])
                .await
                .unwrap();
            assert_eq!(one.state.unwrap().as_str(), "CREATING");
            tokio::time::sleep(Duration::from_millis(1)).await;
            let active = client
                .list_private_link_connections(
                    support::api_model::CLUSTER,
                    Some(&tidbcloud_provider::api::ConnectionState::Active),
                )
                .await
                .unwrap();
            assert_eq!(active.len(), 3);
            // Domains: a dry run names them, an attach settles after 5 s, a
            // delete is refused until they are detached and gone.
            let managed = tidbcloud_provider::api::AttachDomain::new(
                tidbcloud_provider::api::DomainType::TidbcloudManaged,
                None,
            );
            let dry = client
                .attach_domains(support::api_model::CLUSTER, &ids[0], &managed, true)
                .await
                .unwrap();
            assert_eq!(dry.domains.len(), 2);
            let attached = client
                .attach_domains(support::api_model::CLUSTER, &ids[0], &managed, false)
                .await
                .unwrap();
            let refused = client
                .delete_private_link_connection(support::api_model::CLUSTER, &ids[0])
                .await
                .unwrap_err();
            assert!(refused.is_failed_precondition(), "{refused}");
            client
                .detach_domains(
                    support::api_model::CLUSTER,
                    &ids[0],
                    &attached.attach_domain_id,
                )
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            client
                .delete_private_link_connection(support::api_model::CLUSTER, &ids[0])
                .await
                .unwrap();
            assert_eq!(model.connections_left(), 3);
            tokio::time::sleep(Duration::from_secs(5)).await;
            assert_eq!(model.connections_left(), 2);
        });
    }

    #[test]
    fn the_other_client_spends_half_the_budget_evenly() {
        runtime().block_on(async {
            let model = ApiModel::new(ModelConfig::uniform(30, WINDOW, Duration::from_secs(1)));
            let other = model.start_other_client("k", OTHER);
            tokio::time::sleep(Duration::from_secs(119)).await;
            // 15 a window, one every 4 s: at 0, 4, ..., 116 s.
            assert_eq!(model.counts(OTHER).of(Kind::Other), 30);
            assert_eq!(model.log()[1].at, Duration::from_secs(4));
            drop(other);
            tokio::time::sleep(Duration::from_secs(60)).await;
            assert_eq!(model.counts(OTHER).of(Kind::Other), 30);
        });
    }
}
