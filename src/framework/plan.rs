//! The generic part of planning a resource change: computed values become
//! unknown on create, values that never change keep their prior state, and
//! changes of replace-only attributes are reported as requiring replacement.
//! Resources refine the result in their own plan hook.

use super::diag::AttributePath;
use super::schema::{Attribute, Nesting, PlanModifier, Schema};
use super::value::Value;

/// The outcome of the generic planning rules.
#[derive(Debug, Clone, PartialEq)]
pub struct GenericPlan {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
}

/// Applies the schema's rules to Terraform's proposed new state.
///
/// * On create (no prior state), every computed attribute left null in the
///   configuration becomes unknown ("known after apply").
/// * On update, computed values stay as they are (Terraform's proposal
///   already carries them over) unless the resource's own hook says otherwise;
///   `UseStateForUnknown` restores the prior value where the plan is unknown.
/// * `RequiresReplace` attributes whose planned value differs from the prior
///   state are listed so that Terraform plans a replacement.
pub fn plan(schema: &Schema, prior: &Value, proposed: &Value, config: &Value) -> GenericPlan {
    if proposed.is_null() {
        return GenericPlan {
            planned: Value::Null,
            requires_replace: Vec::new(),
        };
    }
    let mut planned = proposed.clone();
    if prior.is_null() {
        mark_computed_unknown(&schema.attributes, &mut planned, config);
    } else {
        use_state_for_unknown(&schema.attributes, &mut planned, prior);
    }
    let mut requires_replace = Vec::new();
    if !prior.is_null() {
        collect_replacements(
            &schema.attributes,
            &planned,
            prior,
            &AttributePath::root(),
            &mut requires_replace,
        );
    }
    GenericPlan {
        planned,
        requires_replace,
    }
}

fn mark_computed_unknown(attributes: &[Attribute], planned: &mut Value, config: &Value) {
    for attr in attributes {
        let configured = config.attr(&attr.name);
        let Some(slot) = planned.attr_mut(&attr.name) else {
            continue;
        };
        if attr.computed && configured.is_null() {
            *slot = Value::unknown();
            continue;
        }
        match attr.nested() {
            Some((Nesting::Single, nested)) if slot.is_known() => {
                mark_computed_unknown(nested, slot, configured);
            }
            Some((Nesting::List, nested)) => {
                if let Value::List(items) = slot {
                    let configured_items = configured.as_elements().unwrap_or_default();
                    for (i, item) in items.iter_mut().enumerate() {
                        let c = configured_items.get(i).unwrap_or(&Value::Null);
                        if item.is_known() {
                            mark_computed_unknown(nested, item, c);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn use_state_for_unknown(attributes: &[Attribute], planned: &mut Value, prior: &Value) {
    for attr in attributes {
        let before = prior.attr(&attr.name);
        let Some(slot) = planned.attr_mut(&attr.name) else {
            continue;
        };
        if attr.has_modifier(PlanModifier::UseStateForUnknown)
            && slot.is_unknown()
            && before.is_known()
        {
            *slot = before.clone();
            continue;
        }
        if let Some((Nesting::Single, nested)) = attr.nested() {
            if slot.is_known() && before.is_known() {
                use_state_for_unknown(nested, slot, before);
            }
        }
    }
}

fn collect_replacements(
    attributes: &[Attribute],
    planned: &Value,
    prior: &Value,
    base: &AttributePath,
    out: &mut Vec<AttributePath>,
) {
    for attr in attributes {
        let now = planned.attr(&attr.name);
        let before = prior.attr(&attr.name);
        let path = base.then(&attr.name);
        if attr.has_modifier(PlanModifier::RequiresReplace) && now != before {
            out.push(path);
            continue;
        }
        if let Some((Nesting::Single, nested)) = attr.nested() {
            if now.is_known() && before.is_known() {
                collect_replacements(nested, now, before, &path, out);
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
                Attribute::string("id").computed().use_state_for_unknown(),
                Attribute::string("name").required().requires_replace(),
                Attribute::string("state").computed(),
                Attribute::bool("flag").optional(),
                Attribute::single_nested(
                    "svc",
                    vec![
                        Attribute::string("name").required().requires_replace(),
                        Attribute::string("region")
                            .optional()
                            .computed()
                            .requires_replace(),
                        Attribute::string("endpoint")
                            .computed()
                            .use_state_for_unknown(),
                    ],
                )
                .optional()
                .requires_replace(),
            ],
        )
    }

    #[test]
    fn create_marks_unconfigured_computed_values_unknown_at_every_depth() {
        let config = Value::object([
            ("id", Value::Null),
            ("name", Value::string("a")),
            ("state", Value::Null),
            ("flag", Value::Null),
            (
                "svc",
                Value::object([
                    ("name", Value::string("s")),
                    ("region", Value::Null),
                    ("endpoint", Value::Null),
                ]),
            ),
        ]);
        let p = plan(&schema(), &Value::Null, &config, &config);
        assert!(p.planned.attr("id").is_unknown());
        assert!(p.planned.attr("state").is_unknown());
        assert!(p.planned.attr("flag").is_null());
        assert!(p.planned.attr("svc").attr("region").is_unknown());
        assert!(p.planned.attr("svc").attr("endpoint").is_unknown());
        assert_eq!(p.planned.attr("svc").attr("name"), &Value::string("s"));
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn changes_of_replace_only_attributes_are_reported_with_paths() {
        let prior = Value::object([
            ("id", Value::string("x")),
            ("name", Value::string("a")),
            ("state", Value::string("ACTIVE")),
            ("flag", Value::Null),
            (
                "svc",
                Value::object([
                    ("name", Value::string("s")),
                    ("region", Value::string("r")),
                    ("endpoint", Value::string("e")),
                ]),
            ),
        ]);
        let mut proposed = prior.clone();
        proposed.set_attr("name", Value::string("b"));
        let p = plan(&schema(), &prior, &proposed, &proposed);
        assert_eq!(p.requires_replace, vec![AttributePath::attr("name")]);

        // The nested object changes as a whole too.
        let mut proposed = prior.clone();
        if let Some(svc) = proposed.attr_mut("svc") {
            svc.set_attr("region", Value::string("other"));
        }
        let p = plan(&schema(), &prior, &proposed, &proposed);
        assert_eq!(p.requires_replace, vec![AttributePath::attr("svc")]);

        // An in-place change of a plain optional attribute keeps computed values.
        let mut proposed = prior.clone();
        proposed.set_attr("flag", Value::Bool(true));
        let p = plan(&schema(), &prior, &proposed, &proposed);
        assert!(p.requires_replace.is_empty());
        assert_eq!(p.planned.attr("state"), &Value::string("ACTIVE"));
    }

    #[test]
    fn unknown_values_take_the_prior_state_when_marked() {
        let prior = Value::object([("id", Value::string("x")), ("name", Value::string("a"))]);
        let proposed = Value::object([("id", Value::unknown()), ("name", Value::string("a"))]);
        let p = plan(&schema(), &prior, &proposed, &proposed);
        assert_eq!(p.planned.attr("id"), &Value::string("x"));
    }

    #[test]
    fn destroy_plans_null() {
        let prior = Value::object([("id", Value::string("x"))]);
        let p = plan(&schema(), &prior, &Value::Null, &Value::Null);
        assert!(p.planned.is_null());
    }
}
