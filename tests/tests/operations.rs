//! Metrics and health on a running registry, read over HTTP as a scraper
//! and a probe read them, the page parsed by a Prometheus text parser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use http::{Method, StatusCode};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use scute_service::Config;
use scute_tests::{TestRegistry, record_schema};
use serde_json::{Value, json};

async fn get(addr: SocketAddr, path: &str) -> (StatusCode, String, String) {
    let client: Client<_, http_body_util::Empty<bytes::Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .get(format!("http://{addr}{path}").parse().unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

/// The value of the sample `name` whose labels include `labels`.
fn value(page: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    page.samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .and_then(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => Some(v),
            _ => None,
        })
}

fn parse(text: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

async fn start() -> TestRegistry {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir.path());
    config.metrics_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    TestRegistry::start_on(dir, &config).await.unwrap()
}

/// A REST request through the real listener, so the admission layer
/// counts it.
async fn send(addr: SocketAddr, method: Method, path: &str, body: Option<Value>) -> StatusCode {
    let client: Client<_, http_body_util::Full<bytes::Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let request = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/vnd.schemaregistry.v1+json")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        )))
        .unwrap();
    client.request(request).await.unwrap().status()
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_what_the_registry_holds() {
    let r = start().await;
    let rest = r.running.rest_addr;
    for (subject, field) in [("a", "x"), ("b", "y")] {
        let schema = record_schema("R", &[(field, json!("string"))]);
        let status = send(
            rest,
            Method::POST,
            &format!("/subjects/{subject}/versions"),
            Some(json!({ "schema": schema })),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let json_schema = json!({"schemaType": "JSON", "schema": "{\"type\":\"object\"}"});
    assert_eq!(
        send(
            rest,
            Method::POST,
            "/subjects/j/versions",
            Some(json_schema)
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        send(rest, Method::DELETE, "/subjects/b/versions/1", None).await,
        StatusCode::OK
    );
    assert_eq!(
        send(rest, Method::GET, "/subjects/nope/versions", None).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(rest, Method::GET, "/no/such/path/123", None).await,
        StatusCode::NOT_FOUND
    );

    let (status, content_type, text) = get(rest, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let page = parse(&text);
    let requests = |route: &str, method: &str, status: &str| {
        value(
            &page,
            "scute_requests_total",
            &[
                ("api", "rest"),
                ("route", route),
                ("method", method),
                ("status", status),
            ],
        )
    };
    assert_eq!(
        requests("/subjects/:subject/versions", "POST", "200"),
        Some(3.0)
    );
    assert_eq!(
        requests("/subjects/:subject/versions", "GET", "404"),
        Some(1.0)
    );
    assert_eq!(
        requests("/subjects/:subject/versions/:version", "DELETE", "200"),
        Some(1.0)
    );
    // No path of a stranger's becomes a label.
    assert_eq!(requests("unmatched", "GET", "404"), Some(1.0));
    assert!(!text.contains("/no/such/path"), "{text}");
    let histogram = page
        .samples
        .iter()
        .find(|s| {
            s.metric == "scute_request_duration_seconds"
                && s.labels.get("route") == Some("/subjects/:subject/versions")
                && s.labels.get("method") == Some("POST")
        })
        .expect("a latency histogram for registrations");
    match &histogram.value {
        prometheus_parse::Value::Histogram(buckets) => {
            assert_eq!(buckets.last().map(|b| b.count), Some(3.0));
        }
        other => panic!("not a histogram: {other:?}"),
    }

    // What the registry holds, under Scute's names and Confluent's.
    assert_eq!(
        value(&page, "scute_subjects", &[("deleted", "false")]),
        Some(2.0)
    );
    assert_eq!(
        value(&page, "scute_subjects", &[("deleted", "true")]),
        Some(1.0)
    );
    assert_eq!(
        value(
            &page,
            "scute_versions",
            &[("schema_type", "AVRO"), ("deleted", "true")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&page, "scute_schemas", &[("schema_type", "AVRO")]),
        Some(2.0)
    );
    assert_eq!(
        value(&page, "scute_schemas", &[("schema_type", "JSON")]),
        Some(1.0)
    );
    assert_eq!(value(&page, "scute_contexts", &[]), Some(1.0));
    assert_eq!(
        value(&page, "kafka_schema_registry_registered_count", &[]),
        Some(2.0)
    );
    assert_eq!(
        value(&page, "kafka_schema_registry_deleted_count", &[]),
        Some(1.0)
    );
    assert_eq!(
        value(
            &page,
            "kafka_schema_registry_schemas_created",
            &[("schema_type", "avro")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            &page,
            "kafka_schema_registry_schemas_deleted",
            &[("schema_type", "avro")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&page, "kafka_schema_registry_api_success_count", &[]),
        Some(4.0)
    );
    assert_eq!(
        value(&page, "kafka_schema_registry_api_failure_count", &[]),
        Some(2.0)
    );
    assert_eq!(
        value(&page, "kafka_schema_registry_master_slave_role", &[]),
        Some(1.0)
    );
    assert!(
        value(
            &page,
            "kafka_schema_registry_jersey_metrics_request_rate",
            &[]
        )
        .unwrap()
            > 0.0
    );

    // The log: four records, each made durable by a sync.
    assert_eq!(
        value(&page, "scute_log_records_total", &[("storage", "file")]),
        Some(4.0)
    );
    assert!(value(&page, "scute_log_bytes_total", &[("storage", "file")]).unwrap() > 100.0);
    assert!(value(&page, "process_resident_memory_bytes", &[]).unwrap() > 1e6);
    assert!(value(&page, "process_open_fds", &[]).unwrap() >= 3.0);
    assert_eq!(value(&page, "scute_ready", &[]), Some(1.0));

    // The metrics listener serves the same families.
    let metrics_addr = r.running.metrics_addr.expect("a metrics listener");
    let (status, _, text) = get(metrics_addr, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let page = parse(&text);
    assert_eq!(
        value(&page, "kafka_schema_registry_registered_count", &[]),
        Some(2.0)
    );
    // A scrape of the REST listener was counted; the metrics listener's own are not.
    assert_eq!(
        value(
            &page,
            "scute_requests_total",
            &[("route", "/metrics"), ("api", "rest")]
        ),
        Some(1.0)
    );
    r.stop().await.unwrap();
}

#[tokio::test]
async fn health_answers_on_both_listeners_and_root_stays_confluents() {
    let r = start().await;
    for addr in [r.running.rest_addr, r.running.metrics_addr.unwrap()] {
        let (status, _, body) = get(addr, "/health/live").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"status": "UP"})
        );
        let (status, _, body) = get(addr, "/health/ready").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"status": "UP"})
        );
    }
    let (status, _, body) = get(r.running.rest_addr, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "{}");
    // The metrics listener answers nothing else.
    let (status, _, _) = get(r.running.metrics_addr.unwrap(), "/subjects").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    r.stop().await.unwrap();
}
