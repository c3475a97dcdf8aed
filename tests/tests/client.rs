//! scute-client against a live registry: caches, retries and TLS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use scute_client::{Client, Error, NewSchema, RetryPolicy, TlsOptions};
use scute_proto::v1::schema_registry_server::SchemaRegistryServer;
use scute_service::grpc::GrpcApi;
use scute_service::registry::Registry;
use scute_service::state::State;
use scute_storage::MemoryLog;
use scute_tests::TestRegistry;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Identity, Server, ServerTlsConfig};

const STRING: &str = r#""string""#;

fn no_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    }
}

/// A registry served over gRPC only, on `listener`, with `tls` when given.
fn serve(listener: TcpListener, tls: Option<ServerTlsConfig>) {
    let registry = Arc::new(Registry::new(
        State::default(),
        Arc::new(MemoryLog::new()),
        scute_tests::compute(),
        scute_service::registry::Limits::default(),
    ));
    registry.set_ready();
    let mut server = Server::builder();
    if let Some(tls) = tls {
        server = server.tls_config(tls).unwrap();
    }
    tokio::spawn(
        server
            .add_service(SchemaRegistryServer::new(GrpcApi::new(registry)))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
}

#[tokio::test]
async fn answers_that_never_change_are_served_from_the_cache() {
    let r = TestRegistry::start().await.unwrap();
    let client = Client::builder(format!("grpc://{}", r.running.grpc_addr))
        .retry(no_retries())
        .latest_ttl(Some(Duration::from_millis(200)))
        .connect()
        .await
        .unwrap();
    let registered = client
        .register("s", &NewSchema::new("AVRO", STRING), false)
        .await
        .unwrap();
    assert_eq!((registered.id, registered.version), (1, 1));
    assert_eq!(registered.guid.len(), 36, "a guid in UUID form");
    let latest = client.version("s", "latest").await.unwrap();
    assert_eq!(latest.version, 1);

    r.stop().await.unwrap();
    // The registry is gone: cached answers still come back.
    assert_eq!(client.schema_by_id(1).await.unwrap().schema, STRING);
    assert_eq!(
        client
            .schema_by_guid(&registered.guid, "")
            .await
            .unwrap()
            .id,
        1
    );
    let again = client
        .register("s", &NewSchema::new("AVRO", STRING), false)
        .await
        .unwrap();
    assert_eq!(again.id, 1);
    assert_eq!(client.version("s", "latest").await.unwrap().version, 1);
    // The latest version is kept only for its TTL.
    tokio::time::sleep(Duration::from_millis(250)).await;
    let err = client.version("s", "latest").await.unwrap_err();
    assert!(matches!(err, Error::Status(_)), "{err}");
    assert_eq!(err.http_status(), 503);
    // Uncached calls fail too.
    assert!(client.subjects().await.is_err());
}

#[tokio::test]
async fn calls_are_retried_until_the_registry_answers() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let patient = Client::builder(format!("http://{addr}"))
        .retry(RetryPolicy {
            max_retries: 20,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(200),
        })
        .connect_lazy()
        .unwrap();
    let impatient = Client::builder(format!("http://{addr}"))
        .retry(no_retries())
        .connect_lazy()
        .unwrap();
    assert_eq!(impatient.subjects().await.unwrap_err().http_status(), 503);

    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        serve(TcpListener::bind(addr).await.unwrap(), None);
    });
    let started = std::time::Instant::now();
    assert_eq!(patient.subjects().await.unwrap(), Vec::<String>::new());
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Registry errors are answers, not failures: never retried.
    let missing = patient.version("nobody", "1").await.unwrap_err();
    assert_eq!(missing.error_code(), Some(40401));
    assert_eq!(missing.http_status(), 404);
}

#[tokio::test]
async fn tls_checks_the_server_against_the_given_ca() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_pem = cert.cert.pem();
    let key_pem = cert.signing_key.serialize_pem();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    serve(
        listener,
        Some(ServerTlsConfig::new().identity(Identity::from_pem(&cert_pem, &key_pem))),
    );

    let trusted = Client::builder(format!("https://localhost:{port}"))
        .tls(TlsOptions {
            ca_pem: Some(cert_pem.clone().into_bytes()),
            ..TlsOptions::default()
        })
        .connect()
        .await
        .unwrap();
    let registered = trusted
        .register("s", &NewSchema::new("AVRO", STRING), false)
        .await
        .unwrap();
    assert_eq!(registered.id, 1);

    // The system roots don't know the self-signed certificate.
    let untrusted = Client::builder(format!("grpcs://localhost:{port}"))
        .retry(no_retries())
        .connect()
        .await;
    assert!(untrusted.is_err(), "connected without trusting the CA");

    // Plain text to a TLS port gets no answer either.
    let plain = Client::builder(format!("http://localhost:{port}"))
        .retry(no_retries())
        .connect_lazy()
        .unwrap();
    assert!(plain.subjects().await.is_err());
}

#[tokio::test]
async fn credentials_go_with_every_call_raw_ones_too() {
    let registry = Arc::new(Registry::new(
        State::default(),
        Arc::new(MemoryLog::new()),
        scute_tests::compute(),
        scute_service::registry::Limits::default(),
    ));
    registry.set_ready();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let check = |request: tonic::Request<()>| match request.metadata().get("authorization") {
        Some(value) if value == "Basic YWxpY2U6czNjcmV0" => Ok(request),
        _ => Err(tonic::Status::unauthenticated("who are you?")),
    };
    tokio::spawn(
        Server::builder()
            .add_service(SchemaRegistryServer::with_interceptor(
                GrpcApi::new(registry),
                check,
            ))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    let url = format!("grpc://127.0.0.1:{port}");
    let mut alice = Client::builder(&url)
        .basic_auth("alice", "s3cret")
        .connect()
        .await
        .unwrap();
    alice
        .register("s", &NewSchema::new("AVRO", STRING), false)
        .await
        .unwrap();
    let listed = alice
        .raw()
        .list_subjects(scute_client::v1::ListSubjectsRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.into_inner().subjects, ["s"]);

    let stranger = Client::builder(&url)
        .retry(no_retries())
        .connect()
        .await
        .unwrap();
    let refused = stranger.subjects().await.unwrap_err();
    assert!(
        matches!(&refused, Error::Status(s) if s.code() == tonic::Code::Unauthenticated),
        "{refused:?}"
    );
}
