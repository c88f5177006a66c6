//! The console page at `/`: every cluster with its private link connections,
//! their states and attached domains, as the product spec's console shows
//! them. Reloads itself when `/_sim/events` reports a change.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Html;

use crate::app::App;
use crate::model::{Cloud, Connection};
use crate::wire::rfc3339;

/// `GET /`.
pub async fn page(State(app): State<Arc<App>>) -> Html<String> {
    Html(app.with_world(|w| {
        let mut out = String::from(HEAD);
        for cluster in w.clusters() {
            let _ = write!(
                out,
                "<h2>{} <small>{} &middot; {} &middot; {} &middot; account {} &middot; AZs {}</small></h2>",
                esc(&cluster.display_name),
                esc(&cluster.id),
                esc(&cluster.region_id),
                esc(&cluster.state),
                esc(&cluster.account_id),
                esc(&cluster.az_ids.join(", "))
            );
            let connections: Vec<&Connection> = w.connections_of(&cluster.id).collect();
            let _ = write!(out, "<p>{} private link connection(s)</p>", connections.len());
            if connections.is_empty() {
                continue;
            }
            out.push_str(
                "<table><tr><th>Name</th><th>Id</th><th>Status</th><th>Creation time</th><th>Type</th>\
                 <th>Endpoint service</th><th>Available zones</th><th>Endpoint id</th><th>Created by</th>\
                 <th>Fail message</th><th>Attached domains</th></tr>",
            );
            for c in connections {
                row(&mut out, c);
            }
            out.push_str("</table>");
        }
        out.push_str(TAIL);
        out
    }))
}

fn row(out: &mut String, c: &Connection) {
    let kind = match c.cloud {
        Cloud::Aws => "AWS Endpoint Service",
        Cloud::Alicloud => "AliCloud Endpoint Service",
    };
    let domains = match &c.attachment {
        None => "--".to_string(),
        Some(a) => {
            let mut s = format!(
                "{} ({}, {})<ul>",
                esc(&a.id),
                a.kind.as_str(),
                esc(&a.unique_name)
            );
            for d in &a.domains {
                let _ = write!(
                    s,
                    "<li>{} <span class=\"st {}\">{}</span>{}</li>",
                    esc(&d.name),
                    d.state.as_str(),
                    d.state.as_str(),
                    d.message
                        .as_deref()
                        .map(|m| format!(" {}", esc(m)))
                        .unwrap_or_default()
                );
            }
            s.push_str("</ul>");
            s
        }
    };
    let _ = write!(
        out,
        "<tr><td>{}</td><td>{}</td><td><span class=\"st {}\">{}</span></td><td>{}</td><td>{}</td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        esc(&c.display_name),
        esc(&c.id),
        c.state.as_str(),
        c.state.as_str(),
        rfc3339(c.create_time),
        kind,
        esc(&c.service_name),
        esc(&c.az_ids.join(" ")),
        esc(c.endpoint_id.as_deref().unwrap_or("--")),
        esc(&c.created_by),
        esc(c.message.as_deref().unwrap_or("")),
        domains
    );
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const HEAD: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>tidbcloud-sim: private link connections</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:2em;width:100%;table-layout:auto}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top;font-size:.85em;overflow-wrap:anywhere}
th{background:#f4f4f4;overflow-wrap:normal;white-space:nowrap} small{color:#666;font-weight:normal} ul{margin:0;padding-left:1.2em}
.st{padding:0 .4em;border-radius:.3em;background:#eee;white-space:nowrap;overflow-wrap:normal}
.ACTIVE,.SUCCEEDED{background:#d4f7d4}.FAILED{background:#f9d0d0}
.CREATING,.DELETING,.PENDING_ACCEPTANCE{background:#fff2c2}
</style></head><body>
<h1>Private Link Connection For Dataflow</h1>
<p>tidbcloud-sim console &middot; updates live from <a href="/_sim/events">/_sim/events</a> &middot; <a href="/_sim/world">world JSON</a> &middot; <a href="/_sim/stats">stats</a></p>
"#;

const TAIL: &str = r#"<script>
let t;const es=new EventSource('/_sim/events');
es.onmessage=()=>{clearTimeout(t);t=setTimeout(()=>location.reload(),150)};
</script></body></html>
"#;

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
    }
}
