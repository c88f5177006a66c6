//! Codec errors, and the attribute paths they point at.

use std::fmt::Write as _;

/// Why a value or type could not be decoded or encoded.
///
/// `path` is the attribute path of the offending value in Terraform's
/// notation, e.g. `aws_endpoint_service.name`, `tags["env"]` or `rules[0]`;
/// it is empty when the problem is at the top level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The bytes are not a valid encoding of a value of the expected type.
    #[error("cannot decode value{}: {message}", at(path))]
    Decode { path: String, message: String },
    /// The value does not conform to its type, or cannot be represented in
    /// the target format.
    #[error("cannot encode value{}: {message}", at(path))]
    Encode { path: String, message: String },
    /// A type constraint's JSON is invalid.
    #[error("invalid type constraint: {message}")]
    Type { message: String },
}

impl CodecError {
    /// The attribute path of the offending value (empty at the top level).
    pub fn path(&self) -> &str {
        match self {
            CodecError::Decode { path, .. } | CodecError::Encode { path, .. } => path,
            CodecError::Type { .. } => "",
        }
    }

    /// What went wrong, without the path.
    pub fn message(&self) -> &str {
        match self {
            CodecError::Decode { message, .. }
            | CodecError::Encode { message, .. }
            | CodecError::Type { message } => message,
        }
    }
}

fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" at {path}")
    }
}

/// Which public error a [`Fail`] becomes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Stage {
    Decode,
    Encode,
    Type,
}

/// One step of an attribute path.
#[derive(Debug, Clone)]
pub(super) enum Step {
    Attr(String),
    Index(usize),
    Key(String),
}

/// The internal error: a message and the path to it, built innermost first
/// as the error travels up, so successful calls never pay for paths.
#[derive(Debug, Clone)]
pub(super) struct Fail {
    message: String,
    steps: Vec<Step>,
}

impl Fail {
    pub(super) fn new(message: impl Into<String>) -> Fail {
        Fail {
            message: message.into(),
            steps: Vec::new(),
        }
    }

    /// Places this error inside `step` of an enclosing value.
    pub(super) fn inside(mut self, step: Step) -> Fail {
        self.steps.push(step);
        self
    }

    /// Prepends context to the message (keeping the path).
    pub(super) fn context(mut self, context: &str) -> Fail {
        self.message = format!("{context}: {}", self.message);
        self
    }

    pub(super) fn into_error(self, stage: Stage) -> CodecError {
        let path = format_path(&self.steps);
        let message = self.message;
        match stage {
            Stage::Decode => CodecError::Decode { path, message },
            Stage::Encode => CodecError::Encode { path, message },
            Stage::Type => CodecError::Type { message },
        }
    }
}

/// Formats steps stored innermost first as `a.b[0]["k"]`.
fn format_path(steps: &[Step]) -> String {
    let mut path = String::new();
    for step in steps.iter().rev() {
        // Writing to a String cannot fail.
        let _ = match step {
            Step::Attr(name) if path.is_empty() => write!(path, "{name}"),
            Step::Attr(name) => write!(path, ".{name}"),
            Step::Index(i) => write!(path, "[{i}]"),
            Step::Key(key) => write!(path, "[{key:?}]"),
        };
    }
    path
}

/// Adds path steps to the error of a result.
pub(super) trait Within<T> {
    fn in_attr(self, name: &str) -> Result<T, Fail>;
    fn in_index(self, index: usize) -> Result<T, Fail>;
    fn in_key(self, key: &str) -> Result<T, Fail>;
}

impl<T> Within<T> for Result<T, Fail> {
    fn in_attr(self, name: &str) -> Result<T, Fail> {
        self.map_err(|f| f.inside(Step::Attr(name.to_string())))
    }
    fn in_index(self, index: usize) -> Result<T, Fail> {
        self.map_err(|f| f.inside(Step::Index(index)))
    }
    fn in_key(self, key: &str) -> Result<T, Fail> {
        self.map_err(|f| f.inside(Step::Key(key.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_terraform() {
        let fail: Result<(), Fail> = Err(Fail::new("expected string, found bool"));
        let err = fail
            .in_key("env")
            .in_attr("tags")
            .in_index(2)
            .in_attr("rules")
            .unwrap_err()
            .into_error(Stage::Decode);
        assert_eq!(err.path(), r#"rules[2].tags["env"]"#);
        assert_eq!(
            err.to_string(),
            r#"cannot decode value at rules[2].tags["env"]: expected string, found bool"#
        );
    }

    #[test]
    fn top_level_errors_have_no_path() {
        let err = Fail::new("trailing bytes").into_error(Stage::Decode);
        assert_eq!(err.path(), "");
        assert_eq!(err.to_string(), "cannot decode value: trailing bytes");
    }
}
