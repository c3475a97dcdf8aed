//! Security through the whole stack: the REST facade hands the caller to
//! the API, which decides with the user file's permissions; the gRPC
//! listener over TLS authenticates Basic credentials and client
//! certificates, as a client sees it (scute-client).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use scute_client::{Client, NewSchema, RetryPolicy, TlsOptions};
use scute_security::password::{self, Algorithm};
use scute_security::{Principal, Source};
use scute_service::Config;
use scute_tests::TestRegistry;
use serde_json::{Value, json};
use tower::ServiceExt;

const STRING: &str = r#""string""#;

/// A user file: `admin` may do anything, `cave` write `cave-*` subjects,
/// `alice` (a certificate's CN) read them.
fn user_file(dir: &Path) -> std::path::PathBuf {
    let user = |name: &str, pw: &str| {
        json!({"username": name, "algorithm": "sha256", "salt": name,
               "password_hash": password::hash(Algorithm::Sha256, name, pw)})
    };
    let file = json!({
        "users": [user("admin", "admin-pw"), user("cave", "cave-pw")],
        "permissions": [
            {"username": "admin", "operation": "Write", "resource": ".*"},
            {"username": "cave", "operation": "Write", "resource": "Subject:cave-.*"},
            {"username": "alice", "operation": "Read", "resource": "Subject:cave-.*"},
        ]
    });
    let path = dir.join("users.json");
    std::fs::write(&path, file.to_string()).unwrap();
    path
}

/// One REST call through the facade as `who` (as the listener's door
/// would have authenticated them), or as nobody.
async fn call(
    registry: &TestRegistry,
    who: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/vnd.schemaregistry.v1+json")
        .body(axum::body::Body::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        ))
        .unwrap();
    if let Some(name) = who {
        request
            .extensions_mut()
            .insert(Principal::new(name, Source::Basic));
    }
    let response = registry.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn schema() -> Option<Value> {
    Some(json!({ "schema": STRING }))
}

