//! The simulator's shared state: the world behind a lock, the event channel,
//! and the gateway's parts (auth, rate limit, faults, stats). Runs the
//! world's timers so states advance whether or not anybody polls.

use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::auth::DigestAuth;
use crate::cli::Config;
use crate::faults::Faults;
use crate::ratelimit::RateLimiter;
use crate::stats::Stats;
use crate::world::{Event, Timer, Transition, World};

/// How many events a slow `/_sim/events` subscriber may fall behind.
const EVENT_BUFFER: usize = 4096;

/// Everything the handlers share.
pub struct App {
    world: Mutex<World>,
    events: broadcast::Sender<Event>,
    pub auth: DigestAuth,
    pub limiter: RateLimiter,
    pub faults: Faults,
    pub stats: Stats,
}

impl App {
    /// The shared state for `world` and the command line's settings.
    pub fn new(world: World, config: &Config) -> Arc<App> {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Arc::new(App {
            world: Mutex::new(world),
            events,
            auth: DigestAuth::new(&config.api_keys),
            limiter: RateLimiter::new(config.rate_limit, config.rate_limit_window),
            faults: Faults::default(),
            stats: Stats::default(),
        })
    }

    /// Runs `f` on the world, then publishes the events it recorded and
    /// starts the timers it set. Must be called within the tokio runtime.
    pub fn with_world<R>(self: &Arc<Self>, f: impl FnOnce(&mut World) -> R) -> R {
        let (result, events, timers) = {
            let mut world = self.world.lock().unwrap_or_else(|e| e.into_inner());
            let result = f(&mut world);
            (result, world.take_events(), world.take_timers())
        };
        self.publish(events, timers);
        result
    }

    /// Sends events to subscribers and starts timers.
    fn publish(self: &Arc<Self>, events: Vec<Event>, timers: Vec<Timer>) {
        for event in events {
            // No subscriber is fine.
            let _ = self.events.send(event);
        }
        for timer in timers {
            let app = Arc::clone(self);
            tokio::spawn(async move {
                tokio::time::sleep(timer.after).await;
                app.fire(timer.transition);
            });
        }
    }

    /// Applies a transition whose time has come.
    fn fire(self: &Arc<Self>, transition: Transition) {
        let (events, timers) = {
            let mut world = self.world.lock().unwrap_or_else(|e| e.into_inner());
            world.fire(transition);
            (world.take_events(), world.take_timers())
        };
        self.publish(events, timers);
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }
}
