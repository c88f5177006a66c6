//! Browser tests of the simulator's console (`/`): Debian's headless
//! Chromium, driven through chromedriver, against `tidbcloud-sim` on a free
//! loopback port, with the real `terraform` CLI where a scenario needs it.
//! Screenshots go to `target/test-artifacts/console/`.
//!
//! Every wait is for a condition on the page (bounded by
//! [`webdriver::WAIT`]), never a fixed sleep.

#[path = "../e2e/harness.rs"]
mod harness;
mod webdriver;

use serde_json::{json, Value};

use harness::{
    aws_connection, Sim, Tf, ALI_CLUSTER, AWS_AUTO, AWS_CLUSTER, AWS_MANUAL, PUBLIC_KEY,
};
use webdriver::Page;

const GET_ONE: &str =
    "GET /v1beta1/clusters/{clusterId}/privateLinkConnections/{privateLinkConnectionId}";
const LIST: &str = "GET /v1beta1/clusters/{clusterId}/privateLinkConnections";

/// The row of the connection named `arguments[0]`.
const ROW: &str = "Array.from(document.querySelectorAll('#connections tbody tr[data-id]')).find((tr) => tr.querySelector('td.name').textContent === arguments[0])";

/// The console for `cluster`, loaded and subscribed to events.
fn console(sim: &Sim, cluster: &str) -> Page {
    let page = Page::open(&format!("{}/?cluster={cluster}", sim.url));
    page.wait(
        "the console to list and subscribe",
        "document.body.dataset.loaded === 'true' && document.body.dataset.live === 'true'",
        json!([]),
    );
    page
}

fn dialog_open(page: &Page, id: &str, open: bool) {
    page.wait(
        &format!("dialog {id} open={open}"),
        "document.getElementById(arguments[0]).open === arguments[1]",
        json!([id, open]),
    );
}

/// The id of the row named `name`, once it is listed.
fn row_id(page: &Page, name: &str) -> String {
    page.wait(
        &format!("a row named {name}"),
        &format!("(({ROW}) || {{dataset: {{}}}}).dataset.id"),
        json!([name]),
    )
    .as_str()
    .expect("row id")
    .to_string()
}

/// Waits for the row named `name` to show `state` and returns the status text.
fn row_in_state(page: &Page, name: &str, state: &str) -> String {
    let text = page.wait(
        &format!("{name} to be {state}"),
        &format!("(() => {{ const tr = {ROW}; return tr && tr.dataset.state === arguments[1] && tr.querySelector('.status').textContent; }})()"),
        json!([name, state]),
    );
    text.as_str().unwrap_or_default().to_string()
}

fn row_gone(page: &Page, name: &str) {
    page.wait(
        &format!("{name} to leave the list"),
        &format!("!({ROW})"),
        json!([name]),
    );
}

fn count(page: &Page) -> String {
    page.text("#count")
}

/// Creates a connection of the AWS cluster with the create dialog.
fn create_in_console(page: &Page, name: &str, service: &str) -> String {
    page.click("#create");
    dialog_open(page, "create-dialog", true);
    page.fill("#create-name", name);
    page.click("#create-type option[value=\"AWS_ENDPOINT_SERVICE\"]");
    page.fill("#create-service", service);
    page.click("#create-submit");
    dialog_open(page, "create-dialog", false);
    row_id(page, name)
}

/// Opens the action menu of a row and waits for its detail to load.
fn open_menu(page: &Page, id: &str) {
    let menu_for_row = "(() => { const m = document.getElementById('menu'); return !m.hidden && m.dataset.id === arguments[0]; })()";
    if !page
        .js(&format!("return {menu_for_row};"), json!([id]))
        .as_bool()
        .unwrap_or(false)
    {
        page.click(&format!("tr[data-id=\"{id}\"] button.more"));
    }
    page.wait(
        "the row's detail in its menu",
        &format!("{menu_for_row} && document.getElementById('menu').dataset.loaded === 'true'"),
        json!([id]),
    );
}

