//! Tests of the public codec API: round trips, the wire format pinned by
//! hand-written bytes, and hostile input.

use super::*;
use crate::framework::value::{Number, Refinements};

// ---------------------------------------------------------------- helpers

fn int(i: i64) -> Value {
    Value::Number(Number::Int(i))
}

fn float(f: f64) -> Value {
    Value::Number(Number::Float(f))
}

fn big(text: &str) -> Value {
    Value::Number(Number::Big(text.to_string()))
}

fn refined(refinements: Refinements) -> Value {
    Value::Unknown(refinements)
}

fn not_null() -> Refinements {
    Refinements {
        nullness: Some(false),
        ..Refinements::default()
    }
}

/// Encodes, decodes back to the same value, and re-encodes to the same
/// bytes. Returns the bytes.
fn msgpack_round_trip(value: &Value, ty: &Type) -> Vec<u8> {
    let bytes = encode_msgpack(value, ty).unwrap_or_else(|e| panic!("{e}: {value:?}"));
    let decoded = decode_msgpack(&bytes, ty).unwrap_or_else(|e| panic!("{e}: {bytes:02x?}"));
    assert_eq!(&decoded, value, "bytes {bytes:02x?}");
    assert_eq!(encode_msgpack(&decoded, ty).unwrap(), bytes);
    bytes
}

/// The same for JSON.
fn json_round_trip(value: &Value, ty: &Type) -> Vec<u8> {
    let bytes = encode_json(value, ty).unwrap_or_else(|e| panic!("{e}: {value:?}"));
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let decoded = decode_json(&bytes, ty).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(&decoded, value, "JSON {text}");
    assert_eq!(encode_json(&decoded, ty).unwrap(), bytes);
    bytes
}

fn endpoint_type() -> Type {
    Type::object([("host", Type::String), ("ports", Type::list(Type::Number))])
}

fn rule_type() -> Type {
    Type::object([("cidr", Type::String), ("allow", Type::Bool)])
}

/// A resource-like type with every kind of type in it.
fn service_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("port", Type::Number),
        ("enabled", Type::Bool),
        ("zones", Type::list(Type::String)),
        ("ids", Type::set(Type::Number)),
        ("tags", Type::map(Type::String)),
        ("endpoint", endpoint_type()),
        ("rules", Type::list(rule_type())),
        ("pair", Type::Tuple(vec![Type::String, Type::Number])),
        ("extra", Type::Dynamic),
        ("absent", Type::String),
    ])
}

/// A value of [`service_type`] that JSON represents exactly.
fn service_value_json_safe() -> Value {
    Value::object([
        ("name", Value::string("pl-1")),
        ("port", int(3306)),
        ("enabled", Value::Bool(true)),
        (
            "zones",
            Value::List(vec!["use1-az1".into(), "use1-az2".into()]),
        ),
        (
            "ids",
            Value::Set(vec![int(-7), float(1.5), big("18446744073709551615")]),
        ),
        (
            "tags",
            Value::Map(
                [
                    ("env".to_string(), "prod".into()),
                    ("team".to_string(), Value::Null),
                ]
                .into(),
            ),
        ),
        (
            "endpoint",
            Value::object([
                ("host", Value::string("vpce.example.com")),
                (
                    "ports",
                    Value::List(vec![int(0), int(i64::MAX), int(i64::MIN)]),
                ),
            ]),
        ),
        (
            "rules",
            Value::List(vec![
                Value::object([
                    ("cidr", Value::string("10.0.0.0/8")),
                    ("allow", Value::Bool(true)),
                ]),
                Value::object([("cidr", Value::Null), ("allow", Value::Bool(false))]),
            ]),
        ),
        ("pair", Value::Tuple(vec!["a".into(), float(-2.5e-10)])),
        (
            "extra",
            Value::Dynamic(
                Type::map(Type::list(Type::Bool)),
                Box::new(Value::Map(
                    [("k".to_string(), Value::List(vec![true.into()]))].into(),
                )),
            ),
        ),
        ("absent", Value::Null),
    ])
}

/// A value of [`service_type`] with numbers JSON cannot hold exactly.
fn service_value() -> Value {
    let mut value = service_value_json_safe();
    value.set_attr(
        "ids",
        Value::Set(vec![
            int(-7),
            float(1.5),
            big("18446744073709551615"),
            big("123456789012345678901234567890.125"),
            big("-1e400"),
        ]),
    );
    value
}

/// Copies of `value` (of type `ty`) with, in turn, the value itself and
/// each value nested in it replaced by `make` of its type.
fn each_replaced(value: &Value, ty: &Type, make: &dyn Fn(&Type) -> Value) -> Vec<Value> {
    let mut out = vec![make(ty)];
    let mut each_child = |child: &Value, child_ty: &Type, rebuild: &dyn Fn(Value) -> Value| {
        for variant in each_replaced(child, child_ty, make) {
            out.push(rebuild(variant));
        }
    };
    match (value, ty) {
        (Value::List(items), Type::List(element)) | (Value::Set(items), Type::Set(element)) => {
            for (i, item) in items.iter().enumerate() {
                each_child(item, element, &|variant| {
                    let mut items = items.clone();
                    items[i] = variant;
                    match value {
                        Value::List(_) => Value::List(items),
                        _ => Value::Set(items),
                    }
                });
            }
        }
        (Value::Tuple(items), Type::Tuple(types)) => {
            for (i, (item, item_ty)) in items.iter().zip(types).enumerate() {
                each_child(item, item_ty, &|variant| {
                    let mut items = items.clone();
                    items[i] = variant;
                    Value::Tuple(items)
                });
            }
        }
        (Value::Map(entries), Type::Map(element)) => {
            for (key, item) in entries {
                each_child(item, element, &|variant| {
                    let mut entries = entries.clone();
                    entries.insert(key.clone(), variant);
                    Value::Map(entries)
                });
            }
        }
        (Value::Object(entries), Type::Object(attributes)) => {
            for (key, item) in entries {
                each_child(item, &attributes[key], &|variant| {
                    let mut entries = entries.clone();
                    entries.insert(key.clone(), variant);
                    Value::Object(entries)
                });
            }
        }
        (Value::Dynamic(concrete, inner), Type::Dynamic) => {
            each_child(inner, concrete, &|variant| {
                Value::Dynamic(concrete.clone(), Box::new(variant))
            });
        }
        _ => {}
    }
    out
}

