//! Injected faults: a share of API requests answered 503 without being
//! processed, a share processed and then dropped without a response, and a
//! delay before every API response.

use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// The fault settings, as `POST /_sim/faults` takes and `GET` shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultConfig {
    /// Share of requests answered 503 UNAVAILABLE (0 to 1).
    pub error_rate: f64,
    /// Share of requests processed, then dropped without a response (0 to 1).
    pub drop_rate: f64,
    /// Delay before every API response.
    pub latency_ms: u64,
}

impl FaultConfig {
    /// Checks that the rates are shares.
    pub fn check(&self) -> Result<(), String> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("drop_rate", self.drop_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, not {rate}"));
            }
        }
        Ok(())
    }
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Process and answer normally.
    None,
    /// Answer 503 without processing.
    Error,
    /// Process, then close the connection without answering.
    Drop,
}

/// The current fault settings.
#[derive(Default)]
pub struct Faults {
    config: Mutex<FaultConfig>,
}

impl Faults {
    pub fn get(&self) -> FaultConfig {
        *self.config.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set(&self, config: FaultConfig) {
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = config;
    }

    /// The delay before every API response.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.get().latency_ms)
    }

    /// Draws the fault for one request: error with probability `error_rate`,
    /// otherwise drop with probability `drop_rate`.
    pub fn draw(&self) -> Fault {
        let c = self.get();
        if c.error_rate <= 0.0 && c.drop_rate <= 0.0 {
            return Fault::None;
        }
        let mut rng = rand::rng();
        if rng.random::<f64>() < c.error_rate {
            Fault::Error
        } else if rng.random::<f64>() < c.drop_rate {
            Fault::Drop
        } else {
            Fault::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certain_faults() {
        let f = Faults::default();
        assert_eq!(f.draw(), Fault::None);
        f.set(FaultConfig {
            error_rate: 1.0,
            ..Default::default()
        });
        assert_eq!(f.draw(), Fault::Error);
        f.set(FaultConfig {
            drop_rate: 1.0,
            latency_ms: 5,
            ..Default::default()
        });
        assert_eq!(f.draw(), Fault::Drop);
        assert_eq!(f.latency(), Duration::from_millis(5));
    }

    #[test]
    fn rates_are_shares() {
        assert!(FaultConfig {
            error_rate: 1.5,
            ..Default::default()
        }
        .check()
        .is_err());
        assert!(FaultConfig {
            drop_rate: -0.1,
            ..Default::default()
        }
        .check()
        .is_err());
        assert!(FaultConfig {
            error_rate: 0.2,
            drop_rate: 0.1,
            latency_ms: 50
        }
        .check()
        .is_ok());
    }
}