fn disabled(page: &Page, css: &str) -> bool {
    page.find(css).property("disabled") == Value::Bool(true)
}

fn route_count(sim: &Sim, route: &str) -> u64 {
    sim.stats()["requests_by_route"][route]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn create_in_the_console_then_import_with_generated_configuration_plans_no_changes() {
    let sim = Sim::start(&[]);
    let page = console(&sim, AWS_CLUSTER);
    assert_eq!(count(&page), "0 results");

    page.click("#create");
    dialog_open(&page, "create-dialog", true);
    // The connection type is limited to the cluster's cloud.
    let types = page.js(
        "return Array.from(document.querySelectorAll('#create-type option')).filter((o) => o.value).map((o) => o.textContent);",
        json!([]),
    );
    assert_eq!(types, json!(["AWS Endpoint Service"]));
    page.click("#create-type option[value=\"AWS_ENDPOINT_SERVICE\"]");
    // The hint, from the availability zones API.
    let hint = page
        .wait(
            "the hint with the account and zones",
            "(() => { const t = document.getElementById('create-hint').textContent; return t.includes('usw2-az3') && t; })()",
            json!([]),
        )
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        hint.contains("arn:aws:iam::123456789012:root")
            && hint.contains("usw2-az1, usw2-az2, usw2-az3"),
        "{hint}"
    );

    // The API's 400s, as they come.
    page.click("#create-submit");
    let error = page.wait(
        "the API's first 400",
        "document.getElementById('create-error').textContent",
        json!([]),
    );
    // The API's words (a trace id may follow them).
    assert!(
        error
            .as_str()
            .unwrap_or_default()
            .starts_with("400: displayName must be 1 to 64 characters long (got 0)"),
        "{error}"
    );
    page.fill("#create-name", "console-made");
    page.fill("#create-service", "com.amazonaws.vpce.us-west-2.nope");
    page.click("#create-submit");
    page.wait(
        "the API's second 400",
        "document.getElementById('create-error').textContent.includes('not a valid AWS endpoint service name')",
        json!([]),
    );
    assert!(page
        .text("#create-error")
        .starts_with("400: awsEndpointService.name: \"com.amazonaws.vpce.us-west-2.nope\""));
    page.screenshot("create-dialog-400");

    page.fill("#create-service", AWS_AUTO);
    page.click("#create-submit");
    dialog_open(&page, "create-dialog", false);
    let id = row_id(&page, "console-made");
    assert_eq!(row_in_state(&page, "console-made", "ACTIVE"), "Active");
    assert_eq!(count(&page), "1 result");
    page.screenshot("created-in-console");

    // A platform team imports it with generated configuration.
    let tf = Tf::new(Some(&sim));
    tf.write(&format!(
        "import {{\n  to = tidbcloud_private_link_connection.kafka\n  id = \"{AWS_CLUSTER},{id}\"\n}}\n"
    ));
    tf.ok(&[
        "plan",
        "-no-color",
        "-input=false",
        "-generate-config-out=generated.tf",
    ]);
    let generated = std::fs::read_to_string(tf.path().join("generated.tf")).expect("generated.tf");
    assert!(
        generated.contains("console-made") && generated.contains(AWS_AUTO),
        "{generated}"
    );
    tf.apply();
    tf.assert_no_changes();
}

