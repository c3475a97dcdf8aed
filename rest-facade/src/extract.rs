//! Request parsing: path parameters, query parameters and JSON bodies, each
//! with the leniency and the failures of Confluent's JAX-RS stack.

use std::error::Error as _;

use axum::extract::{FromRequest, FromRequestParts, Request};
use http::{header::CONTENT_LENGTH, request::Parts};
use percent_encoding::percent_decode_str;
use scute_proto::v1::SchemaReference;
use serde_json::{Map, Value};

use crate::{AppState, dispatch::PathParams, error::RestError};

/// Percent-decoded path parameters (`%2F` -> `/`, UTF-8 sequences decoded,
/// `+` kept as `+`), as JAX-RS hands them to a resource.
///
/// The routes match the raw path, so an encoded `/` stays inside its
/// segment.
pub(crate) struct PathArgs(Vec<(&'static str, String)>);

impl PathArgs {
    fn get(&self, name: &str) -> Result<String, RestError> {
        self.0
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
            .ok_or_else(|| {
                tracing::error!(name, "route has no such path parameter");
                RestError::internal()
            })
    }

    pub(crate) fn subject(&self) -> Result<String, RestError> {
        self.get("subject")
    }

    /// Left as text: the registry decides what `latest`, `-1` or `abc` mean.
    pub(crate) fn version(&self) -> Result<String, RestError> {
        self.get("version")
    }

    pub(crate) fn context(&self) -> Result<String, RestError> {
        self.get("context")
    }

    pub(crate) fn guid(&self) -> Result<String, RestError> {
        self.get("guid")
    }

    pub(crate) fn resource_id(&self) -> Result<String, RestError> {
        self.get("resourceId")
    }

    pub(crate) fn resource_namespace(&self) -> Result<String, RestError> {
        self.get("resourceNamespace")
    }

    pub(crate) fn resource_name(&self) -> Result<String, RestError> {
        self.get("resourceName")
    }

    /// JAX-RS declares `{id}` as an `Integer`: text that does not convert is
    /// a 404, not a 4xx with an error code.
    pub(crate) fn id(&self) -> Result<i32, RestError> {
        self.get("id")?.parse().map_err(|_| RestError::not_found())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PathArgs {
    type Rejection = RestError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, RestError> {
        // Decoded by the routes (`dispatch.rs`); invalid UTF-8 after
        // decoding cannot name a subject, so it is "not found".
        match parts.extensions.remove::<PathParams>() {
            Some(PathParams(Some(params))) => Ok(Self(params)),
            Some(PathParams(None)) => Err(RestError::not_found()),
            None => Ok(Self(Vec::new())),
        }
    }
}

/// Query parameters decoded like JAX-RS `@QueryParam`: `+` is a space, the
/// first occurrence of a name wins.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: &str) -> Self {
        Self(
            raw.split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode_component(key), decode_component(value))
                })
                .collect(),
        )
    }

    pub(crate) fn str(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every value of a repeated parameter, in order.
    pub(crate) fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// `Boolean.parseBoolean`: `true` in any case is true, anything else
    /// (including absence) is false.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.str(name)
            .is_some_and(|value| value.eq_ignore_ascii_case("true"))
    }

    /// An `int` parameter: absent or empty takes the default; text that does
    /// not convert is a 404, as Jersey answers a failed `@QueryParam`
    /// conversion.
    pub(crate) fn int(&self, name: &str, default: i32) -> Result<i32, RestError> {
        match self.str(name) {
            None | Some("") => Ok(default),
            Some(value) => value.parse().map_err(|_| RestError::not_found()),
        }
    }
}

fn decode_component(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = RestError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, RestError> {
        Ok(Self::parse(parts.uri.query().unwrap_or_default()))
    }
}

/// A request body parsed as JSON, within the configured size limit.
///
/// Any JSON value parses here; the handler reads the fields it knows with
/// the helpers below, so unknown fields are ignored as Jackson is told to.
pub(crate) struct JsonBody(pub(crate) Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = RestError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, RestError> {
        let limit = state.config.max_body_bytes;
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > limit as u64) {
            return Err(RestError::payload_too_large(limit));
        }
        let timeout = state.config.body_timeout;
        let read = tokio::time::timeout(timeout, axum::body::to_bytes(request.into_body(), limit));
        let bytes = read
            .await
            .map_err(|_| RestError::request_timeout(timeout))?
            .map_err(|err| {
                if is_length_limit(&err) {
                    RestError::payload_too_large(limit)
                } else if let Some(refused) = refusal(&err) {
                    refused
                } else {
                    RestError::bad_request(format!("Could not read the request body: {err}"))
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(RestError::bad_request(
                "No content to map due to end-of-input",
            ));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|err| RestError::bad_request(format!("Unexpected JSON: {err}")))
    }
}

/// An error the server put in the body's way (a limit on bodies held at
/// once), already worded for the client.
fn refusal(err: &axum::Error) -> Option<RestError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = err.source();
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<RestError>() {
            return Some(refused.clone());
        }
        source = cause.source();
    }
    None
}

fn is_length_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = err.source();
    while let Some(cause) = source {
        if cause.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// The fields of a JSON object body, read with Jackson's default scalar
/// coercions (a number where a string is expected becomes its text, `"2"`
/// where an int is expected becomes 2). Anything else of the wrong type is
/// a 400, as rest-utils maps Jackson's mapping errors.
pub(crate) struct Fields<'a> {
    object: &'a Map<String, Value>,
    entity: &'static str,
}

