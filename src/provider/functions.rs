//! Provider-defined functions (Terraform 1.8+):
//! `provider::tidbcloud::kafka_advertised_listener` and
//! `provider::tidbcloud::endpoint_service_principal`.

use std::sync::Arc;

use crate::framework::{Function, FunctionError, FunctionErrorCase, Parameter, Type, Value};
use crate::services::cloud;

pub fn all() -> Vec<Arc<dyn Function>> {
    vec![
        Arc::new(KafkaAdvertisedListener),
        Arc::new(EndpointServicePrincipal),
    ]
}

fn arg_error(argument: i64, text: String) -> FunctionError {
    FunctionError {
        text,
        argument: Some(argument),
    }
}

/// The principal an endpoint service must allow so that TiDB Cloud's account
/// can connect.
/// `cloud_provider` as the cluster API spells it, in any case.
pub fn principal(cloud_provider: &str, account_id: &str) -> Option<String> {
    cloud::by_cluster_cloud(&cloud_provider.to_ascii_lowercase()).map(|c| c.principal(account_id))
}

/// Builds the advertised listener of one Kafka broker from a wildcard domain
/// of an attachment: `*.usw2-az1.x.aws.plc.tidbcloud.com` with broker `b1`
/// and port 9093 gives `b1.usw2-az1.x.aws.plc.tidbcloud.com:9093`.
pub struct KafkaAdvertisedListener;

impl Function for KafkaAdvertisedListener {
    fn name(&self) -> &'static str {
        "kafka_advertised_listener"
    }
    fn summary(&self) -> &'static str {
        "The advertised listener of a Kafka broker reached through a private link domain"
    }
    fn description(&self) -> &'static str {
        "Replaces the leading `*` of a wildcard domain from `tidbcloud_private_link_domains.domains` with the broker id and appends the port, giving the `host:port` a broker advertises so that TiDB Cloud reaches it through the private link connection."
    }
    fn parameters(&self) -> Vec<Parameter> {
        vec![
            Parameter {
                name: "domain",
                ty: Type::String,
                description: "A wildcard domain such as `*.usw2-az1.kafka.aws.plc.tidbcloud.com`.",
            },
            Parameter {
                name: "broker_id",
                ty: Type::String,
                description:
                    "The broker's label, such as `b1`: lowercase letters, digits and hyphens.",
            },
            Parameter {
                name: "port",
                ty: Type::Number,
                description: "The broker's port, 1 to 65535.",
            },
        ]
    }
    fn return_type(&self) -> Type {
        Type::String
    }
    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
        let domain = arguments
            .first()
            .and_then(Value::as_str)
            .unwrap_or_default();
        let broker = arguments.get(1).and_then(Value::as_str).unwrap_or_default();
        let port = arguments.get(2).and_then(Value::as_number);
        let suffix = domain.strip_prefix("*.").filter(|s| !s.is_empty()).ok_or_else(|| {
            arg_error(0, format!("{domain:?} is not a wildcard domain; expected e.g. \"*.usw2-az1.kafka.aws.plc.tidbcloud.com\""))
        })?;
        let label_ok = !broker.is_empty()
            && broker.len() <= 63
            && broker
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !broker.starts_with('-')
            && !broker.ends_with('-');
        if !label_ok {
            return Err(arg_error(1, format!("{broker:?} is not a broker label; use lowercase letters, digits and hyphens, e.g. \"b1\"")));
        }
        let port = port
            .and_then(|n| n.as_i64())
            .filter(|p| (1..=65535).contains(p))
            .ok_or_else(|| {
                arg_error(
                    2,
                    "the port must be a whole number from 1 to 65535".to_string(),
                )
            })?;
        Ok(Value::string(format!("{broker}.{suffix}:{port}")))
    }
    fn error_cases(&self) -> Vec<FunctionErrorCase> {
        let port = |p: i64| Value::Number(crate::framework::Number::Int(p));
        let domain = || Value::string("*.usw2-az1.kafka.aws.plc.tidbcloud.com");
        vec![
            FunctionErrorCase {
                when: "`domain` does not start with `*.` followed by a name (a domain from `domains_by_az` or `domains` always does)",
                arguments: vec![
                    Value::string("usw2-az1.kafka.aws.plc.tidbcloud.com"),
                    Value::string("b1"),
                    port(9093),
                ],
            },
            FunctionErrorCase {
                when: "`broker_id` is empty, longer than 63 characters, has characters other than lowercase letters, digits and hyphens, or starts or ends with a hyphen",
                arguments: vec![domain(), Value::string("Broker_1"), port(9093)],
            },
            FunctionErrorCase {
                when: "`port` is not a whole number from 1 to 65535",
                arguments: vec![domain(), Value::string("b1"), port(70000)],
            },
        ]
    }
}

