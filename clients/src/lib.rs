//! A typed client for Scute's gRPC API.
//!
//! A thin layer over the generated stubs that turns failures into an
//! [`Error`] carrying Confluent's `error_code`, so callers match on the same
//! codes a REST client sees.

use scute_proto::v1 as api;
use scute_proto::v1::schema_registry_client::SchemaRegistryClient;
use tonic::transport::Channel;

pub use scute_proto::v1;

/// A failed call: the registry's answer, or a transport failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message} (error code {error_code})")]
    Registry { error_code: i32, message: String },
    #[error("gRPC call failed: {0}")]
    Status(tonic::Status),
    #[error("cannot connect: {0}")]
    Connect(#[from] tonic::transport::Error),
}

impl From<tonic::Status> for Error {
    fn from(status: tonic::Status) -> Self {
        match scute_proto::error_code(&status) {
            Some(error_code) => Self::Registry {
                error_code,
                message: status.message().to_owned(),
            },
            None => Self::Status(status),
        }
    }
}

impl Error {
    /// Confluent's error code, when the registry answered with one.
    pub fn error_code(&self) -> Option<i32> {
        match self {
            Self::Registry { error_code, .. } => Some(*error_code),
            _ => None,
        }
    }
}

/// A connection to a Scute registry.
#[derive(Debug, Clone)]
pub struct Client {
    inner: SchemaRegistryClient<Channel>,
}

impl Client {
    /// Connects to `endpoint`, e.g. `http://localhost:50051`.
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self, Error> {
        let inner = SchemaRegistryClient::connect(endpoint.into()).await?;
        Ok(Self { inner })
    }

    /// The generated stub, for calls this wrapper does not cover.
    pub fn raw(&mut self) -> &mut SchemaRegistryClient<Channel> {
        &mut self.inner
    }

    /// Registers an AVRO, PROTOBUF or JSON schema under `subject`.
    pub async fn register(
        &mut self,
        subject: &str,
        schema_type: &str,
        schema: &str,
    ) -> Result<api::Schema, Error> {
        let request = api::RegisterSchemaRequest {
            subject: subject.to_owned(),
            schema: schema.to_owned(),
            schema_type: schema_type.to_owned(),
            ..Default::default()
        };
        Ok(self.inner.register_schema(request).await?.into_inner())
    }

    /// The schema registered under `id`.
    pub async fn schema_by_id(&mut self, id: i32) -> Result<api::Schema, Error> {
        let request = api::GetSchemaByIdRequest {
            id,
            ..Default::default()
        };
        Ok(self.inner.get_schema_by_id(request).await?.into_inner())
    }

    /// One version of a subject: a number, or `"latest"`.
    pub async fn version(&mut self, subject: &str, version: &str) -> Result<api::Schema, Error> {
        let request = api::GetVersionRequest {
            subject: subject.to_owned(),
            version: version.to_owned(),
            ..Default::default()
        };
        Ok(self.inner.get_version(request).await?.into_inner())
    }

    /// Every live subject.
    pub async fn subjects(&mut self) -> Result<Vec<String>, Error> {
        Ok(self
            .inner
            .list_subjects(api::ListSubjectsRequest::default())
            .await?
            .into_inner()
            .subjects)
    }
}
