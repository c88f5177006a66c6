//! Type constraints as JSON: `"string"`, `["list","string"]`,
//! `["object",{"a":"string"}]`, `["tuple",["string","bool"]]`, `"dynamic"`.

use serde_json::Value as Json;

use super::error::{Fail, Stage};
use super::{CodecError, MAX_TYPE_DEPTH};
use crate::framework::value::Type;

/// The JSON form of a type constraint, as `Schema.Attribute.type` and
/// `dynamic` values carry it.
pub fn type_to_json(ty: &Type) -> Json {
    let kind = |kind: &str, argument: Json| Json::Array(vec![Json::from(kind), argument]);
    match ty {
        Type::String => Json::from("string"),
        Type::Number => Json::from("number"),
        Type::Bool => Json::from("bool"),
        Type::Dynamic => Json::from("dynamic"),
        Type::List(element) => kind("list", type_to_json(element)),
        Type::Set(element) => kind("set", type_to_json(element)),
        Type::Map(element) => kind("map", type_to_json(element)),
        Type::Object(attributes) => {
            let attributes = attributes
                .iter()
                .map(|(name, ty)| (name.clone(), type_to_json(ty)))
                .collect();
            kind("object", Json::Object(attributes))
        }
        Type::Tuple(elements) => kind("tuple", elements.iter().map(type_to_json).collect()),
    }
}

/// [`type_to_json`] as compact JSON bytes.
pub fn type_json_bytes(ty: &Type) -> Vec<u8> {
    type_to_json(ty).to_string().into_bytes()
}

/// Parses a type constraint from its JSON bytes.
///
/// Nesting deeper than [`MAX_TYPE_DEPTH`] is an error. The optional-attribute
/// form `["object",{...},[...]]` is not accepted: it only appears in module
/// variable constraints, never in values Terraform sends to providers.
pub fn type_from_json(bytes: &[u8]) -> Result<Type, CodecError> {
    parse(bytes).map_err(|f| f.into_error(Stage::Type))
}

/// [`type_from_json`] with the internal error.
pub(super) fn parse(bytes: &[u8]) -> Result<Type, Fail> {
    let json: Json =
        serde_json::from_slice(bytes).map_err(|e| Fail::new(format!("invalid JSON: {e}")))?;
    from_json_value(&json)
}

/// A type from an already parsed JSON value.
pub(super) fn from_json_value(json: &Json) -> Result<Type, Fail> {
    from_json_at(json, 1)
}

fn from_json_at(json: &Json, depth: usize) -> Result<Type, Fail> {
    if depth > MAX_TYPE_DEPTH {
        return Err(Fail::new(format!(
            "type nests deeper than {MAX_TYPE_DEPTH} levels"
        )));
    }
    match json {
        Json::String(name) => primitive(name),
        Json::Array(parts) => match parts.as_slice() {
            [Json::String(kind), argument] => compound(kind, argument, depth),
            _ => Err(Fail::new(
                "a compound type must be a [kind, argument] array",
            )),
        },
        other => Err(Fail::new(format!("unexpected {}", json_kind(other)))),
    }
}

fn primitive(name: &str) -> Result<Type, Fail> {
    match name {
        "string" => Ok(Type::String),
        "number" => Ok(Type::Number),
        "bool" => Ok(Type::Bool),
        "dynamic" => Ok(Type::Dynamic),
        _ => Err(Fail::new(format!("unknown type {name:?}"))),
    }
}

fn compound(kind: &str, argument: &Json, depth: usize) -> Result<Type, Fail> {
    let element = || from_json_at(argument, depth + 1).map(Box::new);
    match kind {
        "list" => Ok(Type::List(element()?)),
        "set" => Ok(Type::Set(element()?)),
        "map" => Ok(Type::Map(element()?)),
        "object" => match argument {
            Json::Object(attributes) => attributes
                .iter()
                .map(|(name, ty)| Ok((name.clone(), from_json_at(ty, depth + 1)?)))
                .collect::<Result<_, Fail>>()
                .map(Type::Object),
            _ => Err(Fail::new("object attributes must be a JSON object")),
        },
        "tuple" => match argument {
            Json::Array(elements) => elements
                .iter()
                .map(|ty| from_json_at(ty, depth + 1))
                .collect::<Result<_, Fail>>()
                .map(Type::Tuple),
            _ => Err(Fail::new("tuple elements must be a JSON array")),
        },
        _ => Err(Fail::new(format!("unknown type kind {kind:?}"))),
    }
}

