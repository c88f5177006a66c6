//! Browser tests of the simulator's console (`/`): Debian's headless
//! Chromium, driven through chromedriver, against `tidbcloud-sim` on a free
//! loopback port, with the real `terraform` CLI where a scenario needs it.
//! Screenshots go to `target/test-artifacts/console/`.
//!
//! Every wait is for a condition on the page (bounded by
//! [`webdriver::WAIT`]), never a fixed sleep.

#[path = "../support/mod.rs"]
mod support;

#[path = "../e2e/harness.rs"]
mod harness;
mod webdriver;

use serde_json::{json, Value};

use harness::{
    aws_connection, Sim, Tf, ALI_CLUSTER, AWS_AUTO, AWS_CLUSTER, AWS_MANUAL, PUBLIC_KEY,
};
use webdriver::{key, Page};

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
        // Another row's menu may cover this row's button: close it first.
        page.press(&[key::ESCAPE]);
        page.wait(
            "the menu to close",
            "document.getElementById('menu').hidden",
            json!([]),
        );
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

/// What has focus: an element's id, `more:ID` for a row's action button,
/// `tip:ID` for a row's message control, else the tag name.
const FOCUSED: &str = "(() => { const a = document.activeElement; if (!a) return 'none'; \
    const tr = a.closest('tr[data-id]'); \
    if (tr && a.matches('button.more')) return 'more:' + tr.dataset.id; \
    if (tr && a.matches('.tip')) return 'tip:' + tr.dataset.id; \
    return a.id || a.tagName.toLowerCase(); })()";

/// Waits for focus to be on `want` (as [`FOCUSED`] names it).
fn focus_on(page: &Page, want: &str) {
    page.wait(
        &format!("focus on {want}"),
        &format!("{FOCUSED} === arguments[0]"),
        json!([want]),
    );
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
        "(() => { const e = document.querySelector(arguments[0]); const t = e.closest('.badge').querySelector('[role=tooltip]'); return e.matches(':hover') && t.checkVisibility() && t.textContent; })()",
        json!([status]),
    );
    assert_eq!(tip, json!(message));
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

#[test]
fn attach_domains_is_disabled_with_the_reason_unless_the_connection_is_active() {
    // Transitions wait for the clock, which the test moves.
    let sim = Sim::start(&["--transition-delay-ms", "600000"]);
    let page = console(&sim, AWS_CLUSTER);
    let auto = create_in_console(&page, "auto", AWS_AUTO);
    let manual = create_in_console(&page, "manual", AWS_MANUAL);
    row_in_state(&page, "auto", "CREATING");

    let refused = |page: &Page, state: &str| {
        assert!(disabled(page, "#menu-attach"), "attach while {state}");
        let title = page.find("#menu-attach").property("title");
        let title = title.as_str().unwrap_or_default();
        assert!(title.contains("Active") && title.contains(state), "{title}");
        let note = page.text("#menu-note");
        assert!(note.contains("Active") && note.contains(state), "{note}");
    };
    open_menu(&page, &auto);
    refused(&page, "Creating");
    page.screenshot("attach-disabled-while-creating");

    sim.advance(600_000);
    row_in_state(&page, "auto", "ACTIVE");
    row_in_state(&page, "manual", "PENDING_ACCEPTANCE");
    open_menu(&page, &manual);
    refused(&page, "Pending acceptance");

    open_menu(&page, &auto);
    assert!(!disabled(&page, "#menu-attach"), "attach while Active");
    assert_eq!(page.text("#menu-note"), "");

    // The open menu follows the row's state.
    sim.post(
        &format!("/_sim/private-link-connections/{auto}/fail"),
        json!({ "message": "the endpoint service went away" }),
    );
    page.wait(
        "attach to be disabled once the connection fails",
        "document.getElementById('menu-attach').disabled",
        json!([]),
    );
    refused(&page, "Failed");
}

/// Applies a private key in the header and waits for the API's 401 in the banner.
fn use_wrong_key(page: &Page) {
    page.fill("#private-key", "not-the-private-key");
    page.click("#key-apply");
    page.wait(
        "the API's 401",
        "(() => { const e = document.getElementById('error'); return !e.hidden && e.textContent.startsWith('401'); })()",
        json!([]),
    );
}

#[test]
fn a_wrong_key_clears_the_cluster_line() {
    let sim = Sim::start(&[]);
    let page = console(&sim, AWS_CLUSTER);
    let line = page.text("#cluster-info");
    assert!(line.contains(AWS_CLUSTER), "{line}");
    let name = page.text("#crumb-cluster");
    assert!(!name.is_empty());

    use_wrong_key(&page);
    // Nothing read with the old key stays on the page.
    assert_eq!(page.text("#cluster-info"), "");
    let crumbs = page.text("nav.crumbs");
    assert!(!crumbs.contains(&name), "{crumbs}");
    page.screenshot("wrong-key-cluster-line");

    page.fill("#private-key", harness::PRIVATE_KEY);
    page.click("#key-apply");
    page.wait(
        "the cluster line with the right key",
        "document.getElementById('cluster-info').textContent === arguments[0]",
        json!([line]),
    );
}