impl<'a> Fields<'a> {
    /// `entity` names the request type in messages, like Jackson does.
    pub(crate) fn of(body: &'a Value, entity: &'static str) -> Result<Self, RestError> {
        match body {
            Value::Object(object) => Ok(Self { object, entity }),
            other => Err(RestError::bad_request(format!(
                "Cannot deserialize value of type `{entity}` from {} value",
                json_kind(other)
            ))),
        }
    }

    fn present(&self, name: &str) -> Option<&'a Value> {
        self.object.get(name).filter(|value| !value.is_null())
    }

    fn mistyped(&self, name: &str, expected: &str, found: &Value) -> RestError {
        RestError::bad_request(format!(
            "Cannot deserialize value of type `{expected}` from {} value (through reference chain: {}[\"{name}\"])",
            json_kind(found),
            self.entity
        ))
    }

    pub(crate) fn string(&self, name: &str) -> Result<Option<String>, RestError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(scalar @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(scalar.to_string())),
            Some(other) => Err(self.mistyped(name, "java.lang.String", other)),
        }
    }

    pub(crate) fn int(&self, name: &str) -> Result<Option<i32>, RestError> {
        let Some(value) = self.present(name) else {
            return Ok(None);
        };
        let parsed = match value {
            Value::Number(number) => number
                .as_i64()
                .or_else(|| number.as_f64().map(|f| f.trunc() as i64))
                .and_then(|n| i32::try_from(n).ok()),
            Value::String(text) => text.trim().parse::<i32>().ok(),
            _ => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| self.mistyped(name, "java.lang.Integer", value))
    }

    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, RestError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => Err(self.mistyped(name, "java.lang.Boolean", other)),
        }
    }

    /// A list field's items (nulls skipped), each for the caller to read.
    pub(crate) fn list(&self, name: &str) -> Result<Vec<&'a Value>, RestError> {
        match self.present(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.iter().filter(|i| !i.is_null()).collect()),
            Some(other) => Err(self.mistyped(name, "java.util.List", other)),
        }
    }

    /// A list of strings, with the scalar coercions of [`Fields::string`].
    pub(crate) fn strings(&self, name: &str) -> Result<Vec<String>, RestError> {
        self.list(name)?
            .into_iter()
            .map(|item| match item {
                Value::String(text) => Ok(text.clone()),
                scalar @ (Value::Number(_) | Value::Bool(_)) => Ok(scalar.to_string()),
                other => Err(self.mistyped(name, "java.lang.String", other)),
            })
            .collect()
    }

    /// An object field, if present.
    pub(crate) fn object(&self, name: &str) -> Option<&'a Value> {
        self.present(name)
    }

    /// A field sent on as JSON text for the registry to type (`metadata`,
    /// `ruleSet`).
    pub(crate) fn json_text(&self, name: &str) -> Option<String> {
        self.present(name).map(Value::to_string)
    }

    /// `references`: a list of `{name, subject, version}`.
    pub(crate) fn references(&self) -> Result<Vec<SchemaReference>, RestError> {
        let Some(value) = self.present("references") else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = value else {
            return Err(self.mistyped("references", "java.util.List", value));
        };
        items
            .iter()
            .filter(|item| !item.is_null())
            .map(|item| {
                let fields = Fields::of(item, "SchemaReference")?;
                Ok(SchemaReference {
                    name: fields.string("name")?.unwrap_or_default(),
                    subject: fields.string("subject")?.unwrap_or_default(),
                    version: fields.int("version")?.unwrap_or_default(),
                })
            })
            .collect()
    }
}

/// Jackson's name for the kind of a JSON value, for its messages.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let q = Query::parse("subjectPrefix=a+b%2Fc&deleted=TRUE&deleted=false&limit=&x");
        assert_eq!(q.str("subjectPrefix"), Some("a b/c"));
        assert!(q.flag("deleted"));
        assert!(!q.flag("x"));
        assert!(!q.flag("missing"));
        assert_eq!(q.int("limit", -1), Ok(-1));
        assert_eq!(q.int("offset", 0), Ok(0));
        assert_eq!(
            Query::parse("offset=abc").int("offset", 0),
            Err(RestError::not_found())
        );
    }

    #[test]
    fn field_coercions() {
        let body = serde_json::json!({
            "schema": 5, "version": "3", "id": 7.0, "normalize": "TRUE",
            "references": [{"name": "a", "subject": "b", "version": 1}],
            "bad": [1]
        });
        let f = Fields::of(&body, "RegisterSchemaRequest").unwrap();
        assert_eq!(f.string("schema").unwrap().as_deref(), Some("5"));
        assert_eq!(f.int("version").unwrap(), Some(3));
        assert_eq!(f.int("id").unwrap(), Some(7));
        assert_eq!(f.bool("normalize").unwrap(), Some(true));
        assert_eq!(f.references().unwrap().len(), 1);
        assert_eq!(f.string("bad").unwrap_err().status(), 400);
        assert_eq!(f.int("bad").unwrap_err().status(), 400);
        assert!(Fields::of(&serde_json::json!([1]), "X").is_err());
    }
}
