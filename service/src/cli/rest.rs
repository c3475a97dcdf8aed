//! The REST transport: Confluent's contract only (paths, query parameters,
//! JSON shapes and `{"error_code","message"}` errors), so any compatible
//! registry answers.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::connection::{Auth, Target};
use super::{
    CliError, Compatibility, ConfigInfo, NewSchema, Reference, Registry, SchemaInfo, chain,
};

const MEDIA_TYPE: &str = "application/vnd.schemaregistry.v1+json";
/// Long enough for a registry waiting on its Kafka topic, short enough for a person.
const TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Rest {
    http: reqwest::Client,
    base: Url,
    auth: Option<Auth>,
}

/// Confluent's error entity. Karapace answers a 401 with the message alone.
#[derive(Deserialize)]
struct ErrorBody {
    error_code: Option<i32>,
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaBody {
    subject: Option<String>,
    version: Option<i32>,
    id: Option<i32>,
    schema_type: Option<String>,
    #[serde(default)]
    schema: String,
    #[serde(default)]
    references: Vec<Reference>,
}

/// `RegisterSchemaResponse`: `{"id"}` before Confluent 8, more since.
#[derive(Deserialize)]
struct RegisteredBody {
    id: i32,
    version: Option<i32>,
    schema: Option<String>,
}

#[derive(Deserialize)]
struct CompatibilityBody {
    is_compatible: bool,
    #[serde(default)]
    messages: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigBody {
    compatibility_level: Option<String>,
    normalize: Option<bool>,
}

#[derive(Deserialize)]
struct LevelBody {
    compatibility: String,
}

impl SchemaBody {
    fn into_info(self, id: Option<i32>) -> Result<SchemaInfo, CliError> {
        let id = self.id.or(id).ok_or_else(|| {
            CliError::Transport("the registry answered a schema without an id".into())
        })?;
        Ok(SchemaInfo {
            subject: self.subject,
            version: self.version,
            id,
            schema_type: self.schema_type.unwrap_or_else(|| "AVRO".to_owned()),
            schema: self.schema,
            references: self.references,
        })
    }
}

/// A message of a verbose check: Confluent sends strings.
fn message_text(value: Value) -> String {
    match value {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

/// The body of `POST /subjects/{s}/versions` and its kin.
fn schema_request(schema: &NewSchema) -> Value {
    let mut body = json!({ "schema": schema.schema });
    // AVRO is the default; leaving it out suits registries that predate schemaType.
    if schema.schema_type != "AVRO" {
        body["schemaType"] = json!(schema.schema_type);
    }
    if !schema.references.is_empty() {
        body["references"] = json!(schema.references);
    }
    body
}

impl Rest {
    pub(crate) fn new(target: Target) -> Result<Self, CliError> {
        let mut http = reqwest::Client::builder()
            .user_agent(concat!("scute/", env!("CARGO_PKG_VERSION")))
            .timeout(TIMEOUT);
        if let Some(ca) = &target.tls.ca_pem {
            let roots = reqwest::Certificate::from_pem_bundle(ca)
                .map_err(|e| CliError::Usage(format!("--ca-cert: {}", chain(&e))))?;
            // Only the CA named: as gRPC does, and as curl's --cacert does.
            http = http.tls_certs_only(roots);
        }
        if let Some((cert, key)) = &target.tls.identity {
            let mut pem = cert.clone();
            pem.push(b'\n');
            pem.extend_from_slice(key);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                CliError::Usage(format!("--client-cert/--client-key: {}", chain(&e)))
            })?;
            http = http.identity(identity);
        }
        // A key that is not the certificate's shows here.
        let http = http.build().map_err(|e| {
            CliError::Usage(super::connection::tls_failure(&e).unwrap_or_else(|| chain(&e)))
        })?;
        Ok(Self {
            http,
            base: target.url,
            auth: target.auth,
        })
    }

    /// The base URL with `segments` appended (each percent-encoded, so a
    /// subject may hold `/`) and `query`.
    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, CliError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| CliError::Usage(format!("--registry {}: not a base URL", self.base)))?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<T, CliError> {
        let mut request = self
            .http
            .request(method, url.clone())
            .header(ACCEPT, format!("{MEDIA_TYPE}, application/json"));
        match &self.auth {
            Some(Auth::Basic { user, password }) => {
                request = request.basic_auth(user, password.as_ref());
            }
            Some(Auth::Bearer(token)) => request = request.bearer_auth(token),
            None => {}
        }
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, MEDIA_TYPE).json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| super::unreachable(&self.base, &e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| CliError::Transport(chain(&e)))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| CliError::Transport(format!("unexpected answer from {url}: {e}")));
        }
        Err(refusal(status, &bytes).unwrap_or_else(|| {
            CliError::Transport(format!(
                "{url} answered HTTP {status}: {}",
                String::from_utf8_lossy(&bytes).trim()
            ))
        }))
    }
}