/// A short description of a JSON value's kind, for errors.
pub(super) fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// A short name of a type's kind, for errors.
pub(super) fn type_kind(ty: &Type) -> &'static str {
    match ty {
        Type::String => "string",
        Type::Number => "number",
        Type::Bool => "bool",
        Type::Dynamic => "dynamic",
        Type::List(_) => "list",
        Type::Set(_) => "set",
        Type::Map(_) => "map",
        Type::Object(_) => "object",
        Type::Tuple(_) => "tuple",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Type {
        Type::object([
            ("name", Type::String),
            ("port", Type::Number),
            ("enabled", Type::Bool),
            ("any", Type::Dynamic),
            ("zones", Type::list(Type::String)),
            ("ids", Type::set(Type::Number)),
            ("tags", Type::map(Type::String)),
            ("pair", Type::Tuple(vec![Type::String, Type::Bool])),
            ("nested", Type::list(Type::object([("a", Type::String)]))),
        ])
    }

    #[test]
    fn primitives_and_compounds_have_terraform_json() {
        assert_eq!(type_json_bytes(&Type::String), br#""string""#);
        assert_eq!(type_json_bytes(&Type::Dynamic), br#""dynamic""#);
        assert_eq!(
            type_json_bytes(&Type::list(Type::String)),
            br#"["list","string"]"#
        );
        assert_eq!(
            type_json_bytes(&Type::object([("b", Type::Bool), ("a", Type::String)])),
            br#"["object",{"a":"string","b":"bool"}]"#
        );
        assert_eq!(
            type_json_bytes(&Type::Tuple(vec![Type::Number, Type::set(Type::Bool)])),
            br#"["tuple",["number",["set","bool"]]]"#
        );
        assert_eq!(type_json_bytes(&Type::Tuple(vec![])), br#"["tuple",[]]"#);
    }

    #[test]
    fn types_round_trip() {
        let ty = sample();
        assert_eq!(type_from_json(&type_json_bytes(&ty)).unwrap(), ty);
        let spaced = br#" [ "map" , [ "list" , "number" ] ] "#;
        assert_eq!(
            type_from_json(spaced).unwrap(),
            Type::map(Type::list(Type::Number))
        );
    }

    #[test]
    fn invalid_types_are_errors() {
        let cases: &[&[u8]] = &[
            b"",
            b"\"str\"",
            b"42",
            b"null",
            b"[\"list\"]",
            b"[\"list\",\"string\",\"x\"]",
            b"[\"object\",{\"a\":\"string\"},[\"a\"]]",
            b"[\"object\",[]]",
            b"[\"tuple\",{}]",
            b"[\"vector\",\"string\"]",
            b"[1,\"string\"]",
            b"[\"list\",\"string\"",
            b"\xff",
        ];
        for case in cases {
            let err = type_from_json(case).unwrap_err();
            assert!(matches!(err, CodecError::Type { .. }), "{err}");
        }
    }

    #[test]
    fn nesting_is_capped() {
        let nested = |depth: usize| {
            let levels = depth - 1;
            format!(
                "{}\"string\"{}",
                "[\"list\",".repeat(levels),
                "]".repeat(levels)
            )
        };
        assert!(type_from_json(nested(MAX_TYPE_DEPTH).as_bytes()).is_ok());
        let err = type_from_json(nested(MAX_TYPE_DEPTH + 1).as_bytes()).unwrap_err();
        assert!(err.message().contains("deeper"), "{err}");
        // Far beyond serde_json's own recursion limit: still an error.
        assert!(type_from_json(nested(100_000).as_bytes()).is_err());
    }
}
