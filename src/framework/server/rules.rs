//! The protocol's rules: what the provider answers when something fails,
//! one section per RPC family. Each rule is a pure function over values and
//! diagnostics; [`super`] decodes the request, runs the provider's code
//! (catching panics), applies the rule and encodes what it returns.
//!
//! Rules every RPC shares, applied by the dispatch:
//! * a request naming a type the provider does not have is answered with
//!   [`unknown_type`] and nothing else;
//! * a value that cannot be decoded, or that the provider produced and
//!   cannot be encoded, is an error diagnostic and the answer carries no
//!   value;
//! * a panic in the provider's code becomes [`panic_diagnostic`] and the
//!   process keeps serving.

use std::any::Any;

use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::resource::{ApplyOutcome, FunctionError, Parameter, ReadOutcome};
use crate::framework::schema::Schema;
use crate::framework::value::{Type, Value};

// ---- every RPC ------------------------------------------------------------------

/// A request for a type (resource, data source, ephemeral resource) this
/// provider does not have.
pub fn unknown_type(kind: &str, name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Unknown {kind}"),
        format!("This provider has no {kind} named {name:?}."),
    )
    .into()
}

/// The message a panic carried (`panic!` with a literal or a formatted
/// string), else a placeholder.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// What a panic while handling `what` is answered with.
pub fn panic_diagnostic(what: &str, message: &str) -> Diagnostic {
    Diagnostic::error(
        "Internal error in the provider",
        format!("The provider failed while handling {what}: {message}. This is a bug; please report it."),
    )
}

// ---- Validate…Config (provider, resource, data source) -----------------------------

/// A configuration that cannot be decoded is that one error. Otherwise the
/// schema's validators run, then `check` (the object's own validation),
/// even when the validators found errors: the user sees every problem of a
/// configuration at once.
pub fn validate_config(
    config: Result<Value, Diagnostic>,
    schema: &Schema,
    check: impl FnOnce(&Value) -> Diagnostics,
) -> Diagnostics {
    let config = match config {
        Ok(c) => c,
        Err(d) => return d.into(),
    };
    let mut diags = Diagnostics::new();
    schema.validate(&config, &mut diags);
    diags.extend(check(&config));
    diags
}

// ---- UpgradeResourceState ------------------------------------------------------------

/// Whether a stored state can be upgraded at all: it must have a JSON form
/// (legacy flatmap states are refused) and a schema version this provider
/// knows (a state written by a newer provider is refused, never guessed at).
pub fn stored_state_usable(
    type_name: &str,
    has_json: bool,
    version: i64,
    known_version: i64,
) -> Result<(), Diagnostic> {
    if !has_json {
        return Err(Diagnostic::error(
            "Unsupported state format",
            "The stored state has no JSON form (legacy flatmap states are not supported by this provider).",
        ));
    }
    if version > known_version {
        return Err(Diagnostic::error(
            "State from a newer provider",
            format!(
                "The state of this {type_name} was written by a newer version of the provider (schema version {version}, this one knows {known_version}). Upgrade the provider.",
            ),
        ));
    }
    Ok(())
}

/// A stored state of a `type_name` resource at schema `version` that does
/// not match the schema: what is wrong, and how to recover (remove the
/// entry, import the object again, when the resource can be imported).
pub fn invalid_stored_state(
    type_name: &str,
    version: i64,
    import_id: Option<&str>,
    error: impl std::fmt::Display,
) -> Diagnostic {
    let recover = match import_id {
        Some(id) => format!(
            " Remove the entry from the state and import the object again:\n\n  terraform state rm {type_name}.NAME\n  terraform import {type_name}.NAME {id}\n\nor, for the import, an `import` block in the configuration:\n\n  import {{\n    to = {type_name}.NAME\n    id = \"{id}\"\n  }}"
        ),
        None => format!(" Remove the entry from the state (terraform state rm {type_name}.NAME) and apply again."),
    };
    Diagnostic::error(
        "Invalid stored state",
        format!("The state of this {type_name} (schema version {version}) cannot be read: {error}.{recover}"),
    )
}

