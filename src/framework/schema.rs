//! Schemas: the attributes and blocks of a provider, resource or data source,
//! with the rules the framework applies generically (validators, plan
//! modifiers) and the descriptions that become the documentation.

use std::collections::BTreeMap;

use super::codec;
use super::diag::{AttributePath, Diagnostics, PathStep};
use super::value::{Type, Value};
use crate::proto::tfplugin6 as pb;

/// How nested attributes or blocks are collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
}

/// A plan rule that the framework applies to an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanModifier {
    /// A change of the configured value replaces the resource.
    RequiresReplace,
    /// A computed value that is unknown in the plan keeps the prior state's
    /// value (it never changes once set).
    UseStateForUnknown,
}

/// Checks a known value; returns a message on failure.
pub type CheckFn = fn(&Value) -> Result<(), String>;

/// A validator: a summary for the diagnostic and the check.
#[derive(Clone)]
pub struct Validator {
    pub summary: &'static str,
    pub check: CheckFn,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("summary", &self.summary)
            .finish()
    }
}

/// The type of an attribute: a plain type, or nested attributes.
#[derive(Debug, Clone)]
pub enum AttrType {
    Plain(Type),
    Nested {
        nesting: Nesting,
        attributes: Vec<Attribute>,
    },
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: AttrType,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub description: String,
    pub modifiers: Vec<PlanModifier>,
    pub validators: Vec<Validator>,
}

impl Attribute {
    fn new(name: &str, ty: AttrType) -> Attribute {
        Attribute {
            name: name.to_string(),
            ty,
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            description: String::new(),
            modifiers: Vec::new(),
            validators: Vec::new(),
        }
    }

    pub fn string(name: &str) -> Attribute {
        Attribute::new(name, AttrType::Plain(Type::String))
    }
    pub fn bool(name: &str) -> Attribute {
        Attribute::new(name, AttrType::Plain(Type::Bool))
    }
    pub fn number(name: &str) -> Attribute {
        Attribute::new(name, AttrType::Plain(Type::Number))
    }
    pub fn typed(name: &str, ty: Type) -> Attribute {
        Attribute::new(name, AttrType::Plain(ty))
    }
    pub fn list_of_strings(name: &str) -> Attribute {
        Attribute::new(name, AttrType::Plain(Type::list(Type::String)))
    }
    /// A single nested object attribute (`name = { ... }`).
    pub fn single_nested(name: &str, attributes: Vec<Attribute>) -> Attribute {
        Attribute::new(
            name,
            AttrType::Nested {
                nesting: Nesting::Single,
                attributes,
            },
        )
    }
    /// A list of nested objects (`name = [{ ... }]`).
    pub fn list_nested(name: &str, attributes: Vec<Attribute>) -> Attribute {
        Attribute::new(
            name,
            AttrType::Nested {
                nesting: Nesting::List,
                attributes,
            },
        )
    }

    pub fn required(mut self) -> Attribute {
        self.required = true;
        self
    }
    pub fn optional(mut self) -> Attribute {
        self.optional = true;
        self
    }
    pub fn computed(mut self) -> Attribute {
        self.computed = true;
        self
    }
    pub fn sensitive(mut self) -> Attribute {
        self.sensitive = true;
        self
    }
    pub fn description(mut self, text: &str) -> Attribute {
        self.description = text.to_string();
        self
    }
    pub fn requires_replace(mut self) -> Attribute {
        self.modifiers.push(PlanModifier::RequiresReplace);
        self
    }
    pub fn use_state_for_unknown(mut self) -> Attribute {
        self.modifiers.push(PlanModifier::UseStateForUnknown);
        self
    }
    pub fn validate(mut self, summary: &'static str, check: CheckFn) -> Attribute {
        self.validators.push(Validator { summary, check });
        self
    }

    pub fn has_modifier(&self, m: PlanModifier) -> bool {
        self.modifiers.contains(&m)
    }

    /// The Terraform type of this attribute's value.
    pub fn value_type(&self) -> Type {
        match &self.ty {
            AttrType::Plain(t) => t.clone(),
            AttrType::Nested {
                nesting,
                attributes,
            } => {
                let object = object_type(attributes, &[]);
                match nesting {
                    Nesting::Single => object,
                    Nesting::List => Type::list(object),
                }
            }
        }
    }

