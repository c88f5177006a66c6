//! Checks and errors shared by the codecs.

use std::collections::BTreeMap;

use super::error::Fail;
use super::ty::type_kind;
use super::MAX_VALUE_DEPTH;
use crate::framework::value::{Type, Value};

/// Fails when a value sits deeper than [`MAX_VALUE_DEPTH`] (the top level
/// being depth 1).
pub(super) fn depth(depth: usize) -> Result<(), Fail> {
    if depth > MAX_VALUE_DEPTH {
        Err(Fail::new(format!(
            "value nests deeper than {MAX_VALUE_DEPTH} levels"
        )))
    } else {
        Ok(())
    }
}

/// Fails unless a tuple has as many elements as its type.
pub(super) fn tuple_len(types: &[Type], found: usize) -> Result<(), Fail> {
    if types.len() == found {
        Ok(())
    } else {
        Err(Fail::new(format!(
            "expected a tuple of {} elements, found {found}",
            types.len()
        )))
    }
}

/// Fails when an object value has an attribute its type lacks.
pub(super) fn attributes(
    values: &BTreeMap<String, Value>,
    attributes: &BTreeMap<String, Type>,
) -> Result<(), Fail> {
    match values.keys().find(|name| !attributes.contains_key(*name)) {
        Some(name) => Err(unsupported_attribute(name)),
        None => Ok(()),
    }
}

pub(super) fn unsupported_attribute(name: &str) -> Fail {
    Fail::new(format!("unsupported attribute {name:?}"))
}

/// The error for a value that does not match its type.
pub(super) fn mismatch(ty: &Type, value: &Value) -> Fail {
    let hint = if *ty == Type::Dynamic {
        " (a dynamic value must be Value::Dynamic with its concrete type)"
    } else {
        ""
    };
    Fail::new(format!(
        "expected {}, found {}{hint}",
        type_kind(ty),
        value_kind(value)
    ))
}

/// A short name of a value's kind, for errors.
fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Unknown(_) => "an unknown value",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a bool",
        Value::List(_) => "a list",
        Value::Set(_) => "a set",
        Value::Map(_) => "a map",
        Value::Object(_) => "an object",
        Value::Tuple(_) => "a tuple",
        Value::Dynamic(..) => "a dynamic value",
    }
}
