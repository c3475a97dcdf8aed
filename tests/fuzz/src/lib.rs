//! The bodies of Scute's fuzz targets, one function per target.
//!
//! `fuzz_targets/*.rs` hand libFuzzer's input to these functions, and
//! `tests/corpus.rs` runs them over the committed seeds and over every input
//! a fuzzer ever crashed on (`regressions/`), so a fixed crash stays fixed
//! in a plain `cargo test`.
//!
//! A target fails (panics) when Scute would: a panic in a parser or a rule,
//! a stack overflow, a canonical text that does not read back as itself, a
//! schema that is incompatible with itself, or a REST answer of 500 that
//! is not one of the registry's own (a panic, a failed call).
//!
//! Inputs with several parts separate them with a NUL byte:
//!
//! * schema targets: `schema \0 dependency \0 dependency ...`, each
//!   dependency `name \n text`;
//! * compatibility targets: `original \0 update \0 dependency ...`;
//! * `schemas_topic`: one record a line, `key \t value` (`null` for a tombstone);
//! * `rest`: requests, each `METHOD /path?query \n header: value ... \n\n body`;
//! * `credentials`: `user file \0 authorization header`.

// A failed check is a finding: panicking is how a target reports it.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine;
use scute_formats::{Dependency, Limits, SchemaType};
use scute_service::compute::{Compute, ComputeConfig};
use scute_service::grpc::GrpcApi;
use scute_service::registry::Registry;
use scute_service::state::State;
use scute_storage::log::LogEntry;
use scute_storage::memory::MemoryLog;
use scute_storage::record;
use tower::ServiceExt;

