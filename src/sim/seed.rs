//! The initial world: the default clusters and endpoint services of
//! `SIMULATOR.md`, or a `--seed` JSON file of the same shape. The control
//! surface registers services and clusters with the same entry shapes.

use std::path::Path;
use std::time::SystemTime;

use serde::Deserialize;

use crate::model::{Cloud, Cluster, DomainTemplate, EndpointService, CLUSTER_STATES};
use crate::names;

/// A seed file: `{"clusters":[...], "endpoint_services":[...]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub clusters: Vec<SeedCluster>,
    #[serde(default)]
    pub endpoint_services: Vec<SeedService>,
}

/// A cluster entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCluster {
    pub cluster_id: String,
    /// Defaults to `cluster-<cluster_id>`.
    pub display_name: Option<String>,
    pub cloud_provider: String,
    pub region_id: String,
    /// Defaults to `ACTIVE`.
    pub state: Option<String>,
    pub account_id: String,
    pub az_ids: Vec<String>,
}

/// An endpoint service entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedService {
    pub name: String,
    pub cloud_provider: String,
    /// Defaults to the region in the name; must match it when given.
    pub region: Option<String>,
    pub az_ids: Vec<String>,
    #[serde(default)]
    pub allowed_principals: Vec<String>,
    #[serde(default)]
    pub acceptance_required: bool,
    /// The shape of TIDBCLOUD_MANAGED domain names on connections to this
    /// service (see [`DomainTemplate`]); defaults to the cloud's shape.
    #[serde(default)]
    pub domain_name_template: Option<String>,
}

/// Checks a cluster state against the cluster API's enum.
pub fn check_cluster_state(state: &str) -> Result<(), String> {
    if CLUSTER_STATES.contains(&state) {
        Ok(())
    } else {
        Err(format!(
            "unknown cluster state {state:?}; use one of {}",
            CLUSTER_STATES.join(", ")
        ))
    }
}

impl SeedCluster {
    /// Validates the entry and builds the cluster.
    pub fn build(self, now: SystemTime) -> Result<Cluster, String> {
        let id_ok = !self.cluster_id.is_empty()
            && self
                .cluster_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(format!(
                "cluster_id {:?} must be non-empty letters, digits, '-' or '_'",
                self.cluster_id
            ));
        }
        let cloud = Cloud::parse(&self.cloud_provider).ok_or_else(|| {
            format!(
                "cluster {}: cloud_provider {:?} must be \"aws\" or \"alicloud\"",
                self.cluster_id, self.cloud_provider
            )
        })?;
        let code = self
            .region_id
            .strip_prefix(cloud.as_str())
            .and_then(|r| r.strip_prefix('-'))
            .filter(|r| names::is_region_code(cloud, r));
        if code.is_none() {
            return Err(format!(
                "cluster {}: region_id {:?} must be \"{}-<region>\", e.g. {}",
                self.cluster_id,
                self.region_id,
                cloud.as_str(),
                match cloud {
                    Cloud::Aws => "aws-us-west-2",
                    Cloud::Alicloud => "alicloud-ap-southeast-1",
                }
            ));
        }
        let state = self.state.unwrap_or_else(|| "ACTIVE".to_string());
        check_cluster_state(&state).map_err(|e| format!("cluster {}: {e}", self.cluster_id))?;
        if self.account_id.is_empty() {
            return Err(format!("cluster {}: account_id is empty", self.cluster_id));
        }
        if self.az_ids.is_empty() || self.az_ids.iter().any(String::is_empty) {
            return Err(format!(
                "cluster {}: az_ids must list at least one availability zone id",
                self.cluster_id
            ));
        }
        Ok(Cluster {
            display_name: self
                .display_name
                .unwrap_or_else(|| format!("cluster-{}", self.cluster_id)),
            id: self.cluster_id,
            cloud,
            region_id: self.region_id,
            state,
            account_id: self.account_id,
            az_ids: self.az_ids,
            create_time: now,
            update_time: now,
        })
    }
}

impl SeedService {
    /// Validates the entry and builds the endpoint service.
    pub fn build(self) -> Result<EndpointService, String> {
        let cloud = Cloud::parse(&self.cloud_provider).ok_or_else(|| {
            format!(
                "endpoint service {}: cloud_provider {:?} must be \"aws\" or \"alicloud\"",
                self.name, self.cloud_provider
            )
        })?;
        let region = names::service_region(cloud, &self.name)?;
        if let Some(given) = &self.region {
            if *given != region {
                return Err(format!(
                    "endpoint service {}: region {given:?} does not match the region {region:?} in its name",
                    self.name
                ));
            }
        }
        if self.az_ids.is_empty() || self.az_ids.iter().any(String::is_empty) {
            return Err(format!(
                "endpoint service {}: az_ids must list at least one availability zone id",
                self.name
            ));
        }
        let domain_template = match &self.domain_name_template {
            None => None,
            Some(t) => Some(
                DomainTemplate::parse(t)
                    .map_err(|e| format!("endpoint service {}: {e}", self.name))?,
            ),
        };
        Ok(EndpointService {
            name: self.name,
            cloud,
            region,
            az_ids: self.az_ids,
            allowed_principals: self.allowed_principals,
            acceptance_required: self.acceptance_required,
            domain_template,
        })
    }
}

