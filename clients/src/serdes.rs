//! The `Client` trait of the `schema-registry-client` crate over gRPC, so
//! its serializers and deserializers run against Scute without REST.
//!
//! ```no_run
//! use schema_registry_client::rest::client_config::ClientConfig;
//! use schema_registry_client::rest::schema_registry_client::Client as _;
//! use scute_client::serdes::GrpcClient;
//!
//! let client = GrpcClient::new(ClientConfig::new(vec!["grpc://localhost:50051".into()]));
//! // AvroSerializer::new(&client, None, SerializerConfig::default()) ...
//! ```

use std::collections::HashMap;
use std::time::Duration;

use schema_registry_client::rest::apis::error_message::ErrorMessage;
use schema_registry_client::rest::apis::{Error as SrError, ResponseContent};
use schema_registry_client::rest::client_config::ClientConfig;
use schema_registry_client::rest::models::{
    Association, AssociationCreateOrUpdateRequest, AssociationInfo, AssociationResponse,
    LifecyclePolicy, RegisteredSchema, Schema, SchemaReference, ServerConfig,
};
use schema_registry_client::rest::schema_registry_client::Client as SrClient;
use scute_proto::v1 as api;
use scute_proto::v1::list_associations_request::By;
use serde_json::{Map, Value};

use crate::{Client, ClientBuilder, Error, NewSchema, Reference, RetryPolicy};

/// A [`Client`] behind `schema-registry-client`'s `Client` trait.
///
/// Built from the crate's `ClientConfig`: the first base URL is the gRPC
/// endpoint (`grpc://host:50051`, `http://…`, `https://…`); its cache
/// capacity, latest-version TTL, retry settings, bearer token and basic
/// credentials apply. It connects on first use.
#[derive(Debug, Clone)]
pub struct GrpcClient {
    config: ClientConfig,
    inner: Result<Client, String>,
}

impl GrpcClient {
    /// Wraps an existing client (its own settings apply).
    pub fn from_client(client: Client, config: ClientConfig) -> Self {
        Self {
            config,
            inner: Ok(client),
        }
    }

    fn client(&self) -> Result<&Client, SrError> {
        self.inner.as_ref().map_err(|e| {
            SrError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                e.clone(),
            ))
        })
    }
}

fn builder(config: &ClientConfig) -> Result<ClientBuilder, String> {
    let endpoint = config
        .base_urls
        .first()
        .ok_or_else(|| "no registry URL given".to_owned())?;
    let mut builder = ClientBuilder::new(endpoint.clone())
        .cache_capacity(usize::try_from(config.cache_capacity).unwrap_or(usize::MAX))
        .latest_ttl(Some(Duration::from_secs(config.cache_latest_ttl_sec)))
        .retry(RetryPolicy {
            max_retries: config.max_retries,
            initial_backoff: Duration::from_millis(config.retries_wait_ms.into()),
            max_backoff: Duration::from_millis(config.retries_max_wait_ms.into()),
        });
    if let Some(token) = &config.bearer_access_token {
        builder = builder.bearer_token(token);
    } else if let Some((user, password)) = &config.basic_auth {
        builder = builder.basic_auth(user, password.as_deref().unwrap_or(""));
    }
    Ok(builder)
}

/// Registry answers become the REST client's `ResponseError` with the same
/// status and body a REST call would have produced; failures to reach the
/// registry become I/O errors.
fn to_sr_error(error: Error) -> SrError {
    let status = http::StatusCode::from_u16(error.http_status())
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    match error {
        Error::Registry {
            error_code,
            message,
        } => {
            let content =
                serde_json::json!({"error_code": error_code, "message": message}).to_string();
            SrError::ResponseError(ResponseContent {
                status,
                content,
                entity: Some(ErrorMessage {
                    error_code: Some(error_code),
                    message: Some(message),
                }),
            })
        }
        other => SrError::Io(std::io::Error::other(other.to_string())),
    }
}