/// A registry's refusal: Confluent's error entity, or any 401 or 403 (from
/// Karapace, or a proxy in front of the registry), given Confluent's code.
fn refusal(status: reqwest::StatusCode, body: &[u8]) -> Option<CliError> {
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
    let auth_code = match status.as_u16() {
        401 => Some(40101),
        403 => Some(40301),
        _ => None,
    };
    let error_code = parsed.as_ref().and_then(|e| e.error_code).or(auth_code)?;
    let message = match parsed {
        Some(error) => error.message,
        None => status.canonical_reason().unwrap_or("refused").to_owned(),
    };
    Some(CliError::Registry {
        error_code,
        message,
    })
}

/// `?name=true` when `on`, else no query.
fn flag(name: &'static str, on: bool) -> Vec<(&'static str, &'static str)> {
    if on { vec![(name, "true")] } else { Vec::new() }
}

#[async_trait]
impl Registry for Rest {
    async fn register(
        &mut self,
        subject: &str,
        schema: &NewSchema,
    ) -> Result<SchemaInfo, CliError> {
        let body = schema_request(schema);
        let query = flag("normalize", schema.normalize);
        let url = self.url(&["subjects", subject, "versions"], &query)?;
        let registered: RegisteredBody = self.call(Method::POST, url, Some(&body)).await?;
        let version = match registered.version {
            Some(version) => Some(version),
            // Older registries answer only the id: ask which version it is.
            None => {
                let url = self.url(&["subjects", subject], &query)?;
                let found: SchemaBody = self.call(Method::POST, url, Some(&body)).await?;
                found.version
            }
        };
        Ok(SchemaInfo {
            subject: Some(subject.to_owned()),
            version,
            id: registered.id,
            schema_type: schema.schema_type.to_owned(),
            schema: registered.schema.unwrap_or_else(|| schema.schema.clone()),
            references: schema.references.clone(),
        })
    }

    async fn schema_by_id(&mut self, id: i32) -> Result<SchemaInfo, CliError> {
        let url = self.url(&["schemas", "ids", &id.to_string()], &[])?;
        let body: SchemaBody = self.call(Method::GET, url, None).await?;
        body.into_info(Some(id))
    }

    async fn version(&mut self, subject: &str, version: &str) -> Result<SchemaInfo, CliError> {
        let url = self.url(&["subjects", subject, "versions", version], &[])?;
        let body: SchemaBody = self.call(Method::GET, url, None).await?;
        body.into_info(None)
    }

    async fn check(
        &mut self,
        subject: &str,
        version: Option<&str>,
        schema: &NewSchema,
    ) -> Result<Compatibility, CliError> {
        let mut segments = vec!["compatibility", "subjects", subject, "versions"];
        segments.extend(version);
        let mut query = vec![("verbose", "true")];
        query.extend(flag("normalize", schema.normalize));
        let url = self.url(&segments, &query)?;
        let body: CompatibilityBody = self
            .call(Method::POST, url, Some(&schema_request(schema)))
            .await?;
        Ok(Compatibility {
            is_compatible: body.is_compatible,
            messages: body.messages.into_iter().map(message_text).collect(),
        })
    }