/// Reads a seed file.
pub fn load(path: &Path) -> Result<Seed, String> {
    let text =
        std::fs::read(path).map_err(|e| format!("cannot read seed {}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("seed {} is not valid: {e}", path.display()))
}

/// The default world of `SIMULATOR.md`.
pub fn default_seed() -> Seed {
    let aws_azs = || vec!["usw2-az1".to_string(), "usw2-az2".into(), "usw2-az3".into()];
    let cluster =
        |id: &str, name: &str, cloud: &str, region: &str, state: &str, account: &str, azs| {
            SeedCluster {
                cluster_id: id.into(),
                display_name: Some(name.into()),
                cloud_provider: cloud.into(),
                region_id: region.into(),
                state: Some(state.into()),
                account_id: account.into(),
                az_ids: azs,
            }
        };
    let service = |name: &str, cloud: &str, azs, principal: &str, acceptance| SeedService {
        name: name.into(),
        cloud_provider: cloud.into(),
        region: None,
        az_ids: azs,
        allowed_principals: vec![principal.to_string()],
        acceptance_required: acceptance,
        domain_name_template: None,
    };
    Seed {
        clusters: vec![
            cluster(
                "1000000000000000001",
                "demo-aws",
                "aws",
                "aws-us-west-2",
                "ACTIVE",
                "123456789012",
                aws_azs(),
            ),
            cluster(
                "1000000000000000002",
                "demo-alicloud",
                "alicloud",
                "alicloud-ap-southeast-1",
                "ACTIVE",
                "5012345678901234",
                vec!["ap-southeast-1a".into(), "ap-southeast-1b".into()],
            ),
            cluster(
                "1000000000000000003",
                "demo-aws-paused",
                "aws",
                "aws-us-west-2",
                "PAUSED",
                "123456789012",
                aws_azs(),
            ),
        ],
        endpoint_services: vec![
            service(
                "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef",
                "aws",
                aws_azs(),
                "arn:aws:iam::123456789012:root",
                false,
            ),
            service(
                "com.amazonaws.vpce.us-west-2.vpce-svc-0fedcba9876543210",
                "aws",
                aws_azs(),
                "arn:aws:iam::123456789012:root",
                true,
            ),
            service(
                "com.aliyuncs.privatelink.ap-southeast-1.epsrv-t4n0123456789abcdef",
                "alicloud",
                vec!["ap-southeast-1a".into(), "ap-southeast-1b".into()],
                "acs:ram:*:5012345678901234:*",
                false,
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_world_is_valid() {
        let seed = default_seed();
        let clusters: Vec<_> = seed
            .clusters
            .into_iter()
            .map(|c| c.build(SystemTime::UNIX_EPOCH).unwrap())
            .collect();
        assert_eq!(clusters.len(), 3);
        assert_eq!(clusters[2].state, "PAUSED");
        let services: Vec<_> = seed
            .endpoint_services
            .into_iter()
            .map(|s| s.build().unwrap())
            .collect();
        assert_eq!(services[2].region, "ap-southeast-1");
        assert!(services[1].acceptance_required);
    }

    #[test]
    fn seed_errors_say_what_is_wrong() {
        let parse = |s: &str| serde_json::from_str::<Seed>(s);
        assert!(parse(r#"{"clusters":[{"cluster_id":"1","typo":1}]}"#).is_err());
        let seed = parse(
            r#"{"clusters":[{"cluster_id":"1","cloud_provider":"gcp","region_id":"gcp-x","account_id":"1","az_ids":["a"]}]}"#,
        )
        .unwrap();
        let err = seed
            .clusters
            .into_iter()
            .next()
            .unwrap()
            .build(SystemTime::now())
            .unwrap_err();
        assert!(err.contains("cloud_provider"), "{err}");
        let seed = parse(
            r#"{"endpoint_services":[{"name":"com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef","cloud_provider":"aws","region":"us-east-1","az_ids":["a"]}]}"#,
        )
        .unwrap();
        let err = seed
            .endpoint_services
            .into_iter()
            .next()
            .unwrap()
            .build()
            .unwrap_err();
        assert!(err.contains("does not match"), "{err}");
    }
}
