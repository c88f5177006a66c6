//! Value codecs: Terraform values to and from the wire.
//!
//! Terraform sends values (`DynamicValue`) as msgpack, falls back to JSON in
//! a few places, and stores state as JSON (`UpgradeResourceState`). Schemas
//! carry types as compact JSON. All decoding is driven by the expected
//! [`Type`]; all encoding checks the value against it.
//!
//! The wire format is described in `object-wire-format.md` of the Terraform
//! plugin protocol. In short:
//!
//! * null is msgpack nil / JSON `null`, for any type;
//! * an unknown is any msgpack extension; code 12 carries refinements, code 0
//!   is a plain unknown (JSON cannot carry unknowns);
//! * objects and maps are msgpack maps / JSON objects keyed by name;
//! * lists, sets and tuples are arrays;
//! * a `dynamic` value is `[type JSON, value]` in msgpack and
//!   `{"type": ..., "value": ...}` in JSON.
//!
//! Input is untrusted: any byte sequence yields a value or an error, never a
//! panic, and nesting and allocation are bounded by [`MAX_TYPE_DEPTH`],
//! [`MAX_VALUE_DEPTH`] and the input length.

mod check;
mod error;
mod json;
mod msgpack;
mod number;
mod ty;

#[cfg(test)]
mod tests;

pub use error::CodecError;
pub use ty::{type_from_json, type_json_bytes, type_to_json};

use super::value::{Type, Value};

/// How deeply a type constraint may nest (`["list",["list",...]]`).
pub const MAX_TYPE_DEPTH: usize = 64;

/// How deeply a value may nest, counting the values inside `dynamic` ones.
pub const MAX_VALUE_DEPTH: usize = 128;

/// Decodes a msgpack `DynamicValue` of type `ty`.
///
/// Null and unknown (with its refinements) are accepted at any depth. The
/// whole input must be one value: trailing bytes are an error.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    msgpack::decode(bytes, ty).map_err(|f| f.into_error(error::Stage::Decode))
}

/// Encodes `value`, which must conform to `ty`, as msgpack.
///
/// Map and object entries are written in key order, so equal values give
/// equal bytes. An object's attributes missing from `value` are written as
/// nil; attributes not in `ty` are an error.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    msgpack::encode(value, ty).map_err(|f| f.into_error(error::Stage::Encode))
}

/// Decodes a JSON value of type `ty`, as in stored state or a JSON
/// `DynamicValue`.
///
/// State may have been written under an older schema, so this is lenient
/// where the msgpack decoder is strict: object attributes not in `ty` are
/// ignored, missing ones are null, and primitives convert the way Terraform
/// converts them (a JSON number or bool for a string, a numeric string for a
/// number, `"true"`/`"false"` for a bool).
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    json::decode(bytes, ty).map_err(|f| f.into_error(error::Stage::Decode))
}

/// Encodes `value`, which must conform to `ty`, as compact JSON.
///
/// JSON cannot carry unknown values (nor infinite numbers): they are errors.
pub fn encode_json(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    json::encode(value, ty).map_err(|f| f.into_error(error::Stage::Encode))
}
