//! The Confluent Schema Registry REST contract over Scute's gRPC API.
//!
//! [`router`] serves Confluent's REST API (port 8081 by convention) by
//! translating each request onto one call of the
//! [`SchemaRegistry`](scute_proto::v1::schema_registry_server::SchemaRegistry)
//! trait and rendering the reply, or the error, as Confluent 8.x does. No
//! registry rule lives here: versions such as `latest`, compatibility levels,
//! modes and schema types are passed through as text for the registry to
//! judge and word its errors.
//!
//! | Method | Path | Query parameters | RPC | Reply |
//! |---|---|---|---|---|
//! | GET, POST | `/` | | none | `{}` |
//! | GET | `/openapi.yaml` | | none | [`OPENAPI_YAML`] |
//! | GET | `/schemas/types` | | `GetSchemaTypes` | `["AVRO", ...]` |
//! | GET | `/schemas` | `subjectPrefix deleted latestOnly offset limit` | `ListSchemas` | `[Schema]` |
//! | GET | `/schemas/ids/{id}` | `subject format fetchMaxId findTags` | `GetSchemaById` | `SchemaString` |
//! | GET | `/schemas/ids/{id}/schema` | `subject format` | `GetSchemaById` | raw schema text |
//! | GET | `/schemas/ids/{id}/subjects` | `subject deleted` | `ListSchemaIdSubjects` | `["s", ...]` |
//! | GET | `/schemas/ids/{id}/versions` | `subject deleted` | `ListSchemaIdVersions` | `[{"subject","version"}]` |
//! | GET | `/schemas/guids/{guid}` | `format` | `GetSchemaByGuid` | `SchemaString` |
//! | GET | `/schemas/guids/{guid}/ids` | | `ListGuidIds` | `[{"context","id"}]` |
//! | GET | `/subjects` | `subjectPrefix deleted deletedOnly offset limit` | `ListSubjects` | `["s", ...]` |
//! | GET | `/contexts` | `contextPrefix offset limit` | `ListContexts` | `[".", ".ctx"]` |
//! | DELETE | `/contexts/{context}` | | `DeleteContext` | 204 |
//! | GET | `/v1/metadata/id` | | `GetClusterId` | `{"scope":{"path":[],"clusters":{..}}}` |
//! | GET | `/v1/metadata/version` | | `GetServerVersion` | `{"version","commitId"}` |
//! | GET | `/v1/metadata/deployment` | | `GetDeployment` | `{"attributes":[..]}` |
//! | POST | `/subjects/{s}` | `normalize deleted` | `LookupSchema` | `Schema` |
//! | DELETE | `/subjects/{s}` | `permanent` | `DeleteSubject` | `[1, 2]` |
//! | GET | `/subjects/{s}/versions` | `deleted deletedOnly offset limit` | `ListVersions` | `[1, 2]` |
//! | POST | `/subjects/{s}/versions` | `normalize` | `RegisterSchema` | `RegisterSchemaResponse` |
//! | GET | `/subjects/{s}/versions/{v}` | `deleted format findTags` | `GetVersion` | `Schema` |
//! | GET | `/subjects/{s}/versions/{v}/schema` | `deleted format` | `GetVersion` | raw schema text |
//! | GET | `/subjects/{s}/versions/{v}/referencedby` | `deleted offset limit` | `GetReferencedBy` | `[id, ...]` |
//! | DELETE | `/subjects/{s}/versions/{v}` | `permanent` | `DeleteVersion` | `1` |
//! | POST | `/subjects/{s}/versions/{v}/tags` | | `TagSchema` | `RegisterSchemaResponse` |
//! | GET | `/subjects/{s}/metadata` | `key value deleted format` | `GetLatestWithMetadata` | `Schema` |
//! | GET | `/config`, `/config/{s}` | `defaultToGlobal` | `GetConfig` | `{"compatibilityLevel":..}` |
//! | PUT | `/config`, `/config/{s}` | | `SetConfig` | the config as merged, `{"compatibility":..}` |
//! | DELETE | `/config`, `/config/{s}` | | `DeleteConfig` | the old `Config` |
//! | GET | `/mode`, `/mode/{s}` | `defaultToGlobal` | `GetMode` | `{"mode":..}` |
//! | PUT | `/mode`, `/mode/{s}` | `force` | `SetMode` | the request, `{"mode":..}` |
//! | DELETE | `/mode`, `/mode/{s}` | | `DeleteMode` | the old `{"mode":..}` |
//! | POST | `/compatibility/subjects/{s}/versions/{v}` | `normalize verbose` | `CheckCompatibility` | `{"is_compatible":..}` |
//! | POST | `/compatibility/subjects/{s}/versions` | `normalize verbose` | `CheckCompatibility` | `{"is_compatible":..}` |
//! | GET | `/associations` | `resourceName resourceNamespace resourceType associationType lifecycle offset limit` | `ListAssociations` | `[Association]` |
//! | POST | `/associations` | `dryRun context` | `CreateAssociation` | `AssociationResponse` |
//! | GET | `/associations/subjects/{s}` | `resourceType associationType lifecycle offset limit` | `ListAssociations` | `[Association]` |
//! | GET | `/associations/resources/{id}` | as above | `ListAssociations` | `[Association]` |
//! | PUT | `/associations/resources/{id}` | `dryRun context` | `CreateOrUpdateAssociation` | `AssociationResponse` |
//! | DELETE | `/associations/resources/{id}` | `resourceType associationType cascadeLifecycle dryRun async` | `DeleteAssociations` | 204 (202 with `async`) |
//! | GET | `/associations/resources/{ns}/{name}` | as for subjects | `ListAssociations` | `[Association]` |
//! | POST | `/associations:batchGet` | `includeSchemas` | `BatchGetAssociations` | 207 `AssociationBatchResponse` |
//! | POST | `/associations:batchMutate`, `/associations:batch` | `dryRun context` | `BatchMutateAssociations` | 207 `AssociationBatchResponse` |
//!
//! Query parameters Confluent has and the proto does not (`format` on
//! register, `referenceFormat`, `aliases`, `ruleType`,
//! `deletedAsNegative`, `offset`/`limit` on the `/schemas/ids/{id}` lists,
//! `recursive`) are accepted and ignored.
//!
//! Every route is served under `/contexts/{context}` too (see `context_path`).
//!
//! Errors are `{"error_code": N, "message": "..."}` with the HTTP status
//! derived from N ([`RestError`]). Content negotiation, path decoding and
//! body limits follow Confluent's Jersey stack; see the modules.