/// The richest refinements Terraform allows for a value of type `ty`.
fn refinements_for(ty: &Type) -> Value {
    let mut refinements = not_null();
    match ty {
        Type::Dynamic => return Value::unknown(),
        Type::String => refinements.string_prefix = Some("pl-".to_string()),
        Type::Number => {
            refinements.number_lower = Some((Number::Int(-1), true));
            refinements.number_upper = Some((Number::Float(2.5), false));
        }
        Type::List(_) | Type::Set(_) | Type::Map(_) => {
            refinements.length_lower = Some(1);
            refinements.length_upper = Some(10);
        }
        _ => {}
    }
    refined(refinements)
}

/// A small deterministic pseudo-random generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

// ------------------------------------------------------ msgpack round trips

#[test]
fn primitives_round_trip_msgpack() {
    for s in ["", "x", "héllo wörld ✓", &"long".repeat(100)] {
        msgpack_round_trip(&Value::string(s), &Type::String);
    }
    for n in [
        int(0),
        int(1),
        int(-1),
        int(-33),
        int(127),
        int(128),
        int(-129),
        int(65536),
        int(i64::MAX),
        int(i64::MIN),
        float(1.5),
        float(-2.25e-10),
        float(1e300),
        float(f64::INFINITY),
        float(f64::NEG_INFINITY),
        big("18446744073709551615"),
        big("123456789012345678901234567890"),
        big("-0.1000000000000000000000000000001"),
        big("1e400"),
    ] {
        msgpack_round_trip(&n, &Type::Number);
    }
    msgpack_round_trip(&Value::Bool(true), &Type::Bool);
    msgpack_round_trip(&Value::Bool(false), &Type::Bool);
}

#[test]
fn null_round_trips_for_every_type() {
    let service = service_type();
    let Type::Object(attributes) = &service else {
        unreachable!()
    };
    for ty in attributes.values().chain([&service]) {
        assert_eq!(msgpack_round_trip(&Value::Null, ty), [0xc0]);
        assert_eq!(json_round_trip(&Value::Null, ty), b"null");
    }
}

#[test]
fn collections_round_trip_msgpack() {
    let strings = Value::List(vec!["a".into(), "b".into()]);
    msgpack_round_trip(&strings, &Type::list(Type::String));
    msgpack_round_trip(&Value::List(vec![]), &Type::list(Type::String));
    msgpack_round_trip(&Value::Set(vec![int(1), int(2)]), &Type::set(Type::Number));
    let nested = Value::List(vec![Value::List(vec![]), Value::List(vec![true.into()])]);
    msgpack_round_trip(&nested, &Type::list(Type::list(Type::Bool)));
    let map = Value::Map([("a".to_string(), int(1)), ("b".to_string(), int(-1))].into());
    msgpack_round_trip(&map, &Type::map(Type::Number));
    msgpack_round_trip(&Value::Map([].into()), &Type::map(Type::Number));
    let tuple = Value::Tuple(vec!["a".into(), int(1), Value::Null]);
    msgpack_round_trip(
        &tuple,
        &Type::Tuple(vec![Type::String, Type::Number, Type::Bool]),
    );
    msgpack_round_trip(&Value::Tuple(vec![]), &Type::Tuple(vec![]));
    // 70 000 elements: array32 and u32 lengths.
    let many = Value::List((0..70_000).map(int).collect());
    msgpack_round_trip(&many, &Type::list(Type::Number));
}

#[test]
fn objects_round_trip_msgpack() {
    msgpack_round_trip(&service_value(), &service_type());
    msgpack_round_trip(
        &Value::object::<_, String>([]),
        &Type::object::<_, String>([]),
    );
}

#[test]
fn dynamic_values_round_trip_msgpack() {
    let cases = [
        (Type::String, Value::string("x")),
        (Type::Number, big("1e400")),
        (Type::list(Type::Number), Value::List(vec![int(1)])),
        (
            endpoint_type(),
            Value::object([("host", Value::string("h")), ("ports", Value::Null)]),
        ),
        (Type::String, Value::Null),
        (Type::String, Value::unknown()),
        (
            Type::Dynamic,
            Value::Dynamic(Type::Bool, Box::new(true.into())),
        ),
    ];
    for (ty, inner) in cases {
        let value = Value::Dynamic(ty, Box::new(inner));
        msgpack_round_trip(&value, &Type::Dynamic);
        msgpack_round_trip(&Value::List(vec![value]), &Type::list(Type::Dynamic));
    }
}

#[test]
fn unknowns_round_trip_at_every_depth() {
    let plain = |_: &Type| Value::unknown();
    let not_null = |ty: &Type| match ty {
        Type::Dynamic => Value::unknown(),
        _ => refined(not_null()),
    };
    let makers: [&dyn Fn(&Type) -> Value; 3] = [&plain, &not_null, &refinements_for];
    let value = service_value();
    let ty = service_type();
    let mut variants = 0;
    for make in makers {
        for variant in each_replaced(&value, &ty, make) {
            msgpack_round_trip(&variant, &ty);
            variants += 1;
        }
    }
    assert!(variants > 100, "{variants}");
}

// ------------------------------------------------- the wire format, pinned

