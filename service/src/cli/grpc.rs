//! The gRPC transport: Scute's own API through `scute-client`.

use async_trait::async_trait;
use reqwest::Url;
use scute_client::v1 as api;

use super::connection::{Auth, Target};
use super::{
    CliError, Compatibility, ConfigInfo, NewSchema, Reference, Registry, SchemaInfo, chain,
};

pub(crate) struct Grpc {
    client: scute_client::Client,
}

impl From<scute_client::Error> for CliError {
    fn from(error: scute_client::Error) -> Self {
        use tonic::Code;
        match error {
            scute_client::Error::Registry {
                error_code,
                message,
            } => Self::Registry {
                error_code,
                message,
            },
            // A refusal without Confluent's code (a proxy's): the code REST
            // would have carried.
            scute_client::Error::Status(status)
                if matches!(
                    status.code(),
                    Code::Unauthenticated | Code::PermissionDenied
                ) =>
            {
                let (error_code, fallback) = match status.code() {
                    Code::Unauthenticated => (40101, "Unauthorized"),
                    _ => (40301, "Forbidden"),
                };
                let message = match status.message() {
                    "" => fallback.to_owned(),
                    text => text.to_owned(),
                };
                Self::Registry {
                    error_code,
                    message,
                }
            }
            other => match super::connection::tls_failure(&other) {
                Some(tls) => Self::Transport(format!("cannot reach the registry: {tls}")),
                None => Self::Transport(chain(&other)),
            },
        }
    }
}

/// `grpc(s)://[user:pass@]host[:port]` as the endpoint tonic dials, without
/// the credentials (they travel as a header).
fn endpoint(url: &Url) -> Result<String, CliError> {
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| CliError::Usage(format!("--registry {url}: no host")))?;
    let address = match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    };
    Ok(scute_client::endpoint_url(&address))
}

fn reference(r: api::SchemaReference) -> Reference {
    Reference {
        name: r.name,
        subject: r.subject,
        version: r.version,
    }
}

fn new_schema(schema: &NewSchema) -> scute_client::NewSchema {
    scute_client::NewSchema {
        schema_type: schema.schema_type.to_owned(),
        schema: schema.schema.clone(),
        references: schema
            .references
            .iter()
            .map(|r| scute_client::Reference {
                name: r.name.clone(),
                subject: r.subject.clone(),
                version: r.version,
            })
            .collect(),
        ..Default::default()
    }
}

fn info(schema: &api::Schema) -> SchemaInfo {
    let optional = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    SchemaInfo {
        subject: optional(&schema.subject),
        version: (schema.version > 0).then_some(schema.version),
        id: schema.id,
        schema_type: optional(&schema.schema_type).unwrap_or_else(|| "AVRO".to_owned()),
        schema: schema.schema.clone(),
        references: schema.references.iter().cloned().map(reference).collect(),
    }
}

impl Grpc {
    pub(crate) async fn connect(target: Target) -> Result<Self, CliError> {
        let endpoint = endpoint(&target.url)?;
        let mut builder =
            scute_client::Client::builder(endpoint).retry(scute_client::RetryPolicy {
                max_retries: 0,
                ..Default::default()
            });
        if target.tls != Default::default() {
            builder = builder.tls(scute_client::TlsOptions {
                ca_pem: target.tls.ca_pem,
                identity_pem: target.tls.identity,
                domain: None,
            });
        }
        match &target.auth {
            Some(Auth::Basic { user, password }) => {
                builder = builder.basic_auth(user, password.as_deref().unwrap_or_default());
            }
            Some(Auth::Bearer(token)) => builder = builder.bearer_token(token),
            None => {}
        }
        let client = builder
            .connect()
            .await
            .map_err(|e| super::unreachable(&target.url, &e))?;
        Ok(Self { client })
    }
}

#[async_trait]
impl Registry for Grpc {
    async fn register(
        &mut self,
        subject: &str,
        schema: &NewSchema,
    ) -> Result<SchemaInfo, CliError> {
        let stored = self
            .client
            .register(subject, &new_schema(schema), schema.normalize)
            .await?;
        let mut stored = info(&stored);
        stored.subject.get_or_insert_with(|| subject.to_owned());
        Ok(stored)
    }

    async fn schema_by_id(&mut self, id: i32) -> Result<SchemaInfo, CliError> {
        let mut schema = info(&*self.client.schema_by_id(id).await?);
        // The REST entity of an id names no subject: print the same.
        schema.subject = None;
        schema.version = None;
        Ok(schema)
    }

    async fn version(&mut self, subject: &str, version: &str) -> Result<SchemaInfo, CliError> {
        Ok(info(&*self.client.version(subject, version).await?))
    }

    async fn check(
        &mut self,
        subject: &str,
        version: Option<&str>,
        schema: &NewSchema,
    ) -> Result<Compatibility, CliError> {
        let verdict = self
            .client
            .check_compatibility(
                subject,
                version,
                &new_schema(schema),
                schema.normalize,
                true,
            )
            .await?;
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
        Ok(self.client.delete_subject(subject, permanent).await?)
    }

    async fn delete_version(
        &mut self,
        subject: &str,
        version: &str,
        permanent: bool,
    ) -> Result<i32, CliError> {
        Ok(self
            .client
            .delete_version(subject, version, permanent)
            .await?)
    }

    async fn subjects(&mut self, deleted: bool, prefix: &str) -> Result<Vec<String>, CliError> {
        Ok(self.client.list_subjects(prefix, deleted).await?)
    }

    async fn config(&mut self, subject: Option<&str>) -> Result<ConfigInfo, CliError> {
        let config = self.client.config(subject, subject.is_some()).await?;
        Ok(ConfigInfo {
            compatibility_level: config.compatibility_level,
            normalize: config.normalize,
        })
    }

    async fn set_level(&mut self, subject: Option<&str>, level: &str) -> Result<String, CliError> {
        let config = api::Config {
            compatibility_level: Some(level.to_owned()),
            ..Default::default()
        };
        let config = self.client.set_config(subject, config).await?;
        Ok(config
            .compatibility_level
            .unwrap_or_else(|| level.to_owned()))
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