/// Splits an input into its NUL-separated parts, as text (lossily: the
/// registry only ever sees UTF-8).
fn parts(data: &[u8]) -> Vec<String> {
    data.split(|b| *b == 0)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

/// `name \n text` parts as dependencies.
fn dependencies(parts: &[String]) -> Vec<Dependency> {
    parts
        .iter()
        .map(|p| {
            let (name, schema) = p.split_once('\n').unwrap_or((p.as_str(), ""));
            Dependency {
                name: name.to_owned(),
                schema: schema.to_owned(),
            }
        })
        .collect()
}

/// Parses, then checks what registering the schema relies on: its stored
/// and normalized texts read back, the stored text is a fixed point (the
/// same schema written again gets the same id), and a schema never breaks
/// compatibility with itself.
fn parse_and_check(schema_type: SchemaType, text: &str, deps: &[Dependency]) {
    let Ok(parsed) = scute_formats::parse(schema_type, text, deps) else {
        return;
    };
    let canonical = parsed.canonical().to_owned();
    let again = scute_formats::parse(schema_type, &canonical, deps)
        .unwrap_or_else(|e| panic!("the stored text does not parse: {e}\n{canonical}"));
    assert_eq!(
        again.canonical(),
        canonical,
        "the stored text is not its own stored text"
    );
    // What normalize=true would store; a form that does not read back is
    // refused, never stored.
    let _ = parsed.normalized_text(deps, &scute_formats::Limits::default());
    let _ = parsed.resolved();
    let _ = parsed.serialized();
    let problems = parsed.read_problems(&again);
    assert!(
        problems.is_empty(),
        "a schema is incompatible with its own stored text: {problems:?}"
    );
}

fn parse_target(schema_type: SchemaType, data: &[u8]) {
    let parts = parts(data);
    let deps = dependencies(&parts[1..]);
    parse_and_check(schema_type, &parts[0], &deps);
}

/// Both directions of a compatibility check between two schemas.
fn compat_target(schema_type: SchemaType, data: &[u8]) {
    let parts = parts(data);
    let [original, update, rest @ ..] = parts.as_slice() else {
        return;
    };
    let deps = dependencies(rest);
    let (Ok(original), Ok(update)) = (
        scute_formats::parse(schema_type, original, &deps),
        scute_formats::parse(schema_type, update, &deps),
    ) else {
        return;
    };
    for (reader, writer) in [(&update, &original), (&original, &update)] {
        for problem in reader.read_problems(writer) {
            let _ = problem.message("new", "old");
        }
    }
}

pub fn avro(data: &[u8]) {
    parse_target(SchemaType::Avro, data);
}

pub fn protobuf_text(data: &[u8]) {
    parse_target(SchemaType::Protobuf, data);
}

/// Descriptor input, both ways the registry takes it: a FileDescriptorSet
/// over gRPC, and a base64 FileDescriptorProto as the schema text.
pub fn protobuf_descriptor(data: &[u8]) {
    if let Ok(text) = scute_formats::protobuf::schema_from_descriptor_set(data, &Limits::default())
    {
        parse_and_check(SchemaType::Protobuf, &text, &[]);
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    parse_and_check(SchemaType::Protobuf, &encoded, &[]);
}

pub fn json_schema(data: &[u8]) {
    parse_target(SchemaType::Json, data);
}

pub fn avro_compat(data: &[u8]) {
    compat_target(SchemaType::Avro, data);
}

pub fn protobuf_compat(data: &[u8]) {
    compat_target(SchemaType::Protobuf, data);
}

pub fn json_compat(data: &[u8]) {
    compat_target(SchemaType::Json, data);
}

/// A log file as start-up reads it: frames, records, state.
pub fn log_file(data: &[u8]) {
    let mut state = State::default();
    let scan = scute_storage::file::read_frames(data, &mut |entry: LogEntry| {
        if let Ok(r) = record::decode(&entry.record.key, entry.record.value.as_deref()) {
            state.apply(r);
        }
    });
    assert!(scan.good_end <= data.len() as u64);
}

/// A `_schemas` topic as a Kafka-backed node reads it: each record at its
/// offset, with the stamps other nodes put on keys.
pub fn schemas_topic(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut state = State::default();
    for (offset, line) in (0..).zip(text.lines()) {
        let (key, value) = line.split_once('\t').unwrap_or((line, "null"));
        let value = (value != "null").then_some(value.as_bytes());
        match record::decode_stamped(key.as_bytes(), value) {
            Ok((r, stamp)) => {
                state.apply_at(offset, r, stamp);
            }
            Err(_) => {
                state.apply_at(offset, record::Record::Noop, None);
            }
        }
    }
}

/// One request of a `rest` input.
fn request(text: &str) -> Option<http::Request<axum::body::Body>> {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let (method, target) = lines.next()?.split_once(' ')?;
    let mut builder = http::Request::builder()
        .method(http::Method::from_bytes(method.as_bytes()).ok()?)
        .uri(http::Uri::try_from(target).ok()?);
    let mut typed = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        typed |= name.eq_ignore_ascii_case("content-type");
        builder = builder.header(name.trim(), value.trim());
    }
    if !typed && !body.is_empty() {
        builder = builder.header("content-type", "application/vnd.schemaregistry.v1+json");
    }
    builder.body(axum::body::Body::from(body.to_owned())).ok()
}

/// One compute pool for every input, as a server has one.
fn compute() -> Compute {
    static POOL: OnceLock<Compute> = OnceLock::new();
    POOL.get_or_init(|| {
        Compute::start(ComputeConfig {
            threads: 1,
            queue: 16,
            deadline: Duration::from_secs(60),
        })
        .expect("compute threads")
    })
    .clone()
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// Requests through the REST facade to a fresh registry: no answer may be
/// a 500.
pub fn rest(data: &[u8]) {
    let parts = parts(data);
    let registry = Arc::new(Registry::new(
        State::default(),
        Arc::new(MemoryLog::new()),
        compute(),
        scute_service::registry::Limits::default(),
    ));
    let router = scute_rest::router(Arc::new(GrpcApi::new(registry)));
    runtime().block_on(async {
        for part in &parts {
            let Some(request) = request(part) else {
                continue;
            };
            let response = router
                .clone()
                .oneshot(request)
                .await
                .expect("the router answers");
            let status = response.status();
            let body = http_body_util::BodyExt::collect(response.into_body())
                .await
                .expect("a body")
                .to_bytes();
            // A 5xx is a finding unless it is one of the registry's own
            // answers: the store's (50001, e.g. no schema id left) or a
            // limit's (50002, 503).
            if status.is_server_error() {
                let code = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|b| b["error_code"].as_i64());
                assert!(
                    matches!(code, Some(50001 | 50002 | 503)),
                    "{status} for {part:?}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
        }
    });
}

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target by name, for the corpus tests.
/// The key the `credentials` target's JWKS holds (its private half is not
/// kept: the seeds carry one token it signed).
const FUZZ_JWKS: &str = r#"{"keys": [{"crv": "P-256", "x": "9EddHDvZ3wJKD3tmyY8CJqvc4EltVsTbDwMZPA7ocM8", "y": "A6I0n9ZaMOiozcH__a_Wgs4N0FVlMccMotvEi-xoY8g", "kid": "fuzz", "kty": "EC"}]}"#;
/// The one valid Basic credential of the `credentials` target's users.
const FUZZ_USER: (&str, &str) = ("fuzzer", "open-sesame");

/// An authenticator over one sha1 user (cheap to hash) and the JWKS above.
fn authenticator() -> &'static scute_security::authenticate::Authenticator {
    use scute_security::authenticate::{Authenticator, Methods};
    use scute_security::token::{JwksSource, TokenSettings, TokenVerifier};
    static AUTH: OnceLock<(Authenticator, tempfile::TempDir)> = OnceLock::new();
    &AUTH
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let users = dir.path().join("users.json");
            let entry = scute_security::users::entry(
                FUZZ_USER.0,
                scute_security::password::Algorithm::Sha1,
                FUZZ_USER.1,
                Some("salt"),
            );
            scute_security::users::add_user(&users, entry).unwrap();
            let jwks = dir.path().join("jwks.json");
            std::fs::write(&jwks, FUZZ_JWKS).unwrap();
            let read = users.clone();
            let users = scute_security::watch::Watched::load("users", vec![users], move || {
                scute_security::users::UserFile::read(&read)
            })
            .unwrap();
            let settings = TokenSettings::new(
                JwksSource::File(jwks),
                "https://issuer.example",
                vec!["scute".into()],
            );
            let tokens = runtime().block_on(TokenVerifier::start(settings)).unwrap();
            let methods = Methods {
                users: Some(users),
                tokens: Some(tokens),
                certificates: false,
            };
            (Authenticator::new(methods, 1, 1024).unwrap(), dir)
        })
        .0
}

