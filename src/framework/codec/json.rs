//! The JSON encoding of values, as stored state and JSON `DynamicValue`s
//! carry them.
//!
//! Decoding parses with `serde_json` (whose recursion limit bounds the
//! nesting of the document) and then walks the document along the type.
//! Without serde_json's `arbitrary_precision`, numbers are limited to what
//! `i64`, `u64` and `f64` hold.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use super::error::{Fail, Within};
use super::ty::{json_kind, type_kind, type_to_json};
use super::{check, number};
use crate::framework::value::{Number, Type, Value};

/// Decodes a JSON document holding one value of type `ty`.
pub(super) fn decode(bytes: &[u8], ty: &Type) -> Result<Value, Fail> {
    let json: Json =
        serde_json::from_slice(bytes).map_err(|e| Fail::new(format!("invalid JSON: {e}")))?;
    from_json(&json, ty, 1)
}

fn from_json(json: &Json, ty: &Type, depth: usize) -> Result<Value, Fail> {
    check::depth(depth)?;
    if json.is_null() {
        return Ok(Value::Null);
    }
    match (ty, json) {
        (Type::String, _) => string(json).map(Value::String),
        (Type::Number, _) => number(json).map(Value::Number),
        (Type::Bool, _) => bool(json).map(Value::Bool),
        (Type::List(element), Json::Array(items)) => {
            elements(items, element, depth).map(Value::List)
        }
        (Type::Set(element), Json::Array(items)) => elements(items, element, depth).map(Value::Set),
        (Type::Tuple(types), Json::Array(items)) => tuple(items, types, depth),
        (Type::Map(element), Json::Object(entries)) => map(entries, element, depth),
        (Type::Object(attributes), Json::Object(entries)) => object(entries, attributes, depth),
        (Type::Dynamic, Json::Object(entries)) => dynamic(entries, depth),
        _ => Err(Fail::new(format!(
            "expected {}, found {}",
            type_kind(ty),
            json_kind(json)
        ))),
    }
}

/// A string; numbers and bools convert as Terraform converts them.
fn string(json: &Json) -> Result<String, Fail> {
    match json {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) => Ok(n.to_string()),
        Json::Bool(b) => Ok(b.to_string()),
        other => Err(Fail::new(format!(
            "expected string, found {}",
            json_kind(other)
        ))),
    }
}

/// A number; a string must hold decimal text.
fn number(json: &Json) -> Result<Number, Fail> {
    match json {
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Number::Int(i))
            } else if let Some(u) = n.as_u64() {
                Ok(Number::Big(u.to_string()))
            } else {
                let f = n
                    .as_f64()
                    .ok_or_else(|| Fail::new(format!("invalid number {n}")))?;
                number::from_f64(f)
            }
        }
        Json::String(s) => number::from_text(s),
        other => Err(Fail::new(format!(
            "expected number, found {}",
            json_kind(other)
        ))),
    }
}

/// A bool; the strings `"true"` and `"false"` convert.
fn bool(json: &Json) -> Result<bool, Fail> {
    match json {
        Json::Bool(b) => Ok(*b),
        Json::String(s) if s == "true" => Ok(true),
        Json::String(s) if s == "false" => Ok(false),
        other => Err(Fail::new(format!(
            "expected bool, found {}",
            json_kind(other)
        ))),
    }
}

fn elements(items: &[Json], ty: &Type, depth: usize) -> Result<Vec<Value>, Fail> {
    items
        .iter()
        .enumerate()
        .map(|(index, item)| from_json(item, ty, depth + 1).in_index(index))
        .collect()
}

fn tuple(items: &[Json], types: &[Type], depth: usize) -> Result<Value, Fail> {
    check::tuple_len(types, items.len())?;
    items
        .iter()
        .zip(types)
        .enumerate()
        .map(|(index, (item, ty))| from_json(item, ty, depth + 1).in_index(index))
        .collect::<Result<_, _>>()
        .map(Value::Tuple)
}

fn map(entries: &Map<String, Json>, ty: &Type, depth: usize) -> Result<Value, Fail> {
    entries
        .iter()
        .map(|(key, item)| Ok((key.clone(), from_json(item, ty, depth + 1).in_key(key)?)))
        .collect::<Result<_, _>>()
        .map(Value::Map)
}

