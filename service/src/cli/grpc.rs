//! The gRPC transport: Scute's own API through `scute-client`.

use async_trait::async_trait;
use base64::Engine;
use reqwest::Url;
use scute_client::v1 as api;
use tonic::metadata::{AsciiMetadataValue, MetadataValue};

use super::{
    CliError, Compatibility, ConfigInfo, NewSchema, Reference, Registry, SchemaInfo, chain,
};

pub(crate) struct Grpc {
    client: scute_client::Client,
    /// `Basic ...` from the URL's credentials, sent with every call.
    authorization: Option<AsciiMetadataValue>,
}

impl From<scute_client::Error> for CliError {
    fn from(error: scute_client::Error) -> Self {
        match error {
            scute_client::Error::Registry {
                error_code,
                message,
            } => Self::Registry {
                error_code,
                message,
            },
            other => Self::Transport(chain(&other)),
        }
    }
}

/// A failed call of the generated stub, read as the client crate reads it.
fn failed(status: tonic::Status) -> CliError {
    scute_client::Error::from(status).into()
}

/// `grpc://host[:port]` as the endpoint tonic dials: `http://`, or
/// `https://` (TLS with the system's roots) for `grpcs://`.
fn endpoint(url: &Url) -> Result<String, CliError> {
    let (scheme, default_port) = match url.scheme() {
        "grpcs" => ("https", 443),
        _ => ("http", 50051),
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| CliError::Usage(format!("--registry {url}: no host")))?;
    Ok(format!(
        "{scheme}://{host}:{}",
        url.port().unwrap_or(default_port)
    ))
}

fn reference(r: api::SchemaReference) -> Reference {
    Reference {
        name: r.name,
        subject: r.subject,
        version: r.version,
    }
}

fn references(refs: &[Reference]) -> Vec<api::SchemaReference> {
    refs.iter()
        .map(|r| api::SchemaReference {
            name: r.name.clone(),
            subject: r.subject.clone(),
            version: r.version,
        })
        .collect()
}

fn info(schema: api::Schema) -> SchemaInfo {
    let optional = |s: String| (!s.is_empty()).then_some(s);
    SchemaInfo {
        subject: optional(schema.subject),
        version: (schema.version > 0).then_some(schema.version),
        id: schema.id,
        schema_type: optional(schema.schema_type).unwrap_or_else(|| "AVRO".to_owned()),
        schema: schema.schema,
        references: schema.references.into_iter().map(reference).collect(),
    }
}

impl Grpc {
    pub(crate) async fn connect(url: &Url) -> Result<Self, CliError> {
        let authorization = match super::credentials(url) {
            Some((user, password)) => {
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("{user}:{}", password.unwrap_or_default()));
                Some(
                    MetadataValue::try_from(format!("Basic {token}")).map_err(|e| {
                        CliError::Usage(format!("--registry: unusable credentials: {e}"))
                    })?,
                )
            }
            None => None,
        };
        let endpoint = endpoint(url)?;
        let client = scute_client::Client::connect(endpoint.clone())
            .await
            .map_err(|e| {
                CliError::Transport(format!(
                    "cannot reach the registry at {endpoint}: {}",
                    chain(&e)
                ))
            })?;
        Ok(Self {
            client,
            authorization,
        })
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(value) = &self.authorization {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        request
    }
}

#[async_trait]
impl Registry for Grpc {
    async fn register(
        &mut self,
        subject: &str,
        schema: &NewSchema,
    ) -> Result<SchemaInfo, CliError> {
        let request = self.request(api::RegisterSchemaRequest {
            subject: subject.to_owned(),
            schema: schema.schema.clone(),
            schema_type: schema.schema_type.to_owned(),
            references: references(&schema.references),
            normalize: schema.normalize,
            ..Default::default()
        });
        let stored = self.client.raw().register_schema(request).await;
        let mut stored = info(stored.map_err(failed)?.into_inner());
        stored.subject.get_or_insert_with(|| subject.to_owned());
        Ok(stored)
    }