#[test]
fn terraform_apply_shows_creating_then_active_without_a_reload() {
    // Long enough for the page to fetch the new row before it turns Active.
    let sim = Sim::start(&["--transition-delay-ms", "3000"]);
    let page = console(&sim, AWS_CLUSTER);
    // Every status each row shows, in order, and a mark a reload would erase.
    page.js(
        r#"window.__sameDocument = true;
        window.__seen = {};
        const record = () => {
          for (const tr of document.querySelectorAll('#connections tbody tr[data-id]')) {
            const name = tr.querySelector('td.name').textContent;
            const label = tr.querySelector('.status').textContent;
            const seen = (window.__seen[name] = window.__seen[name] || []);
            if (seen[seen.length - 1] !== label) seen.push(label);
          }
        };
        new MutationObserver(record).observe(document.querySelector('#connections tbody'),
          { subtree: true, childList: true, characterData: true, attributes: true });"#,
        json!([]),
    );

    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection("kafka", "from-terraform", AWS_AUTO, ""));
    std::thread::scope(|s| {
        let apply = s.spawn(|| tf.apply());
        // The observer keeps what was shown even if a poll comes late.
        page.wait(
            "the new row to show up",
            "(window.__seen['from-terraform'] || [])[0]",
            json!([]),
        );
        page.screenshot("apply-creating");
        row_in_state(&page, "from-terraform", "ACTIVE");
        page.screenshot("apply-active");
        apply.join().expect("terraform apply");
    });
    let seen = page.js("return window.__seen['from-terraform'];", json!([]));
    assert_eq!(seen, json!(["Creating", "Active"]));
    assert_eq!(
        page.js("return window.__sameDocument === true;", json!([])),
        json!(true)
    );

    tf.destroy();
    row_gone(&page, "from-terraform");
    assert_eq!(count(&page), "0 results");
    assert_eq!(
        page.js("return window.__sameDocument === true;", json!([])),
        json!(true)
    );
}

#[test]
fn delete_is_disabled_while_domains_are_attached_then_detach_and_delete() {
    let sim = Sim::start(&[]);
    let page = console(&sim, AWS_CLUSTER);
    let id = create_in_console(&page, "kafka", AWS_AUTO);
    row_in_state(&page, "kafka", "ACTIVE");

    open_menu(&page, &id);
    assert!(disabled(&page, "#menu-detach"), "nothing to detach yet");
    assert!(!disabled(&page, "#menu-delete"));

    // Attach TiDB Cloud managed domains: a dry run shows them first.
    page.click("#menu-attach");
    dialog_open(&page, "attach-dialog", true);
    assert!(
        disabled(&page, "#attach-submit"),
        "attach waits for the preview"
    );
    page.click("#attach-type option[value=\"TIDBCLOUD_MANAGED\"]");
    page.click("#attach-generate");
    let preview = page.wait(
        "the generated domains",
        "(() => { const d = Array.from(document.querySelectorAll('#attach-preview li')).map((li) => li.textContent); return d.length && d; })()",
        json!([]),
    );
    let preview: Vec<String> = serde_json::from_value(preview).expect("domain names");
    assert_eq!(preview.len(), 3, "{preview:?}");
    assert!(preview.iter().all(|d| d.contains("usw2-az")), "{preview:?}");
    page.screenshot("attach-preview");
    page.click("#attach-submit");
    dialog_open(&page, "attach-dialog", false);

    // The detail shows the domains, their states (live) and the creator.
    open_menu(&page, &id);
    page.click("#menu-view");
    dialog_open(&page, "view-dialog", true);
    page.wait(
        "the domains to succeed in the detail",
        "(() => { const s = Array.from(document.querySelectorAll('#view-body tr[data-domain] .status')); return s.length === 3 && s.every((e) => e.dataset.state === 'SUCCEEDED'); })()",
        json!([]),
    );
    let detail = page.text("#view-body");
    for name in &preview {
        assert!(detail.contains(name.as_str()), "{name} in {detail}");
    }
    assert!(detail.contains(&format!("apikey-{PUBLIC_KEY}")), "{detail}");
    assert!(detail.contains(AWS_AUTO), "{detail}");
    page.screenshot("detail-with-domains");
    page.click("#view-dialog button.close");
    dialog_open(&page, "view-dialog", false);

    // Delete is grayed out, with the spec's explanation.
    open_menu(&page, &id);
    assert!(disabled(&page, "#menu-delete"));
    assert!(disabled(&page, "#menu-attach"), "domains attach once");
    assert!(page.text("#menu-note").contains("detach all domains first"));
    page.screenshot("delete-disabled-while-attached");

    // Detach asks, listing the domains.
    page.click("#menu-detach");
    dialog_open(&page, "detach-dialog", true);
    let listed: Vec<String> = serde_json::from_value(page.js(
        "return Array.from(document.querySelectorAll('#detach-list li')).map((li) => li.textContent);",
        json!([]),
    ))
    .expect("listed domains");
    assert_eq!(listed, preview);
    page.screenshot("detach-confirm");
    page.click("#detach-submit");
    dialog_open(&page, "detach-dialog", false);

    // Once the domains are gone (the open menu follows the events), delete.
    open_menu(&page, &id);
    page.wait(
        "delete to be enabled",
        "!document.getElementById('menu-delete').disabled",
        json!([]),
    );
    page.click("#menu-delete");
    dialog_open(&page, "delete-dialog", true);
    assert!(page
        .text("#delete-dialog")
        .contains("Are you sure you want to delete this Private Link Connection?"));
    page.click("#delete-submit");
    dialog_open(&page, "delete-dialog", false);
    row_gone(&page, "kafka");
    assert_eq!(count(&page), "0 results");
}