/// An object: properties not in the type are ignored (the schema may have
/// dropped them since the state was written); missing ones are null.
fn object(
    entries: &Map<String, Json>,
    attributes: &BTreeMap<String, Type>,
    depth: usize,
) -> Result<Value, Fail> {
    attributes
        .iter()
        .map(|(name, ty)| {
            let value = match entries.get(name) {
                Some(item) => from_json(item, ty, depth + 1).in_attr(name)?,
                None => Value::Null,
            };
            Ok((name.clone(), value))
        })
        .collect::<Result<_, _>>()
        .map(Value::Object)
}

/// `{"type": ..., "value": ...}`; a missing `value` is null.
fn dynamic(entries: &Map<String, Json>, depth: usize) -> Result<Value, Fail> {
    let ty = entries
        .get("type")
        .ok_or_else(|| Fail::new("a dynamic value needs a \"type\" property"))?;
    let ty =
        super::ty::from_json_value(ty).map_err(|f| f.context("invalid type of a dynamic value"))?;
    let value = match entries.get("value") {
        Some(item) => from_json(item, &ty, depth + 1)?,
        None => Value::Null,
    };
    Ok(Value::Dynamic(ty, Box::new(value)))
}

/// Encodes `value` of type `ty` as compact JSON.
pub(super) fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, Fail> {
    let mut out = Vec::new();
    write_value(&mut out, value, ty, 1)?;
    Ok(out)
}

fn write_value(out: &mut Vec<u8>, value: &Value, ty: &Type, depth: usize) -> Result<(), Fail> {
    check::depth(depth)?;
    match (ty, value) {
        (_, Value::Null) => out.extend_from_slice(b"null"),
        (_, Value::Unknown(_)) => {
            return Err(Fail::new("an unknown value cannot be encoded as JSON"))
        }
        (Type::String, Value::String(s)) => write_string(out, s)?,
        (Type::Number, Value::Number(n)) => out.extend_from_slice(number::json_text(n)?.as_bytes()),
        (Type::Bool, Value::Bool(b)) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        (Type::List(element), Value::List(items)) | (Type::Set(element), Value::Set(items)) => {
            write_array(out, items.iter().map(|item| (item, &**element)), depth)?
        }
        (Type::Tuple(types), Value::Tuple(items)) => {
            check::tuple_len(types, items.len())?;
            write_array(out, items.iter().zip(types), depth)?
        }
        (Type::Map(element), Value::Map(entries)) => {
            let entries = entries
                .iter()
                .map(|(key, item)| (key, Some(item), &**element));
            write_object(out, entries, depth, Within::in_key)?
        }
        (Type::Object(attributes), Value::Object(values)) => {
            check::attributes(values, attributes)?;
            let entries = attributes
                .iter()
                .map(|(name, ty)| (name, values.get(name), ty));
            write_object(out, entries, depth, Within::in_attr)?
        }
        (Type::Dynamic, Value::Dynamic(concrete, inner)) => {
            out.extend_from_slice(b"{\"type\":");
            out.extend_from_slice(type_to_json(concrete).to_string().as_bytes());
            out.extend_from_slice(b",\"value\":");
            write_value(out, inner, concrete, depth + 1)?;
            out.push(b'}');
        }
        _ => return Err(check::mismatch(ty, value)),
    }
    Ok(())
}

fn write_string(out: &mut Vec<u8>, s: &str) -> Result<(), Fail> {
    serde_json::to_writer(out, s).map_err(|e| Fail::new(format!("JSON write failed: {e}")))
}

fn write_array<'v>(
    out: &mut Vec<u8>,
    items: impl Iterator<Item = (&'v Value, &'v Type)>,
    depth: usize,
) -> Result<(), Fail> {
    out.push(b'[');
    for (index, (item, ty)) in items.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_value(out, item, ty, depth + 1).in_index(index)?;
    }
    out.push(b']');
    Ok(())
}

/// Writes `{"key": value, ...}`; a `None` value is null. `within` places
/// errors at the attribute or map key.
fn write_object<'v>(
    out: &mut Vec<u8>,
    entries: impl Iterator<Item = (&'v String, Option<&'v Value>, &'v Type)>,
    depth: usize,
    within: fn(Result<(), Fail>, &str) -> Result<(), Fail>,
) -> Result<(), Fail> {
    out.push(b'{');
    for (index, (key, item, ty)) in entries.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_string(out, key)?;
        out.push(b':');
        let item = item.unwrap_or(&Value::Null);
        within(write_value(out, item, ty, depth + 1), key)?;
    }
    out.push(b'}');
    Ok(())
}