mod context_path;
mod dispatch;
mod error;
mod extract;
mod layer;
mod negotiate;
mod render;
mod resources;
mod route;

use std::sync::Arc;

use axum::Router;
use scute_proto::v1::schema_registry_server::SchemaRegistry;

pub use crate::dispatch::{Dispatched, Routes};
use crate::dispatch::{Table, delete, get, post};
pub use crate::error::RestError;
pub use crate::layer::{Facade, FacadeLayer};
use crate::resources::{
    associations, compatibility, config, contexts, metadata, mode, root, schemas, subject_versions,
    subjects,
};
pub use crate::route::Route;

/// The OpenAPI description of this REST API (`rest-facade/openapi.yaml`),
/// served at `GET /openapi.yaml`. Tests check it against the router.
pub const OPENAPI_YAML: &str = include_str!("../openapi.yaml");

/// Settings of the REST facade.
#[derive(Debug, Clone)]
pub struct RestConfig {
    /// Largest request body accepted; a larger one is a 413.
    pub max_body_bytes: usize,
    /// How long a client may take to send a body; past it, a 408.
    pub body_timeout: std::time::Duration,
}

impl RestConfig {
    /// 16 MiB: far above any real schema, low enough to bound memory.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
    /// A minute: a 16 MiB body at 2 Mbit/s.
    pub const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
}

impl Default for RestConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            body_timeout: Self::DEFAULT_BODY_TIMEOUT,
        }
    }
}

/// What every handler gets: the registry and the facade's settings.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) api: Arc<dyn SchemaRegistry>,
    pub(crate) config: RestConfig,
}

/// One request's view of the API: every call it makes carries what the
/// server learned of the request's caller (the authenticated principal,
/// the connection) as the call's extensions, exactly as a gRPC call's do,
/// so the registry sees one caller however it was reached.
pub(crate) struct Call {
    pub(crate) api: Arc<dyn SchemaRegistry>,
    caller: http::Extensions,
}

impl Call {
    /// An API request of `message`, on behalf of this request's caller.
    pub(crate) fn request<T>(&self, message: T) -> tonic::Request<T> {
        tonic::Request::from_parts(
            tonic::metadata::MetadataMap::new(),
            self.caller.clone(),
            message,
        )
    }
}

impl axum::extract::FromRequestParts<AppState> for Call {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // The extensions are the caller's, moved rather than copied; the
        // path's parameters stay for `PathArgs`.
        let mut caller = std::mem::take(&mut parts.extensions);
        if let Some(params) = caller.remove::<dispatch::PathParams>() {
            parts.extensions.insert(params);
        }
        Ok(Self {
            api: state.api.clone(),
            caller,
        })
    }
}