#[test]
fn plain_unknown_is_fixext1_code_0() {
    for ty in [
        Type::String,
        Type::Number,
        Type::list(Type::String),
        service_type(),
    ] {
        assert_eq!(
            encode_msgpack(&Value::unknown(), &ty).unwrap(),
            [0xd4, 0x00, 0x00]
        );
        assert_eq!(
            decode_msgpack(&[0xd4, 0x00, 0x00], &ty).unwrap(),
            Value::unknown()
        );
    }
}

#[test]
fn unknown_with_empty_refinements_is_code_0() {
    let empty = refined(Refinements::default());
    assert_eq!(
        encode_msgpack(&empty, &Type::String).unwrap(),
        [0xd4, 0x00, 0x00]
    );
    // An empty map, or any payload of at most one byte, is a plain unknown
    // (as in Terraform's decoder), and is written back as code 0.
    for bytes in [
        &[0xd4, 0x0c, 0x80][..],
        &[0xd4, 0x0c, 0xc0],
        &[0xc7, 0x00, 0x0c],
    ] {
        let decoded = decode_msgpack(bytes, &Type::String).unwrap();
        assert_eq!(decoded, Value::unknown(), "{bytes:02x?}");
        assert_eq!(
            encode_msgpack(&decoded, &Type::String).unwrap(),
            [0xd4, 0x00, 0x00]
        );
    }
}

#[test]
fn dynamic_unknowns_carry_no_refinements() {
    let not_null = refined(not_null());
    assert_eq!(
        encode_msgpack(&not_null, &Type::Dynamic).unwrap(),
        [0xd4, 0x00, 0x00]
    );
    let bytes = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2];
    assert_eq!(
        decode_msgpack(&bytes, &Type::Dynamic).unwrap(),
        Value::unknown()
    );
    // Inside a dynamic value, the concrete type decides.
    let inner = [&[0x92, 0xc4, 0x08][..], b"\"string\"", &bytes].concat();
    let value = Value::Dynamic(Type::String, Box::new(not_null));
    assert_eq!(decode_msgpack(&inner, &Type::Dynamic).unwrap(), value);
    assert_eq!(encode_msgpack(&value, &Type::Dynamic).unwrap(), inner);
}

#[test]
fn each_refinement_has_its_bytes() {
    let cases: Vec<(Type, Refinements, Vec<u8>)> = vec![
        // {1: false} -- what Terraform sends for a not-null unknown.
        (
            Type::String,
            not_null(),
            vec![0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2],
        ),
        (
            Type::String,
            Refinements {
                string_prefix: Some("ab".to_string()),
                ..Refinements::default()
            },
            vec![0xc7, 0x05, 0x0c, 0x81, 0x02, 0xa2, b'a', b'b'],
        ),
        (
            Type::String,
            Refinements {
                nullness: Some(false),
                string_prefix: Some("ab".to_string()),
                ..Refinements::default()
            },
            vec![0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'b'],
        ),
        (
            Type::Number,
            Refinements {
                number_lower: Some((Number::Int(0), true)),
                ..Refinements::default()
            },
            vec![0xc7, 0x05, 0x0c, 0x81, 0x03, 0x92, 0x00, 0xc3],
        ),
        (
            Type::Number,
            Refinements {
                number_upper: Some((Number::Float(1.5), false)),
                ..Refinements::default()
            },
            vec![
                0xc7, 0x0d, 0x0c, 0x81, 0x04, 0x92, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xc2,
            ],
        ),
        (
            Type::Number,
            Refinements {
                number_lower: Some((Number::Big("1e400".to_string()), true)),
                ..Refinements::default()
            },
            vec![
                0xc7, 0x0a, 0x0c, 0x81, 0x03, 0x92, 0xa5, b'1', b'e', b'4', b'0', b'0', 0xc3,
            ],
        ),
        (
            Type::list(Type::String),
            Refinements {
                length_lower: Some(1),
                length_upper: Some(10),
                ..Refinements::default()
            },
            vec![0xc7, 0x05, 0x0c, 0x82, 0x05, 0x01, 0x06, 0x0a],
        ),
        // A 4-byte payload takes fixext 4.
        (
            Type::map(Type::String),
            Refinements {
                length_upper: Some(200),
                ..Refinements::default()
            },
            vec![0xd6, 0x0c, 0x81, 0x06, 0xcc, 0xc8],
        ),
    ];
    for (ty, refinements, bytes) in cases {
        let value = refined(refinements);
        assert_eq!(encode_msgpack(&value, &ty).unwrap(), bytes, "{value:?}");
        assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), value);
    }
}

#[test]
fn bytes_after_the_refinement_map_are_ignored() {
    let bytes = [0xc7, 0x05, 0x0c, 0x81, 0x01, 0xc2, 0x00, 0xc1];
    assert_eq!(
        decode_msgpack(&bytes, &Type::Bool).unwrap(),
        refined(not_null())
    );
}

#[test]
fn unknown_refinement_keys_are_ignored() {
    // {1: false, 7: [1, {"x": "y"}], 99: "z", -1: nil}
    let payload = [
        0x84, 0x01, 0xc2, 0x07, 0x92, 0x01, 0x81, 0xa1, b'x', 0xa1, b'y', 0x63, 0xa1, b'z', 0xff,
        0xc0,
    ];
    let mut bytes = vec![0xc7, payload.len() as u8, 0x0c];
    bytes.extend_from_slice(&payload);
    let value = decode_msgpack(&bytes, &Type::String).unwrap();
    assert_eq!(value, refined(not_null()));
    assert_eq!(
        encode_msgpack(&value, &Type::String).unwrap(),
        [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2]
    );
}

