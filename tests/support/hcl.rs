//! Terraform configuration for the tests, built rather than pasted.

use std::fmt;

use super::world::{ALI_CLUSTER, AWS_CLUSTER};

/// The `terraform { required_providers }` block every configuration starts with.
pub const HEADER: &str = r#"terraform {
  required_providers {
    tidbcloud = {
      source = "terraform.local/tidbcloud/tidbcloud"
    }
  }
}
"#;

/// A `tidbcloud_private_link_connection` resource block.
///
/// ```ignore
/// Connection::aws("many", "kafka-${count.index}", AWS_AUTO).count(6).line("wait_for_active = true")
/// ```
#[derive(Debug, Clone)]
pub struct Connection {
    name: String,
    count: Option<usize>,
    cluster_id: String,
    display_name: String,
    block: &'static str,
    service: String,
    lines: Vec<String>,
}

impl Connection {
    /// A connection on [`AWS_CLUSTER`] to an AWS endpoint service.
    pub fn aws(name: &str, display_name: &str, service: &str) -> Connection {
        Connection::new(
            name,
            AWS_CLUSTER,
            display_name,
            "aws_endpoint_service",
            service,
        )
    }

    /// A connection on [`ALI_CLUSTER`] to an Alibaba Cloud endpoint service.
    pub fn alicloud(name: &str, display_name: &str, service: &str) -> Connection {
        Connection::new(
            name,
            ALI_CLUSTER,
            display_name,
            "alicloud_endpoint_service",
            service,
        )
    }

    fn new(
        name: &str,
        cluster_id: &str,
        display_name: &str,
        block: &'static str,
        service: &str,
    ) -> Connection {
        Connection {
            name: name.into(),
            count: None,
            cluster_id: cluster_id.into(),
            display_name: display_name.into(),
            block,
            service: service.into(),
            lines: Vec::new(),
        }
    }

    /// Another cluster than the cloud's default one.
    pub fn cluster(mut self, cluster_id: &str) -> Connection {
        self.cluster_id = cluster_id.into();
        self
    }

    /// `count = n`.
    pub fn count(mut self, n: usize) -> Connection {
        self.count = Some(n);
        self
    }

    /// Any further argument or block, as written.
    pub fn line(mut self, text: &str) -> Connection {
        if !text.is_empty() {
            self.lines.push(text.into());
        }
        self
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        writeln!(
            f,
            "resource \"tidbcloud_private_link_connection\" \"{}\" {{",
            self.name
        )?;
        if let Some(n) = self.count {
            writeln!(f, "  count        = {n}")?;
        }
        writeln!(f, "  cluster_id   = \"{}\"", self.cluster_id)?;
        writeln!(f, "  display_name = \"{}\"", self.display_name)?;
        writeln!(f, "  {} = {{", self.block)?;
        writeln!(f, "    name = \"{}\"", self.service)?;
        writeln!(f, "  }}")?;
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        writeln!(f, "}}")
    }
}

/// A connection resource block on [`AWS_CLUSTER`] with `extra` lines.
pub fn aws_connection(name: &str, display_name: &str, service: &str, extra: &str) -> String {
    Connection::aws(name, display_name, service)
        .line(extra)
        .to_string()
}