/// The Confluent REST API over `api`, with the default [`RestConfig`].
pub fn router(api: Arc<dyn SchemaRegistry>) -> Router {
    router_with_config(api, RestConfig::default())
}

/// The Confluent REST API over `api`.
pub fn router_with_config(api: Arc<dyn SchemaRegistry>, config: RestConfig) -> Router {
    Router::new().fallback_service(service_with_config(api, config))
}

/// The Confluent REST API over `api` as a service, to put behind routes of
/// one's own without another router in between.
pub type RestService = Facade<Routes>;

/// See [`RestService`].
pub fn service_with_config(api: Arc<dyn SchemaRegistry>, config: RestConfig) -> RestService {
    // The context prefix comes off before routing, as in Confluent.
    tower::Layer::layer(&FacadeLayer::strip_context(), routes(api, config))
}

fn routes(api: Arc<dyn SchemaRegistry>, config: RestConfig) -> Routes {
    Table::new()
        .route("/contexts", get(contexts::get_contexts))
        .route("/contexts/{context}", delete(contexts::delete_context))
        .route("/v1/metadata/id", get(metadata::get_id))
        .route("/v1/metadata/version", get(metadata::get_version))
        .route("/v1/metadata/deployment", get(metadata::get_deployment))
        .route("/", get(root::get_root).post(root::post_root))
        .route("/schemas", get(schemas::get_schemas))
        .route("/schemas/types", get(schemas::get_schema_types))
        .route("/schemas/ids/{id}", get(schemas::get_schema_by_id))
        .route(
            "/schemas/ids/{id}/schema",
            get(schemas::get_schema_by_id_schema),
        )
        .route(
            "/schemas/ids/{id}/subjects",
            get(schemas::get_schema_by_id_subjects),
        )
        .route(
            "/schemas/ids/{id}/versions",
            get(schemas::get_schema_by_id_versions),
        )
        .route("/schemas/guids/{guid}", get(schemas::get_schema_by_guid))
        .route(
            "/schemas/guids/{guid}/ids",
            get(schemas::get_schema_guid_ids),
        )
        .route("/subjects", get(subjects::get_subjects))
        .route(
            "/subjects/{subject}",
            post(subjects::post_subject).delete(subjects::delete_subject),
        )
        .route(
            "/subjects/{subject}/metadata",
            get(subject_versions::get_latest_with_metadata),
        )
        .route(
            "/subjects/{subject}/versions",
            get(subject_versions::get_subject_versions)
                .post(subject_versions::post_subject_versions),
        )
        .route(
            "/subjects/{subject}/versions/{version}",
            get(subject_versions::get_subject_version)
                .delete(subject_versions::delete_subject_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(subject_versions::get_subject_version_schema),
        )
        .route(
            "/subjects/{subject}/versions/{version}/referencedby",
            get(subject_versions::get_subject_version_referencedby),
        )
        .route(
            "/subjects/{subject}/versions/{version}/tags",
            post(subject_versions::post_version_tags),
        )
        .route(
            "/config",
            get(config::get_config)
                .put(config::put_config)
                .delete(config::delete_config),
        )
        .route(
            "/config/{subject}",
            get(config::get_config_subject)
                .put(config::put_config_subject)
                .delete(config::delete_config_subject),
        )
        .route(
            "/mode",
            get(mode::get_mode)
                .put(mode::put_mode)
                .delete(mode::delete_mode),
        )
        .route(
            "/mode/{subject}",
            get(mode::get_mode_subject)
                .put(mode::put_mode_subject)
                .delete(mode::delete_mode_subject),
        )
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(compatibility::post_compatibility_subject_versions),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(compatibility::post_compatibility_subject_version),
        )
        .route(
            "/associations",
            get(associations::get_by_query).post(associations::post_associations),
        )
        .route("/associations:batchGet", post(associations::post_batch_get))
        .route(
            "/associations:batchMutate",
            post(associations::post_batch_mutate),
        )
        .route("/associations:batch", post(associations::post_batch_mutate))
        .route(
            "/associations/subjects/{subject}",
            get(associations::get_by_subject),
        )
        .route(
            "/associations/resources/{resourceId}",
            get(associations::get_by_resource_id)
                .put(associations::put_by_resource_id)
                .delete(associations::delete_by_resource_id),
        )
        .route(
            "/associations/resources/{resourceNamespace}/{resourceName}",
            get(associations::get_by_resource_name),
        )
        // YAML, not one of the JSON types.
        .route_unnegotiated("/openapi.yaml", get(root::get_openapi))
        .with_state(AppState { api, config })
}
