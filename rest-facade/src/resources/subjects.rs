//! `/subjects` and `/subjects/{s}`: Confluent's `SubjectsResource`.

use axum::response::Response;
use scute_proto::v1::{DeleteSubjectRequest, ListSubjectsRequest, LookupSchemaRequest};

use crate::{
    Call,
    error::RestError,
    extract::{JsonBody, PathArgs, Query},
    render,
    resources::SchemaBody,
};

/// `GET /subjects`.
pub(crate) async fn get_subjects(state: Call, query: Query) -> Result<Response, RestError> {
    let request = ListSubjectsRequest {
        // Confluent's default lists every context.
        subject_prefix: query.str("subjectPrefix").unwrap_or(":*:").to_owned(),
        deleted: query.flag("deleted"),
        deleted_only: query.flag("deletedOnly"),
        offset: query.int("offset", 0)?,
        limit: query.int("limit", -1)?,
    };
    let reply = state.api.list_subjects(state.request(request)).await?;
    Ok(render::ok(reply.into_inner().subjects))
}

/// `POST /subjects/{s}`: which version of the subject holds this schema;
/// answers in `Schema` shape.
pub(crate) async fn post_subject(
    state: Call,
    path: PathArgs,
    query: Query,
    body: JsonBody,
) -> Result<Response, RestError> {
    let SchemaBody {
        schema,
        schema_type,
        references,
    } = SchemaBody::parse(&body)?;
    let request = LookupSchemaRequest {
        subject: path.subject()?,
        schema,
        schema_type,
        references,
        normalize: query.flag("normalize"),
        deleted: query.flag("deleted"),
    };
    let reply = state.api.lookup_schema(state.request(request)).await?;
    let reply = reply.into_inner();
    Ok(render::ok(render::schema_entity(&reply)?))
}

/// `DELETE /subjects/{s}`: the deleted versions, `[1, 2]`.
pub(crate) async fn delete_subject(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let request = DeleteSubjectRequest {
        subject: path.subject()?,
        permanent: query.flag("permanent"),
    };
    let reply = state.api.delete_subject(state.request(request)).await?;
    Ok(render::ok(reply.into_inner().versions))
}
