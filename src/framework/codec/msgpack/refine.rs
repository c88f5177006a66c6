//! Unknown values: msgpack extensions, and the refinements of code 12.
//!
//! The payload of code 12 is a msgpack map with integer keys:
//! 1 nullness (bool), 2 string prefix (string), 3/4 number lower/upper bound
//! (`[number, inclusive]`), 5/6 collection length lower/upper bound
//! (integer, inclusive). Any other extension code is a plain unknown whose
//! payload is ignored.
//!
//! The corner cases follow Terraform's own decoder (go-cty), so that what
//! Terraform accepts from us we accept from it and the other way round:
//!
//! * a payload of at most one byte is a plain unknown, whatever the code
//!   (the shortest refinement map takes three bytes);
//! * unknown keys and bytes after the map are ignored, for future use;
//! * a refinement that cannot apply to the type (a string prefix on a
//!   number, length bounds on an object) is an error;
//! * an unknown of type `dynamic` carries no refinements;
//! * a payload over 1 KiB is refused.

use super::read::{Head, Reader};
use super::write::Writer;
use crate::framework::codec::error::Fail;
use crate::framework::value::{Number, Refinements, Type};

/// The extension code of a plain unknown.
const PLAIN: u8 = 0;
/// The extension code of a refined unknown.
const REFINED: u8 = 12;
/// The largest refinement payload Terraform accepts.
const MAX_PAYLOAD: usize = 1024;

const NULLNESS: i64 = 1;
const STRING_PREFIX: i64 = 2;
const NUMBER_LOWER: i64 = 3;
const NUMBER_UPPER: i64 = 4;
const LENGTH_LOWER: i64 = 5;
const LENGTH_UPPER: i64 = 6;

/// The refinements carried by an unknown of type `ty` encoded as an
/// extension with `code` and `payload`.
pub(super) fn decode(code: i8, payload: &[u8], ty: &Type) -> Result<Refinements, Fail> {
    if code != REFINED as i8 || payload.len() <= 1 || *ty == Type::Dynamic {
        return Ok(Refinements::default());
    }
    decode_map(payload, ty).map_err(|f| f.context("invalid refinements of an unknown value"))
}

fn decode_map(payload: &[u8], ty: &Type) -> Result<Refinements, Fail> {
    if payload.len() > MAX_PAYLOAD {
        return Err(Fail::new(format!(
            "{} bytes exceed the limit of {MAX_PAYLOAD}",
            payload.len()
        )));
    }
    let mut r = Reader::new(payload);
    let entries = match r.head()? {
        Head::Map(n) => n,
        other => return Err(Fail::new(format!("expected a map, found {}", other.kind()))),
    };
    r.expect_items(entries, 2)?;
    let mut refinements = Refinements::default();
    for _ in 0..entries {
        match r.head()? {
            Head::Int(key) => decode_entry(&mut r, key, ty, &mut refinements)?,
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
    Ok(refinements)
}

fn decode_entry(
    r: &mut Reader<'_>,
    key: i64,
    ty: &Type,
    refinements: &mut Refinements,
) -> Result<(), Fail> {
    if !applies(key, ty) {
        return Err(inapplicable(key, ty));
    }
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

/// Whether the refinement `key` can refine a value of type `ty`; unknown
/// keys are taken to apply (and ignored).
fn applies(key: i64, ty: &Type) -> bool {
    match key {
        STRING_PREFIX => *ty == Type::String,
        NUMBER_LOWER | NUMBER_UPPER => *ty == Type::Number,
        LENGTH_LOWER | LENGTH_UPPER => matches!(ty, Type::List(_) | Type::Set(_) | Type::Map(_)),
        _ => true,
    }
}

fn inapplicable(key: i64, ty: &Type) -> Fail {
    let what = match key {
        STRING_PREFIX => "a string prefix",
        NUMBER_LOWER | NUMBER_UPPER => "a number bound",
        _ => "a length bound",
    };
    Fail::new(format!(
        "{what} cannot refine a value of type {}",
        crate::framework::codec::ty::type_kind(ty)
    ))
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

/// Writes an unknown of type `ty`: extension code 0 without refinements
/// (never an empty code 12), code 12 with them. Refinements of a `dynamic`
/// unknown are dropped, as Terraform cannot represent them.
pub(super) fn encode(w: &mut Writer, refinements: &Refinements, ty: &Type) -> Result<(), Fail> {
    if refinements.is_empty() || *ty == Type::Dynamic {
        // fixext 1, code 0, one ignored byte: what Terraform writes.
        return w.ext(PLAIN, &[0]);
    }
    let mut payload = Writer::default();
    encode_map(&mut payload, refinements, ty)?;
    let payload = payload.into_bytes();
    if payload.len() > MAX_PAYLOAD {
        return Err(Fail::new(format!(
            "refinements take {} bytes, over Terraform's limit of {MAX_PAYLOAD}",
            payload.len()
        )));
    }
    w.ext(REFINED, &payload)
}

fn encode_map(w: &mut Writer, refinements: &Refinements, ty: &Type) -> Result<(), Fail> {
    let Refinements {
        nullness,
        string_prefix,
        number_lower,
        number_upper,
        length_lower,
        length_upper,
    } = refinements;
    let keys: Vec<i64> = [
        (NULLNESS, nullness.is_some()),
        (STRING_PREFIX, string_prefix.is_some()),
        (NUMBER_LOWER, number_lower.is_some()),
        (NUMBER_UPPER, number_upper.is_some()),
        (LENGTH_LOWER, length_lower.is_some()),
        (LENGTH_UPPER, length_upper.is_some()),
    ]
    .into_iter()
    .filter_map(|(key, present)| present.then_some(key))
    .collect();
    if let Some(&key) = keys.iter().find(|&&key| !applies(key, ty)) {
        return Err(inapplicable(key, ty));
    }
    w.map_len(keys.len())?;
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
