//! The console at `/`: the product spec's Networking page (sections 2.2.3 to
//! 2.2.8) for one cluster at a time — the list of private link connections,
//! and the dialogs to create, view, attach domains, detach and delete.
//!
//! There is no back door. The page is a shell: the only world data it is
//! rendered with is the cluster picker (ids and names, as the real console's
//! cluster switcher shows them). Everything else, the script fetches through
//! the public `/v1beta1` API with HTTP Digest (SHA-256, computed in the page
//! with WebCrypto) and the key typed in the page, so it sees what Terraform
//! sees and its requests count against the rate limit. `/_sim/events` then
//! patches the rows' states live.
//!
//! The markup is built with `maud`, which escapes every interpolated value;
//! the script (`console/console.js`) builds DOM with `textContent` and
//! `createElement` only. Both assets are compiled into the binary.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::HeaderName;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, DOCTYPE};

use crate::app::App;
use crate::cli::DEFAULT_API_KEY;

/// Where the Networking section's explanation sends readers for more.
const DOCS: &str = "https://docs.pingcap.com/tidbcloud/";

const SCRIPT: &str = include_str!("console/console.js");
const STYLE: &str = include_str!("console/console.css");

/// The page may load only its own script and style, and talk only to its origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The console's routes: the page and its two assets.
pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(page))
        .route("/console/console.js", get(script))
        .route("/console/console.css", get(style))
}

/// A cluster in the picker.
struct Choice {
    id: String,
    name: String,
    cloud: &'static str,
}

/// `GET /`.
async fn page(State(app): State<Arc<App>>) -> Response {
    let clusters: Vec<Choice> = app.with_world(|w| {
        w.clusters()
            .iter()
            .map(|c| Choice {
                id: c.id.clone(),
                name: c.display_name.clone(),
                cloud: c.cloud.label(),
            })
            .collect()
    });
    let markup = shell(&clusters);
    (
        [
            (CONTENT_SECURITY_POLICY, CSP),
            (CACHE_CONTROL, "no-store"),
            (HeaderName::from_static("x-content-type-options"), "nosniff"),
        ],
        Html(markup.into_string()),
    )
        .into_response()
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "no-cache"),
            (HeaderName::from_static("x-content-type-options"), "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// The page's markup: header, list and (empty) dialogs the script fills.
fn shell(clusters: &[Choice]) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Networking · tidbcloud-sim" }
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/console/console.css";
                script src="/console/console.js" defer {}
            }
            body data-loaded="false" data-live="false" {
                header.topbar {
                    span.brand { "TiDB Cloud" small { "simulator" } }
                    label.picker {
                        "Cluster "
                        select #cluster {
                            @for c in clusters {
                                option value=(c.id) { (c.name) " · " (c.cloud) " · " (c.id) }
                            }
                        }
                    }
                    form #key.key autocomplete="off" {
                        span { "API key" }
                        input #public-key aria-label="Public key" value=(DEFAULT_API_KEY.0) spellcheck="false";
                        input #private-key type="password" aria-label="Private key" autocomplete="off" value=(DEFAULT_API_KEY.1);
                        button #key-apply type="submit" { "Use key" }
                    }
                }
                main {
                    nav.crumbs { span #crumb-cluster {} " / Networking" }
                    h1 { "Private Link Connection For Dataflow" }
                    p #about.about {
                        "A private link connection lets this cluster's dataflow services, such as changefeeds \
                         and Data Migration, reach a resource of yours (a Kafka cluster, a MySQL or RDS \
                         instance) through an endpoint service you expose, so the traffic never crosses the \
                         public internet. Attach domains to a connection when the resource is reached by \
                         name, as Kafka brokers are. "
                        a href=(DOCS) target="_blank" rel="noopener noreferrer" {
                            "Learn more about private link connections in the TiDB Cloud documentation"
                        }
                        "."
                    }
                    p #cluster-info.muted {}
                    @if clusters.is_empty() {
                        p.error { "The simulator's world has no clusters: add one with POST /_sim/clusters." }
                    }
                    div #error.error role="alert" hidden {}
                    div.toolbar {
                        span #live.live title="Live updates from /_sim/events" { "connecting…" }
                        button #refresh type="button" { "⟳ Refresh" }
                        button #create.primary type="button" { "Create" }
                    }
                    table #connections {
                        thead { tr { th { "Name" } th { "Status" } th { "Creation Time" } th { "Type" } th.actions { "Action" } } }
                        tbody {}
                    }
                    p #count.muted {}
                }
                div #menu.menu role="menu" aria-describedby="menu-note" hidden {
                    button #menu-view type="button" role="menuitem" { "View" }
                    button #menu-attach type="button" role="menuitem" { "Attach Domains" }
                    button #menu-detach type="button" role="menuitem" { "Detach Domains" }
                    button #menu-delete.danger type="button" role="menuitem" { "Delete" }
                    p #menu-note.note hidden {}
                }
                (create_dialog())
                dialog #view-dialog {
                    h2 #view-title {}
                    div #view-body {}
                    div.buttons { button.close type="button" { "Close" } }
                }
                (attach_dialog())
                dialog #detach-dialog {
                    h2 { "Detach Domains" }
                    p { "Are you sure you want to detach the following domains?" }
                    ul #detach-list {}
                    p #detach-error.form-error role="alert" hidden {}
                    div.buttons {
                        button.close type="button" { "Cancel" }
                        button #detach-submit.danger type="button" { "Detach" }
                    }
                }
                dialog #delete-dialog {
                    h2 { "Delete Private Link Connection" }
                    p { "Are you sure you want to delete this Private Link Connection? " strong #delete-name {} }
                    p #delete-error.form-error role="alert" hidden {}
                    div.buttons {
                        button.close type="button" { "Cancel" }
                        button #delete-submit.danger type="button" { "Delete" }
                    }
                }
            }
        }
    }
}

