//! Terraform values: the typed, possibly null or unknown data that travels in
//! `DynamicValue`s.
//!
//! A [`Value`] carries no type of its own; the [`Type`] that describes it comes
//! from the schema and is passed to the codecs (`codec` module). Nulls and
//! unknowns may appear at any depth of a plan; a state never holds unknowns.

use std::collections::BTreeMap;
use std::fmt;

/// A Terraform type constraint, as schemas declare it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    String,
    Number,
    Bool,
    /// Decided at run time; encoded with its type alongside the value.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }
    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }
    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }
    pub fn object<I, K>(attributes: I) -> Type
    where
        I: IntoIterator<Item = (K, Type)>,
        K: Into<String>,
    {
        Type::Object(attributes.into_iter().map(|(k, t)| (k.into(), t)).collect())
    }
}

/// A Terraform number. Integers and floats that fit 64 bits are kept as such;
/// larger or more precise numbers keep their decimal text.
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// A decimal representation too large or precise for the variants above.
    Big(String),
}

impl Number {
    /// The number as an `i64`, when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Number::Float(_) => None,
            Number::Big(s) => s.parse().ok(),
        }
    }

    /// The number as an `f64` (possibly rounded).
    pub fn as_f64(&self) -> f64 {
        match self {
            Number::Int(i) => *i as f64,
            Number::Float(f) => *f,
            Number::Big(s) => s.parse().unwrap_or(f64::NAN),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
            Number::Big(s) => f.write_str(s),
        }
    }
}

/// What Terraform knows about an unknown value ("refinements", msgpack
/// extension code 12). All fields empty means a plain unknown (code 0).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Refinements {
    /// `Some(false)`: definitely not null. (`Some(true)` is never useful.)
    pub nullness: Option<bool>,
    /// A string value will start with this prefix.
    pub string_prefix: Option<String>,
    /// Number bounds: the bound and whether it is inclusive.
    pub number_lower: Option<(Number, bool)>,
    pub number_upper: Option<(Number, bool)>,
    /// Collection length bounds (inclusive).
    pub length_lower: Option<u64>,
    pub length_upper: Option<u64>,
}

impl Refinements {
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }
}

/// A value of some [`Type`].
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Unknown(Refinements),
    String(String),
    Number(Number),
    Bool(bool),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    /// A value of type `dynamic`: the concrete type travels with it.
    Dynamic(Type, Box<Value>),
}

impl Value {
    /// A plain unknown value (no refinements).
    pub fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A string, or null when `None`.
    pub fn opt_string(s: Option<impl Into<String>>) -> Value {
        s.map_or(Value::Null, |s| Value::String(s.into()))
    }

    pub fn object<I, K>(attributes: I) -> Value
    where
        I: IntoIterator<Item = (K, Value)>,
        K: Into<String>,
    {
        Value::Object(attributes.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// Known and not null.
    pub fn is_known(&self) -> bool {
        !self.is_null() && !self.is_unknown()
    }

    /// True when the value or anything inside it is unknown.
    pub fn contains_unknown(&self) -> bool {
        match self {
            Value::Unknown(_) => true,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().any(Value::contains_unknown)
            }
            Value::Map(m) | Value::Object(m) => m.values().any(Value::contains_unknown),
            Value::Dynamic(_, v) => v.contains_unknown(),
            _ => false,
        }
    }

    /// This value with every unknown, at any depth, replaced by null.
    pub fn unknown_as_null(&self) -> Value {
        match self {
            Value::Unknown(_) => Value::Null,
            Value::List(v) => Value::List(v.iter().map(Value::unknown_as_null).collect()),
            Value::Set(v) => Value::Set(v.iter().map(Value::unknown_as_null).collect()),
            Value::Tuple(v) => Value::Tuple(v.iter().map(Value::unknown_as_null).collect()),
            Value::Map(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.unknown_as_null()))
                    .collect(),
            ),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.unknown_as_null()))
                    .collect(),
            ),
            Value::Dynamic(t, v) => Value::Dynamic(t.clone(), Box::new(v.unknown_as_null())),
            other => other.clone(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// Elements of a list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// Attributes of an object or entries of a map.
    pub fn as_attributes(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Object(m) | Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The attribute `name` of an object; null when absent or when `self` is
    /// null, unknown when `self` is unknown.
    pub fn attr(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        static UNKNOWN: Value = Value::Unknown(Refinements {
            nullness: None,
            string_prefix: None,
            number_lower: None,
            number_upper: None,
            length_lower: None,
            length_upper: None,
        });
        match self {
            Value::Object(m) | Value::Map(m) => m.get(name).unwrap_or(&NULL),
            Value::Unknown(_) => &UNKNOWN,
            _ => &NULL,
        }
    }

    /// Mutable access to an attribute of an object (inserting null when absent).
    /// Returns `None` when `self` is not an object.
    pub fn attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => Some(m.entry(name.to_string()).or_insert(Value::Null)),
            _ => None,
        }
    }

    /// Sets an attribute of an object; no effect on other values.
    pub fn set_attr(&mut self, name: &str, value: Value) {
        if let Value::Object(m) = self {
            m.insert(name.to_string(), value);
        }
    }

    /// The string attribute `name`, when known.
    pub fn str_attr(&self, name: &str) -> Option<&str> {
        self.attr(name).as_str()
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknowns_become_null_at_every_depth() {
        let v = Value::object([
            ("a", Value::unknown()),
            ("b", Value::List(vec![Value::string("x"), Value::unknown()])),
            ("c", Value::object([("d", Value::unknown())])),
        ]);
        let n = v.unknown_as_null();
        assert!(!n.contains_unknown());
        assert_eq!(n.attr("a"), &Value::Null);
        assert_eq!(n.attr("b").as_elements().map(|e| e.len()), Some(2));
        assert_eq!(n.attr("c").attr("d"), &Value::Null);
    }
}
