//! `/schemas...`: Confluent's `SchemasResource`.

use axum::response::{IntoResponse, Response};
use scute_proto::v1::{
    GetSchemaByGuidRequest, GetSchemaByIdRequest, GetSchemaTypesRequest, ListGuidIdsRequest,
    ListSchemaIdSubjectsRequest, ListSchemaIdVersionsRequest, ListSchemasRequest,
};
use serde_json::{Value, json};

use crate::{
    Call,
    error::RestError,
    extract::{PathArgs, Query},
    render,
};

/// `GET /schemas`: schemas across subjects, each in `Schema` shape.
pub(crate) async fn get_schemas(state: Call, query: Query) -> Result<Response, RestError> {
    let request = ListSchemasRequest {
        // Confluent's default lists every context.
        subject_prefix: query.str("subjectPrefix").unwrap_or(":*:").to_owned(),
        deleted: query.flag("deleted"),
        latest_only: query.flag("latestOnly"),
        offset: query.int("offset", 0)?,
        limit: query.int("limit", -1)?,
    };
    let reply = state.api.list_schemas(state.request(request)).await?;
    let reply = reply.into_inner();
    let schemas = reply
        .schemas
        .iter()
        .map(render::schema_entity)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(render::ok(schemas))
}

/// `GET /schemas/types`.
pub(crate) async fn get_schema_types(state: Call) -> Result<Response, RestError> {
    let reply = state
        .api
        .get_schema_types(state.request(GetSchemaTypesRequest {}))
        .await?;
    Ok(render::ok(reply.into_inner().schema_types))
}

fn by_id_request(
    path: &PathArgs,
    query: &Query,
    fetch_max_id: bool,
) -> Result<GetSchemaByIdRequest, RestError> {
    Ok(GetSchemaByIdRequest {
        id: path.id()?,
        subject: query.str("subject").map(str::to_owned),
        format: query.str("format").unwrap_or_default().to_owned(),
        fetch_max_id,
        find_tags: query.all("findTags").map(str::to_owned).collect(),
    })
}

/// `GET /schemas/ids/{id}`: `SchemaString` shape.
pub(crate) async fn get_schema_by_id(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let request = by_id_request(&path, &query, query.flag("fetchMaxId"))?;
    let with_subject = request.subject.is_some();
    let reply = state.api.get_schema_by_id(state.request(request)).await?;
    let reply = reply.into_inner();
    Ok(render::ok(render::schema_string(&reply, with_subject)?))
}

/// `GET /schemas/ids/{id}/schema`: the schema text itself is the body
/// (Jersey writes a `String` entity as is, not as a JSON string).
pub(crate) async fn get_schema_by_id_schema(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let request = by_id_request(&path, &query, false)?;
    let reply = state.api.get_schema_by_id(state.request(request)).await?;
    Ok(reply.into_inner().schema.into_response())
}

/// `GET /schemas/ids/{id}/subjects`.
pub(crate) async fn get_schema_by_id_subjects(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let request = ListSchemaIdSubjectsRequest {
        id: path.id()?,
        deleted: query.flag("deleted"),
        subject: query.str("subject").map(str::to_owned),
    };
    let reply = state
        .api
        .list_schema_id_subjects(state.request(request))
        .await?;
    Ok(render::ok(reply.into_inner().subjects))
}

/// `GET /schemas/ids/{id}/versions`: `[{"subject": .., "version": ..}]`
/// (`C:ent/SubjectVersion.java`).
pub(crate) async fn get_schema_by_id_versions(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let request = ListSchemaIdVersionsRequest {
        id: path.id()?,
        deleted: query.flag("deleted"),
        subject: query.str("subject").map(str::to_owned),
    };
    let reply = state
        .api
        .list_schema_id_versions(state.request(request))
        .await?;
    let pairs: Vec<Value> = reply
        .into_inner()
        .subject_versions
        .iter()
        .map(|sv| json!({"subject": sv.subject, "version": sv.version}))
        .collect();
    Ok(render::ok(pairs))
}

/// `GET /schemas/guids/{guid}`: `SchemaString` shape, without subject.
pub(crate) async fn get_schema_by_guid(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let request = GetSchemaByGuidRequest {
        guid: path.guid()?,
        format: query.str("format").unwrap_or_default().to_owned(),
    };
    let reply = state.api.get_schema_by_guid(state.request(request)).await?;
    Ok(render::ok(render::schema_string(
        &reply.into_inner(),
        false,
    )?))
}

/// `GET /schemas/guids/{guid}/ids`: Confluent's `ContextId` pairs,
/// `[{"context":".","id":1}]`; Scute has the default context only.
pub(crate) async fn get_schema_guid_ids(
    state: Call,
    path: PathArgs,
) -> Result<Response, RestError> {
    let request = ListGuidIdsRequest { guid: path.guid()? };
    let reply = state.api.list_guid_ids(state.request(request)).await?;
    let ids: Vec<_> = reply
        .into_inner()
        .ids
        .into_iter()
        .map(|id| json!({"context": id.context, "id": id.id}))
        .collect();
    Ok(render::ok(ids))
}
