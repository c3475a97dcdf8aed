//! Confluent's `schema-registry.properties`, read onto Scute's settings
//! (`scute --config FILE`): a registry's operators start Scute with the file
//! their Confluent registry ran with.
//!
//! The file is Java's properties format. Each key that maps onto a setting
//! of Scute's sets it, unless a flag or an environment variable set it
//! already (they win); every other key is named in one line at start. A key
//! Scute maps but whose value it cannot use (a JKS keystore: Scute and
//! librdkafka read PEM) is refused at start when ignoring it would weaken
//! the setup (an `https` listener served as `http`), and named otherwise.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use clap::parser::ValueSource;

use super::Config;
use crate::model::CompatibilityLevel;

/// The largest file read: a properties file is a page of settings.
const MAX_BYTES: u64 = 1 << 20;

/// Why the file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PropertiesError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is {bytes} bytes; a properties file may be at most {MAX_BYTES}", path.display())]
    TooLarge { path: PathBuf, bytes: u64 },
    #[error("{}: {key}={value}: {reason}", path.display())]
    Value {
        path: PathBuf,
        key: String,
        value: String,
        reason: String,
    },
}

/// What reading the file did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Keys that set a setting.
    pub used: Vec<String>,
    /// Keys whose setting a flag or an environment variable gave instead.
    pub overridden: Vec<String>,
    /// Keys Scute has no use for, each with why when it is not plain.
    pub ignored: Vec<(String, Option<String>)>,
}

/// Parses Java's properties format: `key=value`, `key: value` or
/// `key value`; `#` and `!` comments; a line ending in an odd number of
/// backslashes continues on the next; `\t`, `\n`, `\r`, `\f`, `\uXXXX`
/// and `\<any>` escapes. A later key replaces an earlier one.
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let mut logical = line.trim_start().to_owned();
        if logical.is_empty() || logical.starts_with('#') || logical.starts_with('!') {
            continue;
        }
        while ends_in_escape(&logical) {
            logical.pop();
            match lines.next() {
                Some(next) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let (key, value) = split_entry(&logical);
        out.insert(unescape(key), unescape(value));
    }
    out
}

