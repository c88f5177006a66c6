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
    use_aws_mirror(&mut tf);
    copy_configuration(&repo().join("modules/aws-kafka-privatelink"), tf.path());

    tf.ok(&["init", "-no-color", "-input=false"]);
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
    use_aws_mirror(&mut tf);
    // The example refers to the module by its path in the repository.
    copy_configuration(
        &repo().join("modules/aws-kafka-privatelink"),
        &tf.path().join("modules/aws-kafka-privatelink"),
    );
    let example = tf.path().join("examples/aws-kafka");
    copy_configuration(&repo().join("examples/aws-kafka"), &example);

    let mut init = tf.command(&["init", "-no-color", "-input=false"]);
    let init = init.current_dir(&example).output().expect("terraform init");
    assert!(
        init.status.success(),
        "init failed:\n{}{}",
        String::from_utf8_lossy(&init.stdout),
        String::from_utf8_lossy(&init.stderr)
    );
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