// ---- ReadResource -------------------------------------------------------------------

/// The state a refresh answers with, given what Terraform had (`current`)
/// and what the read returned (`Err`: it panicked).
///
/// * A new state is answered as it is, errors or not.
/// * A read that fails without a new state keeps what Terraform had: an
///   API outage must not make Terraform forget the object.
/// * A read that succeeds without a state says the object is gone (null):
///   Terraform plans to create it again.
/// * A panicked read answers no state, only the diagnostic.
pub fn read_resource(
    current: Value,
    outcome: Result<ReadOutcome, Diagnostics>,
) -> (Option<Value>, Diagnostics) {
    match outcome {
        Err(d) => (None, d),
        Ok(ReadOutcome {
            state: Some(s),
            diags,
        }) => (Some(s), diags),
        Ok(ReadOutcome { state: None, diags }) if diags.has_errors() => (Some(current), diags),
        Ok(ReadOutcome { state: None, diags }) => (Some(Value::Null), diags),
    }
}

// ---- PlanResourceChange ---------------------------------------------------------------

/// The planned state after the generic plan and the resource's own
/// changes (`Err`: they panicked, and the answer carries no plan).
/// Diagnostics of a plan that ran, errors included, go with the plan.
pub fn plan_resource(
    planned: Value,
    modified: Result<Diagnostics, Diagnostics>,
) -> (Option<Value>, Diagnostics) {
    match modified {
        Ok(d) => (Some(planned), d),
        Err(d) => (None, d),
    }
}

// ---- ApplyResourceChange --------------------------------------------------------------

/// What an apply does: Terraform sends a null planned state to delete and
/// a null prior state to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Create,
    Update,
    Delete,
}

impl Change {
    pub fn of(prior: &Value, planned: &Value) -> Change {
        if planned.is_null() {
            Change::Delete
        } else if prior.is_null() {
            Change::Create
        } else {
            Change::Update
        }
    }

    /// The name a panic diagnostic gives the RPC.
    pub fn rpc(self) -> &'static str {
        match self {
            Change::Create => "ApplyResourceChange (create)",
            Change::Update => "ApplyResourceChange (update)",
            Change::Delete => "ApplyResourceChange (delete)",
        }
    }
}

/// The state after a delete (`Err`: it panicked): a delete that fails, or
/// panics, keeps the object in the state (the prior state), so that it is
/// neither forgotten nor orphaned; one that succeeds leaves null.
pub fn after_delete(
    prior: Value,
    result: Result<Diagnostics, Diagnostics>,
) -> (Value, Diagnostics) {
    let diags = result.unwrap_or_else(|d| d);
    let state = if diags.has_errors() {
        prior
    } else {
        Value::Null
    };
    (state, diags)
}

/// The state after a create or an update (`Err`: it panicked). The
/// resource's new state is kept even with errors (whatever the API created
/// is then in the state, tainted); without one, the prior state stays
/// (null for a create).
pub fn after_create_or_update(
    prior: Value,
    result: Result<ApplyOutcome, Diagnostics>,
) -> (Value, Diagnostics) {
    match result {
        Ok(o) => (o.state.unwrap_or(prior), o.diags),
        Err(d) => (prior, d),
    }
}

/// A value left unknown after apply is a provider bug. Terraform would
/// refuse the whole state; instead the object is kept with those values
/// null, and an error says so, so that nothing the API created is lost.
pub fn unknowns_after_apply(
    type_name: &str,
    state: Value,
    mut diags: Diagnostics,
) -> (Value, Diagnostics) {
    if !state.contains_unknown() {
        return (state, diags);
    }
    diags.push(Diagnostic::error(
        "Provider returned an unknown value after apply",
        format!(
            "{type_name} left a value unknown after apply; it is saved as null. This is a bug in the provider."
        ),
    ));
    (state.unknown_as_null(), diags)
}