#[test]
fn confluent_domains_need_a_unique_name_and_aws() {
    let sim = Sim::start(&[]);
    let page = console(&sim, AWS_CLUSTER);
    // Markup in data stays text.
    let tricky = "<img src=x onerror=\"window.__xss=1\">";
    let id = create_in_console(&page, tricky, AWS_AUTO);
    row_in_state(&page, tricky, "ACTIVE");
    assert_eq!(
        page.js(
            "return window.__xss === undefined && !document.querySelector('#connections img');",
            json!([])
        ),
        json!(true)
    );

    open_menu(&page, &id);
    page.click("#menu-attach");
    dialog_open(&page, "attach-dialog", true);
    page.click("#attach-type option[value=\"CONFLUENT\"]");
    page.click("#attach-generate");
    let error = page.wait(
        "the API's 400 for a missing unique name",
        "document.getElementById('attach-error').textContent",
        json!([]),
    );
    assert!(
        error
            .as_str()
            .unwrap_or_default()
            .starts_with("400: attachDomain.uniqueName is required for CONFLUENT"),
        "{error}"
    );
    page.fill("#attach-unique", "lkc-abc123");
    page.click("#attach-generate");
    page.wait(
        "the Confluent domains",
        "document.querySelectorAll('#attach-preview li').length > 0",
        json!([]),
    );
    assert!(page.text("#attach-preview").contains("lkc-abc123"));
    page.click("#attach-submit");
    dialog_open(&page, "attach-dialog", false);
    open_menu(&page, &id);
    assert!(disabled(&page, "#menu-delete"));
    drop(page);

    // Alibaba Cloud: its own connection type, no Confluent.
    let page = console(&sim, ALI_CLUSTER);
    page.click("#create");
    dialog_open(&page, "create-dialog", true);
    let types = page.js(
        "return Array.from(document.querySelectorAll('#create-type option')).filter((o) => o.value).map((o) => o.value);",
        json!([]),
    );
    assert_eq!(types, json!(["ALICLOUD_ENDPOINT_SERVICE"]));
    page.click("#create-type option[value=\"ALICLOUD_ENDPOINT_SERVICE\"]");
    page.wait(
        "the Alibaba Cloud hint",
        "document.getElementById('create-hint').textContent.includes('acs:ram:*:5012345678901234:*')",
        json!([]),
    );
    page.fill("#create-name", "ali");
    page.fill("#create-service", harness::ALI_AUTO);
    page.click("#create-submit");
    dialog_open(&page, "create-dialog", false);
    let ali = row_id(&page, "ali");
    row_in_state(&page, "ali", "ACTIVE");
    open_menu(&page, &ali);
    page.click("#menu-attach");
    dialog_open(&page, "attach-dialog", true);
    let kinds = page.js(
        "return Array.from(document.querySelectorAll('#attach-type option')).filter((o) => o.value).map((o) => o.value);",
        json!([]),
    );
    assert_eq!(kinds, json!(["TIDBCLOUD_MANAGED"]));
}

