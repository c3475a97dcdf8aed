//! The tonic service: hands each call to the [`Registry`] and turns its
//! errors into statuses that carry the Confluent error code.

use std::sync::Arc;

use scute_proto::v1 as api;
use scute_proto::v1::schema_registry_server::SchemaRegistry;
use tonic::{Request, Response, Status};

use crate::registry::Registry;

/// The gRPC API over a registry. The REST facade calls this same object.
#[derive(Debug, Clone)]
pub struct GrpcApi {
    registry: Arc<Registry>,
}

impl GrpcApi {
    pub fn new(registry: Arc<Registry>) -> Self {
        Self { registry }
    }
}

type Reply<T> = Result<Response<T>, Status>;

fn reply<T>(result: Result<T, crate::Error>) -> Reply<T> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl SchemaRegistry for GrpcApi {
    async fn register_schema(
        &self,
        request: Request<api::RegisterSchemaRequest>,
    ) -> Reply<api::Schema> {
        self.registry.serving()?;
        reply(self.registry.register_schema(request.into_inner()).await)
    }

    async fn lookup_schema(
        &self,
        request: Request<api::LookupSchemaRequest>,
    ) -> Reply<api::Schema> {
        self.registry.serving()?;
        reply(self.registry.lookup_schema(request.into_inner()).await)
    }

    async fn get_schema_by_id(
        &self,
        request: Request<api::GetSchemaByIdRequest>,
    ) -> Reply<api::Schema> {
        self.registry.serving()?;
        reply(self.registry.get_schema_by_id(request.into_inner()).await)
    }

    async fn list_schema_id_versions(
        &self,
        request: Request<api::ListSchemaIdVersionsRequest>,
    ) -> Reply<api::SubjectVersions> {
        self.registry.serving()?;
        reply(
            self.registry
                .list_schema_id_versions(request.into_inner())
                .await,
        )
    }

    async fn list_schema_id_subjects(
        &self,
        request: Request<api::ListSchemaIdSubjectsRequest>,
    ) -> Reply<api::Subjects> {
        self.registry.serving()?;
        reply(
            self.registry
                .list_schema_id_subjects(request.into_inner())
                .await,
        )
    }

    async fn list_schemas(&self, request: Request<api::ListSchemasRequest>) -> Reply<api::Schemas> {
        self.registry.serving()?;
        reply(self.registry.list_schemas(request.into_inner()).await)
    }

    async fn get_schema_types(
        &self,
        _request: Request<api::GetSchemaTypesRequest>,
    ) -> Reply<api::SchemaTypes> {
        self.registry.serving()?;
        Ok(Response::new(self.registry.schema_types()))
    }

    async fn list_subjects(
        &self,
        request: Request<api::ListSubjectsRequest>,
    ) -> Reply<api::Subjects> {
        self.registry.serving()?;
        reply(self.registry.list_subjects(request.into_inner()).await)
    }

    async fn list_versions(
        &self,
        request: Request<api::ListVersionsRequest>,
    ) -> Reply<api::Versions> {
        self.registry.serving()?;
        reply(self.registry.list_versions(request.into_inner()).await)
    }

    async fn get_version(&self, request: Request<api::GetVersionRequest>) -> Reply<api::Schema> {
        self.registry.serving()?;
        reply(self.registry.get_version(request.into_inner()).await)
    }

    async fn get_latest_with_metadata(
        &self,
        request: Request<api::GetLatestWithMetadataRequest>,
    ) -> Reply<api::Schema> {
        self.registry.serving()?;
        reply(
            self.registry
                .get_latest_with_metadata(request.into_inner())
                .await,
        )
    }

    async fn get_schema_by_guid(
        &self,
        request: Request<api::GetSchemaByGuidRequest>,
    ) -> Reply<api::Schema> {
        self.registry.serving()?;
        reply(self.registry.get_schema_by_guid(request.into_inner()).await)
    }

    async fn list_guid_ids(
        &self,
        request: Request<api::ListGuidIdsRequest>,
    ) -> Reply<api::SchemaIds> {
        self.registry.serving()?;
        reply(self.registry.list_guid_ids(request.into_inner()).await)
    }

    async fn get_referenced_by(
        &self,
        request: Request<api::GetReferencedByRequest>,
    ) -> Reply<api::SchemaIds> {
        self.registry.serving()?;
        reply(self.registry.get_referenced_by(request.into_inner()).await)
    }

    async fn delete_subject(
        &self,
        request: Request<api::DeleteSubjectRequest>,
    ) -> Reply<api::Versions> {
        self.registry.serving()?;
        reply(self.registry.delete_subject(request.into_inner()).await)
    }

    async fn delete_version(
        &self,
        request: Request<api::DeleteVersionRequest>,
    ) -> Reply<api::DeletedVersion> {
        self.registry.serving()?;
        reply(self.registry.delete_version(request.into_inner()).await)
    }

    async fn get_config(&self, request: Request<api::GetConfigRequest>) -> Reply<api::Config> {
        self.registry.serving()?;
        reply(self.registry.get_config(request.into_inner()).await)
    }

    async fn set_config(&self, request: Request<api::SetConfigRequest>) -> Reply<api::Config> {
        self.registry.serving()?;
        reply(self.registry.set_config(request.into_inner()).await)
    }

    async fn delete_config(
        &self,
        request: Request<api::DeleteConfigRequest>,
    ) -> Reply<api::Config> {
        self.registry.serving()?;
        reply(self.registry.delete_config(request.into_inner()).await)
    }

    async fn get_mode(&self, request: Request<api::GetModeRequest>) -> Reply<api::Mode> {
        self.registry.serving()?;
        reply(self.registry.get_mode(request.into_inner()).await)
    }

    async fn set_mode(&self, request: Request<api::SetModeRequest>) -> Reply<api::Mode> {
        self.registry.serving()?;
        reply(self.registry.set_mode(request.into_inner()).await)
    }

    async fn delete_mode(&self, request: Request<api::DeleteModeRequest>) -> Reply<api::Mode> {
        self.registry.serving()?;
        reply(self.registry.delete_mode(request.into_inner()).await)
    }

    async fn check_compatibility(
        &self,
        request: Request<api::CheckCompatibilityRequest>,
    ) -> Reply<api::CompatibilityResult> {
        self.registry.serving()?;
        reply(
            self.registry
                .check_compatibility(request.into_inner())
                .await,
        )
    }

    async fn create_association(
        &self,
        request: Request<api::AssociationRequest>,
    ) -> Reply<api::AssociationResponse> {
        self.registry.serving()?;
        reply(
            self.registry
                .create_or_update_association(request.into_inner(), true)
                .await,
        )
    }

    async fn create_or_update_association(
        &self,
        request: Request<api::AssociationRequest>,
    ) -> Reply<api::AssociationResponse> {
        self.registry.serving()?;
        reply(
            self.registry
                .create_or_update_association(request.into_inner(), false)
                .await,
        )
    }

    async fn list_associations(
        &self,
        request: Request<api::ListAssociationsRequest>,
    ) -> Reply<api::Associations> {
        self.registry.serving()?;
        reply(self.registry.list_associations(request.into_inner()).await)
    }

    async fn delete_associations(
        &self,
        request: Request<api::DeleteAssociationsRequest>,
    ) -> Reply<api::Associations> {
        self.registry.serving()?;
        reply(
            self.registry
                .delete_associations(request.into_inner())
                .await,
        )
    }

    async fn batch_get_associations(
        &self,
        request: Request<api::BatchGetAssociationsRequest>,
    ) -> Reply<api::AssociationBatchResponse> {
        self.registry.serving()?;
        reply(
            self.registry
                .batch_get_associations(request.into_inner())
                .await,
        )
    }

    async fn batch_mutate_associations(
        &self,
        request: Request<api::BatchMutateAssociationsRequest>,
    ) -> Reply<api::AssociationBatchResponse> {
        self.registry.serving()?;
        reply(
            self.registry
                .batch_mutate_associations(request.into_inner())
                .await,
        )
    }
}