fn create_dialog() -> Markup {
    html! {
        dialog #create-dialog {
            h2 { "Create Private Link Connection" }
            label for="create-name" { "Name" }
            input #create-name placeholder="Enter your private link connection name" spellcheck="false";
            label for="create-type" { "Connection Type" }
            select #create-type {}
            div #create-service-field hidden {
                label for="create-service" { "Endpoint Service Name" }
                input #create-service placeholder="Enter endpoint service name" spellcheck="false";
            }
            p #create-hint.hint hidden {}
            p #create-error.form-error role="alert" hidden {}
            div.buttons {
                button.close type="button" { "Cancel" }
                button #create-submit.primary type="button" { "Create" }
            }
        }
    }
}

fn attach_dialog() -> Markup {
    html! {
        dialog #attach-dialog {
            h2 { "Attach Domains" span.help title="A private link connection attaches domains once; to change them, detach the existing domains first." { "(?)" } }
            p #attach-target.muted {}
            label for="attach-type" { "Domain Type" }
            select #attach-type {}
            div #attach-unique-field hidden {
                label for="attach-unique" { "Unique name" }
                input #attach-unique placeholder="<unique_id>" spellcheck="false";
            }
            button #attach-generate type="button" { "Generate Domains" }
            ul #attach-preview.domains {}
            p #attach-error.form-error role="alert" hidden {}
            div.buttons {
                button.close type="button" { "Cancel" }
                button #attach-submit.primary type="button" disabled { "Attach" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names_are_escaped_by_construction() {
        let page = shell(&[Choice {
            id: "1\"><script>".into(),
            name: "<img src=x onerror=alert(1)>".into(),
            cloud: "AWS",
        }])
        .into_string();
        assert!(
            page.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{page}"
        );
        assert!(
            page.contains("value=\"1&quot;&gt;&lt;script&gt;\""),
            "{page}"
        );
        assert!(!page.contains("<img"));
    }

    #[test]
    fn the_script_never_assigns_markup() {
        for needle in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!SCRIPT.contains(needle), "console.js uses {needle}");
        }
    }

    #[test]
    fn every_fetch_omits_credentials() {
        // The browser then never answers a 401 with a login prompt.
        let fetches = SCRIPT.matches("await fetch(").count();
        assert_eq!(fetches, 1, "one place sends API requests");
        assert!(SCRIPT.contains("credentials: 'omit'"));
        assert!(SCRIPT.contains("'SHA-256'"));
    }
}
