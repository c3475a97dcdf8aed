//! Shared helpers for Scute's cross-crate tests: a real registry on a
//! temporary data directory, driven through the REST router in process.

// Test support: a failed request or body is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;

use axum::Router;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use scute_service::{Config, Running};
use serde_json::Value;
use tower::ServiceExt;

/// One compute pool for every in-process registry a test builds.
pub fn compute() -> scute_service::compute::Compute {
    static POOL: std::sync::OnceLock<scute_service::compute::Compute> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        scute_service::compute::Compute::start(
            scute_service::compute::ComputeConfig::for_this_machine(),
        )
        .expect("compute threads")
    })
    .clone()
}

/// A started registry on loopback ports, with its data directory.
#[derive(Debug)]
pub struct TestRegistry {
    pub running: Running,
    pub router: Router,
    pub dir: tempfile::TempDir,
}

impl TestRegistry {
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        Self::start_in(dir).await
    }

    /// Starts with the limits `limits` sets.
    pub async fn start_with(
        limits: impl FnOnce(&mut scute_service::config::LimitsConfig),
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut config = Config::ephemeral(dir.path());
        limits(&mut config.limits);
        Self::start_on(dir, &config).await
    }

    /// Starts on an existing data directory (to test replay).
    pub async fn start_in(dir: tempfile::TempDir) -> anyhow::Result<Self> {
        let config = Config::ephemeral(dir.path());
        Self::start_on(dir, &config).await
    }

    /// Starts on `dir` with `config` (whose data directory must be `dir`).
    pub async fn start_on(dir: tempfile::TempDir, config: &Config) -> anyhow::Result<Self> {
        let running = scute_service::start(config).await?;
        let router = scute_rest::router(Arc::new(running.api.clone()));
        Ok(Self {
            running,
            router,
            dir,
        })
    }

    /// Stops the servers and hands the data directory back.
    pub async fn stop(self) -> anyhow::Result<tempfile::TempDir> {
        // The router holds the registry, and with it the log: drop it first
        // so stopping can close the log and release the directory lock.
        let Self {
            running,
            router,
            dir,
        } = self;
        drop(router);
        running.stop().await?;
        Ok(dir)
    }

    /// One REST call through the router: status and JSON body (Null when
    /// the body is empty or not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, _, bytes) = self
            .raw(method, path, &[], body.map(|b| b.to_string()))
            .await;
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// One REST call with headers: status, content type and body bytes.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> (StatusCode, Option<String>, Vec<u8>) {
        let mut request = Request::builder().method(method).uri(path);
        let has_content_type = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !has_content_type {
            request = request.header("content-type", "application/vnd.schemaregistry.v1+json");
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let request = request
            .body(axum::body::Body::from(body.unwrap_or_default()))
            .expect("request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        (status, content_type, bytes)
    }
}

/// An AVRO record schema with the given fields (`name` to Avro type JSON).
pub fn record_schema(name: &str, fields: &[(&str, Value)]) -> String {
    let fields: Vec<Value> = fields
        .iter()
        .map(|(n, t)| serde_json::json!({"name": n, "type": t}))
        .collect();
    serde_json::json!({"type": "record", "name": name, "fields": fields}).to_string()
}
