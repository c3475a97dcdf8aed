#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use clap::{CommandFactory, FromArgMatches};

use super::*;
use crate::model::CompatibilityLevel;

fn read(text: &str, flags: &[&str]) -> Result<(Config, Applied), PropertiesError> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    let args = std::iter::once("scute").chain(flags.iter().copied());
    let matches = Config::command().try_get_matches_from(args).unwrap();
    let mut config = Config::from_arg_matches(&matches).unwrap();
    let applied = apply_file(&mut config, &matches, file.path())?;
    Ok((config, applied))
}

#[test]
fn java_properties_syntax() {
    let parsed = parse(
        "# a comment\n\
         ! another\n\
         \n\
         a=1\n\
         b: 2\n\
         c 3\n\
         d = spaced value \n\
         e=first\\\n    second\n\
         f=tab\\there\\u0041\n\
         key\\=with\\:seps=x\n\
         g=ends in a backslash\\\\\n\
         h=\n\
         a=again\n",
    );
    let get = |k: &str| parsed.get(k).map(String::as_str);
    assert_eq!(get("a"), Some("again"));
    assert_eq!(get("b"), Some("2"));
    assert_eq!(get("c"), Some("3"));
    assert_eq!(get("d"), Some("spaced value "));
    assert_eq!(get("e"), Some("firstsecond"));
    assert_eq!(get("f"), Some("tab\thereA"));
    assert_eq!(get("key=with:seps"), Some("x"));
    assert_eq!(get("g"), Some("ends in a backslash\\"));
    assert_eq!(get("h"), Some(""));
    assert_eq!(parsed.len(), 9);
}

#[test]
fn a_confluent_file_sets_scutes_settings_and_names_the_rest() {
    let (config, applied) = read(
        "listeners=http://127.0.0.1:18081\n\
         host.name=registry-1\n\
         kafkastore.bootstrap.servers=SASL_SSL://b1:9093,SASL_SSL://b2:9093\n\
         kafkastore.topic=_confluent_schemas\n\
         kafkastore.topic.replication.factor=1\n\
         kafkastore.timeout.ms=4000\n\
         kafkastore.security.protocol=SASL_SSL\n\
         kafkastore.sasl.mechanism=SCRAM-SHA-512\n\
         kafkastore.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"sr\" password=\"s3cret\";\n\
         kafkastore.ssl.endpoint.identification.algorithm=\n\
         schema.compatibility.level=full_transitive\n\
         schema.registry.group.id=prod\n\
         debug=false\n\
         metric.reporters=\n",
        &[],
    )
    .unwrap();
    assert_eq!(config.rest_listen, "127.0.0.1:18081".parse().unwrap());
    assert_eq!(config.kafka_bootstrap.as_deref(), Some("b1:9093,b2:9093"));
    assert_eq!(config.kafka_topic, "_confluent_schemas");
    assert_eq!(config.kafka_replication_factor, Some(1));
    assert_eq!(config.kafka_timeout_ms, 4000);
    assert_eq!(
        config.compatibility_level,
        CompatibilityLevel::FullTransitive
    );
    assert_eq!(config.group_id, "prod");
    let props: Vec<(&str, &str)> = config
        .kafka_properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        props,
        [
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", "sr"),
            ("sasl.password", "s3cret"),
            ("ssl.endpoint.identification.algorithm", "none"),
        ]
    );
    let ignored: Vec<&str> = applied.ignored.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(ignored, ["debug", "host.name", "metric.reporters"]);
    assert!(
        applied.ignored[1]
            .1
            .as_deref()
            .unwrap()
            .contains("no leader")
    );
    assert!(applied.overridden.is_empty());
}

#[test]
fn flags_and_the_environment_win_and_kafka_properties_add_up() {
    let (config, applied) = read(
        "kafkastore.topic=_from_file\n\
         listeners=http://0.0.0.0:8081\n\
         kafkastore.security.protocol=SSL\n",
        &[
            "--kafka-topic",
            "_from_flag",
            "--kafka-property",
            "security.protocol=SASL_SSL",
        ],
    )
    .unwrap();
    assert_eq!(config.kafka_topic, "_from_flag");
    assert_eq!(applied.overridden, ["kafkastore.topic"]);
    // The file's first, the flag's after: librdkafka keeps the last.
    assert_eq!(
        config.kafka_properties,
        [
            ("security.protocol".to_owned(), "SSL".to_owned()),
            ("security.protocol".to_owned(), "SASL_SSL".to_owned()),
        ]
    );
    assert_eq!(config.rest_listen, "0.0.0.0:8081".parse().unwrap());
}