/// JSON text from the proto, as one of the crate's models.
fn model<T: serde::de::DeserializeOwned>(text: Option<&str>) -> Result<Option<Box<T>>, SrError> {
    match text {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => Ok(Some(Box::new(serde_json::from_str(text)?))),
    }
}

fn json_text<T: serde::Serialize>(value: Option<&T>) -> Result<Option<String>, SrError> {
    value
        .map(serde_json::to_string)
        .transpose()
        .map_err(SrError::from)
}

fn references(schema: &api::Schema) -> Option<Vec<SchemaReference>> {
    (!schema.references.is_empty()).then(|| {
        schema
            .references
            .iter()
            .map(|r| SchemaReference {
                name: Some(r.name.clone()),
                subject: Some(r.subject.clone()),
                version: Some(r.version),
            })
            .collect()
    })
}

fn to_schema(schema: &api::Schema) -> Result<Schema, SrError> {
    Ok(Schema {
        schema_type: Some(schema.schema_type.clone()).filter(|t| !t.is_empty()),
        references: references(schema),
        metadata: model(schema.metadata_json.as_deref())?,
        rule_set: model(schema.rule_set_json.as_deref())?,
        schema: schema.schema.clone(),
    })
}

fn to_registered(schema: &api::Schema) -> Result<RegisteredSchema, SrError> {
    Ok(RegisteredSchema {
        id: Some(schema.id),
        guid: Some(schema.guid.clone()).filter(|g| !g.is_empty()),
        subject: Some(schema.subject.clone()).filter(|s| !s.is_empty()),
        version: Some(schema.version).filter(|v| *v > 0),
        schema_type: Some(schema.schema_type.clone()).filter(|t| !t.is_empty()),
        references: references(schema),
        metadata: model(schema.metadata_json.as_deref())?,
        rule_set: model(schema.rule_set_json.as_deref())?,
        schema: Some(schema.schema.clone()),
    })
}

fn to_new_schema(schema: &Schema) -> Result<NewSchema, SrError> {
    Ok(NewSchema {
        schema_type: schema.schema_type.clone().unwrap_or_default(),
        schema: schema.schema.clone(),
        references: schema
            .references
            .iter()
            .flatten()
            .map(|r| Reference {
                name: r.name.clone().unwrap_or_default(),
                subject: r.subject.clone().unwrap_or_default(),
                version: r.version.unwrap_or(-1),
            })
            .collect(),
        metadata_json: json_text(schema.metadata.as_deref())?,
        rule_set_json: json_text(schema.rule_set.as_deref())?,
    })
}

/// Confluent's config entity: `compatibilityLevel` and `normalize` have
/// fields of their own in the proto, the rest travels as JSON.
fn to_server_config(config: &api::Config) -> Result<ServerConfig, SrError> {
    let mut fields = match config.extra_json.as_deref() {
        Some(text) if !text.trim().is_empty() => serde_json::from_str(text)?,
        _ => Map::new(),
    };
    if let Some(level) = &config.compatibility_level {
        fields.insert("compatibilityLevel".into(), Value::from(level.clone()));
    }
    if let Some(normalize) = config.normalize {
        fields.insert("normalize".into(), Value::from(normalize));
    }
    Ok(serde_json::from_value(Value::Object(fields))?)
}

fn to_api_config(config: &ServerConfig) -> Result<api::Config, SrError> {
    let Value::Object(mut fields) = serde_json::to_value(config)? else {
        return Ok(api::Config::default());
    };
    let level = fields
        .remove("compatibility")
        .or_else(|| fields.remove("compatibilityLevel"));
    fields.remove("compatibilityLevel");
    let normalize = fields.remove("normalize").and_then(|v| v.as_bool());
    Ok(api::Config {
        compatibility_level: level.and_then(|v| v.as_str().map(str::to_owned)),
        normalize,
        extra_json: (!fields.is_empty()).then(|| Value::Object(fields).to_string()),
    })
}

fn lifecycle_policy(text: &str) -> Option<LifecyclePolicy> {
    match text {
        "STRONG" => Some(LifecyclePolicy::Strong),
        "WEAK" => Some(LifecyclePolicy::Weak),
        _ => None,
    }
}