#[tokio::test]
async fn the_rest_facade_hands_the_caller_to_the_api_which_decides() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir.path());
    config.security.auth_file = Some(user_file(dir.path()));
    let registry = TestRegistry::start_on(dir, &config).await.unwrap();

    // No principal reached the API: refused there, whatever the door did.
    let (status, body) = call(&registry, None, Method::GET, "/subjects", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error_code": 40101, "message": "Unauthorized"})
    );

    for subject in ["cave-a", "cave-b", "cave-c"] {
        let path = format!("/subjects/{subject}/versions");
        let (status, _) = call(&registry, Some("cave"), Method::POST, &path, schema()).await;
        assert_eq!(status, StatusCode::OK, "{subject}");
    }
    let (status, body) = call(
        &registry,
        Some("cave"),
        Method::POST,
        "/subjects/other/versions",
        schema(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({"error_code": 40301, "message": "User is denied operation Write on Subject:other"})
    );
    let other = json!({"schema": r#"{"type":"record","name":"O","fields":[]}"#});
    let (status, body) = call(
        &registry,
        Some("admin"),
        Method::POST,
        "/subjects/other/versions",
        Some(other),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let other_id = body["id"].as_i64().unwrap();

    // Lists show what the caller may read, filtered before paging.
    let (_, body) = call(&registry, Some("cave"), Method::GET, "/subjects", None).await;
    assert_eq!(body, json!(["cave-a", "cave-b", "cave-c"]));
    let (_, body) = call(&registry, Some("admin"), Method::GET, "/subjects", None).await;
    assert_eq!(body, json!(["cave-a", "cave-b", "cave-c", "other"]));
    let (_, body) = call(
        &registry,
        Some("cave"),
        Method::GET,
        "/subjects?offset=1&limit=1",
        None,
    )
    .await;
    assert_eq!(body, json!(["cave-b"]));
    let (_, body) = call(&registry, Some("cave"), Method::GET, "/schemas", None).await;
    let subjects: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["cave-a", "cave-b", "cave-c"]);
    let (_, body) = call(
        &registry,
        Some("cave"),
        Method::GET,
        "/schemas/ids/1/subjects",
        None,
    )
    .await;
    assert_eq!(body, json!(["cave-a", "cave-b", "cave-c"]));

    // A schema by id: readable when a subject holding it is.
    let (status, _) = call(&registry, Some("cave"), Method::GET, "/schemas/ids/1", None).await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/schemas/ids/{other_id}");
    let (status, body) = call(&registry, Some("cave"), Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error_code"], 40301);
    let (status, _) = call(
        &registry,
        Some("alice"),
        Method::GET,
        "/schemas/ids/1",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "alice reads cave-*");

    // Global config and mode need Config:; a subject's need the subject.
    let (status, _) = call(&registry, Some("cave"), Method::GET, "/config", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let level = Some(json!({"compatibility": "NONE"}));
    let (status, body) = call(
        &registry,
        Some("cave"),
        Method::PUT,
        "/config",
        level.clone(),
    )
    .await;
    assert_eq!(
        (status, &body["message"]),
        (
            StatusCode::FORBIDDEN,
            &json!("User is denied operation Write on Config:")
        )
    );
    let (status, _) = call(
        &registry,
        Some("cave"),
        Method::PUT,
        "/config/cave-a",
        level.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &registry,
        Some("admin"),
        Method::PUT,
        "/mode",
        Some(json!({"mode": "READWRITE"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Deletes, soft and permanent, need Write on the subject.
    let (status, _) = call(
        &registry,
        Some("alice"),
        Method::DELETE,
        "/subjects/cave-c",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &registry,
        Some("cave"),
        Method::DELETE,
        "/subjects/cave-c",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &registry,
        Some("cave"),
        Method::DELETE,
        "/subjects/cave-c?permanent=true",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Contexts: shown when they hold a subject the caller may read.
    let path = "/subjects/:.hidden:x/versions";
    let (status, _) = call(&registry, Some("admin"), Method::POST, path, schema()).await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = call(&registry, Some("admin"), Method::GET, "/contexts", None).await;
    assert_eq!(body, json!([".", ".hidden"]));
    let (_, body) = call(&registry, Some("cave"), Method::GET, "/contexts", None).await;
    assert_eq!(body, json!(["."]));
    // Contexts: deleting one is a global change.
    let (status, _) = call(
        &registry,
        Some("cave"),
        Method::DELETE,
        "/contexts/.x",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    registry.stop().await.unwrap();
}

struct Pki {
    ca_pem: String,
    server: (String, String),
    alice: (String, String),
}

fn pki() -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::CommonName, "Scute test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::from_params(&ca, &ca_key);
    let leaf = |mut params: CertificateParams, usage| {
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let server = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let mut alice = CertificateParams::new(Vec::<String>::new()).unwrap();
    alice.distinguished_name = DistinguishedName::new();
    alice.distinguished_name.push(DnType::CommonName, "alice");
    Pki {
        ca_pem: ca_cert.pem(),
        server: leaf(server, ExtendedKeyUsagePurpose::ServerAuth),
        alice: leaf(alice, ExtendedKeyUsagePurpose::ClientAuth),
    }
}

fn no_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    }
}

#[tokio::test]
async fn grpc_over_tls_authenticates_passwords_and_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let mut config = Config::ephemeral(dir.path());
    config.security.auth_file = Some(user_file(dir.path()));
    config.security.tls_cert = Some(write("server.pem", &pki.server.0));
    config.security.tls_key = Some(write("server.key", &pki.server.1));
    config.security.tls_client_ca = Some(write("ca.pem", &pki.ca_pem));
    config.security.tls_client_auth =
        scute_service::security::ClientAuthArg(scute_security::tls::ClientAuth::Optional);
    config.security.auth_client_certificates = true;
    let running = scute_service::start(&config).await.unwrap();
    let endpoint = format!("https://localhost:{}", running.grpc_addr.port());
    let tls = TlsOptions {
        ca_pem: Some(pki.ca_pem.clone().into_bytes()),
        ..TlsOptions::default()
    };
    let client = |user: Option<(&str, &str)>, identity: Option<(String, String)>| {
        let mut tls = tls.clone();
        tls.identity_pem = identity.map(|(c, k)| (c.into_bytes(), k.into_bytes()));
        let mut builder = Client::builder(endpoint.clone())
            .tls(tls)
            .retry(no_retries());
        if let Some((user, pw)) = user {
            builder = builder.basic_auth(user, pw);
        }
        builder.connect_lazy().unwrap()
    };

    let cave = client(Some(("cave", "cave-pw")), None);
    let new = NewSchema::new("AVRO", STRING);
    assert_eq!(
        cave.register("cave-value", &new, false).await.unwrap().id,
        1
    );
    let denied = cave.register("other", &new, false).await.unwrap_err();
    assert_eq!(
        (denied.error_code(), denied.http_status()),
        (Some(40301), 403)
    );
    let admin = client(Some(("admin", "admin-pw")), None);
    admin.register("other", &new, false).await.unwrap();
    assert_eq!(cave.subjects().await.unwrap(), ["cave-value"]);
    assert_eq!(admin.subjects().await.unwrap(), ["cave-value", "other"]);

    let wrong = client(Some(("cave", "nope")), None);
    let refused = wrong.subjects().await.unwrap_err();
    assert_eq!(
        (refused.error_code(), refused.http_status()),
        (Some(40101), 401)
    );
    let nobody = client(None, None);
    assert_eq!(
        nobody.subjects().await.unwrap_err().error_code(),
        Some(40101)
    );

    // A verified client certificate names its holder: alice reads cave-*.
    let alice = client(None, Some(pki.alice.clone()));
    assert_eq!(alice.subjects().await.unwrap(), ["cave-value"]);
    assert_eq!(
        alice
            .register("cave-value", &new, false)
            .await
            .unwrap_err()
            .error_code(),
        Some(40301)
    );
    running.stop().await.unwrap();
}
