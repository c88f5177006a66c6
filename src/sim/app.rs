//! The simulator's shared state: the world behind a lock, the event channel,
//! the clock with the queue of due transitions, and the gateway's parts
//! (auth, rate limit, faults, stats) and the key of list page tokens.
//!
//! Transitions are due at a time of the [`Clock`]. A background task
//! ([`App::run_timers`]) applies each when real time reaches it, so states
//! advance whether or not anybody polls; [`App::advance_clock`] applies at
//! once every transition that the jump makes due.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, Notify};

use crate::auth::DigestAuth;
use crate::cli::Config;
use crate::clock::Clock;
use crate::faults::Faults;
use crate::pagetoken::PageTokens;
use crate::ratelimit::RateLimiter;
use crate::stats::Stats;
use crate::world::{Event, Timer, Transition, World};

/// How many events a slow `/_sim/events` subscriber may fall behind.
const EVENT_BUFFER: usize = 4096;

/// Transitions by due time; the sequence number keeps equal times in the
/// order they were set.
type Queue = BTreeMap<(Instant, u64), Transition>;

/// Everything the handlers share.
pub struct App {
    world: Mutex<World>,
    events: broadcast::Sender<Event>,
    pub clock: Clock,
    queue: Mutex<(Queue, u64)>,
    /// Wakes the timer task when the queue or the clock changes.
    wake: Notify,
    pub auth: DigestAuth,
    pub limiter: RateLimiter,
    pub faults: Faults,
    pub stats: Stats,
    /// The key of list page tokens, new for each run.
    pub page_tokens: PageTokens,
}

impl App {
    /// The shared state for `world` and the command line's settings; `clock`
    /// is the one the world reads.
    pub fn new(world: World, clock: Clock, config: &Config) -> Arc<App> {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let auth = DigestAuth::new(&config.api_keys, clock.clone());
        for (public, private) in &config.read_only_keys {
            auth.add_key(public, private, true);
        }
        Arc::new(App {
            world: Mutex::new(world),
            events,
            clock,
            queue: Mutex::new((Queue::new(), 0)),
            wake: Notify::new(),
            auth,
            limiter: RateLimiter::new(config.rate_limit, config.rate_limit_window),
            faults: Faults::default(),
            stats: Stats::default(),
            page_tokens: PageTokens::default(),
        })
    }

    /// Runs `f` on the world, then publishes the events it recorded and
    /// queues the timers it set.
    pub fn with_world<R>(self: &Arc<Self>, f: impl FnOnce(&mut World) -> R) -> R {
        let (result, events, timers) = {
            let mut world = self.world.lock().unwrap_or_else(|e| e.into_inner());
            let result = f(&mut world);
            (result, world.take_events(), world.take_timers())
        };
        self.publish(events, timers);
        result
    }

    /// Sends events to subscribers and queues timers.
    fn publish(&self, events: Vec<Event>, timers: Vec<Timer>) {
        for event in events {
            // No subscriber is fine.
            let _ = self.events.send(event);
        }
        if timers.is_empty() {
            return;
        }
        let now = self.clock.now();
        {
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            for timer in timers {
                queue.1 += 1;
                let key = (now + timer.after, queue.1);
                queue.0.insert(key, timer.transition);
            }
        }
        self.wake.notify_one();
    }

    /// Applies every transition due by the clock's now, earliest first
    /// (including those that applying them sets and makes due); returns how
    /// many were applied.
    pub fn fire_due(&self) -> usize {
        let mut fired = 0;
        loop {
            let now = self.clock.now();
            let next = {
                let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                match queue.0.first_key_value() {
                    Some((&(due, _), _)) if due <= now => queue.0.pop_first().map(|(_, t)| t),
                    _ => None,
                }
            };
            let Some(transition) = next else {
                return fired;
            };
            let (events, timers) = {
                let mut world = self.world.lock().unwrap_or_else(|e| e.into_inner());
                world.fire(transition);
                (world.take_events(), world.take_timers())
            };
            self.publish(events, timers);
            fired += 1;
        }
    }

    /// Moves the clock forward and applies what became due; returns the new
    /// offset and how many transitions were applied.
    pub fn advance_clock(&self, by: Duration) -> Result<(Duration, usize), String> {
        let offset = self.clock.advance(by)?;
        let fired = self.fire_due();
        // The timer task recomputes its next wake-up against the new offset.
        self.wake.notify_one();
        Ok((offset, fired))
    }

    /// The background task that applies transitions when real time reaches them.
    pub async fn run_timers(self: Arc<Self>) {
        loop {
            self.fire_due();
            let next = {
                let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                queue.0.first_key_value().map(|(&(due, _), _)| due)
            };
            match next {
                None => self.wake.notified().await,
                Some(due) => {
                    let at = tokio::time::Instant::from_std(self.clock.real_instant(due));
                    tokio::select! {
                        _ = tokio::time::sleep_until(at) => {}
                        _ = self.wake.notified() => {}
                    }
                }
            }
        }
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }
}