// ---- ImportResourceState, ReadDataSource ------------------------------------------------

/// The object an import or a data source read answers with (`Err`: it
/// panicked). Unlike a managed resource's refresh, there is nothing to
/// keep: any error means no object at all, only the diagnostics.
pub fn found_object(state: Option<Value>, diags: Diagnostics) -> (Option<Value>, Diagnostics) {
    let state = state.filter(|_| !diags.has_errors());
    (state, diags)
}

/// [`found_object`] for an import.
pub fn import_resource(outcome: Result<ApplyOutcome, Diagnostics>) -> (Option<Value>, Diagnostics) {
    match outcome {
        Ok(o) => found_object(o.state, o.diags),
        Err(d) => (None, d),
    }
}

/// [`found_object`] for a data source read.
pub fn read_data_source(outcome: Result<ReadOutcome, Diagnostics>) -> (Option<Value>, Diagnostics) {
    match outcome {
        Ok(o) => found_object(o.state, o.diags),
        Err(d) => (None, d),
    }
}

// ---- MoveResourceState ------------------------------------------------------------------

/// Moving state from another resource type is not supported: the answer
/// tells the user to import the object instead.
pub fn move_refused(target: &str, source: &str, source_provider: &str) -> Diagnostic {
    Diagnostic::error(
        "Moving resource state is not supported",
        format!(
            "{target} cannot take over state from {source} ({source_provider}); remove the moved block and import the object instead.",
        ),
    )
}

// ---- CallFunction -----------------------------------------------------------------------

fn function_error(text: String, argument: Option<usize>) -> FunctionError {
    FunctionError {
        text,
        argument: argument.map(|i| i as i64),
    }
}

/// A call of a function this provider does not have.
pub fn unknown_function(name: &str) -> FunctionError {
    function_error(
        format!("this provider has no function named {name:?}"),
        None,
    )
}

/// The arguments of a call, checked in order: their number, then each one
/// decoded (`decode`) and known; the first problem is the answer, with the
/// index of the argument it is about.
pub fn function_arguments<A>(
    name: &str,
    parameters: &[Parameter],
    arguments: &[A],
    decode: impl Fn(&A, &Type) -> Result<Value, Diagnostic>,
) -> Result<Vec<Value>, FunctionError> {
    if arguments.len() != parameters.len() {
        return Err(function_error(
            format!(
                "{name} takes {} arguments, got {}",
                parameters.len(),
                arguments.len()
            ),
            None,
        ));
    }
    let mut values = Vec::with_capacity(parameters.len());
    for (i, (a, p)) in arguments.iter().zip(parameters).enumerate() {
        match decode(a, &p.ty) {
            Ok(v) if v.is_known() => values.push(v),
            Ok(_) => {
                return Err(function_error(
                    format!("argument {} must not be null", p.name),
                    Some(i),
                ))
            }
            Err(d) => return Err(function_error(d.detail, Some(i))),
        }
    }
    Ok(values)
}