    /// Nested attributes, when this attribute has them.
    pub fn nested(&self) -> Option<(Nesting, &[Attribute])> {
        match &self.ty {
            AttrType::Nested {
                nesting,
                attributes,
            } => Some((*nesting, attributes)),
            AttrType::Plain(_) => None,
        }
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        let (ty, nested) = match &self.ty {
            AttrType::Plain(t) => (codec::type_json_bytes(t), None),
            AttrType::Nested {
                nesting,
                attributes,
            } => (
                Vec::new(),
                Some(pb::schema::Object {
                    attributes: attributes.iter().map(Attribute::to_proto).collect(),
                    nesting: match nesting {
                        Nesting::Single => pb::schema::object::NestingMode::Single,
                        Nesting::List => pb::schema::object::NestingMode::List,
                    } as i32,
                    ..Default::default()
                }),
            ),
        };
        pb::schema::Attribute {
            name: self.name.clone(),
            r#type: ty,
            nested_type: nested,
            description: self.description.clone(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: false,
            write_only: false,
        }
    }
}

/// A nested block such as `timeouts { ... }`.
#[derive(Debug, Clone)]
pub struct Block {
    pub name: String,
    pub nesting: Nesting,
    pub attributes: Vec<Attribute>,
    pub description: String,
}

impl Block {
    pub fn single(name: &str, description: &str, attributes: Vec<Attribute>) -> Block {
        Block {
            name: name.to_string(),
            nesting: Nesting::Single,
            attributes,
            description: description.to_string(),
        }
    }

    pub fn value_type(&self) -> Type {
        let object = object_type(&self.attributes, &[]);
        match self.nesting {
            Nesting::Single => object,
            Nesting::List => Type::list(object),
        }
    }

    fn to_proto(&self) -> pb::schema::NestedBlock {
        pb::schema::NestedBlock {
            type_name: self.name.clone(),
            block: Some(pb::schema::Block {
                version: 0,
                attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
                block_types: Vec::new(),
                description: self.description.clone(),
                description_kind: pb::StringKind::Markdown as i32,
                deprecated: false,
            }),
            nesting: match self.nesting {
                Nesting::Single => pb::schema::nested_block::NestingMode::Single,
                Nesting::List => pb::schema::nested_block::NestingMode::List,
            } as i32,
            min_items: 0,
            max_items: 0,
        }
    }
}

fn object_type(attributes: &[Attribute], blocks: &[Block]) -> Type {
    let mut fields: BTreeMap<String, Type> = attributes
        .iter()
        .map(|a| (a.name.clone(), a.value_type()))
        .collect();
    for b in blocks {
        fields.insert(b.name.clone(), b.value_type());
    }
    Type::Object(fields)
}

/// The schema of a provider, resource or data source.
#[derive(Debug, Clone)]
pub struct Schema {
    pub version: i64,
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<Block>,
}

impl Schema {
    pub fn new(description: &str, attributes: Vec<Attribute>) -> Schema {
        Schema {
            version: 0,
            description: description.to_string(),
            attributes,
            blocks: Vec::new(),
        }
    }

    pub fn with_block(mut self, block: Block) -> Schema {
        self.blocks.push(block);
        self
    }

    /// The object type of a whole configuration or state.
    pub fn value_type(&self) -> Type {
        object_type(&self.attributes, &self.blocks)
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(pb::schema::Block {
                version: self.version,
                attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
                block_types: self.blocks.iter().map(Block::to_proto).collect(),
                description: self.description.clone(),
                description_kind: pb::StringKind::Markdown as i32,
                deprecated: false,
            }),
        }
    }

    /// The part of `path` that Terraform can find in the configuration.
    /// Terraform follows a path through blocks to one attribute (and an
    /// element of its value), but not into the value of a nested attribute
    /// (`aws_endpoint_service = { name = ... }`): given
    /// `aws_endpoint_service.name` it would show the whole resource block.
    /// Such a path is cut at the nested attribute, whose value (the lines
    /// between its braces) Terraform then shows.
    pub fn locatable(&self, path: &AttributePath) -> AttributePath {
        let steps = &path.0;
        let mut end = 0;
        if let Some(PathStep::Attribute(name)) = steps.first() {
            if let Some(block) = self.blocks.iter().find(|b| &b.name == name) {
                end = 1;
                if block.nesting == Nesting::List
                    && matches!(steps.get(1), Some(PathStep::Index(_)))
                {
                    end = 2;
                }
            }
        }
        if matches!(steps.get(end), Some(PathStep::Attribute(_))) {
            end += 1;
            if matches!(steps.get(end), Some(PathStep::Index(_) | PathStep::Key(_))) {
                end += 1;
            }
        }
        AttributePath(steps[..end.min(steps.len())].to_vec())
    }

    /// Points every diagnostic at what Terraform can show ([`Self::locatable`]);
    /// a diagnostic whose path was cut names its attribute in the detail.
    pub fn locate(&self, diags: Diagnostics) -> Diagnostics {
        Diagnostics(
            diags
                .0
                .into_iter()
                .map(|mut d| {
                    if let Some(path) = d.path.take() {
                        let shown = self.locatable(&path);
                        if shown != path {
                            let full = path.to_string();
                            if !d.detail.contains(&full) {
                                d.detail = format!("{full}: {}", d.detail);
                            }
                        }
                        d.path = Some(shown);
                    }
                    d
                })
                .collect(),
        )
    }

