//! `/associations...`: Confluent's `AssociationsResource`.
//!
//! Lists answer `[Association]` (never a 404 for "none"); creates and
//! updates answer an `AssociationResponse`; a delete answers 204 (202 with
//! `async`: Scute deletes at once, so the work is done either way); the
//! batch calls answer 207 with one result or error per request.
//!
//! `GET /associations?resourceName=..` is not Confluent's: it is what the
//! `schema-registry-client` crate's associated subject-name strategy asks,
//! and it answers as `GET /associations/resources/{ns}/{name}` does.

use axum::response::Response;
use http::StatusCode;
use scute_proto::v1::{
    AssociationChange, AssociationOp, AssociationOps, AssociationQuery, AssociationRequest,
    BatchGetAssociationsRequest, BatchMutateAssociationsRequest, DeleteAssociationsRequest,
    ListAssociationsRequest, ResourceName, list_associations_request::By,
};
use serde_json::Value;

use crate::{
    Call,
    error::RestError,
    extract::{Fields, JsonBody, PathArgs, Query},
    render,
    resources::register_request_of,
};

/// The query of the list calls, `by` one of the three keys.
fn list_request(by: By, query: &Query) -> Result<ListAssociationsRequest, RestError> {
    Ok(ListAssociationsRequest {
        by: Some(by),
        resource_type: query.str("resourceType").unwrap_or_default().to_owned(),
        association_types: query.all("associationType").map(str::to_owned).collect(),
        lifecycle: lifecycle(query)?,
        offset: query.int("offset", 0)?,
        limit: query.int("limit", -1)?,
    })
}

/// `lifecycle` is an enum parameter in JAX-RS: a value that is not one of
/// its names fails conversion, a 404.
fn lifecycle(query: &Query) -> Result<String, RestError> {
    match query.str("lifecycle") {
        None | Some("") => Ok(String::new()),
        Some(l @ ("STRONG" | "WEAK")) => Ok(l.to_owned()),
        Some(_) => Err(RestError::not_found()),
    }
}

async fn list(state: Call, request: ListAssociationsRequest) -> Result<Response, RestError> {
    let reply = state.api.list_associations(state.request(request)).await?;
    let associations = reply.into_inner().associations;
    Ok(render::ok(
        associations
            .iter()
            .map(render::association_entity)
            .collect::<Vec<_>>(),
    ))
}

/// `GET /associations/subjects/{s}`.
pub(crate) async fn get_by_subject(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let request = list_request(By::Subject(path.subject()?), &query)?;
    list(state, request).await
}

/// `GET /associations/resources/{id}`.
pub(crate) async fn get_by_resource_id(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let request = list_request(By::ResourceId(path.resource_id()?), &query)?;
    list(state, request).await
}

/// `GET /associations/resources/{ns}/{name}`: `-` for any namespace, or for
/// every resource of one.
pub(crate) async fn get_by_resource_name(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let resource = ResourceName {
        namespace: path.resource_namespace()?,
        name: path.resource_name()?,
    };
    let request = list_request(By::Resource(resource), &query)?;
    list(state, request).await
}

/// `GET /associations?resourceName=..&resourceNamespace=..`: the namespace
/// defaults to any.
pub(crate) async fn get_by_query(state: Call, query: Query) -> Result<Response, RestError> {
    let resource = ResourceName {
        namespace: query.str("resourceNamespace").unwrap_or("-").to_owned(),
        name: query.str("resourceName").unwrap_or_default().to_owned(),
    };
    let request = list_request(By::Resource(resource), &query)?;
    list(state, request).await
}

/// An association of a create or update (`AssociationCreateOrUpdateInfo`,
/// and the same fields of a batch op).
fn change(f: &Fields<'_>) -> Result<AssociationChange, RestError> {
    Ok(AssociationChange {
        subject: f.string("subject")?,
        association_type: f.string("associationType")?,
        lifecycle: f.string("lifecycle")?,
        frozen: f.bool("frozen")?,
        schema: f
            .object("schema")
            .map(|s| register_request_of(String::new(), s, false))
            .transpose()?,
        normalize: f.bool("normalize")?.unwrap_or(false),
    })
}

/// An `AssociationCreateOrUpdateRequest` body.
fn association_request(body: &Value, dry_run: bool) -> Result<AssociationRequest, RestError> {
    let fields = Fields::of(body, "AssociationCreateOrUpdateRequest")?;
    let associations = fields
        .list("associations")?
        .into_iter()
        .map(|item| change(&Fields::of(item, "AssociationCreateOrUpdateInfo")?))
        .collect::<Result<_, RestError>>()?;
    Ok(AssociationRequest {
        resource_name: fields.string("resourceName")?.unwrap_or_default(),
        resource_namespace: fields.string("resourceNamespace")?.unwrap_or_default(),
        resource_id: fields.string("resourceId")?.unwrap_or_default(),
        resource_type: fields.string("resourceType")?.unwrap_or_default(),
        associations,
        dry_run,
        addressed_resource_id: String::new(),
    })
}

