//! Numbers: decimal text, floats and their canonical [`Number`] form.
//!
//! Decoders produce a canonical form: a number that is an integer in `i64`
//! range is always `Number::Int`, whatever its encoding; other finite or
//! infinite floats are `Number::Float`; numbers only known as decimal text
//! (too large or too precise) are `Number::Big`.

use super::error::Fail;
use crate::framework::value::Number;

/// `-2^63` and `2^63` as floats (both exact).
const I64_MIN_F: f64 = -9_223_372_036_854_775_808.0;
const I64_END_F: f64 = 9_223_372_036_854_775_808.0;

/// The float as an `i64` when it is an integer in range.
pub(super) fn integral_f64(f: f64) -> Option<i64> {
    if f.fract() == 0.0 && (I64_MIN_F..I64_END_F).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

/// A decoded float in canonical form. NaN is not a Terraform number.
pub(super) fn from_f64(f: f64) -> Result<Number, Fail> {
    if f.is_nan() {
        return Err(Fail::new("NaN is not a valid number"));
    }
    Ok(integral_f64(f).map_or(Number::Float(f), Number::Int))
}

/// Decimal text (as msgpack strings and JSON strings carry numbers) in
/// canonical form.
pub(super) fn from_text(text: &str) -> Result<Number, Fail> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Number::Int(i));
    }
    if Decimal::parse(text).is_some() {
        Ok(Number::Big(text.to_string()))
    } else {
        Err(Fail::new(format!("invalid number {text:?}")))
    }
}

/// The text of a `Number::Big`, checked to be a decimal.
pub(super) fn big_text(text: &str) -> Result<&str, Fail> {
    match Decimal::parse(text) {
        Some(_) => Ok(text),
        None => Err(Fail::new(format!("invalid number {text:?}"))),
    }
}

/// The number as JSON number text.
pub(super) fn json_text(n: &Number) -> Result<String, Fail> {
    match n {
        Number::Int(i) => Ok(i.to_string()),
        Number::Float(f) => float_json_text(*f),
        Number::Big(text) => match Decimal::parse(text) {
            Some(decimal) => Ok(decimal.to_json()),
            None => Err(Fail::new(format!("invalid number {text:?}"))),
        },
    }
}

fn float_json_text(f: f64) -> Result<String, Fail> {
    if let Some(i) = integral_f64(f) {
        return Ok(i.to_string());
    }
    match serde_json::Number::from_f64(f) {
        Some(n) => Ok(n.to_string()),
        None => Err(Fail::new(format!("{f} cannot be represented in JSON"))),
    }
}

/// The parts of a decimal `[+-]digits[.digits][(e|E)[+-]digits]`, with at
/// least one mantissa digit (either side of the point).
struct Decimal<'a> {
    negative: bool,
    integer: &'a str,
    fraction: &'a str,
    exponent: Option<&'a str>,
}

impl<'a> Decimal<'a> {
    fn parse(text: &'a str) -> Option<Decimal<'a>> {
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let has_digit = !integer.is_empty() || !fraction.is_empty();
        let valid = has_digit
            && all_digits(integer)
            && all_digits(fraction)
            && exponent.is_none_or(valid_exponent);
        valid.then_some(Decimal {
            negative,
            integer,
            fraction,
            exponent,
        })
    }

    /// The same number in JSON's stricter grammar: no `+` sign, no leading
    /// zeros, digits on both sides of a point.
    fn to_json(&self) -> String {
        let mut out = String::new();
        if self.negative {
            out.push('-');
        }
        let integer = self.integer.trim_start_matches('0');
        out.push_str(if integer.is_empty() { "0" } else { integer });
        if !self.fraction.is_empty() {
            out.push('.');
            out.push_str(self.fraction);
        }
        if let Some(exponent) = self.exponent {
            out.push('e');
            out.push_str(exponent);
        }
        out
    }
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

fn valid_exponent(exponent: &str) -> bool {
    let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    !digits.is_empty() && all_digits(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_in_i64_range_is_int() {
        assert_eq!(from_text("42").unwrap(), Number::Int(42));
        assert_eq!(
            from_text("-9223372036854775808").unwrap(),
            Number::Int(i64::MIN)
        );
        assert_eq!(from_text("+7").unwrap(), Number::Int(7));
    }

    #[test]
    fn other_decimals_are_big() {
        for text in [
            "9223372036854775808",
            "1.5",
            "-0.25e-3",
            ".5",
            "5.",
            "1E+400",
        ] {
            assert_eq!(
                from_text(text).unwrap(),
                Number::Big(text.to_string()),
                "{text}"
            );
        }
    }

    #[test]
    fn invalid_decimals_are_errors() {
        for text in [
            "", "-", ".", "e5", "1e", "1e+", "1.2.3", "0x10", "inf", "NaN", " 1", "1_0", "١",
        ] {
            assert!(from_text(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn floats_are_canonical() {
        assert_eq!(from_f64(3.0).unwrap(), Number::Int(3));
        assert_eq!(from_f64(-0.0).unwrap(), Number::Int(0));
        assert_eq!(from_f64(1.5).unwrap(), Number::Float(1.5));
        assert_eq!(from_f64(1e19).unwrap(), Number::Float(1e19));
        assert_eq!(from_f64(I64_MIN_F).unwrap(), Number::Int(i64::MIN));
        assert_eq!(from_f64(I64_END_F).unwrap(), Number::Float(I64_END_F));
        assert_eq!(
            from_f64(f64::INFINITY).unwrap(),
            Number::Float(f64::INFINITY)
        );
        assert!(from_f64(f64::NAN).is_err());
    }

    #[test]
    fn json_text_follows_json_grammar() {
        let big = |s: &str| json_text(&Number::Big(s.to_string())).unwrap();
        assert_eq!(big("+007.50E+3"), "7.50e+3");
        assert_eq!(big(".5"), "0.5");
        assert_eq!(big("-5."), "-5");
        assert_eq!(
            big("123456789012345678901234567890"),
            "123456789012345678901234567890"
        );
        assert_eq!(json_text(&Number::Float(2.0)).unwrap(), "2");
        assert_eq!(json_text(&Number::Float(0.1)).unwrap(), "0.1");
        assert!(json_text(&Number::Float(f64::INFINITY)).is_err());
        assert!(json_text(&Number::Big("1..".to_string())).is_err());
    }
}
