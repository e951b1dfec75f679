//! docs/control-api.yaml stays true to the code: it is valid OpenAPI 3.1
//! YAML, documents exactly the control routes of the endpoint registry
//! (`wxemu::registry::control_calls`), and
//! every one of them is really served (not the control API's 404/405).

use crate::common;

use std::collections::BTreeSet;

use common::*;
use hyper::{Method, StatusCode};
use yaml_rust2::{Yaml, YamlLoader};

fn documented() -> BTreeSet<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/control-api.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let docs = YamlLoader::load_from_str(&text).expect("valid YAML");
    let doc = &docs[0];
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let Yaml::Hash(paths) = &doc["paths"] else {
        panic!("no paths");
    };
    let mut found = BTreeSet::new();
    for (path, item) in paths {
        let Yaml::Hash(item) = item else {
            panic!("{path:?} is not a map");
        };
        for key in item.keys() {
            let key = key.as_str().unwrap();
            if key != "parameters" {
                found.insert((key.to_ascii_uppercase(), path.as_str().unwrap().to_owned()));
            }
        }
    }
    found
}

#[test]
fn the_openapi_file_documents_exactly_the_routes() {
    let code: BTreeSet<(String, String)> = wxemu::registry::control_calls()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let docs = documented();
    let undocumented: Vec<_> = code.difference(&docs).collect();
    let stale: Vec<_> = docs.difference(&code).collect();
    assert!(
        undocumented.is_empty(),
        "not in docs/control-api.yaml: {undocumented:?}"
    );
    assert!(
        stale.is_empty(),
        "documented but not in the registry: {stale:?}"
    );
}

#[tokio::test]
async fn every_route_is_served() {
    let server = TestServer::start().await;
    for (method, path) in wxemu::registry::control_calls() {
        let concrete = path
            .replace("{id}", "424242")
            .replace("{appid}", "wxnone")
            .replace("{uuid}", "nouuid");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        // The event stream never ends by itself: opening it is serving it.
        if concrete == "/events" {
            let events = server.events().await;
            assert!(events.content_type().starts_with("text/event-stream"));
            continue;
        }
        // Wait calls must not hold the test up.
        let concrete = if concrete == "/journal/wait" {
            "/journal/wait?timeout=0s".to_owned()
        } else {
            concrete
        };
        let reply = server.control(method.clone(), &concrete, None).await;
        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {concrete}"
        );
        let text = reply.text();
        assert!(
            !text.contains("no control endpoint"),
            "{method} {concrete} fell through: {text}"
        );
        assert!(
            reply.status.is_success() || reply.json()["error"].is_string(),
            "{method} {concrete}: {} {text}",
            reply.status
        );
        assert_ne!(
            reply.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{method} {concrete}"
        );
    }
}