fn lifecycle_text(policy: &LifecyclePolicy) -> String {
    match policy {
        LifecyclePolicy::Strong => "STRONG".into(),
        LifecyclePolicy::Weak => "WEAK".into(),
    }
}

fn to_association(a: &api::Association) -> Association {
    let text = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
    Association {
        subject: text(&a.subject),
        guid: text(&a.guid),
        resource_name: text(&a.resource_name),
        resource_namespace: text(&a.resource_namespace),
        resource_id: text(&a.resource_id),
        resource_type: text(&a.resource_type),
        association_type: text(&a.association_type),
        lifecycle: lifecycle_policy(&a.lifecycle),
        frozen: Some(a.frozen),
    }
}

fn to_api_association_request(
    request: &AssociationCreateOrUpdateRequest,
) -> Result<api::AssociationRequest, SrError> {
    let associations = request
        .associations
        .iter()
        .flatten()
        .map(|info| {
            Ok(api::AssociationChange {
                subject: info.subject.clone(),
                association_type: info.association_type.clone(),
                lifecycle: info.lifecycle.as_ref().map(lifecycle_text),
                frozen: info.frozen,
                schema: info
                    .schema
                    .as_ref()
                    .map(|s| Ok::<_, SrError>(to_new_schema(s)?.request("", false)))
                    .transpose()?,
                normalize: info.normalize.unwrap_or(false),
            })
        })
        .collect::<Result<_, SrError>>()?;
    Ok(api::AssociationRequest {
        resource_name: request.resource_name.clone().unwrap_or_default(),
        resource_namespace: request.resource_namespace.clone().unwrap_or_default(),
        resource_id: request.resource_id.clone().unwrap_or_default(),
        resource_type: request.resource_type.clone().unwrap_or_default(),
        associations,
        ..Default::default()
    })
}

fn to_association_response(
    reply: &api::AssociationResponse,
) -> Result<AssociationResponse, SrError> {
    let text = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
    let associations = reply
        .associations
        .iter()
        .map(|i| {
            Ok(AssociationInfo {
                subject: text(&i.subject),
                association_type: text(&i.association_type),
                lifecycle: lifecycle_policy(&i.lifecycle),
                frozen: Some(i.frozen),
                schema: i.schema.as_ref().map(to_schema).transpose()?,
            })
        })
        .collect::<Result<Vec<_>, SrError>>()?;
    Ok(AssociationResponse {
        resource_name: text(&reply.resource_name),
        resource_namespace: text(&reply.resource_namespace),
        resource_id: text(&reply.resource_id),
        resource_type: text(&reply.resource_type),
        associations: (!associations.is_empty()).then_some(associations),
    })
}

impl SrClient for GrpcClient {
    fn new(config: ClientConfig) -> Self {
        let inner = builder(&config).and_then(|b| b.connect_lazy().map_err(|e| e.to_string()));
        Self { config, inner }
    }

    fn config(&self) -> &ClientConfig {
        &self.config
    }

    async fn register_schema(
        &self,
        subject: &str,
        schema: &Schema,
        normalize: bool,
    ) -> Result<RegisteredSchema, SrError> {
        let new = to_new_schema(schema)?;
        let reply = self
            .client()?
            .register(subject, &new, normalize)
            .await
            .map_err(to_sr_error)?;
        to_registered(&reply)
    }

    async fn get_by_subject_and_id(
        &self,
        _subject: Option<&str>,
        id: i32,
        format: Option<&str>,
    ) -> Result<Schema, SrError> {
        // The content of an id is the same whatever the subject: ask without
        // one, so every subject shares one cache entry.
        let reply = self
            .client()?
            .schema_by_id_with(id, None, format.unwrap_or_default())
            .await
            .map_err(to_sr_error)?;
        to_schema(&reply)
    }

    async fn get_by_guid(&self, guid: &str, format: Option<&str>) -> Result<Schema, SrError> {
        let reply = self
            .client()?
            .schema_by_guid(guid, format.unwrap_or_default())
            .await
            .map_err(to_sr_error)?;
        to_schema(&reply)
    }

