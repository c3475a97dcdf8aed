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

/// The service's methods, each one a call of the registry's method of the
/// same name once the node serves; `extra` holds the few that differ.
macro_rules! delegate {
    (extra { $($extra:tt)* } $($method:ident($request:ty) -> $reply:ty;)*) => {
        #[tonic::async_trait]
        impl SchemaRegistry for GrpcApi {
            $(
                async fn $method(&self, request: Request<$request>) -> Reply<$reply> {
                    self.registry.serving()?;
                    reply(self.registry.$method(request.into_inner()).await)
                }
            )*
            $($extra)*
        }
    };
}

delegate! {
    extra {
        async fn get_schema_types(
            &self,
            _request: Request<api::GetSchemaTypesRequest>,
        ) -> Reply<api::SchemaTypes> {
            self.registry.serving()?;
            Ok(Response::new(self.registry.schema_types()))
        }

        async fn get_cluster_id(
            &self,
            _request: Request<api::GetClusterIdRequest>,
        ) -> Reply<api::ClusterId> {
            Ok(Response::new(self.registry.cluster_id()))
        }

        async fn get_server_version(
            &self,
            _request: Request<api::GetServerVersionRequest>,
        ) -> Reply<api::ServerVersion> {
            Ok(Response::new(self.registry.server_version()))
        }

        async fn get_deployment(
            &self,
            _request: Request<api::GetDeploymentRequest>,
        ) -> Reply<api::Deployment> {
            Ok(Response::new(self.registry.deployment()))
        }

        async fn create_association(
            &self,
            request: Request<api::AssociationRequest>,
        ) -> Reply<api::AssociationResponse> {
            self.registry.serving()?;
            let request = request.into_inner();
            reply(self.registry.create_or_update_association(request, true).await)
        }

        async fn create_or_update_association(
            &self,
            request: Request<api::AssociationRequest>,
        ) -> Reply<api::AssociationResponse> {
            self.registry.serving()?;
            let request = request.into_inner();
            reply(self.registry.create_or_update_association(request, false).await)
        }
    }
    register_schema(api::RegisterSchemaRequest) -> api::Schema;
    lookup_schema(api::LookupSchemaRequest) -> api::Schema;
    get_schema_by_id(api::GetSchemaByIdRequest) -> api::Schema;
    list_schema_id_versions(api::ListSchemaIdVersionsRequest) -> api::SubjectVersions;
    list_schema_id_subjects(api::ListSchemaIdSubjectsRequest) -> api::Subjects;
    list_schemas(api::ListSchemasRequest) -> api::Schemas;
    list_subjects(api::ListSubjectsRequest) -> api::Subjects;
    list_versions(api::ListVersionsRequest) -> api::Versions;
    get_version(api::GetVersionRequest) -> api::Schema;
    get_latest_with_metadata(api::GetLatestWithMetadataRequest) -> api::Schema;
    get_schema_by_guid(api::GetSchemaByGuidRequest) -> api::Schema;
    list_guid_ids(api::ListGuidIdsRequest) -> api::ContextIds;
    get_referenced_by(api::GetReferencedByRequest) -> api::SchemaIds;
    delete_subject(api::DeleteSubjectRequest) -> api::Versions;
    delete_version(api::DeleteVersionRequest) -> api::DeletedVersion;
    get_config(api::GetConfigRequest) -> api::Config;
    set_config(api::SetConfigRequest) -> api::Config;
    delete_config(api::DeleteConfigRequest) -> api::Config;
    get_mode(api::GetModeRequest) -> api::Mode;
    set_mode(api::SetModeRequest) -> api::Mode;
    delete_mode(api::DeleteModeRequest) -> api::Mode;
    check_compatibility(api::CheckCompatibilityRequest) -> api::CompatibilityResult;
    list_associations(api::ListAssociationsRequest) -> api::Associations;
    delete_associations(api::DeleteAssociationsRequest) -> api::Associations;
    batch_get_associations(api::BatchGetAssociationsRequest) -> api::AssociationBatchResponse;
    batch_mutate_associations(api::BatchMutateAssociationsRequest) -> api::AssociationBatchResponse;
    list_contexts(api::ListContextsRequest) -> api::Contexts;
    tag_schema(api::TagSchemaRequest) -> api::Schema;
    delete_context(api::DeleteContextRequest) -> api::DeleteContextResponse;

}