fn ends_in_escape(line: &str) -> bool {
    line.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

/// The key ends at the first unescaped `=`, `:` or blank; the value starts
/// after blanks and at most one `=` or `:`.
fn split_entry(line: &str) -> (&str, &str) {
    let mut escaped = false;
    let mut end = line.len();
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | ':' | ' ' | '\t' | '\u{c}' => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let key = &line[..end];
    let mut rest = line[end..].trim_start_matches([' ', '\t', '\u{c}']);
    if let Some(after) = rest.strip_prefix(['=', ':']) {
        rest = after.trim_start_matches([' ', '\t', '\u{c}']);
    }
    (key, rest)
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(c) => out.push(c),
                    None => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Reads `path` onto `config`, where `matches` says a flag or the
/// environment did not set the setting already.
pub fn apply_file(
    config: &mut Config,
    matches: &ArgMatches,
    path: &Path,
) -> Result<Applied, PropertiesError> {
    let read = |source| PropertiesError::Read {
        path: path.to_owned(),
        source,
    };
    let bytes = std::fs::metadata(path).map_err(read)?.len();
    if bytes > MAX_BYTES {
        return Err(PropertiesError::TooLarge {
            path: path.to_owned(),
            bytes,
        });
    }
    let text = std::fs::read_to_string(path).map_err(read)?;
    apply(config, matches, path, parse(&text))
}

/// Sets `config` from parsed `properties` (of the file `file`, named in
/// errors), where `matches` says a flag or the environment did not.
pub fn apply(
    config: &mut Config,
    matches: &ArgMatches,
    file: &Path,
    properties: BTreeMap<String, String>,
) -> Result<Applied, PropertiesError> {
    Reader {
        config,
        matches: Some(matches),
        file,
        properties,
        applied: Applied::default(),
        kafka: Vec::new(),
    }
    .run()
}

struct Reader<'a> {
    config: &'a mut Config,
    matches: Option<&'a ArgMatches>,
    file: &'a Path,
    properties: BTreeMap<String, String>,
    applied: Applied,
    /// librdkafka properties from the file, put before the flags' own.
    kafka: Vec<(String, String)>,
}

impl Reader<'_> {
    fn run(mut self) -> Result<Applied, PropertiesError> {
        self.listeners()?;
        self.listener_tls()?;
        if let Some(servers) = self.take("kafkastore.bootstrap.servers") {
            let servers = bootstrap(&servers);
            self.set("kafka_bootstrap", "kafkastore.bootstrap.servers", |c| {
                c.kafka_bootstrap = Some(servers)
            });
        }
        if let Some(topic) = self.take("kafkastore.topic") {
            self.set("kafka_topic", "kafkastore.topic", |c| c.kafka_topic = topic);
        }
        if let Some(value) = self.take("kafkastore.topic.replication.factor") {
            let factor = self.number::<i32>("kafkastore.topic.replication.factor", &value)?;
            self.set(
                "kafka_replication_factor",
                "kafkastore.topic.replication.factor",
                |c| c.kafka_replication_factor = Some(factor),
            );
        }
        if let Some(value) = self.take("kafkastore.timeout.ms") {
            let ms = self.number::<u64>("kafkastore.timeout.ms", &value)?;
            self.set("kafka_timeout_ms", "kafkastore.timeout.ms", |c| {
                c.kafka_timeout_ms = ms
            });
        }
        self.kafka_security()?;
        for key in ["schema.compatibility.level", "avro.compatibility.level"] {
            if let Some(value) = self.take(key) {
                let level: CompatibilityLevel = value
                    .to_ascii_uppercase()
                    .parse()
                    .map_err(|_| self.bad(key, &value, "not a compatibility level"))?;
                self.set("compatibility_level", key, |c| {
                    c.compatibility_level = level
                });
            }
        }
        if let Some(group) = self.take("schema.registry.group.id") {
            self.set("group_id", "schema.registry.group.id", |c| {
                c.group_id = group
            });
        }
        if !self.kafka.is_empty() {
            let mut properties = std::mem::take(&mut self.kafka);
            properties.append(&mut self.config.kafka_properties);
            self.config.kafka_properties = properties;
        }
        let rest: Vec<String> = self.properties.keys().cloned().collect();
        for key in rest {
            let why = unused_reason(&key);
            self.applied.ignored.push((key, why));
        }
        Ok(self.applied)
    }

    fn take(&mut self, key: &str) -> Option<String> {
        self.properties.remove(key)
    }

    /// Whether a flag or the environment set `id`.
    fn given(&self, id: &str) -> bool {
        self.matches.is_some_and(|m| {
            matches!(
                m.value_source(id),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            )
        })
    }

    fn set(&mut self, id: &str, key: &str, set: impl FnOnce(&mut Config)) {
        if self.given(id) {
            self.applied.overridden.push(key.to_owned());
        } else {
            set(self.config);
            self.applied.used.push(key.to_owned());
        }
    }

    fn kafka_property(&mut self, key: &str, name: &str, value: String) {
        self.kafka.push((name.to_owned(), value));
        self.applied.used.push(key.to_owned());
    }

    fn bad(&self, key: &str, value: &str, reason: impl Into<String>) -> PropertiesError {
        PropertiesError::Value {
            path: self.file.to_owned(),
            key: key.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }

    fn number<T: std::str::FromStr>(&self, key: &str, value: &str) -> Result<T, PropertiesError> {
        value
            .trim()
            .parse()
            .map_err(|_| self.bad(key, value, "not a number"))
    }

    /// `listeners`: the first is the REST listener; Scute serves one.
    fn listeners(&mut self) -> Result<(), PropertiesError> {
        let Some(value) = self.take("listeners") else {
            return Ok(());
        };
        if self.given("rest_listen") {
            // The flag's listener is served, and the file's TLS with it is moot.
            self.applied.overridden.push("listeners".into());
            return Ok(());
        }
        let mut all = value.split(',').map(str::trim).filter(|l| !l.is_empty());
        let Some(first) = all.next() else {
            return Ok(());
        };
        let (scheme, addr) = listener(first).map_err(|e| self.bad("listeners", &value, e))?;
        let others: Vec<&str> = all.collect();
        if !others.is_empty() {
            self.applied.ignored.push((
                format!("listeners ({})", others.join(", ")),
                Some("Scute serves REST on one listener, the first".into()),
            ));
        }
        if scheme == "https" && !self.given("tls_cert") {
            let pem = self.pem_store("ssl.keystore")?;
            match pem {
                Some(path) => {
                    self.config.security.tls_cert = Some(path.clone());
                    self.config.security.tls_key = Some(path);
                    self.applied.used.push("ssl.keystore.location".into());
                }
                None => {
                    return Err(self.bad(
                        "listeners",
                        &value,
                        "an https listener needs a PEM keystore (ssl.keystore.location holding the \
                         certificate chain and its key, ssl.keystore.type=PEM); Scute does not read \
                         JKS or PKCS#12 keystores: convert it, or pass --tls-cert and --tls-key",
                    ));
                }
            }
        }
        self.set("rest_listen", "listeners", |c| c.rest_listen = addr);
        Ok(())
    }

    /// The listener's client certificates: `ssl.truststore.*` and
    /// `ssl.client.auth` / `ssl.client.authentication`.
    fn listener_tls(&mut self) -> Result<(), PropertiesError> {
        if self.config.security.tls_cert.is_none() {
            // Without an https listener these keys have nothing to act on.
            return Ok(());
        }
        let mode = match (
            self.take("ssl.client.authentication"),
            self.take("ssl.client.auth"),
        ) {
            (Some(mode), _) => Some(("ssl.client.authentication", mode.to_ascii_uppercase())),
            (None, Some(flag)) if flag.trim() == "true" => {
                Some(("ssl.client.auth", "REQUIRED".to_owned()))
            }
            (None, Some(_)) => Some(("ssl.client.auth", "NONE".to_owned())),
            (None, None) => None,
        };
        if let Some(ca) = self.pem_store("ssl.truststore")?
            && !self.given("tls_client_ca")
        {
            self.config.security.tls_client_ca = Some(ca);
            self.applied.used.push("ssl.truststore.location".into());
        }
        if let Some((key, mode)) = mode {
            let auth = match mode.as_str() {
                "REQUIRED" => "required",
                "REQUESTED" => "optional",
                "NONE" => "none",
                _ => return Err(self.bad(key, &mode, "not REQUIRED, REQUESTED or NONE")),
            };
            let parsed = auth
                .parse()
                .map(crate::security::ClientAuthArg)
                .map_err(|e: scute_security::SecurityError| self.bad(key, &mode, e.to_string()))?;
            self.set("tls_client_auth", key, |c| {
                c.security.tls_client_auth = parsed
            });
        }
        Ok(())
    }

    /// A `<prefix>.location` that holds PEM (by `<prefix>.type`, or by
    /// its first line when no type is given), taking its keys; `None` when
    /// absent or not PEM (then left in the file, to be named as ignored).
    fn pem_store(&mut self, prefix: &str) -> Result<Option<PathBuf>, PropertiesError> {
        let location_key = format!("{prefix}.location");
        let type_key = format!("{prefix}.type");
        let Some(location) = self.properties.get(&location_key).cloned() else {
            return Ok(None);
        };
        let kind = self
            .properties
            .get(&type_key)
            .map(|t| t.to_ascii_uppercase());
        let is_pem = match kind.as_deref() {
            Some("PEM") => true,
            Some(_) => false,
            None => looks_like_pem(Path::new(&location)),
        };
        if !is_pem {
            return Ok(None);
        }
        self.properties.remove(&location_key);
        self.properties.remove(&type_key);
        // A PEM store's password is its key's, which Scute does not take.
        self.properties.remove(&format!("{prefix}.password"));
        Ok(Some(PathBuf::from(location)))
    }

    /// `kafkastore.security.protocol`, `kafkastore.sasl.*` and
    /// `kafkastore.ssl.*`, as librdkafka properties.
    fn kafka_security(&mut self) -> Result<(), PropertiesError> {
        if let Some(protocol) = self.take("kafkastore.security.protocol") {
            self.kafka_property(
                "kafkastore.security.protocol",
                "security.protocol",
                protocol,
            );
        }
        if let Some(mechanism) = self.take("kafkastore.sasl.mechanism") {
            self.kafka_property("kafkastore.sasl.mechanism", "sasl.mechanism", mechanism);
        }
        if let Some(service) = self.take("kafkastore.sasl.kerberos.service.name") {
            self.kafka_property(
                "kafkastore.sasl.kerberos.service.name",
                "sasl.kerberos.service.name",
                service,
            );
        }
        if let Some(jaas) = self.properties.get("kafkastore.sasl.jaas.config").cloned()
            && let Some((username, password)) = jaas_credentials(&jaas)
        {
            self.properties.remove("kafkastore.sasl.jaas.config");
            self.kafka.push(("sasl.username".into(), username));
            self.kafka.push(("sasl.password".into(), password));
            self.applied.used.push("kafkastore.sasl.jaas.config".into());
        }
        if let Some(ca) = self.pem_store("kafkastore.ssl.truststore")? {
            self.kafka_property(
                "kafkastore.ssl.truststore.location",
                "ssl.ca.location",
                ca.display().to_string(),
            );
        }
        let keystore_type = self
            .properties
            .get("kafkastore.ssl.keystore.type")
            .map(|t| t.to_ascii_uppercase());
        if keystore_type.as_deref() == Some("PKCS12")
            && let Some(location) = self.take("kafkastore.ssl.keystore.location")
        {
            self.properties.remove("kafkastore.ssl.keystore.type");
            self.kafka_property(
                "kafkastore.ssl.keystore.location",
                "ssl.keystore.location",
                location,
            );
            if let Some(password) = self.take("kafkastore.ssl.keystore.password") {
                self.kafka_property(
                    "kafkastore.ssl.keystore.password",
                    "ssl.keystore.password",
                    password,
                );
            }
        } else if let Some(pem) = self.pem_store("kafkastore.ssl.keystore")? {
            let pem = pem.display().to_string();
            self.kafka
                .push(("ssl.certificate.location".into(), pem.clone()));
            self.kafka_property("kafkastore.ssl.keystore.location", "ssl.key.location", pem);
        }
        if let Some(password) = self.take("kafkastore.ssl.key.password") {
            self.kafka_property("kafkastore.ssl.key.password", "ssl.key.password", password);
        }
        if let Some(algorithm) = self.take("kafkastore.ssl.endpoint.identification.algorithm") {
            let algorithm = if algorithm.trim().is_empty() {
                "none".to_owned()
            } else {
                algorithm.to_ascii_lowercase()
            };
            self.kafka_property(
                "kafkastore.ssl.endpoint.identification.algorithm",
                "ssl.endpoint.identification.algorithm",
                algorithm,
            );
        }
        Ok(())
    }
}

/// `http://host:port` to its scheme and a socket address (an empty host or
/// `0.0.0.0` listens everywhere; a name is looked up).
fn listener(text: &str) -> Result<(&str, SocketAddr), String> {
    let (scheme, rest) = text
        .split_once("://")
        .ok_or("a listener is scheme://host:port")?;
    let scheme_lower = scheme.to_ascii_lowercase();
    if scheme_lower != "http" && scheme_lower != "https" {
        return Err(format!("the scheme must be http or https, not {scheme}"));
    }
    let rest = rest.trim_end_matches('/');
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or("a listener names its port (host:port)")?;
    let port: u16 = port.parse().map_err(|_| format!("{port} is not a port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} resolves to no address"))?;
    Ok((
        if scheme_lower == "https" {
            "https"
        } else {
            "http"
        },
        addr,
    ))
}

/// Kafka's bootstrap list may name each server's listener
/// (`SASL_SSL://host:port`); librdkafka wants `host:port`.
fn bootstrap(servers: &str) -> String {
    servers
        .split(',')
        .map(|s| {
            let s = s.trim();
            s.split_once("://").map_or(s, |(_, addr)| addr)
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

/// The username and password of a PLAIN or SCRAM JAAS login module line.
fn jaas_credentials(jaas: &str) -> Option<(String, String)> {
    if !(jaas.contains("PlainLoginModule") || jaas.contains("ScramLoginModule")) {
        return None;
    }
    let field = |name: &str| {
        let start = jaas.find(&format!("{name}=\""))? + name.len() + 2;
        let end = jaas[start..].find('"')? + start;
        Some(jaas[start..end].to_owned())
    };
    Some((field("username")?, field("password")?))
}

fn looks_like_pem(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 64];
    std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .is_ok_and(|n| head[..n].windows(10).any(|w| w == b"-----BEGIN"))
}

/// Why a key is not used, where the plain "Scute has no such setting" is
/// not the whole story.
fn unused_reason(key: &str) -> Option<String> {
    let reason = if key.ends_with("keystore.location") || key.ends_with("truststore.location") {
        "not a PEM file: Scute and librdkafka read PEM (and librdkafka PKCS#12 keystores)"
    } else if key.starts_with("authentication.") {
        "JAAS realms are Java's: use --auth-file (Karapace's user file) or --oidc-jwks"
    } else if key == "leader.eligibility" || key.starts_with("inter.instance") || key == "host.name"
    {
        "Scute has no leader: every node takes writes"
    } else if key == "kafkastore.sasl.jaas.config" {
        "only PLAIN and SCRAM login modules map onto librdkafka's sasl.username and sasl.password"
    } else {
        return None;
    };
    Some(reason.to_owned())
}

#[cfg(test)]
mod tests;