    async fn delete_subject(
        &mut self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, CliError> {
        let url = self.url(&["subjects", subject], &flag("permanent", permanent))?;
        self.call(Method::DELETE, url, None).await
    }

    async fn delete_version(
        &mut self,
        subject: &str,
        version: &str,
        permanent: bool,
    ) -> Result<i32, CliError> {
        let url = self.url(
            &["subjects", subject, "versions", version],
            &flag("permanent", permanent),
        )?;
        self.call(Method::DELETE, url, None).await
    }

    async fn subjects(&mut self, deleted: bool, prefix: &str) -> Result<Vec<String>, CliError> {
        let mut query = Vec::new();
        if deleted {
            query.push(("deleted", "true"));
        }
        if !prefix.is_empty() {
            query.push(("subjectPrefix", prefix));
        }
        let url = self.url(&["subjects"], &query)?;
        let subjects: Vec<String> = self.call(Method::GET, url, None).await?;
        // Registries older than subjectPrefix ignore it and list everything.
        Ok(subjects
            .into_iter()
            .filter(|s| s.starts_with(prefix))
            .collect())
    }

    async fn config(&mut self, subject: Option<&str>) -> Result<ConfigInfo, CliError> {
        let url = match subject {
            Some(subject) => self.url(&["config", subject], &[("defaultToGlobal", "true")])?,
            None => self.url(&["config"], &[])?,
        };
        let body: ConfigBody = self.call(Method::GET, url, None).await?;
        Ok(ConfigInfo {
            compatibility_level: body.compatibility_level,
            normalize: body.normalize,
        })
    }

    async fn set_level(&mut self, subject: Option<&str>, level: &str) -> Result<String, CliError> {
        let mut segments = vec!["config"];
        segments.extend(subject);
        let url = self.url(&segments, &[])?;
        let body = json!({ "compatibility": level });
        let set: LevelBody = self.call(Method::PUT, url, Some(&body)).await?;
        Ok(set.compatibility)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rest(base: &str) -> Rest {
        Rest::new(Target {
            url: Url::parse(base).unwrap(),
            auth: None,
            tls: Default::default(),
        })
        .unwrap()
    }

    #[test]
    fn urls_encode_subjects_and_keep_a_base_path() {
        let registry = rest("https://example.com/registry/");
        let url = registry
            .url(
                &["subjects", "a/b c", "versions", "latest"],
                &[("deleted", "true")],
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://example.com/registry/subjects/a%2Fb%20c/versions/latest?deleted=true"
        );
    }

    #[test]
    fn refusals_keep_the_registrys_code_and_auth_failures_get_one() {
        use reqwest::StatusCode;
        let code = |status: u16, body: &str| match refusal(
            StatusCode::from_u16(status).unwrap(),
            body.as_bytes(),
        ) {
            Some(CliError::Registry {
                error_code,
                message,
            }) => Some((error_code, message)),
            Some(other) => panic!("{other:?}"),
            None => None,
        };
        assert_eq!(
            code(
                404,
                r#"{"error_code":40401,"message":"Subject 'x' not found."}"#
            ),
            Some((40401, "Subject 'x' not found.".into()))
        );
        assert_eq!(
            code(401, r#"{"error_code":40101,"message":"Unauthorized"}"#),
            Some((40101, "Unauthorized".into()))
        );
        // Karapace's 401 has no code; a proxy's has no JSON at all.
        assert_eq!(
            code(401, r#"{"message": "Unauthorized"}"#),
            Some((40101, "Unauthorized".into()))
        );
        assert_eq!(
            code(403, "<html>nope</html>"),
            Some((40301, "Forbidden".into()))
        );
        assert_eq!(code(502, "<html>bad gateway</html>"), None);
        assert_eq!(code(500, r#"{"message": "no code"}"#), None);
    }

    #[test]
    fn avro_is_left_implicit_in_requests() {
        let schema = NewSchema {
            schema_type: "AVRO",
            schema: "\"string\"".into(),
            references: vec![],
            normalize: false,
        };
        assert_eq!(schema_request(&schema), json!({ "schema": "\"string\"" }));
        let proto = NewSchema {
            schema_type: "PROTOBUF",
            references: vec![Reference {
                name: "a.proto".into(),
                subject: "a".into(),
                version: 1,
            }],
            ..schema
        };
        assert_eq!(
            schema_request(&proto),
            json!({ "schema": "\"string\"", "schemaType": "PROTOBUF",
                    "references": [{ "name": "a.proto", "subject": "a", "version": 1 }] })
        );
    }
}
