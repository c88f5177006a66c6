//! Values to msgpack, checked against their types.

use std::collections::BTreeMap;

use super::refine;
use super::write::Writer;
use crate::framework::codec::check;
use crate::framework::codec::error::{Fail, Within};
use crate::framework::codec::ty::type_json_bytes;
use crate::framework::value::{Type, Value};

/// Encodes `value` of type `ty`.
pub(in crate::framework::codec) fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, Fail> {
    let mut w = Writer::default();
    write_value(&mut w, value, ty, 1)?;
    Ok(w.into_bytes())
}

fn write_value(w: &mut Writer, value: &Value, ty: &Type, depth: usize) -> Result<(), Fail> {
    check::depth(depth)?;
    match value {
        Value::Null => w.nil(),
        Value::Unknown(refinements) => refine::encode(w, refinements, ty),
        _ => write_known(w, value, ty, depth),
    }
}

fn write_known(w: &mut Writer, value: &Value, ty: &Type, depth: usize) -> Result<(), Fail> {
    match (ty, value) {
        (Type::String, Value::String(s)) => w.str(s),
        (Type::Number, Value::Number(n)) => w.number(n),
        (Type::Bool, Value::Bool(b)) => w.bool(*b),
        (Type::List(element), Value::List(elements))
        | (Type::Set(element), Value::Set(elements)) => {
            write_elements(w, elements.iter().map(|e| (e, &**element)), depth)
        }
        (Type::Tuple(types), Value::Tuple(elements)) => {
            check::tuple_len(types, elements.len())?;
            write_elements(w, elements.iter().zip(types), depth)
        }
        (Type::Map(element), Value::Map(entries)) => write_map(w, entries, element, depth),
        (Type::Object(attributes), Value::Object(values)) => {
            write_object(w, values, attributes, depth)
        }
        (Type::Dynamic, Value::Dynamic(concrete, inner)) => {
            w.array_len(2)?;
            w.bin(&type_json_bytes(concrete))?;
            write_value(w, inner, concrete, depth + 1)
        }
        _ => Err(check::mismatch(ty, value)),
    }
}

fn write_elements<'v>(
    w: &mut Writer,
    elements: impl ExactSizeIterator<Item = (&'v Value, &'v Type)>,
    depth: usize,
) -> Result<(), Fail> {
    w.array_len(elements.len())?;
    for (index, (element, ty)) in elements.enumerate() {
        write_value(w, element, ty, depth + 1).in_index(index)?;
    }
    Ok(())
}

fn write_map(
    w: &mut Writer,
    entries: &BTreeMap<String, Value>,
    ty: &Type,
    depth: usize,
) -> Result<(), Fail> {
    w.map_len(entries.len())?;
    for (key, element) in entries {
        w.str(key)?;
        write_value(w, element, ty, depth + 1).in_key(key)?;
    }
    Ok(())
}

/// Every attribute of the type, in name order; those missing from the
/// value are nil.
fn write_object(
    w: &mut Writer,
    values: &BTreeMap<String, Value>,
    attributes: &BTreeMap<String, Type>,
    depth: usize,
) -> Result<(), Fail> {
    check::attributes(values, attributes)?;
    w.map_len(attributes.len())?;
    for (name, ty) in attributes {
        w.str(name)?;
        let value = values.get(name).unwrap_or(&Value::Null);
        write_value(w, value, ty, depth + 1).in_attr(name)?;
    }
    Ok(())
}