#[test]
fn other_extension_codes_are_plain_unknowns() {
    let cases: &[&[u8]] = &[
        &[0xd4, 0x05, 0x00],
        &[0xd5, 0x7f, 0x01, 0x02],
        &[0xd4, 0xff, 0x00],
        &[0xc7, 0x00, 0x01],
        &[0xc7, 0x02, 0x0b, 0xc1, 0xc1],
        &[0xc8, 0x00, 0x01, 0x20, 0x00],
        &[0xd8, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ];
    let ty = Type::list(Type::String);
    for bytes in cases {
        assert_eq!(
            decode_msgpack(bytes, &ty).unwrap(),
            Value::unknown(),
            "{bytes:02x?}"
        );
    }
}

#[test]
fn malformed_refinements_are_errors() {
    let cases: &[&[u8]] = &[
        &[0xd5, 0x0c, 0xc0, 0xc0],                               // nil, not a map
        &[0xd5, 0x0c, 0x81, 0x01],                               // truncated map
        &[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xa0],                   // nullness not a bool
        &[0xc7, 0x03, 0x0c, 0x81, 0x02, 0x05],                   // prefix not a string
        &[0xc7, 0x04, 0x0c, 0x81, 0x03, 0x91, 0x00],             // bound of one element
        &[0xc7, 0x05, 0x0c, 0x81, 0x03, 0x92, 0xc3, 0xc3],       // bound not a number
        &[0xc7, 0x06, 0x0c, 0x81, 0x03, 0x92, 0xa1, b'x', 0xc3], // bound not decimal
        &[0xc7, 0x03, 0x0c, 0x81, 0x05, 0xff],                   // negative length
        &[0xc7, 0x04, 0x0c, 0x81, 0xa1, b'a', 0xc2],             // string key
        &[0xc7, 0x03, 0x0c, 0x81, 0x07, 0xc1],                   // unknown key, bad value
    ];
    for bytes in cases {
        let err = decode_msgpack(bytes, &Type::String).unwrap_err();
        assert!(err.message().contains("refinements"), "{bytes:02x?}: {err}");
    }
    // Over Terraform's 1 KiB limit.
    let mut oversize = vec![0xc8, 0x04, 0x01, 0x0c, 0x81, 0x02, 0xda, 0x03, 0xfc];
    oversize.resize(oversize.len() + 0x3fc, b'a');
    assert!(decode_msgpack(&oversize, &Type::String).is_err());
}

#[test]
fn refinements_must_suit_the_type() {
    let prefix = [0xc7, 0x05, 0x0c, 0x81, 0x02, 0xa2, b'a', b'b'];
    let bound = [0xc7, 0x05, 0x0c, 0x81, 0x03, 0x92, 0x00, 0xc3];
    let length = [0xc7, 0x03, 0x0c, 0x81, 0x05, 0x01];
    let object = Type::object([("a", Type::String)]);
    let tuple = Type::Tuple(vec![Type::String]);
    let cases = [
        (&prefix[..], Type::String, Type::Number),
        (&prefix, Type::String, Type::list(Type::String)),
        (&bound, Type::Number, Type::String),
        (&length, Type::list(Type::Bool), Type::String),
        (&length, Type::set(Type::Bool), object.clone()),
        (&length, Type::map(Type::Bool), tuple.clone()),
    ];
    for (bytes, suited, unsuited) in cases {
        let err = decode_msgpack(bytes, &unsuited).unwrap_err();
        assert!(
            err.message().contains("cannot refine"),
            "{unsuited:?}: {err}"
        );
        let value = decode_msgpack(bytes, &suited).unwrap();
        assert_eq!(encode_msgpack(&value, &suited).unwrap(), bytes);
        let err = encode_msgpack(&value, &unsuited).unwrap_err();
        assert!(
            err.message().contains("cannot refine"),
            "{unsuited:?}: {err}"
        );
    }
    for ty in [Type::Bool, object, tuple] {
        msgpack_round_trip(&refined(not_null()), &ty);
    }
    let long = refined(Refinements {
        string_prefix: Some("a".repeat(1100)),
        ..Refinements::default()
    });
    assert!(encode_msgpack(&long, &Type::String).is_err());
}

#[test]
fn known_values_have_terraform_bytes() {
    let ab = Type::object([("a", Type::String), ("b", Type::Number)]);
    let small = Value::object([("a", Value::string("x")), ("b", int(1))]);
    let small_bytes = [0x82, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0x01];
    assert_eq!(encode_msgpack(&small, &ab).unwrap(), small_bytes);
    assert_eq!(decode_msgpack(&small_bytes, &ab).unwrap(), small);
    // Attributes missing from the value are written as nil.
    let partial = Value::object([("a", Value::string("x"))]);
    let partial_bytes = [0x82, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0xc0];
    assert_eq!(encode_msgpack(&partial, &ab).unwrap(), partial_bytes);

    let cases: Vec<(Value, Type, Vec<u8>)> = vec![
        (int(-1), Type::Number, vec![0xff]),
        (int(-33), Type::Number, vec![0xd0, 0xdf]),
        (int(300), Type::Number, vec![0xcd, 0x01, 0x2c]),
        (
            float(1.5),
            Type::Number,
            vec![0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
        ),
        (big("12345678901234567890123"), Type::Number, {
            let mut v = vec![0xb7];
            v.extend_from_slice(b"12345678901234567890123");
            v
        }),
        (
            Value::List(vec![true.into(), false.into()]),
            Type::list(Type::Bool),
            vec![0x92, 0xc3, 0xc2],
        ),
        (
            Value::Map([("k".to_string(), int(-1))].into()),
            Type::map(Type::Number),
            vec![0x81, 0xa1, b'k', 0xff],
        ),
        (
            Value::Dynamic(Type::String, Box::new("x".into())),
            Type::Dynamic,
            [&[0x92, 0xc4, 0x08][..], b"\"string\"", &[0xa1, b'x']].concat(),
        ),
    ];
    for (value, ty, bytes) in cases {
        assert_eq!(encode_msgpack(&value, &ty).unwrap(), bytes, "{value:?}");
        assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), value);
    }
}

