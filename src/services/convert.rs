//! Small helpers of the conversions from API objects to Terraform values;
//! the objects themselves are converted by their descriptions
//! ([`super::describe`]).

use crate::framework::Value;

/// An optional API string as a value: absent or empty is null.
pub fn opt(s: Option<&str>) -> Value {
    match s {
        Some(s) if !s.is_empty() => Value::string(s),
        _ => Value::Null,
    }
}

pub fn strings(items: &[String]) -> Value {
    Value::List(items.iter().map(|s| Value::string(s.as_str())).collect())
}