    async fn get_by_schema(
        &self,
        subject: &str,
        schema: &Schema,
        normalize: bool,
        deleted: bool,
    ) -> Result<RegisteredSchema, SrError> {
        let new = to_new_schema(schema)?;
        let reply = self
            .client()?
            .lookup(subject, &new, normalize, deleted)
            .await
            .map_err(to_sr_error)?;
        to_registered(&reply)
    }

    async fn get_version(
        &self,
        subject: &str,
        version: i32,
        deleted: bool,
        format: Option<&str>,
    ) -> Result<RegisteredSchema, SrError> {
        let client = self.client()?;
        let reply = if version == -1 {
            client.latest(subject, format.unwrap_or_default()).await
        } else {
            client
                .numbered_version(subject, version, deleted, format.unwrap_or_default())
                .await
        };
        to_registered(&*reply.map_err(to_sr_error)?)
    }

    async fn get_latest_version(
        &self,
        subject: &str,
        format: Option<&str>,
    ) -> Result<RegisteredSchema, SrError> {
        let reply = self
            .client()?
            .latest(subject, format.unwrap_or_default())
            .await
            .map_err(to_sr_error)?;
        to_registered(&reply)
    }

    async fn get_latest_with_metadata(
        &self,
        subject: &str,
        metadata: &HashMap<String, String>,
        deleted: bool,
        format: Option<&str>,
    ) -> Result<RegisteredSchema, SrError> {
        let pairs: Vec<(String, String)> = metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let reply = self
            .client()?
            .latest_with_metadata(subject, &pairs, deleted, format.unwrap_or_default())
            .await
            .map_err(to_sr_error)?;
        to_registered(&reply)
    }

    async fn get_all_versions(&self, subject: &str) -> Result<Vec<i32>, SrError> {
        self.client()?
            .versions(subject, false)
            .await
            .map_err(to_sr_error)
    }

    async fn get_all_subjects(&self, deleted: bool) -> Result<Vec<String>, SrError> {
        self.client()?
            .list_subjects("", deleted)
            .await
            .map_err(to_sr_error)
    }

    async fn delete_subject(&self, subject: &str, permanent: bool) -> Result<Vec<i32>, SrError> {
        self.client()?
            .delete_subject(subject, permanent)
            .await
            .map_err(to_sr_error)
    }

    async fn delete_subject_version(
        &self,
        subject: &str,
        version: i32,
        permanent: bool,
    ) -> Result<i32, SrError> {
        self.client()?
            .delete_version(subject, &version.to_string(), permanent)
            .await
            .map_err(to_sr_error)
    }

    async fn test_subject_compatibility(
        &self,
        subject: &str,
        schema: &Schema,
    ) -> Result<bool, SrError> {
        let new = to_new_schema(schema)?;
        let result = self
            .client()?
            .check_compatibility(subject, None, &new, false, false)
            .await
            .map_err(to_sr_error)?;
        Ok(result.is_compatible)
    }

    async fn test_compatibility(
        &self,
        subject: &str,
        version: i32,
        schema: &Schema,
    ) -> Result<bool, SrError> {
        let new = to_new_schema(schema)?;
        let version = version.to_string();
        let result = self
            .client()?
            .check_compatibility(subject, Some(&version), &new, false, false)
            .await
            .map_err(to_sr_error)?;
        Ok(result.is_compatible)
    }

    async fn get_config(&self, subject: &str) -> Result<ServerConfig, SrError> {
        let config = self
            .client()?
            .config(Some(subject), false)
            .await
            .map_err(to_sr_error)?;
        to_server_config(&config)
    }

    async fn update_config(
        &self,
        subject: &str,
        config: &ServerConfig,
    ) -> Result<ServerConfig, SrError> {
        let reply = self
            .client()?
            .set_config(Some(subject), to_api_config(config)?)
            .await
            .map_err(to_sr_error)?;
        to_server_config(&reply)
    }

    async fn get_default_config(&self) -> Result<ServerConfig, SrError> {
        let config = self
            .client()?
            .config(None, false)
            .await
            .map_err(to_sr_error)?;
        to_server_config(&config)
    }

