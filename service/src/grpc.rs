//! The tonic service: hands each call to the [`Registry`] and turns its
//! errors into statuses that carry the Confluent error code. Every call
//! first passes [`Policy`] (who may call, see `access`), and writes and
//! refusals go to the [`Audit`] log: REST calls arrive here too.

use std::sync::Arc;

use scute_proto::v1 as api;
use scute_proto::v1::schema_registry_server::SchemaRegistry;
use tonic::{Request, Response, Status};

use crate::access::{Caller, Need, Needs, Policy, Shown, Target};
use crate::audit::{Audit, Event, Outcome, operation_name};
use crate::context;
use crate::registry::Registry;

/// The gRPC API over a registry. The REST facade calls this same object.
#[derive(Debug, Clone)]
pub struct GrpcApi {
    registry: Arc<Registry>,
    policy: Policy,
    audit: Arc<Audit>,
}

impl GrpcApi {
    /// The API with security off.
    pub fn new(registry: Arc<Registry>) -> Self {
        Self {
            registry,
            policy: Policy::Open,
            audit: Arc::new(Audit::off()),
        }
    }

    /// The API under `policy`, auditing to `audit`.
    pub fn with_security(mut self, policy: Policy, audit: Arc<Audit>) -> Self {
        self.policy = policy;
        self.audit = audit;
        self
    }

    /// Who is calling, or the refusal (audited).
    fn caller<T>(&self, method: &str, request: &Request<T>) -> Result<Caller, Status> {
        self.registry.serving()?;
        self.policy.caller(request.extensions()).map_err(|e| {
            let mut nobody = Caller::anyone();
            nobody.peer = request
                .extensions()
                .get::<crate::audit::Peer>()
                .map(|p| p.0);
            self.record(&nobody, method, None, Outcome::Denied, Some(&e));
            Status::from(e)
        })
    }

    /// Refuses the call unless the caller may do what it needs (audited).
    fn allow(&self, caller: &Caller, method: &str, need: &Need) -> Result<(), Status> {
        caller.require(need).map_err(|e| {
            let subject = need.target.as_ref().and_then(Target::subject_name);
            self.record(caller, method, subject, Outcome::Denied, Some(&e));
            Status::from(e)
        })
    }

    /// Audits a write's outcome.
    fn audit_write<T>(
        &self,
        caller: &Caller,
        method: &str,
        need: &Need,
        result: &Result<T, crate::Error>,
    ) {
        if !need.writes() || !self.audit.is_on() {
            return;
        }
        let subject = need.target.as_ref().and_then(Target::subject_name);
        match result {
            Ok(_) => self.record(caller, method, subject, Outcome::Success, None),
            Err(e) => self.record(caller, method, subject, Outcome::Failed, Some(e)),
        }
    }

    fn record(
        &self,
        caller: &Caller,
        method: &str,
        subject: Option<&str>,
        outcome: Outcome,
        error: Option<&crate::Error>,
    ) {
        if outcome == Outcome::Denied {
            tracing::debug!(principal = caller.name(), operation = method, subject, error = ?error.map(ToString::to_string), "refused");
        }
        if !self.audit.is_on() {
            return;
        }
        let message = error.map(ToString::to_string);
        self.audit.record(Event {
            principal: caller.name(),
            auth: caller.principal.as_ref().map(|p| p.source.as_str()),
            operation: &operation_name(method),
            subject,
            outcome,
            error_code: error.map(crate::Error::error_code),
            message: message.as_deref(),
            peer: caller.peer,
        });
    }

    /// Whether the caller may read some subject holding schema `id` of the
    /// context `subject` names (a schema by id is readable when one is).
    async fn may_read_schema(&self, caller: &Caller, id: i32, subject: Option<String>) -> bool {
        let Some(view) = caller.view() else {
            return true;
        };
        let holders = self
            .registry
            .list_schema_id_subjects(api::ListSchemaIdSubjectsRequest {
                id,
                deleted: true,
                subject,
            })
            .await;
        // An unknown id: let the registry say so.
        holders.map_or(true, |h| h.subjects.iter().any(|s| view.reads(s)))
    }