    async fn schema_by_id(&mut self, id: i32) -> Result<SchemaInfo, CliError> {
        let request = self.request(api::GetSchemaByIdRequest {
            id,
            ..Default::default()
        });
        let schema = self.client.raw().get_schema_by_id(request).await;
        let mut schema = info(schema.map_err(failed)?.into_inner());
        // The REST entity of an id names no subject: print the same.
        schema.subject = None;
        schema.version = None;
        Ok(schema)
    }

    async fn version(&mut self, subject: &str, version: &str) -> Result<SchemaInfo, CliError> {
        let request = self.request(api::GetVersionRequest {
            subject: subject.to_owned(),
            version: version.to_owned(),
            ..Default::default()
        });
        let schema = self.client.raw().get_version(request).await;
        Ok(info(schema.map_err(failed)?.into_inner()))
    }

    async fn check(
        &mut self,
        subject: &str,
        version: Option<&str>,
        schema: &NewSchema,
    ) -> Result<Compatibility, CliError> {
        let request = self.request(api::CheckCompatibilityRequest {
            subject: subject.to_owned(),
            version: version.map(str::to_owned),
            schema: schema.schema.clone(),
            schema_type: schema.schema_type.to_owned(),
            references: references(&schema.references),
            normalize: schema.normalize,
            verbose: true,
        });
        let verdict = self.client.raw().check_compatibility(request).await;
        let verdict = verdict.map_err(failed)?.into_inner();
        Ok(Compatibility {
            is_compatible: verdict.is_compatible,
            messages: verdict.messages,
        })
    }

    async fn delete_subject(
        &mut self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, CliError> {
        let request = self.request(api::DeleteSubjectRequest {
            subject: subject.to_owned(),
            permanent,
        });
        let deleted = self.client.raw().delete_subject(request).await;
        Ok(deleted.map_err(failed)?.into_inner().versions)
    }

    async fn delete_version(
        &mut self,
        subject: &str,
        version: &str,
        permanent: bool,
    ) -> Result<i32, CliError> {
        let request = self.request(api::DeleteVersionRequest {
            subject: subject.to_owned(),
            version: version.to_owned(),
            permanent,
        });
        let deleted = self.client.raw().delete_version(request).await;
        Ok(deleted.map_err(failed)?.into_inner().version)
    }

    async fn subjects(&mut self, deleted: bool, prefix: &str) -> Result<Vec<String>, CliError> {
        let request = self.request(api::ListSubjectsRequest {
            subject_prefix: prefix.to_owned(),
            deleted,
            ..Default::default()
        });
        let listed = self.client.raw().list_subjects(request).await;
        Ok(listed.map_err(failed)?.into_inner().subjects)
    }

    async fn config(&mut self, subject: Option<&str>) -> Result<ConfigInfo, CliError> {
        let request = self.request(api::GetConfigRequest {
            subject: subject.map(str::to_owned),
            default_to_global: subject.is_some(),
        });
        let config = self.client.raw().get_config(request).await;
        let config = config.map_err(failed)?.into_inner();
        Ok(ConfigInfo {
            compatibility_level: config.compatibility_level,
            normalize: config.normalize,
        })
    }

    async fn set_level(&mut self, subject: Option<&str>, level: &str) -> Result<String, CliError> {
        let request = self.request(api::SetConfigRequest {
            subject: subject.map(str::to_owned),
            config: Some(api::Config {
                compatibility_level: Some(level.to_owned()),
                ..Default::default()
            }),
        });
        let config = self.client.raw().set_config(request).await;
        let config = config.map_err(failed)?.into_inner();
        Ok(config
            .compatibility_level
            .unwrap_or_else(|| level.to_uppercase()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn grpc_urls_become_endpoints() {
        let parse = |s: &str| endpoint(&Url::parse(s).unwrap()).unwrap();
        assert_eq!(parse("grpc://localhost"), "http://localhost:50051");
        assert_eq!(parse("grpc://u:p@10.0.0.1:9000"), "http://10.0.0.1:9000");
        assert_eq!(
            parse("grpcs://registry.example.com"),
            "https://registry.example.com:443"
        );
        assert!(endpoint(&Url::parse("grpc:///x").unwrap()).is_err());
    }
}
