//! The `tidbcloud` provider, the composition root: its configuration, the
//! API client it builds and the list of the resources, data sources and
//! functions it offers. Nothing below imports this module; what they share
//! lives in [`crate::services`].

pub mod docs;
pub mod functions;

use std::sync::Arc;

use async_trait::async_trait;

use crate::api;
use crate::data_sources;
use crate::framework::{
    Attribute, DataSource, Diagnostic, Diagnostics, Function, Provider, Resource, Schema, Value,
};
use crate::resources;
use crate::services::validate;
use crate::services::ProviderData;

/// The provider's type name: resources are `tidbcloud_*`.
pub const TYPE_NAME: &str = "tidbcloud";
/// The public API endpoint used when none is configured.
pub const DEFAULT_ENDPOINT: &str = "https://serverless.tidbapi.com";

pub const ENV_PUBLIC_KEY: &str = "TIDBCLOUD_PUBLIC_KEY";
pub const ENV_PRIVATE_KEY: &str = "TIDBCLOUD_PRIVATE_KEY";
pub const ENV_ENDPOINT: &str = "TIDBCLOUD_SERVERLESS_ENDPOINT";
/// Named a file where earlier versions remembered settle times between
/// runs. The provider keeps nothing outside Terraform's state now: a set
/// variable is ignored with a warning, and the file is left alone.
pub const ENV_SETTLE_TIMES: &str = "TIDBCLOUD_SETTLE_TIMES_FILE";

/// The warning for a set [`ENV_SETTLE_TIMES`].
fn settle_times_ignored() -> Option<Diagnostic> {
    std::env::var_os(ENV_SETTLE_TIMES)?;
    Some(Diagnostic::warning(
        "TIDBCLOUD_SETTLE_TIMES_FILE is ignored",
        "This provider no longer remembers settle times between runs: it keeps nothing outside Terraform's state, and learns how long operations take within each run. The variable is ignored, and the file it names is left as it is (delete it if you like); unset the variable to silence this warning.",
    ))
}

/// The `tidbcloud` provider.
#[derive(Default)]
pub struct TidbCloudProvider;

fn provider_schema() -> Schema {
    Schema::new(
        "Manages TiDB Cloud Private Link Connections for Dataflow: private connections from a TiDB Cloud Starter or Essential cluster to your own AWS or Alibaba Cloud endpoint service, and the domains that route Kafka brokers through them.",
        vec![
            Attribute::string("public_key")
                .optional()
                .description(&format!("The public key of a TiDB Cloud API key. Defaults to the `{ENV_PUBLIC_KEY}` environment variable.")),
            Attribute::string("private_key")
                .optional()
                .sensitive()
                .description(&format!("The private key of the TiDB Cloud API key. Defaults to the `{ENV_PRIVATE_KEY}` environment variable. It is used only to sign requests (HTTP Digest) and never leaves the process.")),
            Attribute::string("endpoint")
                .optional()
                .description(&format!("The TiDB Cloud API endpoint. Defaults to the `{ENV_ENDPOINT}` environment variable, then `{DEFAULT_ENDPOINT}`. Must use `https://` unless the host is a loopback address (such as a local `tidbcloud-sim`)."))
                .validate("Invalid endpoint", validate::endpoint),
        ],
    )
}

/// A setting from the configuration, else from the environment.
enum Setting {
    Known(String),
    Unknown,
    Missing,
}

fn setting(config: &Value, name: &str, env: &str) -> Setting {
    let v = config.attr(name);
    if v.is_unknown() {
        return Setting::Unknown;
    }
    if let Some(s) = v.as_str().filter(|s| !s.is_empty()) {
        return Setting::Known(s.to_string());
    }
    match std::env::var(env) {
        Ok(s) if !s.is_empty() => Setting::Known(s),
        _ => Setting::Missing,
    }
}

#[async_trait]
impl Provider for TidbCloudProvider {
    type Data = ProviderData;

    fn schema(&self) -> Schema {
        provider_schema()
    }

    async fn configure(
        &self,
        config: &Value,
        terraform_version: &str,
    ) -> (Option<ProviderData>, Diagnostics) {
        let mut diags = Diagnostics::new();
        let public = setting(config, "public_key", ENV_PUBLIC_KEY);
        let private = setting(config, "private_key", ENV_PRIVATE_KEY);
        let endpoint = setting(config, "endpoint", ENV_ENDPOINT);
        let mut missing = Vec::new();
        if matches!(public, Setting::Missing) {
            missing.push(format!("public_key (or {ENV_PUBLIC_KEY})"));
        }
        if matches!(private, Setting::Missing) {
            missing.push(format!("private_key (or {ENV_PRIVATE_KEY})"));
        }
        if !missing.is_empty() {
            diags.push(Diagnostic::error(
                "Missing TiDB Cloud API key",
                format!(
                    "The provider needs a TiDB Cloud API key to call the API; missing: {}. Create an API key in the TiDB Cloud console (Organization Settings > API Keys) and set it in the provider block or the environment.",
                    missing.join(", ")
                ),
            ));
            return (None, diags);
        }
        let (Setting::Known(public_key), Setting::Known(private_key)) = (public, private) else {
            return (
                Some(ProviderData::unavailable("The provider's API key depends on values known only after apply; operations that call the API run once it is known.".to_string())),
                diags,
            );
        };
        let endpoint = match endpoint {
            Setting::Known(e) => e,
            Setting::Missing => DEFAULT_ENDPOINT.to_string(),
            Setting::Unknown => {
                return (
                    Some(ProviderData::unavailable(
                        "The provider's endpoint depends on values known only after apply."
                            .to_string(),
                    )),
                    diags,
                )
            }
        };
        let suffix = if terraform_version.is_empty() {
            None
        } else {
            Some(format!("terraform/{terraform_version}"))
        };
        if let Some(warning) = settle_times_ignored() {
            log::warn!("{ENV_SETTLE_TIMES} is set and ignored");
            diags.push(warning);
        }
        match api::Client::new(api::ClientConfig {
            endpoint,
            public_key,
            private_key,
            user_agent_suffix: suffix,
        }) {
            Ok(client) => (Some(ProviderData::new(client)), diags),
            Err(e) => {
                diags.push(
                    Diagnostic::error("Invalid provider configuration", e.to_string())
                        .at(crate::framework::AttributePath::attr("endpoint")),
                );
                (None, diags)
            }
        }
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<ProviderData>>> {
        vec![
            Arc::new(resources::connection::PrivateLinkConnection),
            Arc::new(resources::domains::PrivateLinkDomains),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<ProviderData>>> {
        vec![
            Arc::new(data_sources::connection::PrivateLinkConnectionDataSource),
            Arc::new(data_sources::connections::PrivateLinkConnectionsDataSource),
            Arc::new(data_sources::availability_zones::AvailabilityZonesDataSource),
        ]
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        functions::all()
    }
}