/// A function's result (`Err`: it panicked, and the panic's text is the
/// function error).
pub fn function_result(
    result: Result<Result<Value, FunctionError>, Diagnostics>,
) -> Result<Value, FunctionError> {
    match result {
        Ok(r) => r,
        Err(d) => Err(function_error(
            d.0.first().map(|d| d.detail.clone()).unwrap_or_default(),
            None,
        )),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_unreadable_state_says_how_to_recover() {
        let d = invalid_stored_state("x_thing", 3, Some("<a>,<b>"), "cannot decode value at id");
        let text = format!("{d:?}");
        for part in [
            "x_thing (schema version 3)",
            "cannot decode value at id",
            "terraform state rm x_thing.NAME",
            concat!("terraform ", "import x_thing.NAME <a>,<b>"),
            "import {\\n    to = x_thing.NAME",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
        let d = invalid_stored_state("x_thing", 0, None, "bad");
        assert!(format!("{d:?}").contains("terraform state rm x_thing.NAME"));
    }
    use super::*;
    use crate::framework::schema::Attribute;

    fn error(summary: &str) -> Diagnostics {
        Diagnostic::error(summary, "detail").into()
    }

    fn warning(summary: &str) -> Diagnostics {
        Diagnostic::warning(summary, "detail").into()
    }

    fn summaries(d: &Diagnostics) -> Vec<&str> {
        d.iter().map(|d| d.summary.as_str()).collect()
    }

    fn object(id: &str) -> Value {
        Value::object([("id", Value::string(id))])
    }

    #[test]
    fn a_panic_names_the_rpc_and_its_message() {
        let payload: Box<dyn Any + Send> = Box::new(format!("index {} out of range", 3));
        assert_eq!(panic_message(payload.as_ref()), "index 3 out of range");
        let payload: Box<dyn Any + Send> = Box::new("literal");
        assert_eq!(panic_message(payload.as_ref()), "literal");
        let payload: Box<dyn Any + Send> = Box::new(17u8);
        assert_eq!(panic_message(payload.as_ref()), "unknown panic");
        let d = panic_diagnostic("ReadResource", "boom");
        assert!(d.detail.contains("ReadResource: boom"), "{d:?}");
        assert_eq!(d.summary, "Internal error in the provider");
    }

    #[test]
    fn an_unknown_type_is_one_error_naming_it() {
        let d = unknown_type("resource type", "tidbcloud_nothing");
        assert_eq!(summaries(&d), ["Unknown resource type"]);
        assert!(d.has_errors());
        assert!(d.0[0].detail.contains("\"tidbcloud_nothing\""));
    }

    fn no_empty_names() -> Schema {
        Schema::new(
            "",
            vec![Attribute::string("name")
                .optional()
                .validate("Empty name", |v| match v.as_str() {
                    Some("") => Err("empty".into()),
                    _ => Ok(()),
                })],
        )
    }

    #[test]
    fn validation_reports_the_schema_and_the_objects_own_problems_together() {
        let config = Value::object([("name", Value::string(""))]);
        let d = validate_config(Ok(config), &no_empty_names(), |_| error("Own check"));
        assert_eq!(summaries(&d), ["Empty name", "Own check"]);
    }

    #[test]
    fn a_configuration_that_cannot_be_decoded_is_that_error_alone() {
        let d = validate_config(
            Err(Diagnostic::error(
                "Invalid value from Terraform",
                "bad msgpack",
            )),
            &no_empty_names(),
            |_| panic!("the check must not run"),
        );
        assert_eq!(summaries(&d), ["Invalid value from Terraform"]);
    }

    #[test]
    fn a_stored_state_without_json_or_from_a_newer_provider_is_refused() {
        assert!(stored_state_usable("x", true, 1, 1).is_ok());
        assert!(stored_state_usable("x", true, 0, 1).is_ok());
        let flatmap = stored_state_usable("x", false, 0, 1).unwrap_err();
        assert_eq!(flatmap.summary, "Unsupported state format");
        let newer = stored_state_usable("tidbcloud_thing", true, 2, 1).unwrap_err();
        assert_eq!(newer.summary, "State from a newer provider");
        assert!(newer.detail.contains("schema version 2, this one knows 1"));
        assert!(newer.detail.contains("tidbcloud_thing"));
    }

    #[test]
    fn a_failed_read_keeps_the_current_state() {
        let (state, diags) = read_resource(
            object("a"),
            Ok(ReadOutcome {
                state: None,
                diags: error("API unavailable"),
            }),
        );
        assert_eq!(state, Some(object("a")));
        assert_eq!(summaries(&diags), ["API unavailable"]);
    }

    #[test]
    fn a_read_without_errors_or_state_says_the_object_is_gone() {
        let (state, diags) = read_resource(
            object("a"),
            Ok(ReadOutcome {
                state: None,
                diags: warning("gone"),
            }),
        );
        assert_eq!(state, Some(Value::Null));
        assert_eq!(summaries(&diags), ["gone"]);
    }

    #[test]
    fn a_read_state_is_answered_even_with_errors() {
        let (state, _) = read_resource(
            object("a"),
            Ok(ReadOutcome {
                state: Some(object("b")),
                diags: error("partly read"),
            }),
        );
        assert_eq!(state, Some(object("b")));
    }

    #[test]
    fn a_panicked_read_answers_no_state() {
        let (state, diags) = read_resource(object("a"), Err(error("Internal error")));
        assert_eq!(state, None);
        assert_eq!(summaries(&diags), ["Internal error"]);
    }

    #[test]
    fn a_plan_goes_with_its_diagnostics_unless_it_panicked() {
        let (planned, d) = plan_resource(object("p"), Ok(error("refused")));
        assert_eq!(planned, Some(object("p")));
        assert_eq!(summaries(&d), ["refused"]);
        let (planned, d) = plan_resource(object("p"), Err(error("Internal error")));
        assert_eq!(planned, None);
        assert_eq!(summaries(&d), ["Internal error"]);
    }

    #[test]
    fn the_change_follows_from_which_state_is_null() {
        assert_eq!(Change::of(&Value::Null, &object("p")), Change::Create);
        assert_eq!(Change::of(&object("a"), &object("p")), Change::Update);
        assert_eq!(Change::of(&object("a"), &Value::Null), Change::Delete);
        assert_eq!(Change::Delete.rpc(), "ApplyResourceChange (delete)");
    }

    #[test]
    fn a_failed_delete_keeps_the_prior_state() {
        let (state, d) = after_delete(object("a"), Ok(error("still attached")));
        assert_eq!(state, object("a"));
        assert_eq!(summaries(&d), ["still attached"]);
        let (state, _) = after_delete(object("a"), Err(error("Internal error")));
        assert_eq!(state, object("a"), "a panicked delete keeps it too");
    }

    #[test]
    fn a_delete_without_errors_leaves_null() {
        let (state, d) = after_delete(object("a"), Ok(warning("slow")));
        assert_eq!(state, Value::Null);
        assert_eq!(summaries(&d), ["slow"]);
    }

    #[test]
    fn a_failed_create_keeps_what_it_created() {
        let outcome = ApplyOutcome {
            state: Some(object("created")),
            diags: error("timed out"),
        };
        let (state, d) = after_create_or_update(Value::Null, Ok(outcome));
        assert_eq!(state, object("created"));
        assert_eq!(summaries(&d), ["timed out"]);
    }

    #[test]
    fn without_a_new_state_the_prior_state_stays() {
        let (state, _) =
            after_create_or_update(object("a"), Ok(ApplyOutcome::failed(error("refused"))));
        assert_eq!(state, object("a"));
        let (state, _) = after_create_or_update(Value::Null, Err(error("Internal error")));
        assert_eq!(state, Value::Null);
        let (state, _) = after_create_or_update(object("a"), Err(error("Internal error")));
        assert_eq!(state, object("a"));
    }

    #[test]
    fn an_unknown_left_after_apply_becomes_null_with_an_error() {
        let state = Value::object([
            ("id", Value::string("a")),
            (
                "nested",
                Value::object([("endpoint", Value::unknown()), ("kept", Value::string("k"))]),
            ),
        ]);
        let (state, d) = unknowns_after_apply("tidbcloud_thing", state, warning("earlier"));
        assert_eq!(
            state,
            Value::object([
                ("id", Value::string("a")),
                (
                    "nested",
                    Value::object([("endpoint", Value::Null), ("kept", Value::string("k"))]),
                ),
            ])
        );
        assert_eq!(
            summaries(&d),
            ["earlier", "Provider returned an unknown value after apply"]
        );
        assert!(d.has_errors());
        assert!(d.0[1]
            .detail
            .starts_with("tidbcloud_thing left a value unknown"));
    }

    #[test]
    fn a_known_state_after_apply_is_left_alone() {
        let (state, d) = unknowns_after_apply("x", object("a"), Diagnostics::new());
        assert_eq!(state, object("a"));
        assert!(d.is_empty());
    }

    #[test]
    fn an_import_or_data_source_read_with_errors_answers_no_object() {
        let failed = ApplyOutcome {
            state: Some(object("a")),
            diags: error("not yours"),
        };
        let (state, d) = import_resource(Ok(failed));
        assert_eq!(state, None);
        assert_eq!(summaries(&d), ["not yours"]);
        let (state, _) = import_resource(Ok(ApplyOutcome::ok(object("a"))));
        assert_eq!(state, Some(object("a")));
        let (state, _) = import_resource(Err(error("Internal error")));
        assert_eq!(state, None);

        let read = |state, diags| read_data_source(Ok(ReadOutcome { state, diags }));
        assert_eq!(read(Some(object("a")), error("partial")).0, None);
        assert_eq!(
            read(Some(object("a")), warning("fine")).0,
            Some(object("a"))
        );
        assert_eq!(read(None, Diagnostics::new()).0, None);
        assert_eq!(read_data_source(Err(error("Internal error"))).0, None);
    }

    #[test]
    fn moving_state_is_refused_with_the_way_out() {
        let d = move_refused(
            "tidbcloud_x",
            "null_resource",
            "registry.terraform.io/hashicorp/null",
        );
        assert_eq!(d.summary, "Moving resource state is not supported");
        assert!(d.detail.contains("import the object instead"));
    }

    fn parameters() -> Vec<Parameter> {
        ["host", "port"]
            .into_iter()
            .map(|name| Parameter {
                name,
                ty: Type::String,
                description: "",
            })
            .collect()
    }

    fn decoded(v: &Value, _: &Type) -> Result<Value, Diagnostic> {
        match v.as_str() {
            Some("garbage") => Err(Diagnostic::error("Invalid value", "not msgpack")),
            _ => Ok(v.clone()),
        }
    }

    #[test]
    fn function_arguments_are_checked_in_order_and_name_the_first_problem() {
        let args = |a: &[Value]| function_arguments("f", &parameters(), a, decoded);
        let ok = args(&[Value::string("h"), Value::string("9092")]).unwrap();
        assert_eq!(ok, [Value::string("h"), Value::string("9092")]);

        let e = args(&[Value::string("h")]).unwrap_err();
        assert_eq!(
            (e.text.as_str(), e.argument),
            ("f takes 2 arguments, got 1", None)
        );

        let e = args(&[Value::string("h"), Value::Null]).unwrap_err();
        assert_eq!(
            (e.text.as_str(), e.argument),
            ("argument port must not be null", Some(1))
        );

        let e = args(&[Value::unknown(), Value::string("garbage")]).unwrap_err();
        assert_eq!(e.argument, Some(0), "the first problem wins");

        let e = args(&[Value::string("h"), Value::string("garbage")]).unwrap_err();
        assert_eq!((e.text.as_str(), e.argument), ("not msgpack", Some(1)));

        assert!(unknown_function("nope").text.contains("\"nope\""));
    }

    #[test]
    fn a_panicked_function_answers_the_panic_as_its_error() {
        let e = function_result(Err(Diagnostic::error("Internal error", "it broke").into()))
            .unwrap_err();
        assert_eq!((e.text.as_str(), e.argument), ("it broke", None));
        let e = function_result(Ok(Err(FunctionError {
            text: "bad port".into(),
            argument: Some(1),
        })))
        .unwrap_err();
        assert_eq!(e.argument, Some(1));
        assert_eq!(
            function_result(Ok(Ok(Value::string("r")))).unwrap(),
            Value::string("r")
        );
    }
}