/// `POST /associations`. `context` is accepted and ignored: Scute has one
/// context.
pub(crate) async fn post_associations(
    state: Call,
    query: Query,
    body: JsonBody,
) -> Result<Response, RestError> {
    let request = association_request(&body.0, query.flag("dryRun"))?;
    let reply = state.api.create_association(state.request(request)).await?;
    Ok(render::ok(render::association_response(
        &reply.into_inner(),
    )?))
}

/// `PUT /associations/resources/{id}`: creates or updates; the body's
/// `resourceId`, when given, must be the path's.
pub(crate) async fn put_by_resource_id(
    state: Call,
    path: PathArgs,
    query: Query,
    body: JsonBody,
) -> Result<Response, RestError> {
    let mut request = association_request(&body.0, query.flag("dryRun"))?;
    request.addressed_resource_id = path.resource_id()?;
    let reply = state
        .api
        .create_or_update_association(state.request(request))
        .await?;
    Ok(render::ok(render::association_response(
        &reply.into_inner(),
    )?))
}

/// `DELETE /associations/resources/{id}`: 204, or 202 with `async`.
pub(crate) async fn delete_by_resource_id(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let dry_run = query.flag("dryRun");
    let request = DeleteAssociationsRequest {
        resource_id: path.resource_id()?,
        resource_type: query.str("resourceType").unwrap_or_default().to_owned(),
        association_types: query.all("associationType").map(str::to_owned).collect(),
        cascade_lifecycle: query.flag("cascadeLifecycle"),
        dry_run,
    };
    state
        .api
        .delete_associations(state.request(request))
        .await?;
    let status = if query.flag("async") && !dry_run {
        StatusCode::ACCEPTED
    } else {
        StatusCode::NO_CONTENT
    };
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = status;
    Ok(response)
}

fn multi_status(body: Value) -> Response {
    let mut response = render::ok(body);
    *response.status_mut() = StatusCode::MULTI_STATUS;
    response
}

/// `POST /associations:batchGet`: `{"requests": [AssociationGetRequest]}`.
pub(crate) async fn post_batch_get(
    state: Call,
    query: Query,
    body: JsonBody,
) -> Result<Response, RestError> {
    let fields = Fields::of(&body.0, "AssociationBatchGetRequest")?;
    let requests = fields
        .list("requests")?
        .into_iter()
        .map(|item| {
            let f = Fields::of(item, "AssociationGetRequest")?;
            Ok(AssociationQuery {
                resource_name: f.string("resourceName")?.unwrap_or_default(),
                resource_namespace: f.string("resourceNamespace")?.unwrap_or_default(),
                resource_id: f.string("resourceId")?.unwrap_or_default(),
                resource_type: f.string("resourceType")?.unwrap_or_default(),
                association_types: f.strings("associationTypes")?,
                lifecycle: f.string("lifecycle")?.unwrap_or_default(),
            })
        })
        .collect::<Result<_, RestError>>()?;
    let request = BatchGetAssociationsRequest {
        requests,
        include_schemas: query.flag("includeSchemas"),
    };
    let reply = state
        .api
        .batch_get_associations(state.request(request))
        .await?;
    Ok(multi_status(render::association_batch(
        &reply.into_inner(),
    )?))
}

/// `POST /associations:batchMutate`: `{"requests": [AssociationOpRequest]}`,
/// each op with its `opType`.
pub(crate) async fn post_batch_mutate(
    state: Call,
    query: Query,
    body: JsonBody,
) -> Result<Response, RestError> {
    let fields = Fields::of(&body.0, "AssociationBatchMutateRequest")?;
    let requests = fields
        .list("requests")?
        .into_iter()
        .map(|item| {
            let f = Fields::of(item, "AssociationOpRequest")?;
            let associations = f
                .list("associations")?
                .into_iter()
                .map(|op| {
                    let o = Fields::of(op, "AssociationOp")?;
                    Ok(AssociationOp {
                        op_type: o.string("opType")?.unwrap_or_default(),
                        change: Some(change(&o)?),
                        cascade_lifecycle: o.bool("cascadeLifecycle")?.unwrap_or(false),
                    })
                })
                .collect::<Result<_, RestError>>()?;
            Ok(AssociationOps {
                resource_name: f.string("resourceName")?.unwrap_or_default(),
                resource_namespace: f.string("resourceNamespace")?.unwrap_or_default(),
                resource_id: f.string("resourceId")?.unwrap_or_default(),
                resource_type: f.string("resourceType")?.unwrap_or_default(),
                associations,
            })
        })
        .collect::<Result<_, RestError>>()?;
    let request = BatchMutateAssociationsRequest {
        requests,
        dry_run: query.flag("dryRun"),
    };
    let reply = state
        .api
        .batch_mutate_associations(state.request(request))
        .await?;
    Ok(multi_status(render::association_batch(
        &reply.into_inner(),
    )?))
}