/// What a stranger can send the door: `user file text \0 authorization
/// header`. The text is read as Karapace's user file; the header is checked
/// against one known user and the JWKS above. Only the known password or a
/// token the JWKS's key signed may yield a principal.
pub fn credentials(data: &[u8]) {
    let mut split = data.splitn(2, |b| *b == 0);
    let file = String::from_utf8_lossy(split.next().unwrap_or_default());
    let _ = scute_security::users::UserFile::parse(std::path::Path::new("users.json"), &file);
    let Some(header) = split.next() else {
        return;
    };
    let result = runtime().block_on(authenticator().authenticate(Some(header), None));
    if let Ok(principal) = result {
        match principal.source {
            scute_security::Source::Basic => assert_eq!(&*principal.name, FUZZ_USER.0),
            scute_security::Source::Bearer => assert_eq!(&*principal.name, "fuzzer"),
            scute_security::Source::Certificate => panic!("a header named a certificate"),
        }
    }
}

pub const TARGETS: &[(&str, Target)] = &[
    ("avro", avro),
    ("protobuf_text", protobuf_text),
    ("protobuf_descriptor", protobuf_descriptor),
    ("json_schema", json_schema),
    ("avro_compat", avro_compat),
    ("protobuf_compat", protobuf_compat),
    ("json_compat", json_compat),
    ("log_file", log_file),
    ("schemas_topic", schemas_topic),
    ("rest", rest),
    ("credentials", credentials),
    ("properties", properties),
    ("snapshot", snapshot),
];

/// `snapshot`: a `state.snapshot` file as a restart reads it. Whatever it
/// holds, reading it ends in a state or an error; a state read back writes
/// a snapshot that reads back to a state writing the very same bytes.
pub fn snapshot(data: &[u8]) {
    use scute_service::state::{LogTexts, snapshot};
    use scute_storage::file::{FrameReader, LogTail};
    static LOG: OnceLock<(tempfile::TempDir, Arc<LogTexts>)> = OnceLock::new();
    let (_, log) = LOG.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join(scute_storage::file::LOG_FILE), b"SCUTLOG1")
            .expect("an empty log");
        let reader = FrameReader::open(dir.path()).expect("the log opens");
        (dir, Arc::new(LogTexts::new(reader)))
    });
    let peeked = snapshot::peek_tail(data);
    let Ok((tail, state)) = snapshot::decode(data, log) else {
        return;
    };
    // A snapshot that reads names in its head the tail its body does.
    assert_eq!(peeked, Ok(tail));
    let write = |state: &State, tail: &LogTail| {
        let mut bytes = Vec::new();
        let written = snapshot::encode(state, tail, &mut bytes).expect("a Vec takes every byte");
        assert!(written, "a snapshot read back holds no stamps");
        bytes
    };
    let first = write(&state, &tail);
    let (again_tail, again) = snapshot::decode(&first, log).expect("a written snapshot reads");
    assert_eq!(again_tail, tail);
    assert_eq!(write(&again, &again_tail), first);
}

/// `properties`: a properties file's text, parsed as Java's format and
/// read onto a default config. Listeners (their host is looked up in DNS)
/// and store locations (their first bytes are read) are left out: a fuzzer
/// must not query the network or open the paths it makes up.
pub fn properties(data: &[u8]) {
    use clap::{CommandFactory, FromArgMatches};
    use scute_service::config::{Config, properties};
    static MATCHES: OnceLock<clap::ArgMatches> = OnceLock::new();
    let matches = MATCHES.get_or_init(|| {
        Config::command()
            .try_get_matches_from(["scute"])
            .expect("the defaults parse")
    });
    let text = String::from_utf8_lossy(data);
    let mut parsed = properties::parse(&text);
    let keys = parsed.len();
    parsed.retain(|key, _| key != "listeners" && !key.ends_with(".location"));
    let kept = parsed.len();
    let mut config = Config::from_arg_matches(matches).expect("the defaults make a config");
    if let Ok(applied) = properties::apply(
        &mut config,
        matches,
        std::path::Path::new("fuzz.properties"),
        parsed,
    ) {
        // Every key is accounted for: used, given by a flag, or named.
        let named = applied.ignored.len();
        assert!(
            applied.used.len() + applied.overridden.len() + named >= kept,
            "{keys} keys, {kept} kept, {applied:?}"
        );
    }
}