#[test]
fn a_wrong_key_keeps_create_closed_and_says_why() {
    let sim = Sim::start(&[]);
    let page = console(&sim, AWS_CLUSTER);
    use_wrong_key(&page);

    page.click("#create");
    let banner = page.wait(
        "the page's refusal",
        "(() => { const e = document.getElementById('error'); return !e.hidden && e.textContent.includes('The cluster could not be read') && e.textContent; })()",
        json!([]),
    );
    // The API's reason stays in it.
    assert!(
        banner
            .as_str()
            .unwrap_or_default()
            .contains("the API key is not valid"),
        "{banner}"
    );
    assert_eq!(
        page.js(
            "return document.getElementById('create-dialog').open;",
            json!([])
        ),
        json!(false)
    );
    page.screenshot("wrong-key-create-refused");

    page.fill("#private-key", harness::PRIVATE_KEY);
    page.click("#key-apply");
    page.wait(
        "the listing with the right key",
        "document.body.dataset.loaded === 'true' && document.getElementById('error').hidden",
        json!([]),
    );
    page.click("#create");
    dialog_open(&page, "create-dialog", true);
}

/// Moves focus to the action button of row `id`.
fn focus_more(page: &Page, id: &str) {
    page.js(
        "document.querySelector(`tr[data-id=\"${arguments[0]}\"] button.more`).focus();",
        json!([id]),
    );
    focus_on(page, &format!("more:{id}"));
}

fn expanded(page: &Page, id: &str) -> Value {
    page.js(
        "return document.querySelector(`tr[data-id=\"${arguments[0]}\"] button.more`).getAttribute('aria-expanded');",
        json!([id]),
    )
}

fn menu_loaded(page: &Page) {
    page.wait(
        "the menu's detail",
        "!document.getElementById('menu').hidden && document.getElementById('menu').dataset.loaded === 'true'",
        json!([]),
    );
}

#[test]
fn the_action_menu_works_from_the_keyboard() {
    let sim = Sim::start(&[]);
    let page = console(&sim, AWS_CLUSTER);
    let first = create_in_console(&page, "first", AWS_AUTO);
    let second = create_in_console(&page, "second", AWS_AUTO);
    row_in_state(&page, "first", "ACTIVE");
    row_in_state(&page, "second", "ACTIVE");

    // Enter on "···" opens the menu with focus on its first item.
    focus_more(&page, &first);
    assert_eq!(expanded(&page, &first), json!("false"));
    page.press(&[key::ENTER]);
    focus_on(&page, "menu-view");
    assert_eq!(expanded(&page, &first), json!("true"));
    assert_eq!(page.accessible_name("#menu"), "Actions for first");
    menu_loaded(&page);

    // Arrow keys move between the items that can be used (Detach is
    // disabled: nothing is attached), wrapping round; Home and End jump.
    page.press(&[key::ARROW_DOWN]);
    focus_on(&page, "menu-attach");
    page.press(&[key::ARROW_DOWN]);
    focus_on(&page, "menu-delete");
    page.press(&[key::ARROW_DOWN]);
    focus_on(&page, "menu-view");
    page.press(&[key::ARROW_UP]);
    focus_on(&page, "menu-delete");
    page.press(&[key::HOME]);
    focus_on(&page, "menu-view");
    page.press(&[key::END]);
    focus_on(&page, "menu-delete");

    // Escape closes it and gives focus back to "···".
    page.press(&[key::ESCAPE]);
    focus_on(&page, &format!("more:{first}"));
    assert_eq!(
        page.js("return document.getElementById('menu').hidden;", json!([])),
        json!(true)
    );
    assert_eq!(expanded(&page, &first), json!("false"));

    // Arrow Up on "···" opens it on its last item; Tab then leaves the
    // menu, which closes, for what follows "···".
    page.press(&[key::ARROW_UP]);
    menu_loaded(&page);
    focus_on(&page, "menu-delete");
    page.press(&[key::TAB]);
    focus_on(&page, &format!("more:{second}"));
    assert_eq!(
        page.js("return document.getElementById('menu').hidden;", json!([])),
        json!(true)
    );

    // Arrow Down opens it on its first item; Enter runs the item.
    page.press(&[key::ARROW_DOWN]);
    focus_on(&page, "menu-view");
    page.press(&[key::ENTER]);
    dialog_open(&page, "view-dialog", true);
    assert!(page.text("#view-title").starts_with("second"));
}