    /// Refuses a read by id the caller may not make (audited).
    async fn allow_schema(
        &self,
        caller: &Caller,
        method: &str,
        id: i32,
        subject: Option<String>,
    ) -> Result<(), Status> {
        if self.may_read_schema(caller, id, subject).await {
            return Ok(());
        }
        let error = crate::Error::Forbidden {
            operation: "Read",
            resource: format!("Schema:{id}"),
        };
        self.record(caller, method, None, Outcome::Denied, Some(&error));
        Err(error.into())
    }

    /// The ids of a guid the caller may read.
    async fn readable_ids(&self, caller: &Caller, ids: Vec<api::ContextId>) -> Vec<api::ContextId> {
        if caller.view().is_none() {
            return ids;
        }
        let mut readable = Vec::with_capacity(ids.len());
        for id in ids {
            let subject = context_subject(&id.context);
            if self.may_read_schema(caller, id.id, subject).await {
                readable.push(id);
            }
        }
        readable
    }
}

/// The subject that picks a context for an id lookup: none for the default.
fn context_subject(ctx: &str) -> Option<String> {
    (ctx != context::DEFAULT).then(|| context::qualify(ctx, ""))
}

type Reply<T> = Result<Response<T>, Status>;

fn reply<T>(result: Result<T, crate::Error>) -> Reply<T> {
    result.map(Response::new).map_err(Status::from)
}