#[test]
fn a_wrong_key_shows_the_api_error() {
    let sim = Sim::start(&[]);
    let page = console(&sim, AWS_CLUSTER);
    // The API's challenge offers SHA-256, which the page computes with WebCrypto.
    let challenge = page.js(
        "return fetch(arguments[0], { credentials: 'omit' }).then((r) => r.headers.get('WWW-Authenticate'));",
        json!([format!("/v1beta1/clusters/{AWS_CLUSTER}")]),
    );
    assert!(
        challenge
            .as_str()
            .unwrap_or_default()
            .contains("algorithm=SHA-256"),
        "{challenge}"
    );

    page.fill("#private-key", "not-the-private-key");
    page.click("#key-apply");
    let error = page.wait(
        "the API's 401",
        "(() => { const e = document.getElementById('error'); return !e.hidden && e.textContent; })()",
        json!([]),
    );
    assert!(
        error
            .as_str()
            .unwrap_or_default()
            .starts_with("401: the API key is not valid: unknown public key or wrong private key"),
        "{error}"
    );
    assert_eq!(count(&page), "");
    page.screenshot("wrong-key");

    page.fill("#private-key", harness::PRIVATE_KEY);
    page.click("#key-apply");
    page.wait(
        "the listing with the right key",
        "document.getElementById('error').hidden && document.getElementById('count').textContent === '0 results'",
        json!([]),
    );
}

#[test]
fn the_list_shows_three_states_and_the_fail_message_on_hover() {
    let sim = Sim::start(&[]);
    let page = console(&sim, AWS_CLUSTER);
    let lists = route_count(&sim, LIST);
    create_in_console(&page, "kafka-prod", AWS_AUTO);
    create_in_console(&page, "rds-orders", AWS_MANUAL);
    let failing = create_in_console(&page, "kafka-staging", AWS_AUTO);
    row_in_state(&page, "kafka-staging", "ACTIVE");
    let message = "the endpoint service rejected the connection: principal not allowed";
    sim.post(
        &format!("/_sim/private-link-connections/{failing}/fail"),
        json!({ "message": message }),
    );
    assert_eq!(row_in_state(&page, "kafka-prod", "ACTIVE"), "Active");
    assert_eq!(
        row_in_state(&page, "rds-orders", "PENDING_ACCEPTANCE"),
        "Pending acceptance"
    );
    assert_eq!(row_in_state(&page, "kafka-staging", "FAILED"), "Failed(?)");
    assert_eq!(count(&page), "3 results");

    // Watching cost nothing: the creates answered with the rows, and the
    // events patched their states.
    assert_eq!(route_count(&sim, LIST), lists);
    assert_eq!(route_count(&sim, GET_ONE), 0);

    let status = format!("tr[data-id=\"{failing}\"] .status");
    page.hover(&status);
    let tip = page.wait(
        "the fail message on hover",
        "(() => { const e = document.querySelector(arguments[0]); return e.matches(':hover') && getComputedStyle(e, '::after').content; })()",
        json!([status]),
    );
    assert_eq!(tip, json!(format!("\"{message}\"")));
    let shot = page.screenshot("list-three-states");
    eprintln!("screenshot: {}", shot.display());

    // The refresh control lists again, through the API.
    page.click("#refresh");
    page.wait(
        "the refreshed list",
        "document.body.dataset.loaded === 'true' && document.getElementById('count').textContent === '3 results'",
        json!([]),
    );
    assert_eq!(route_count(&sim, LIST), lists + 1);
}