    /// Runs every attribute validator on the known values of `config`.
    pub fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate_attributes(&self.attributes, config, &AttributePath::root(), diags);
        for block in &self.blocks {
            let v = config.attr(&block.name);
            let path = AttributePath::root().then(&block.name);
            match block.nesting {
                Nesting::Single => validate_attributes(&block.attributes, v, &path, diags),
                Nesting::List => {
                    for (i, item) in v.as_elements().unwrap_or_default().iter().enumerate() {
                        validate_attributes(&block.attributes, item, &path.index(i as i64), diags);
                    }
                }
            }
        }
    }
}

fn validate_attributes(
    attributes: &[Attribute],
    object: &Value,
    base: &AttributePath,
    diags: &mut Diagnostics,
) {
    for attr in attributes {
        let value = object.attr(&attr.name);
        let path = base.then(&attr.name);
        // Terraform accepts an explicit null for a required argument
        // (`name = var.unset`); rejecting it is the provider's job.
        if attr.required && value.is_null() && !object.is_null() && !object.is_unknown() {
            diags.error_at(
                path.clone(),
                "Missing required argument",
                format!(
                    "The argument {:?} is required, but its value is null.",
                    attr.name
                ),
            );
        }
        if value.is_known() {
            for v in &attr.validators {
                if let Err(message) = (v.check)(value) {
                    diags.error_at(path.clone(), v.summary, message);
                }
            }
        }
        if let Some((nesting, nested)) = attr.nested() {
            match nesting {
                Nesting::Single => validate_attributes(nested, value, &path, diags),
                Nesting::List => {
                    for (i, item) in value.as_elements().unwrap_or_default().iter().enumerate() {
                        validate_attributes(nested, item, &path.index(i as i64), diags);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::new(
            "test",
            vec![
                Attribute::string("name")
                    .required()
                    .validate("Invalid name", |v| {
                        if v.as_str() == Some("bad") {
                            Err("bad name".into())
                        } else {
                            Ok(())
                        }
                    }),
                Attribute::single_nested("svc", vec![Attribute::string("name").required()])
                    .optional(),
            ],
        )
    }

    #[test]
    fn explicit_null_for_a_required_argument_is_an_error_with_its_path() {
        let mut d = Diagnostics::new();
        schema().validate(
            &Value::object([("name", Value::Null), ("svc", Value::Null)]),
            &mut d,
        );
        assert_eq!(d.0.len(), 1, "{d:?}");
        assert_eq!(d.0[0].path, Some(AttributePath::attr("name")));
        let mut d = Diagnostics::new();
        let svc = Value::object([("name", Value::Null)]);
        schema().validate(
            &Value::object([("name", Value::string("a")), ("svc", svc)]),
            &mut d,
        );
        assert_eq!(d.0[0].path, Some(AttributePath::attr("svc").then("name")));
    }

    #[test]
    fn paths_into_nested_attributes_are_cut_at_the_attribute() {
        let mut schema = schema();
        schema.blocks.push(Block {
            name: "rule".into(),
            nesting: Nesting::List,
            attributes: vec![Attribute::string("port")],
            description: String::new(),
        });
        let svc_name = AttributePath::attr("svc").then("name");
        let cases = [
            (AttributePath::attr("name"), "name"),
            (svc_name.clone(), "svc"),
            (AttributePath::attr("svc").index(0).then("name"), "svc[0]"),
            (
                AttributePath::attr("rule").index(1).then("port"),
                "rule[1].port",
            ),
            (AttributePath::attr("rule"), "rule"),
        ];
        for (path, shown) in cases {
            assert_eq!(schema.locatable(&path).to_string(), shown, "{path}");
        }
        let mut d = Diagnostics::new();
        d.error_at(svc_name.clone(), "Invalid name", "bad name");
        d.error_at(svc_name, "Invalid name", "svc.name is bad");
        d.error_at(AttributePath::attr("name"), "Invalid name", "bad name");
        let d = schema.locate(d);
        assert_eq!(d.0[0].path, Some(AttributePath::attr("svc")));
        assert_eq!(d.0[0].detail, "svc.name: bad name");
        assert_eq!(d.0[1].detail, "svc.name is bad");
        assert_eq!(d.0[2].detail, "bad name");
    }

    #[test]
    fn validators_run_on_known_values_only() {
        let mut d = Diagnostics::new();
        schema().validate(&Value::object([("name", Value::unknown())]), &mut d);
        assert!(d.is_empty());
        schema().validate(&Value::object([("name", Value::string("bad"))]), &mut d);
        assert_eq!(d.0[0].summary, "Invalid name");
    }
}