/// The principal to allow on an endpoint service for a TiDB Cloud account.
pub struct EndpointServicePrincipal;

impl Function for EndpointServicePrincipal {
    fn name(&self) -> &'static str {
        "endpoint_service_principal"
    }
    fn summary(&self) -> &'static str {
        "The principal an endpoint service must allow for TiDB Cloud"
    }
    fn description(&self) -> &'static str {
        "Given the cloud provider as the cluster API spells it (`aws` or `alicloud`, any case) and TiDB Cloud's account id (from `tidbcloud_private_link_availability_zones`), returns `arn:aws:iam::<account_id>:root` on AWS or `acs:ram:*:<account_id>:*` on Alibaba Cloud."
    }
    fn parameters(&self) -> Vec<Parameter> {
        vec![
            Parameter {
                name: "cloud_provider",
                ty: Type::String,
                description: "`aws` or `alicloud` (any case).",
            },
            Parameter {
                name: "account_id",
                ty: Type::String,
                description: "TiDB Cloud's account id in that cloud.",
            },
        ]
    }
    fn return_type(&self) -> Type {
        Type::String
    }
    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
        let cloud = arguments
            .first()
            .and_then(Value::as_str)
            .unwrap_or_default();
        let account = arguments.get(1).and_then(Value::as_str).unwrap_or_default();
        if account.is_empty() || !account.chars().all(|c| c.is_ascii_digit()) {
            return Err(arg_error(
                1,
                format!("{account:?} is not an account id (digits only)"),
            ));
        }
        principal(cloud, account).map(Value::string).ok_or_else(|| {
            arg_error(
                0,
                format!("{cloud:?} is not a cloud provider; use \"aws\" or \"alicloud\""),
            )
        })
    }
    fn error_cases(&self) -> Vec<FunctionErrorCase> {
        vec![
            FunctionErrorCase {
                when: "`account_id` is empty or has anything but digits",
                arguments: vec![
                    Value::string("aws"),
                    Value::string("arn:aws:iam::123456789012:root"),
                ],
            },
            FunctionErrorCase {
                when: "`cloud_provider` is neither `aws` nor `alicloud`",
                arguments: vec![Value::string("gcp"), Value::string("123456789012")],
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Number;

    #[test]
    fn listener_from_wildcard_domain() {
        let out = KafkaAdvertisedListener
            .call(&[
                Value::string("*.usw2-az1.kafka.aws.plc.tidbcloud.com"),
                Value::string("b1"),
                Value::Number(Number::Int(9093)),
            ])
            .expect("listener");
        assert_eq!(
            out,
            Value::string("b1.usw2-az1.kafka.aws.plc.tidbcloud.com:9093")
        );
        let err = KafkaAdvertisedListener
            .call(&[
                Value::string("x.com"),
                Value::string("b1"),
                Value::Number(Number::Int(1)),
            ])
            .unwrap_err();
        assert_eq!(err.argument, Some(0));
        let err = KafkaAdvertisedListener
            .call(&[
                Value::string("*.x.com"),
                Value::string("b1"),
                Value::Number(Number::Int(70000)),
            ])
            .unwrap_err();
        assert_eq!(err.argument, Some(2));
        let err = KafkaAdvertisedListener
            .call(&[
                Value::string("*.x.com"),
                Value::string("B_1"),
                Value::Number(Number::Int(1)),
            ])
            .unwrap_err();
        assert_eq!(err.argument, Some(1));
    }

    #[test]
    fn principals_per_cloud() {
        let p = |c: &str| {
            EndpointServicePrincipal.call(&[Value::string(c), Value::string("123456789012")])
        };
        assert_eq!(
            p("aws").expect("aws"),
            Value::string("arn:aws:iam::123456789012:root")
        );
        assert_eq!(
            p("AliCloud").expect("ali"),
            Value::string("acs:ram:*:123456789012:*")
        );
        assert_eq!(p("gcp").unwrap_err().argument, Some(0));
    }
}