    async fn update_default_config(&self, config: &ServerConfig) -> Result<ServerConfig, SrError> {
        let reply = self
            .client()?
            .set_config(None, to_api_config(config)?)
            .await
            .map_err(to_sr_error)?;
        to_server_config(&reply)
    }

    async fn get_associations_by_resource_name(
        &self,
        resource_name: &str,
        resource_namespace: &str,
        resource_type: &str,
        association_types: &[&str],
        lifecycle: &str,
        offset: i32,
        limit: i32,
    ) -> Result<Vec<Association>, SrError> {
        let namespace = if resource_namespace.is_empty() {
            "-"
        } else {
            resource_namespace
        };
        let request = api::ListAssociationsRequest {
            by: Some(By::Resource(api::ResourceName {
                namespace: namespace.to_owned(),
                name: resource_name.to_owned(),
            })),
            resource_type: resource_type.to_owned(),
            association_types: association_types.iter().map(|t| (*t).to_owned()).collect(),
            lifecycle: lifecycle.to_owned(),
            offset,
            limit,
        };
        let found = self
            .client()?
            .associations(request)
            .await
            .map_err(to_sr_error)?;
        Ok(found.iter().map(to_association).collect())
    }

    async fn create_association(
        &self,
        request: &AssociationCreateOrUpdateRequest,
    ) -> Result<AssociationResponse, SrError> {
        let reply = self
            .client()?
            .create_association(to_api_association_request(request)?, false)
            .await
            .map_err(to_sr_error)?;
        to_association_response(&reply)
    }

    async fn delete_associations(
        &self,
        resource_id: &str,
        resource_type: Option<&str>,
        association_types: Option<&[&str]>,
        cascade_lifecycle: bool,
    ) -> Result<(), SrError> {
        let request = api::DeleteAssociationsRequest {
            resource_id: resource_id.to_owned(),
            resource_type: resource_type.unwrap_or_default().to_owned(),
            association_types: association_types
                .unwrap_or_default()
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
            cascade_lifecycle,
            dry_run: false,
        };
        self.client()?
            .delete_associations(request)
            .await
            .map_err(to_sr_error)?;
        Ok(())
    }

    fn clear_latest_caches(&self) {
        if let Ok(client) = &self.inner {
            client.clear_latest_caches();
        }
    }

    fn clear_caches(&self) {
        if let Ok(client) = &self.inner {
            client.clear_caches();
        }
    }

    fn close(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_errors_keep_status_code_and_message() {
        let err = to_sr_error(Error::Registry {
            error_code: 40401,
            message: "Subject 'x' not found.".into(),
        });
        let SrError::ResponseError(content) = err else {
            panic!("not a response error");
        };
        assert_eq!(content.status.as_u16(), 404);
        let entity = content.entity.unwrap();
        assert_eq!(entity.error_code, Some(40401));
        assert_eq!(entity.message.as_deref(), Some("Subject 'x' not found."));
        let body: Value = serde_json::from_str(&content.content).unwrap();
        assert_eq!(body["error_code"], 40401);
    }

    #[test]
    fn configs_travel_both_ways() {
        let api_config = api::Config {
            compatibility_level: Some("FULL".into()),
            normalize: Some(true),
            extra_json: Some(r#"{"alias":"other"}"#.into()),
        };
        let server = to_server_config(&api_config).unwrap();
        assert_eq!(server.alias.as_deref(), Some("other"));
        assert_eq!(server.normalize, Some(true));
        let back = to_api_config(&server).unwrap();
        assert_eq!(back.compatibility_level.as_deref(), Some("FULL"));
        assert_eq!(back.normalize, Some(true));
        assert_eq!(back.extra_json.as_deref(), Some(r#"{"alias":"other"}"#));
    }

    #[test]
    fn a_client_without_an_url_fails_its_calls_not_its_construction() {
        let client = GrpcClient::new(ClientConfig::new(vec![]));
        assert!(client.client().is_err());
    }
}
