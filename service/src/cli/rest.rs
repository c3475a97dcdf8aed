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

use super::{
    CliError, Compatibility, ConfigInfo, NewSchema, Reference, Registry, SchemaInfo, chain,
};

const MEDIA_TYPE: &str = "application/vnd.schemaregistry.v1+json";
/// Long enough for a registry waiting on its Kafka topic, short enough for a person.
const TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Rest {
    http: reqwest::Client,
    base: Url,
    auth: Option<(String, Option<String>)>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error_code: i32,
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
    pub(crate) fn new(mut base: Url) -> Result<Self, CliError> {
        let auth = super::credentials(&base);
        // The credentials travel in a header, not in every request's URL.
        let _ = base.set_username("");
        let _ = base.set_password(None);
        let http = reqwest::Client::builder()
            .user_agent(concat!("scute/", env!("CARGO_PKG_VERSION")))
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| CliError::Transport(chain(&e)))?;
        Ok(Self { http, base, auth })
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
        if let Some((user, password)) = &self.auth {
            request = request.basic_auth(user, password.as_ref());
        }
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, MEDIA_TYPE).json(body);
        }
        let response = request.send().await.map_err(|e| {
            CliError::Transport(format!(
                "cannot reach the registry at {}: {}",
                self.base,
                chain(&e)
            ))
        })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| CliError::Transport(chain(&e)))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| CliError::Transport(format!("unexpected answer from {url}: {e}")));
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(error) => Err(CliError::Registry {
                error_code: error.error_code,
                message: error.message,
            }),
            Err(_) => Err(CliError::Transport(format!(
                "{url} answered HTTP {status}: {}",
                String::from_utf8_lossy(&bytes).trim()
            ))),
        }
    }
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
        Rest::new(Url::parse(base).unwrap()).unwrap()
    }

    #[test]
    fn urls_encode_subjects_and_keep_a_base_path() {
        let registry = rest("https://u:p%40ss@example.com/registry/");
        assert_eq!(registry.auth, Some(("u".into(), Some("p@ss".into()))));
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