/// The service's methods: each checks its caller, calls the registry's
/// method of the same name, audits a write and shows the caller what they
/// may see of the reply; `extra` holds the few that differ.
macro_rules! delegate {
    (extra { $($extra:tt)* } $($method:ident($request:ty) -> $reply:ty;)*) => {
        #[tonic::async_trait]
        impl SchemaRegistry for GrpcApi {
            $(
                async fn $method(&self, request: Request<$request>) -> Reply<$reply> {
                    let method = stringify!($method);
                    let caller = self.caller(method, &request)?;
                    let request = request.into_inner();
                    let need = request.needs();
                    self.allow(&caller, method, &need)?;
                    let result = self.registry.$method(request).await;
                    self.audit_write(&caller, method, &need, &result);
                    reply(result.map(|r| r.shown(&caller)))
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
            request: Request<api::GetSchemaTypesRequest>,
        ) -> Reply<api::SchemaTypes> {
            self.caller("get_schema_types", &request)?;
            Ok(Response::new(self.registry.schema_types()))
        }

        async fn get_cluster_id(
            &self,
            request: Request<api::GetClusterIdRequest>,
        ) -> Reply<api::ClusterId> {
            self.policy.caller(request.extensions())?;
            Ok(Response::new(self.registry.cluster_id()))
        }

        async fn get_server_version(
            &self,
            request: Request<api::GetServerVersionRequest>,
        ) -> Reply<api::ServerVersion> {
            self.policy.caller(request.extensions())?;
            Ok(Response::new(self.registry.server_version()))
        }

        async fn get_deployment(
            &self,
            request: Request<api::GetDeploymentRequest>,
        ) -> Reply<api::Deployment> {
            self.policy.caller(request.extensions())?;
            Ok(Response::new(self.registry.deployment()))
        }

        async fn get_schema_by_id(
            &self,
            request: Request<api::GetSchemaByIdRequest>,
        ) -> Reply<api::Schema> {
            let caller = self.caller("get_schema_by_id", &request)?;
            let request = request.into_inner();
            self.allow_schema(&caller, "get_schema_by_id", request.id, request.subject.clone())
                .await?;
            reply(self.registry.get_schema_by_id(request).await)
        }

        async fn get_schema_by_guid(
            &self,
            request: Request<api::GetSchemaByGuidRequest>,
        ) -> Reply<api::Schema> {
            let caller = self.caller("get_schema_by_guid", &request)?;
            let request = request.into_inner();
            if caller.view().is_some() {
                let ids = self
                    .registry
                    .list_guid_ids(api::ListGuidIdsRequest { guid: request.guid.clone() })
                    .await
                    .map(|r| r.ids)
                    .unwrap_or_default();
                if !ids.is_empty() && self.readable_ids(&caller, ids).await.is_empty() {
                    let error = crate::Error::Forbidden {
                        operation: "Read",
                        resource: format!("Schema:{}", request.guid),
                    };
                    self.record(&caller, "get_schema_by_guid", None, Outcome::Denied, Some(&error));
                    return Err(error.into());
                }
            }
            reply(self.registry.get_schema_by_guid(request).await)
        }

        async fn list_guid_ids(
            &self,
            request: Request<api::ListGuidIdsRequest>,
        ) -> Reply<api::ContextIds> {
            let caller = self.caller("list_guid_ids", &request)?;
            let mut ids = self.registry.list_guid_ids(request.into_inner()).await?;
            ids.ids = self.readable_ids(&caller, ids.ids).await;
            Ok(Response::new(ids))
        }

        async fn list_subjects(
            &self,
            request: Request<api::ListSubjectsRequest>,
        ) -> Reply<api::Subjects> {
            let caller = self.caller("list_subjects", &request)?;
            let request = request.into_inner();
            let view = caller.view();
            let visible = |s: &str| view.as_ref().is_none_or(|v| v.reads(s));
            reply(self.registry.list_subjects_where(request, visible).await)
        }

        async fn list_schemas(
            &self,
            request: Request<api::ListSchemasRequest>,
        ) -> Reply<api::Schemas> {
            let caller = self.caller("list_schemas", &request)?;
            let request = request.into_inner();
            let view = caller.view();
            let visible = |s: &str| view.as_ref().is_none_or(|v| v.reads(s));
            reply(self.registry.list_schemas_where(request, visible).await)
        }

        async fn list_contexts(
            &self,
            request: Request<api::ListContextsRequest>,
        ) -> Reply<api::Contexts> {
            let caller = self.caller("list_contexts", &request)?;
            let request = request.into_inner();
            let view = caller.view();
            // Security off: every context, held subjects or not.
            let visible = view.as_ref().map(|v| |s: &str| v.reads(s));
            reply(self.registry.list_contexts_where(request, visible).await)
        }

        async fn create_association(
            &self,
            request: Request<api::AssociationRequest>,
        ) -> Reply<api::AssociationResponse> {
            self.associate(request, true).await
        }

        async fn create_or_update_association(
            &self,
            request: Request<api::AssociationRequest>,
        ) -> Reply<api::AssociationResponse> {
            self.associate(request, false).await
        }
    }
    register_schema(api::RegisterSchemaRequest) -> api::Schema;
    lookup_schema(api::LookupSchemaRequest) -> api::Schema;
    list_schema_id_versions(api::ListSchemaIdVersionsRequest) -> api::SubjectVersions;
    list_schema_id_subjects(api::ListSchemaIdSubjectsRequest) -> api::Subjects;
    list_versions(api::ListVersionsRequest) -> api::Versions;
    get_version(api::GetVersionRequest) -> api::Schema;
    get_latest_with_metadata(api::GetLatestWithMetadataRequest) -> api::Schema;
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
    tag_schema(api::TagSchemaRequest) -> api::Schema;
    delete_context(api::DeleteContextRequest) -> api::DeleteContextResponse;
}

impl GrpcApi {
    /// `create_association` (`create` true) and `create_or_update_association`.
    async fn associate(
        &self,
        request: Request<api::AssociationRequest>,
        create: bool,
    ) -> Reply<api::AssociationResponse> {
        let method = if create {
            "create_association"
        } else {
            "create_or_update_association"
        };
        let caller = self.caller(method, &request)?;
        let request = request.into_inner();
        let need = request.needs();
        self.allow(&caller, method, &need)?;
        let result = self
            .registry
            .create_or_update_association(request, create)
            .await;
        self.audit_write(&caller, method, &need, &result);
        reply(result)
    }
}