#[test]
fn closing_a_dialog_opened_from_the_menu_gives_focus_back_to_the_rows_button() {
    let sim = Sim::start(&[]);
    let page = console(&sim, AWS_CLUSTER);
    let id = create_in_console(&page, "kafka", AWS_AUTO);
    row_in_state(&page, "kafka", "ACTIVE");
    let more = format!("more:{id}");

    // With the mouse: View, then Close.
    open_menu(&page, &id);
    page.click("#menu-view");
    dialog_open(&page, "view-dialog", true);
    page.click("#view-dialog button.close");
    dialog_open(&page, "view-dialog", false);
    focus_on(&page, &more);

    // Delete, then Cancel.
    open_menu(&page, &id);
    page.click("#menu-delete");
    dialog_open(&page, "delete-dialog", true);
    page.click("#delete-dialog button.close");
    dialog_open(&page, "delete-dialog", false);
    focus_on(&page, &more);

    // With the keyboard: Attach Domains, then Escape.
    focus_more(&page, &id);
    page.press(&[key::ENTER]);
    menu_loaded(&page);
    page.press(&[key::ARROW_DOWN]);
    focus_on(&page, "menu-attach");
    page.press(&[key::ENTER]);
    dialog_open(&page, "attach-dialog", true);
    page.press(&[key::ESCAPE]);
    dialog_open(&page, "attach-dialog", false);
    focus_on(&page, &more);
}

#[test]
fn a_failed_rows_message_is_reachable_by_keyboard_and_named() {
    let sim = Sim::start(&[]);
    let page = console(&sim, AWS_CLUSTER);
    let id = create_in_console(&page, "kafka-staging", AWS_AUTO);
    row_in_state(&page, "kafka-staging", "ACTIVE");
    let message = "the endpoint service rejected the connection: principal not allowed";
    sim.post(
        &format!("/_sim/private-link-connections/{id}/fail"),
        json!({ "message": message }),
    );
    row_in_state(&page, "kafka-staging", "FAILED");

    // Tab from Create (the last control above the list) reaches it.
    page.js("document.getElementById('create').focus();", json!([]));
    focus_on(&page, "create");
    page.press(&[key::TAB]);
    focus_on(&page, &format!("tip:{id}"));

    // A name of its own, and the message as its description.
    let tip = format!("tr[data-id=\"{id}\"] .tip");
    let name = page.accessible_name(&tip);
    assert!(!name.is_empty() && name != "(?)", "{name:?}");
    let described = page.js(
        "const t = document.querySelector(arguments[0]); \
         return (t.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean) \
           .map((id) => (document.getElementById(id) || {}).textContent || '').join(' ');",
        json!([tip]),
    );
    assert_eq!(described, json!(message));
    // Focus shows the message, as hover does.
    let shown = page.wait(
        "the message shown on focus",
        "(() => { const t = document.getElementById(document.querySelector(arguments[0]).getAttribute('aria-describedby')); return t && t.checkVisibility() && t.textContent; })()",
        json!([tip]),
    );
    assert_eq!(shown, json!(message));
    page.screenshot("fail-message-on-focus");

    // A new message, live: focus stays on the row's "(?)".
    let later = "the endpoint service was deleted";
    sim.post(
        &format!("/_sim/private-link-connections/{id}/fail"),
        json!({ "message": later }),
    );
    page.wait(
        "the new message",
        "(() => { const t = document.querySelector(arguments[0]); const d = t && document.getElementById(t.getAttribute('aria-describedby')); return d && d.textContent === arguments[1]; })()",
        json!([tip, later]),
    );
    focus_on(&page, &format!("tip:{id}"));

    page.press(&[key::TAB]);
    focus_on(&page, &format!("more:{id}"));
}

#[test]
fn the_networking_section_explains_itself_and_links_to_the_documentation() {
    let sim = Sim::start(&[]);
    let page = console(&sim, AWS_CLUSTER);
    // The links between the title and the list.
    let links = page.js(
        r#"const title = document.querySelector('main h1');
        const table = document.getElementById('connections');
        return Array.from(document.querySelectorAll('main a[href]'))
          .filter((a) => (title.compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING)
            && (a.compareDocumentPosition(table) & Node.DOCUMENT_POSITION_FOLLOWING))
          .map((a) => ({ href: a.href, text: a.textContent.trim(), about: (a.closest('p') || a).textContent }));"#,
        json!([]),
    );
    let links = links.as_array().expect("links").clone();
    assert_eq!(links.len(), 1, "{links:?}");
    let link = &links[0];
    let href = link["href"].as_str().unwrap_or_default();
    assert!(href.starts_with("https://docs.pingcap.com/"), "{link}");
    assert!(
        !link["text"].as_str().unwrap_or_default().is_empty(),
        "{link}"
    );
    let about = link["about"].as_str().unwrap_or_default().to_lowercase();
    assert!(about.contains("private link connection"), "{about}");
}
