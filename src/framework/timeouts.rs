//! The `timeouts { ... }` block users know from other providers, and the Go
//! duration syntax its values use ("30m", "1h30m", "90s", "2h45m30.5s").

use std::time::Duration;

use super::schema::{Attribute, Block};
use super::value::Value;

/// Parses a Go duration string. Units: ns, us (µs), ms, s, m, h. A sign is
/// not accepted: a timeout is never negative.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("a duration must not be empty; use e.g. \"30m\" or \"1h30m\"".into());
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return Err(invalid(text));
        }
        let number: f64 = rest[..number_len].parse().map_err(|_| invalid(text))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid(text)),
        };
        rest = &rest[unit_len..];
        total += number * seconds_per_unit;
    }
    if !total.is_finite() || total > 1.0e9 {
        return Err(format!("duration {text:?} is too long"));
    }
    Ok(Duration::from_secs_f64(total))
}

fn invalid(text: &str) -> String {
    format!(
        "{text:?} is not a duration: use a number followed by a unit (s, m, h), e.g. \"30m\", \"1h30m\" or \"90s\""
    )
}

/// The `timeouts` block: its description and the operations it covers with
/// their defaults (e.g. `[("create", "30m"), ("delete", "30m")]`).
pub fn block(description: &str, operations: &[(&str, &str)]) -> Block {
    let attributes = operations
        .iter()
        .map(|(op, default)| {
            Attribute::string(op)
                .optional()
                .description(&format!(
                    "How long to wait for the {op} to finish, as a duration such as `\"30m\"` or `\"1h30m\"` (units `s`, `m`, `h`). Default `{default}`."
                ))
                .validate("Invalid timeout", |v| {
                    parse_duration(v.as_str().unwrap_or_default()).map(|_| ())
                })
        })
        .collect();
    Block::single("timeouts", description, attributes)
}

/// The configured timeout for `operation`, or `default` when unset.
pub fn get(resource: &Value, operation: &str, default: Duration) -> Duration {
    resource
        .attr("timeouts")
        .str_attr(operation)
        .and_then(|s| parse_duration(s).ok())
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("2h45m30s"), Ok(Duration::from_secs(9930)));
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "30",
            "m",
            "30 minutes",
            "-5m",
            "1d",
            "1h30",
            "..s",
            "5x",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn configured_values_win_over_defaults() {
        let v = Value::object([(
            "timeouts",
            Value::object([("create", Value::string("5m")), ("delete", Value::Null)]),
        )]);
        assert_eq!(
            get(&v, "create", Duration::from_secs(1)),
            Duration::from_secs(300)
        );
        assert_eq!(
            get(&v, "delete", Duration::from_secs(1)),
            Duration::from_secs(1)
        );
        assert_eq!(
            get(&Value::Null, "create", Duration::from_secs(7)),
            Duration::from_secs(7)
        );
    }
}
