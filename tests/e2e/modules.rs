//! The reusable module `modules/aws-kafka-privatelink` and the example that
//! calls it: the module's own `terraform test` files run with AWS mocked
//! (its schema from the real provider) and TiDB Cloud the simulator.

use std::path::Path;

use serde_json::json;

use crate::harness::*;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn aws_kafka_privatelink_module_tests_pass_against_the_simulator() {
    let sim = Sim::start(&["--transition-delay-ms", "50"]);
    let mut tf = Tf::new(Some(&sim));
    let aws = use_aws_mirror(&mut tf);
    copy_configuration(&repo().join("modules/aws-kafka-privatelink"), tf.path());

    init_with_aws(&tf, tf.path(), aws);
    let run = tf.run(&["test", "-no-color"]);
    assert!(run.success, "terraform test failed:\n{}", run.all());
    // Every run of both files: the plan-only checks and the apply.
    run.assert_mentions("Success! 6 passed, 0 failed.");
    run.assert_mentions("tests/plan.tftest.hcl... pass");
    run.assert_mentions("tests/simulator.tftest.hcl... pass");

    // The apply created the connection and the domains in TiDB Cloud, and
    // the test's teardown destroyed them.
    let stats = sim.stats();
    let route = |r: &str| stats["requests_by_route"][r].as_u64().unwrap_or(0);
    let connection = "/v1beta1/clusters/{clusterId}/privateLinkConnections";
    assert_eq!(route(&format!("POST {connection}")), 1, "{stats}");
    assert_eq!(
        route(&format!(
            "POST {connection}/{{privateLinkConnectionId}}:detachDomains"
        )),
        1,
        "{stats}"
    );
    let world = sim.control("GET", "/_sim/world", None).1;
    assert_eq!(world["private_link_connections"], json!([]), "{world}");
}

#[test]
fn aws_kafka_example_calls_the_module_and_validates() {
    let mut tf = Tf::new(None);
    let aws = use_aws_mirror(&mut tf);
    // The example refers to the module by its path in the repository.
    copy_configuration(
        &repo().join("modules/aws-kafka-privatelink"),
        &tf.path().join("modules/aws-kafka-privatelink"),
    );
    let example = tf.path().join("examples/aws-kafka");
    copy_configuration(&repo().join("examples/aws-kafka"), &example);

    init_with_aws(&tf, &example, aws);
    let mut validate = tf.command(&["validate", "-no-color"]);
    let validate = validate
        .current_dir(&example)
        .output()
        .expect("terraform validate");
    assert!(
        validate.status.success(),
        "examples/aws-kafka is not valid:\n{}{}",
        String::from_utf8_lossy(&validate.stdout),
        String::from_utf8_lossy(&validate.stderr)
    );
    let text = std::fs::read_to_string(example.join("main.tf")).expect("main.tf");
    assert!(
        text.contains("source = \"../../modules/aws-kafka-privatelink\""),
        "examples/aws-kafka should call the module"
    );
}

#[test]
fn import_examples_are_valid_with_their_resource_examples() {
    // The import blocks the resource pages show import into the resources
    // their examples declare.
    let dir = repo().join("examples/resources");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/resources") {
        let path = entry.expect("entry").path();
        let Ok(import) = std::fs::read_to_string(path.join("import-by-string-id.tf")) else {
            continue;
        };
        let resource = std::fs::read_to_string(path.join("resource.tf")).expect("resource.tf");
        let tf = Tf::new(None);
        tf.write(&format!("{resource}\n{import}"));
        let run = tf.run(&["validate", "-no-color"]);
        assert!(
            run.success,
            "{}: import-by-string-id.tf with resource.tf is not valid:\n{}",
            path.display(),
            run.all()
        );
        checked += 1;
    }
    assert_eq!(checked, 2, "one import example per resource");
}

#[test]
fn modules_are_formatted() {
    let out = std::process::Command::new(terraform_binary())
        .args(["fmt", "-check", "-recursive", "-no-color", "modules/"])
        .current_dir(repo())
        .output()
        .expect("run terraform fmt");
    assert!(
        out.status.success(),
        "terraform fmt -check -recursive modules/ found unformatted files (run `terraform fmt -recursive modules/`):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The ```terraform blocks of a Markdown page.
fn terraform_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match current.as_mut() {
            None if line == "```terraform" => current = Some(String::new()),
            None => {}
            Some(_) if line == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    blocks
}

#[test]
fn terraform_blocks_in_the_docs_parse_and_are_formatted() {
    // Hand-written guides as well as generated pages: a reader copies them.
    let mut pages = vec![repo().join("docs/index.md")];
    for kind in ["guides", "resources", "data-sources", "functions"] {
        for entry in std::fs::read_dir(repo().join("docs").join(kind)).expect("docs directory") {
            pages.push(entry.expect("entry").path());
        }
    }
    let mut checked = 0;
    for page in pages {
        let text = std::fs::read_to_string(&page).expect("page");
        for block in terraform_blocks(&text) {
            let mut fmt = std::process::Command::new(terraform_binary())
                .args(["fmt", "-no-color", "-"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("run terraform fmt");
            std::io::Write::write_all(&mut fmt.stdin.take().expect("stdin"), block.as_bytes())
                .expect("write the block");
            let out = fmt.wait_with_output().expect("terraform fmt");
            assert!(
                out.status.success(),
                "{}: a terraform block does not parse:\n{block}\n{}",
                page.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                block,
                "{}: a terraform block is not formatted as terraform fmt would",
                page.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} terraform blocks found");
}

#[test]
fn aws_guide_steps_form_a_valid_configuration() {
    // The guide's steps, put together as a reader would, are valid against
    // the real schemas of both providers.
    let text = std::fs::read_to_string(repo().join("docs/guides/kafka-on-aws.md")).expect("guide");
    let steps: Vec<String> = terraform_blocks(&text)
        .into_iter()
        .filter(|b| !b.contains("kafka_privatelink"))
        .collect();
    assert!(steps.len() >= 9, "only {} steps found", steps.len());
    let mut tf = Tf::new(None);
    let aws = use_aws_mirror(&mut tf);
    std::fs::write(
        tf.path().join("main.tf"),
        format!(
            "{}\nvariable \"cluster_id\" {{\n  type = string\n}}\n\nvariable \"vpc_id\" {{\n  type = string\n}}\n",
            steps.join("\n")
        ),
    )
    .expect("main.tf");
    init_with_aws(&tf, tf.path(), aws);
    tf.ok(&["validate", "-no-color"]);
}