#[test]
fn integral_floats_are_written_as_integers() {
    assert_eq!(encode_msgpack(&float(3.0), &Type::Number).unwrap(), [0x03]);
    assert_eq!(encode_msgpack(&float(-0.0), &Type::Number).unwrap(), [0x00]);
    // 2^63 does not fit i64: stays a float.
    let two63 = float(9_223_372_036_854_775_808.0);
    assert_eq!(encode_msgpack(&two63, &Type::Number).unwrap()[0], 0xcb);
}

#[test]
fn other_encodings_terraform_may_use_decode() {
    let number = |bytes: &[u8]| decode_msgpack(bytes, &Type::Number).unwrap();
    assert_eq!(number(&[0xca, 0x3f, 0xc0, 0, 0]), float(1.5)); // float 32
    assert_eq!(number(&[0xcb, 0x40, 0x08, 0, 0, 0, 0, 0, 0]), int(3)); // integral float 64
    assert_eq!(
        number(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        big("18446744073709551615")
    );
    assert_eq!(number(&[0xcf, 0, 0, 0, 0, 0, 0, 0, 0x05]), int(5)); // wide encoding
    assert_eq!(
        number(&[0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        int(-1)
    );
    assert_eq!(number(&[0xa2, b'1', b'2']), int(12));
    assert_eq!(number(&[0xa3, b'1', b'.', b'5']), big("1.5"));
    // str8 / str16 strings.
    let s = decode_msgpack(&[0xd9, 0x01, b'x'], &Type::String).unwrap();
    assert_eq!(s, Value::string("x"));
    let s = decode_msgpack(&[0xda, 0x00, 0x01, b'x'], &Type::String).unwrap();
    assert_eq!(s, Value::string("x"));
    // The type of a dynamic value as a string rather than binary.
    let dynamic = [&[0x92, 0xa6][..], b"\"bool\"", &[0xc3]].concat();
    assert_eq!(
        decode_msgpack(&dynamic, &Type::Dynamic).unwrap(),
        Value::Dynamic(Type::Bool, Box::new(true.into()))
    );
}

// ------------------------------------------------------ msgpack decoding

#[test]
fn missing_attributes_decode_as_null() {
    let ab = Type::object([("a", Type::String), ("b", Type::Number)]);
    let decoded = decode_msgpack(&[0x81, 0xa1, b'b', 0x07], &ab).unwrap();
    assert_eq!(decoded, Value::object([("a", Value::Null), ("b", int(7))]));
    let decoded = decode_msgpack(&[0x80], &ab).unwrap();
    assert_eq!(
        decoded,
        Value::object([("a", Value::Null), ("b", Value::Null)])
    );
}

#[test]
fn object_key_errors() {
    let ab = Type::object([("a", Type::String), ("b", Type::Number)]);
    let err = decode_msgpack(&[0x81, 0xa1, b'c', 0x07], &ab).unwrap_err();
    assert!(
        err.message().contains("unsupported attribute \"c\""),
        "{err}"
    );
    let err = decode_msgpack(&[0x82, 0xa1, b'b', 0x07, 0xa1, b'b', 0x08], &ab).unwrap_err();
    assert!(err.message().contains("duplicate"), "{err}");
    assert!(decode_msgpack(&[0x81, 0x01, 0x07], &ab).is_err());
    let map = Type::map(Type::Number);
    assert!(decode_msgpack(&[0x82, 0xa1, b'k', 0x07, 0xa1, b'k', 0x08], &map).is_err());
    assert!(decode_msgpack(&[0x81, 0xc4, 0x01, b'k', 0x07], &map).is_err());
}

#[test]
fn decode_errors_name_the_path() {
    let ty = service_type();
    // {"enabled": "x"}
    let err = decode_msgpack(
        &[
            0x81, 0xa7, b'e', b'n', b'a', b'b', b'l', b'e', b'd', 0xa1, b'x',
        ],
        &ty,
    )
    .unwrap_err();
    assert_eq!(err.path(), "enabled");
    assert!(matches!(err, CodecError::Decode { .. }));
    assert_eq!(
        err.to_string(),
        "cannot decode value at enabled: expected bool, found a string"
    );
    // {"rules": [nil, {"allow": 1}]}
    let rules = [
        0x81, 0xa5, b'r', b'u', b'l', b'e', b's', 0x92, 0xc0, 0x81, 0xa5, b'a', b'l', b'l', b'o',
        b'w', 0x01,
    ];
    assert_eq!(
        decode_msgpack(&rules, &ty).unwrap_err().path(),
        "rules[1].allow"
    );
    // {"tags": {"env": true}}
    let tags = [
        0x81, 0xa4, b't', b'a', b'g', b's', 0x81, 0xa3, b'e', b'n', b'v', 0xc3,
    ];
    assert_eq!(
        decode_msgpack(&tags, &ty).unwrap_err().path(),
        "tags[\"env\"]"
    );
    // Trailing bytes after a whole value.
    let mut bytes = encode_msgpack(&service_value(), &ty).unwrap();
    bytes.push(0xc0);
    assert!(decode_msgpack(&bytes, &ty)
        .unwrap_err()
        .message()
        .contains("after the value"));
}

#[test]
fn wrong_kinds_are_errors() {
    let cases: Vec<(Type, Vec<u8>)> = vec![
        (Type::String, vec![0xc3]),
        (Type::String, vec![0x01]),
        (Type::String, vec![0xc4, 0x01, b'x']), // binary is not a string
        (Type::Number, vec![0xc3]),
        (Type::Number, vec![0xa1, b'x']),
        (Type::Number, vec![0xa0]),
        (Type::Number, vec![0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1]), // NaN
        (Type::Bool, vec![0x01]),
        (Type::list(Type::String), vec![0x80]),
        (Type::map(Type::String), vec![0x90]),
        (Type::Tuple(vec![Type::String]), vec![0x92, 0xa0, 0xa0]),
        (Type::Tuple(vec![Type::String]), vec![0x90]),
        (Type::Dynamic, vec![0xa1, b'x']),
        (Type::Dynamic, vec![0x91, 0xc0]),
        (Type::Dynamic, vec![0x92, 0x01, 0xc0]),
        (
            Type::Dynamic,
            [&[0x92, 0xc4, 0x03][..], b"str", &[0xc0]].concat(),
        ),
        (
            Type::Dynamic,
            [&[0x92, 0xc4, 0x08][..], b"\"string\"", &[0x01]].concat(),
        ),
        (Type::String, vec![0xc1]),
        (Type::String, vec![]),
        (Type::String, vec![0xc0, 0xc0]),
    ];
    for (ty, bytes) in cases {
        let err = decode_msgpack(&bytes, &ty);
        assert!(err.is_err(), "{ty:?} {bytes:02x?}: {err:?}");
    }
}

#[test]
fn invalid_utf8_is_an_error() {
    assert!(decode_msgpack(&[0xa2, 0xff, 0xfe], &Type::String).is_err());
    assert!(decode_msgpack(&[0xa2, 0xc3, 0x28], &Type::Number).is_err());
    let map = Type::map(Type::Bool);
    assert!(decode_msgpack(&[0x81, 0xa1, 0x80, 0xc3], &map).is_err());
    let obj = Type::object([("a", Type::Bool)]);
    assert!(decode_msgpack(&[0x81, 0xa1, 0xff, 0xc3], &obj).is_err());
    let dynamic = [0x92, 0xc4, 0x02, 0xff, 0xfe, 0xc0];
    assert!(decode_msgpack(&dynamic, &Type::Dynamic).is_err());
    let prefix = [0xc7, 0x04, 0x0c, 0x81, 0x02, 0xa1, 0xff];
    assert!(decode_msgpack(&prefix, &Type::String).is_err());
}

#[test]
fn huge_length_prefixes_are_errors() {
    let ff = [0xff, 0xff, 0xff, 0xff];
    let cases: Vec<(Type, Vec<u8>)> = vec![
        (Type::String, [&[0xdb][..], &ff, b"abc"].concat()),
        (
            Type::list(Type::String),
            [&[0xdd][..], &ff, &[0xc0]].concat(),
        ),
        (Type::set(Type::Bool), vec![0xdc, 0xff, 0xff, 0xc0]),
        (
            Type::map(Type::String),
            [&[0xdf][..], &ff, &[0xa0, 0xc0]].concat(),
        ),
        (
            Type::object([("a", Type::Bool)]),
            [&[0xdf][..], &ff].concat(),
        ),
        (Type::String, [&[0xc9][..], &ff, &[0x00]].concat()),
        (Type::String, [&[0xc9][..], &ff, &[0x0c]].concat()),
        (Type::Dynamic, [&[0x92, 0xc6][..], &ff].concat()),
        (Type::Number, [&[0xdb][..], &ff].concat()),
        (Type::String, [&[0xc7, 0x05, 0x0c, 0xdf][..], &ff].concat()),
    ];
    for (ty, bytes) in cases {
        let err = decode_msgpack(&bytes, &ty).unwrap_err();
        assert!(
            err.message().contains("end of input"),
            "{bytes:02x?}: {err}"
        );
    }
    let tuple = [&[0xdd][..], &ff].concat();
    assert!(decode_msgpack(&tuple, &Type::Tuple(vec![Type::Bool])).is_err());
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // A dynamic value whose type is dynamic, 10 000 times over.
    let mut bytes = Vec::new();
    for _ in 0..10_000 {
        bytes.extend_from_slice(&[0x92, 0xc4, 0x09]);
        bytes.extend_from_slice(b"\"dynamic\"");
    }
    bytes.push(0xc0);
    let err = decode_msgpack(&bytes, &Type::Dynamic).unwrap_err();
    assert!(err.message().contains("deeper"), "{err}");

    // A caller-built type deeper than the limit.
    let mut ty = Type::Bool;
    let mut bytes = vec![0xc3];
    for _ in 0..MAX_VALUE_DEPTH {
        ty = Type::list(ty);
        bytes.insert(0, 0x91);
    }
    assert!(decode_msgpack(&bytes, &ty).is_err());
    assert!(decode_msgpack(
        &bytes[1..],
        &match ty.clone() {
            Type::List(inner) => *inner,
            _ => unreachable!(),
        }
    )
    .is_ok());

    // Values nested too deep to encode: MAX_VALUE_DEPTH dynamic values
    // around a bool, which would be one level too deep.
    let mut value = Value::Dynamic(Type::Bool, Box::new(true.into()));
    for _ in 1..MAX_VALUE_DEPTH - 1 {
        value = Value::Dynamic(Type::Dynamic, Box::new(value));
    }
    assert!(encode_msgpack(&value, &Type::Dynamic).is_ok());
    assert!(encode_json(&value, &Type::Dynamic).is_ok());
    let value = Value::Dynamic(Type::Dynamic, Box::new(value));
    assert!(encode_msgpack(&value, &Type::Dynamic).is_err());
    assert!(encode_json(&value, &Type::Dynamic).is_err());
}

// ------------------------------------------------------ msgpack encoding

#[test]
fn encoding_checks_values_against_types() {
    let ty = service_type();
    let mut value = service_value();
    value.set_attr(
        "rules",
        Value::List(vec![
            Value::Null,
            Value::object([("allow", Value::string("yes"))]),
        ]),
    );
    let err = encode_msgpack(&value, &ty).unwrap_err();
    assert!(matches!(err, CodecError::Encode { .. }));
    assert_eq!(err.path(), "rules[1].allow");
    assert_eq!(err.message(), "expected bool, found a string");

    let mut value = service_value();
    value.set_attr("tags", Value::Map([("env".to_string(), int(1))].into()));
    assert_eq!(
        encode_msgpack(&value, &ty).unwrap_err().path(),
        "tags[\"env\"]"
    );

    let mut value = service_value();
    value.set_attr(
        "endpoint",
        Value::object([("hostname", Value::string("h"))]),
    );
    let err = encode_msgpack(&value, &ty).unwrap_err();
    assert_eq!(err.path(), "endpoint");
    assert!(
        err.message().contains("unsupported attribute \"hostname\""),
        "{err}"
    );

    let bad: Vec<(Value, Type)> = vec![
        (Value::string("x"), Type::Bool),
        (Value::List(vec![]), Type::set(Type::String)),
        (Value::Set(vec![]), Type::list(Type::String)),
        (Value::Map([].into()), Type::object::<_, String>([])),
        (Value::Tuple(vec![int(1)]), Type::Tuple(vec![])),
        (Value::string("x"), Type::Dynamic),
        (Value::Dynamic(Type::Bool, Box::new(int(1))), Type::Dynamic),
        (
            Value::Dynamic(Type::Bool, Box::new(true.into())),
            Type::Bool,
        ),
        (float(f64::NAN), Type::Number),
        (big("12abc"), Type::Number),
        (big(""), Type::Number),
        (
            refined(Refinements {
                number_lower: Some((Number::Float(f64::NAN), true)),
                ..Refinements::default()
            }),
            Type::Number,
        ),
    ];
    for (value, ty) in bad {
        assert!(encode_msgpack(&value, &ty).is_err(), "{value:?} as {ty:?}");
    }
}

#[test]
fn map_and_object_entries_are_in_key_order() {
    let ty = Type::map(Type::Number);
    let mut value = Value::Map(Default::default());
    for key in ["zeta", "alpha", "mid"] {
        if let Value::Map(entries) = &mut value {
            entries.insert(key.to_string(), int(1));
        }
    }
    let bytes = encode_msgpack(&value, &ty).unwrap();
    let alpha = bytes.windows(5).position(|w| w == b"alpha").unwrap();
    let mid = bytes.windows(3).position(|w| w == b"mid").unwrap();
    let zeta = bytes.windows(4).position(|w| w == b"zeta").unwrap();
    assert!(alpha < mid && mid < zeta);
}

// ----------------------------------------------------------------- JSON

#[test]
fn values_round_trip_json() {
    json_round_trip(&service_value_json_safe(), &service_type());
    for s in ["", "quote \" backslash \\ newline \n tab \t nul \u{0} ✓"] {
        json_round_trip(&Value::string(s), &Type::String);
    }
    for n in [
        int(0),
        int(-1),
        int(i64::MIN),
        int(i64::MAX),
        float(0.1),
        float(-1.5e300),
    ] {
        json_round_trip(&n, &Type::Number);
    }
    json_round_trip(&big("18446744073709551615"), &Type::Number);
    json_round_trip(&Value::Bool(false), &Type::Bool);
    json_round_trip(&Value::Tuple(vec![]), &Type::Tuple(vec![]));
    let dynamic = Value::Dynamic(endpoint_type(), Box::new(Value::Null));
    json_round_trip(&Value::List(vec![dynamic]), &Type::list(Type::Dynamic));
}

#[test]
fn json_has_terraform_shape() {
    let ab = Type::object([("b", Type::Number), ("a", Type::String)]);
    let value = Value::object([("a", Value::string("x")), ("b", int(1))]);
    assert_eq!(encode_json(&value, &ab).unwrap(), br#"{"a":"x","b":1}"#);
    let partial = Value::object([("b", float(2.5))]);
    assert_eq!(
        encode_json(&partial, &ab).unwrap(),
        br#"{"a":null,"b":2.5}"#
    );
    let dynamic = Value::Dynamic(
        Type::list(Type::String),
        Box::new(Value::List(vec!["x".into()])),
    );
    assert_eq!(
        encode_json(&dynamic, &Type::Dynamic).unwrap(),
        br#"{"type":["list","string"],"value":["x"]}"#
    );
    let numbers = Value::List(vec![
        big("123456789012345678901234567890"),
        big("+.5E3"),
        float(4.0),
    ]);
    assert_eq!(
        encode_json(&numbers, &Type::list(Type::Number)).unwrap(),
        b"[123456789012345678901234567890,0.5e3,4]"
    );
}

#[test]
fn json_decode_ignores_extra_attributes_and_nulls_missing_ones() {
    let state = br#"{
        "name": "pl-1",
        "removed_in_v2": {"deep": [1, 2, {"x": null}]},
        "endpoint": {"host": "h", "old_port": 5},
        "rules": [{"cidr": "10.0.0.0/8", "gone": true}],
        "port": 3306
    }"#;
    let value = decode_json(state, &service_type()).unwrap();
    assert_eq!(value.attr("name"), &Value::string("pl-1"));
    assert_eq!(value.attr("port"), &int(3306));
    assert_eq!(
        value.attr("endpoint"),
        &Value::object([("host", Value::string("h")), ("ports", Value::Null)])
    );
    assert_eq!(
        value.attr("rules"),
        &Value::List(vec![Value::object([
            ("cidr", Value::string("10.0.0.0/8")),
            ("allow", Value::Null)
        ])])
    );
    let Value::Object(attributes) = &value else {
        panic!()
    };
    assert_eq!(attributes.len(), 11);
    for name in ["enabled", "zones", "ids", "tags", "pair", "extra", "absent"] {
        assert_eq!(value.attr(name), &Value::Null, "{name}");
    }
}

#[test]
fn json_primitives_convert_like_terraform() {
    assert_eq!(
        decode_json(b"5", &Type::String).unwrap(),
        Value::string("5")
    );
    assert_eq!(
        decode_json(b"true", &Type::String).unwrap(),
        Value::string("true")
    );
    assert_eq!(decode_json(br#""42""#, &Type::Number).unwrap(), int(42));
    assert_eq!(
        decode_json(br#""1e400""#, &Type::Number).unwrap(),
        big("1e400")
    );
    assert_eq!(
        decode_json(br#""false""#, &Type::Bool).unwrap(),
        Value::Bool(false)
    );
    assert_eq!(decode_json(b"1.0", &Type::Number).unwrap(), int(1));
    assert_eq!(decode_json(b"1e300", &Type::Number).unwrap(), float(1e300));
    assert_eq!(decode_json(b"-2.5", &Type::Number).unwrap(), float(-2.5));
    assert_eq!(
        decode_json(b"18446744073709551615", &Type::Number).unwrap(),
        big("18446744073709551615")
    );
    // Without arbitrary precision, longer integers become floats.
    assert_eq!(
        decode_json(b"123456789012345678901234567890", &Type::Number).unwrap(),
        float(1.2345678901234568e29)
    );
}

#[test]
fn json_cannot_carry_unknowns() {
    let ty = service_type();
    let value = service_value_json_safe();
    let variants = each_replaced(&value, &ty, &|_| Value::unknown());
    assert!(variants.len() > 30);
    for variant in variants {
        let err = encode_json(&variant, &ty).unwrap_err();
        assert!(err.message().contains("unknown"), "{err}");
    }
    let mut value = service_value_json_safe();
    value.set_attr("rules", Value::List(vec![Value::Null, refined(not_null())]));
    assert_eq!(encode_json(&value, &ty).unwrap_err().path(), "rules[1]");
    assert!(encode_json(&float(f64::INFINITY), &Type::Number).is_err());
}

#[test]
fn json_errors() {
    let ty = service_type();
    let cases: Vec<(Type, &[u8])> = vec![
        (ty.clone(), b""),
        (ty.clone(), b"{"),
        (ty.clone(), b"[]"),
        (ty.clone(), b"{} {}"),
        (ty.clone(), br#"{"enabled": "yes"}"#),
        (ty.clone(), br#"{"zones": "a"}"#),
        (ty.clone(), br#"{"pair": ["a"]}"#),
        (ty.clone(), br#"{"extra": {"value": 1}}"#),
        (ty.clone(), br#"{"extra": {"type": "text", "value": 1}}"#),
        (ty.clone(), br#"{"extra": 1}"#),
        (Type::Number, br#""abc""#),
        (Type::Number, b"[1]"),
        (Type::String, b"{}"),
        (Type::String, b"\"\xff\""),
        (Type::Bool, b"1"),
    ];
    for (ty, bytes) in cases {
        let result = decode_json(bytes, &ty);
        assert!(
            result.is_err(),
            "{}: {result:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    let err = decode_json(br#"{"rules": [{}, {"allow": 3}]}"#, &ty).unwrap_err();
    assert_eq!(err.path(), "rules[1].allow");
    // Nesting beyond serde_json's recursion limit.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut list = Type::Bool;
    for _ in 0..200 {
        list = Type::list(list);
    }
    assert!(decode_json(deep.as_bytes(), &list).is_err());
}

// ------------------------------------------------------------ robustness

#[test]
fn every_truncation_is_an_error() {
    let ty = service_type();
    let mut value = service_value();
    value.set_attr(
        "name",
        refined(Refinements {
            nullness: Some(false),
            string_prefix: Some("pl-".to_string()),
            ..Refinements::default()
        }),
    );
    value.set_attr("zones", Value::unknown());
    let bytes = encode_msgpack(&value, &ty).unwrap();
    for len in 0..bytes.len() {
        assert!(
            decode_msgpack(&bytes[..len], &ty).is_err(),
            "prefix of {len} bytes"
        );
    }
    let json = encode_json(&service_value_json_safe(), &ty).unwrap();
    for len in 0..json.len() {
        assert!(
            decode_json(&json[..len], &ty).is_err(),
            "JSON prefix of {len} bytes"
        );
    }
    let type_json = type_json_bytes(&ty);
    for len in 0..type_json.len() {
        assert!(
            type_from_json(&type_json[..len]).is_err(),
            "type prefix of {len} bytes"
        );
    }
}

#[test]
fn flipped_bytes_never_panic() {
    let ty = service_type();
    let mut value = service_value();
    value.set_attr(
        "port",
        refined(Refinements {
            number_lower: Some((Number::Int(1), true)),
            number_upper: Some((Number::Big("1e400".to_string()), false)),
            ..Refinements::default()
        }),
    );
    let original = encode_msgpack(&value, &ty).unwrap();
    let json = encode_json(&service_value_json_safe(), &ty).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut decoded = 0;
    for _ in 0..20_000 {
        let mut bytes = original.clone();
        for _ in 0..=rng.below(3) {
            let at = rng.below(bytes.len());
            bytes[at] = rng.next() as u8;
        }
        // Whatever decodes is a valid value of the type: it encodes again.
        if let Ok(value) = decode_msgpack(&bytes, &ty) {
            encode_msgpack(&value, &ty).unwrap_or_else(|e| panic!("{e}: {bytes:02x?}"));
            decoded += 1;
        }
        let mut text = json.clone();
        let at = rng.below(text.len());
        text[at] = rng.next() as u8;
        if let Ok(value) = decode_json(&text, &ty) {
            encode_json(&value, &ty).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    assert!(decoded > 0);
}

#[test]
fn random_bytes_never_panic() {
    let types = [
        Type::String,
        Type::Number,
        Type::Dynamic,
        Type::list(Type::Dynamic),
        Type::map(Type::set(Type::Number)),
        Type::Tuple(vec![Type::Bool, Type::String]),
        service_type(),
    ];
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let len = rng.below(48);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        for ty in &types {
            let _ = decode_msgpack(&bytes, ty);
            let _ = decode_json(&bytes, ty);
        }
        let _ = type_from_json(&bytes);
    }
}
