//! The msgpack encoding of values, as `DynamicValue.msgpack` carries them.

mod encode;
mod read;
mod refine;
mod write;

pub(super) use encode::encode;

use std::collections::BTreeMap;

use read::{Head, Reader};

use super::check;
use super::error::{Fail, Within};
use super::ty::type_kind;
use crate::framework::value::{Type, Value};

/// Decodes one value of type `ty` that must span all of `bytes`.
pub(super) fn decode(bytes: &[u8], ty: &Type) -> Result<Value, Fail> {
    let mut r = Reader::new(bytes);
    let value = value(&mut r, ty, 1)?;
    r.finish()?;
    Ok(value)
}

/// A value of type `ty`, `depth` levels deep.
fn value(r: &mut Reader<'_>, ty: &Type, depth: usize) -> Result<Value, Fail> {
    check::depth(depth)?;
    let head = r.head()?;
    match head {
        Head::Nil => Ok(Value::Null),
        Head::Ext { code, len } => {
            let payload = r.take(len)?;
            refine::decode(code, payload, ty).map(Value::Unknown)
        }
        _ => known(r, head, ty, depth),
    }
}

/// A known value of type `ty` whose head has been read.
fn known(r: &mut Reader<'_>, head: Head, ty: &Type, depth: usize) -> Result<Value, Fail> {
    match (ty, head) {
        (Type::String, Head::Str(len)) => Ok(Value::String(r.str(len)?.to_string())),
        (Type::Number, _) => r.number(head).map(Value::Number),
        (Type::Bool, Head::Bool(b)) => Ok(Value::Bool(b)),
        (Type::List(element), Head::Array(n)) => elements(r, n, element, depth).map(Value::List),
        (Type::Set(element), Head::Array(n)) => elements(r, n, element, depth).map(Value::Set),
        (Type::Map(element), Head::Map(n)) => map(r, n, element, depth).map(Value::Map),
        (Type::Object(attributes), Head::Map(n)) => object(r, n, attributes, depth),
        (Type::Tuple(types), Head::Array(n)) => tuple(r, n, types, depth),
        (Type::Dynamic, Head::Array(2)) => dynamic(r, depth),
        (Type::Dynamic, _) => Err(Fail::new(format!(
            "expected a [type, value] array for a dynamic value, found {}",
            head.kind()
        ))),
        _ => Err(Fail::new(format!(
            "expected {}, found {}",
            type_kind(ty),
            head.kind()
        ))),
    }
}

/// `n` elements of a list or set.
fn elements(r: &mut Reader<'_>, n: usize, ty: &Type, depth: usize) -> Result<Vec<Value>, Fail> {
    r.expect_items(n, 1)?;
    let mut elements = Vec::with_capacity(n);
    for index in 0..n {
        elements.push(value(r, ty, depth + 1).in_index(index)?);
    }
    Ok(elements)
}

/// The elements of a tuple, whose length the type fixes.
fn tuple(r: &mut Reader<'_>, n: usize, types: &[Type], depth: usize) -> Result<Value, Fail> {
    check::tuple_len(types, n)?;
    let mut elements = Vec::with_capacity(n);
    for (index, ty) in types.iter().enumerate() {
        elements.push(value(r, ty, depth + 1).in_index(index)?);
    }
    Ok(Value::Tuple(elements))
}

/// `n` entries of a map; keys are strings and must be distinct.
fn map(
    r: &mut Reader<'_>,
    n: usize,
    ty: &Type,
    depth: usize,
) -> Result<BTreeMap<String, Value>, Fail> {
    r.expect_items(n, 2)?;
    let mut entries = BTreeMap::new();
    for _ in 0..n {
        let key = r.string().map_err(|f| f.context("invalid map key"))?;
        let element = value(r, ty, depth + 1).in_key(&key)?;
        if entries.insert(key.clone(), element).is_some() {
            return Err(Fail::new(format!("duplicate map key {key:?}")));
        }
    }
    Ok(entries)
}

/// An object: `n` entries keyed by attribute names of the type; attributes
/// missing from the input are null.
fn object(
    r: &mut Reader<'_>,
    n: usize,
    attributes: &BTreeMap<String, Type>,
    depth: usize,
) -> Result<Value, Fail> {
    r.expect_items(n, 2)?;
    let mut values = BTreeMap::new();
    for _ in 0..n {
        let name = r
            .string()
            .map_err(|f| f.context("invalid attribute name"))?;
        let Some(ty) = attributes.get(&name) else {
            return Err(check::unsupported_attribute(&name));
        };
        let value = value(r, ty, depth + 1).in_attr(&name)?;
        if values.insert(name.clone(), value).is_some() {
            return Err(Fail::new(format!("duplicate attribute {name:?}")));
        }
    }
    for name in attributes.keys() {
        if !values.contains_key(name) {
            values.insert(name.clone(), Value::Null);
        }
    }
    Ok(Value::Object(values))
}

/// The `[type JSON, value]` of a dynamic value, after its array head.
fn dynamic(r: &mut Reader<'_>, depth: usize) -> Result<Value, Fail> {
    let type_json = match r.head()? {
        Head::Bin(len) | Head::Str(len) => r.take(len)?,
        other => {
            return Err(Fail::new(format!(
                "expected the type of a dynamic value, found {}",
                other.kind()
            )))
        }
    };
    let ty =
        super::ty::parse(type_json).map_err(|f| f.context("invalid type of a dynamic value"))?;
    let value = value(r, &ty, depth + 1)?;
    Ok(Value::Dynamic(ty, Box::new(value)))
}
