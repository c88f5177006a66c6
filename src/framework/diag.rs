//! Diagnostics: the errors and warnings Terraform shows, optionally pointing
//! at an attribute of the configuration.

use std::fmt;

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    Attribute(String),
    Key(String),
    Index(i64),
}

/// A path to an attribute, e.g. `aws_endpoint_service.name`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    pub fn root() -> AttributePath {
        AttributePath(Vec::new())
    }

    /// A path of attribute names.
    pub fn attr(name: &str) -> AttributePath {
        AttributePath(vec![PathStep::Attribute(name.to_string())])
    }

    /// This path extended by an attribute name.
    pub fn then(&self, name: &str) -> AttributePath {
        let mut steps = self.0.clone();
        steps.push(PathStep::Attribute(name.to_string()));
        AttributePath(steps)
    }

    /// This path extended by a list index.
    pub fn index(&self, i: i64) -> AttributePath {
        let mut steps = self.0.clone();
        steps.push(PathStep::Index(i));
        AttributePath(steps)
    }

    /// This path extended by a map key.
    pub fn key(&self, key: &str) -> AttributePath {
        let mut steps = self.0.clone();
        steps.push(PathStep::Key(key.to_string()));
        AttributePath(steps)
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attribute(name) if i == 0 => f.write_str(name)?,
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
                PathStep::Index(idx) => write!(f, "[{idx}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub path: Option<AttributePath>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        }
    }

    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        }
    }

    pub fn at(mut self, path: AttributePath) -> Diagnostic {
        self.path = Some(path);
        self
    }
}

/// An ordered collection of diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics(Vec::new())
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::error(summary, detail));
    }

    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::warning(summary, detail));
    }

    pub fn error_at(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic::error(summary, detail).at(path));
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_terraform_addresses() {
        let p = AttributePath::attr("aws_endpoint_service").then("name");
        assert_eq!(p.to_string(), "aws_endpoint_service.name");
        assert_eq!(
            AttributePath::attr("domains")
                .index(2)
                .then("name")
                .to_string(),
            "domains[2].name"
        );
        assert_eq!(
            AttributePath::attr("tags").key("a").to_string(),
            "tags[\"a\"]"
        );
    }

    #[test]
    fn errors_are_detected_among_warnings() {
        let mut d = Diagnostics::new();
        d.warning("w", "");
        assert!(!d.has_errors());
        d.error("e", "");
        assert!(d.has_errors());
    }
}
