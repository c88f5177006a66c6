//! Unknown values: msgpack extensions, and the refinements of code 12.
//!
//! The payload of code 12 is a msgpack map with integer keys:
//! 1 nullness (bool), 2 string prefix (string), 3/4 number lower/upper bound
//! (`[number, inclusive]`), 5/6 collection length lower/upper bound
//! (integer, inclusive). Unknown keys are ignored, for future refinements.
//! Any other extension code is a plain unknown whose payload is ignored.

use super::read::{Head, Reader};
use super::write::Writer;
use crate::framework::codec::error::Fail;
use crate::framework::value::{Number, Refinements};

/// The extension code of a plain unknown.
pub(super) const PLAIN: u8 = 0;
/// The extension code of a refined unknown.
pub(super) const REFINED: u8 = 12;

const NULLNESS: i64 = 1;
const STRING_PREFIX: i64 = 2;
const NUMBER_LOWER: i64 = 3;
const NUMBER_UPPER: i64 = 4;
const LENGTH_LOWER: i64 = 5;
const LENGTH_UPPER: i64 = 6;

/// The refinements carried by an extension with `code` and `payload`.
pub(super) fn decode(code: i8, payload: &[u8]) -> Result<Refinements, Fail> {
    if code != REFINED as i8 {
        return Ok(Refinements::default());
    }
    decode_map(payload).map_err(|f| f.context("invalid refinements of an unknown value"))
}

fn decode_map(payload: &[u8]) -> Result<Refinements, Fail> {
    let mut r = Reader::new(payload);
    let entries = match r.head()? {
        Head::Map(n) => n,
        other => return Err(Fail::new(format!("expected a map, found {}", other.kind()))),
    };
    r.expect_items(entries, 2)?;
    let mut refinements = Refinements::default();
    for _ in 0..entries {
        match r.head()? {
            Head::Int(key) => decode_entry(&mut r, key, &mut refinements)?,
            // Too large for any refinement we know: ignore it.
            Head::BigUInt(_) => r.skip()?,
            other => {
                return Err(Fail::new(format!(
                    "expected an integer key, found {}",
                    other.kind()
                )))
            }
        }
    }
    r.finish()?;
    Ok(refinements)
}

fn decode_entry(r: &mut Reader<'_>, key: i64, refinements: &mut Refinements) -> Result<(), Fail> {
    match key {
        NULLNESS => refinements.nullness = Some(r.bool()?),
        STRING_PREFIX => refinements.string_prefix = Some(r.string()?),
        NUMBER_LOWER => refinements.number_lower = Some(bound(r)?),
        NUMBER_UPPER => refinements.number_upper = Some(bound(r)?),
        LENGTH_LOWER => refinements.length_lower = Some(length(r)?),
        LENGTH_UPPER => refinements.length_upper = Some(length(r)?),
        _ => r.skip()?,
    }
    Ok(())
}

/// A number bound: `[number, inclusive]`.
fn bound(r: &mut Reader<'_>) -> Result<(Number, bool), Fail> {
    match r.head()? {
        Head::Array(2) => {}
        other => {
            return Err(Fail::new(format!(
                "expected a [number, inclusive] bound, found {}",
                other.kind()
            )))
        }
    }
    let head = r.head()?;
    let number = r.number(head)?;
    Ok((number, r.bool()?))
}

/// A collection length bound: a non-negative integer.
fn length(r: &mut Reader<'_>) -> Result<u64, Fail> {
    match r.head()? {
        Head::Int(i) => u64::try_from(i).map_err(|_| Fail::new("negative length bound")),
        Head::BigUInt(u) => Ok(u),
        other => Err(Fail::new(format!(
            "expected a length bound, found {}",
            other.kind()
        ))),
    }
}

/// Writes an unknown value: extension code 0 without refinements (never an
/// empty code 12), code 12 with them.
pub(super) fn encode(w: &mut Writer, refinements: &Refinements) -> Result<(), Fail> {
    if refinements.is_empty() {
        // fixext 1, code 0, one ignored byte: what Terraform writes.
        return w.ext(PLAIN, &[0]);
    }
    let mut payload = Writer::default();
    encode_map(&mut payload, refinements)?;
    w.ext(REFINED, &payload.into_bytes())
}

fn encode_map(w: &mut Writer, refinements: &Refinements) -> Result<(), Fail> {
    let Refinements {
        nullness,
        string_prefix,
        number_lower,
        number_upper,
        length_lower,
        length_upper,
    } = refinements;
    let entries = [
        nullness.is_some(),
        string_prefix.is_some(),
        number_lower.is_some(),
        number_upper.is_some(),
        length_lower.is_some(),
        length_upper.is_some(),
    ];
    w.map_len(entries.iter().filter(|&&present| present).count())?;
    if let Some(nullness) = nullness {
        w.int(NULLNESS)?;
        w.bool(*nullness)?;
    }
    if let Some(prefix) = string_prefix {
        w.int(STRING_PREFIX)?;
        w.str(prefix)?;
    }
    for (key, bound) in [(NUMBER_LOWER, number_lower), (NUMBER_UPPER, number_upper)] {
        if let Some((number, inclusive)) = bound {
            w.int(key)?;
            w.array_len(2)?;
            w.number(number)?;
            w.bool(*inclusive)?;
        }
    }
    for (key, length) in [(LENGTH_LOWER, length_lower), (LENGTH_UPPER, length_upper)] {
        if let Some(length) = length {
            w.int(key)?;
            w.uint(*length)?;
        }
    }
    Ok(())
}