#[test]
fn an_https_listener_needs_pem_and_gets_it() {
    let err = read(
        "listeners=https://0.0.0.0:8443\n\
         ssl.keystore.location=/etc/sr/keystore.jks\n\
         ssl.keystore.password=x\n",
        &[],
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("an https listener needs a PEM keystore"),
        "{err}"
    );

    let mut pem = tempfile::NamedTempFile::new().unwrap();
    pem.write_all(b"-----BEGIN CERTIFICATE-----\n").unwrap();
    let text = format!(
        "listeners=https://0.0.0.0:8443\n\
         ssl.keystore.location={path}\n\
         ssl.truststore.location={path}\n\
         ssl.client.authentication=REQUESTED\n",
        path = pem.path().display()
    );
    let (config, applied) = read(&text, &[]).unwrap();
    assert_eq!(config.security.tls_cert.as_deref(), Some(pem.path()));
    assert_eq!(config.security.tls_key.as_deref(), Some(pem.path()));
    assert_eq!(config.security.tls_client_ca.as_deref(), Some(pem.path()));
    assert_eq!(config.security.tls_client_auth.0.to_string(), "optional");
    assert!(applied.ignored.is_empty(), "{:?}", applied.ignored);
}

#[test]
fn a_listener_flag_makes_the_files_https_listener_moot() {
    let (config, applied) = read(
        "listeners=https://0.0.0.0:8443\nssl.keystore.location=/etc/keystore.jks\n",
        &["--rest-listen", "127.0.0.1:9000"],
    )
    .unwrap();
    assert_eq!(config.rest_listen, "127.0.0.1:9000".parse().unwrap());
    assert_eq!(config.security.tls_cert, None);
    assert_eq!(applied.overridden, ["listeners"]);
}

#[test]
fn a_jks_truststore_for_kafka_is_named_not_used() {
    let (config, applied) = read(
        "kafkastore.bootstrap.servers=b:9093\n\
         kafkastore.ssl.truststore.location=/etc/sr/truststore.jks\n\
         kafkastore.ssl.truststore.type=JKS\n\
         kafkastore.ssl.keystore.location=/etc/sr/client.p12\n\
         kafkastore.ssl.keystore.type=PKCS12\n\
         kafkastore.ssl.keystore.password=pw\n",
        &[],
    )
    .unwrap();
    assert!(
        config
            .kafka_properties
            .contains(&("ssl.keystore.location".into(), "/etc/sr/client.p12".into()))
    );
    assert!(
        config
            .kafka_properties
            .contains(&("ssl.keystore.password".into(), "pw".into()))
    );
    let ignored: Vec<&str> = applied.ignored.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        ignored,
        [
            "kafkastore.ssl.truststore.location",
            "kafkastore.ssl.truststore.type"
        ]
    );
    assert!(applied.ignored[0].1.as_deref().unwrap().contains("PEM"));
}

#[test]
fn bad_values_are_refused_with_the_key() {
    for (text, want) in [
        (
            "listeners=8081\n",
            "listeners=8081: a listener is scheme://host:port",
        ),
        ("listeners=ftp://h:1\n", "the scheme must be http or https"),
        (
            "schema.compatibility.level=sideways\n",
            "not a compatibility level",
        ),
        (
            "kafkastore.timeout.ms=soon\n",
            "kafkastore.timeout.ms=soon: not a number",
        ),
    ] {
        let err = read(text, &[]).unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[test]
fn a_huge_file_is_refused_before_it_is_read() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.as_file().set_len(MAX_BYTES + 1).unwrap();
    file.flush().unwrap();
    let matches = Config::command().try_get_matches_from(["scute"]).unwrap();
    let mut config = Config::from_arg_matches(&matches).unwrap();
    let err = apply_file(&mut config, &matches, file.path()).unwrap_err();
    assert!(matches!(err, PropertiesError::TooLarge { .. }), "{err}");
}
