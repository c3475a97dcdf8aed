//! `/subjects/{s}/versions...`: Confluent's `SubjectVersionsResource`.

use axum::response::{IntoResponse, Response};
use scute_proto::v1::{
    DeleteVersionRequest, GetLatestWithMetadataRequest, GetReferencedByRequest, GetVersionRequest,
    ListVersionsRequest, TagSchemaRequest,
};

use crate::{
    Call,
    error::RestError,
    extract::{Fields, JsonBody, PathArgs, Query},
    render,
    resources::{register_request, schema_tags},
};

/// `GET /subjects/{s}/versions`: `[1, 2, 3]`.
pub(crate) async fn get_subject_versions(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let request = ListVersionsRequest {
        subject: path.subject()?,
        deleted: query.flag("deleted"),
        deleted_only: query.flag("deletedOnly"),
        offset: query.int("offset", 0)?,
        limit: query.int("limit", -1)?,
    };
    let reply = state.api.list_versions(state.request(request)).await?;
    Ok(render::ok(reply.into_inner().versions))
}

/// `POST /subjects/{s}/versions`: registers; answers in
/// `RegisterSchemaResponse` shape (8.x: the stored schema, not just `id`).
pub(crate) async fn post_subject_versions(
    state: Call,
    path: PathArgs,
    query: Query,
    body: JsonBody,
) -> Result<Response, RestError> {
    let request = register_request(path.subject()?, &body, query.flag("normalize"))?;
    let reply = state.api.register_schema(state.request(request)).await?;
    let reply = reply.into_inner();
    Ok(render::ok(render::register_response(&reply)?))
}

/// `GET /subjects/{s}/metadata?key=k&value=v...`: the newest version whose
/// metadata properties hold each key with the value at the same position
/// (extra keys or values are ignored, as Confluent pairs them); `Schema`
/// shape.
pub(crate) async fn get_latest_with_metadata(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let metadata = query
        .all("key")
        .zip(query.all("value"))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let request = GetLatestWithMetadataRequest {
        subject: path.subject()?,
        metadata,
        deleted: query.flag("deleted"),
        format: query.str("format").unwrap_or_default().to_owned(),
    };
    let reply = state
        .api
        .get_latest_with_metadata(state.request(request))
        .await?;
    Ok(render::ok(render::schema_entity(&reply.into_inner())?))
}

fn version_request(path: &PathArgs, query: &Query) -> Result<GetVersionRequest, RestError> {
    Ok(GetVersionRequest {
        subject: path.subject()?,
        version: path.version()?,
        deleted: query.flag("deleted"),
        format: query.str("format").unwrap_or_default().to_owned(),
        find_tags: query.all("findTags").map(str::to_owned).collect(),
    })
}

/// `POST /subjects/{s}/versions/{v}/tags`: the version's schema with tags
/// added and removed, registered as a new version; `RegisterSchemaResponse`
/// shape.
pub(crate) async fn post_version_tags(
    state: Call,
    path: PathArgs,
    body: JsonBody,
) -> Result<Response, RestError> {
    let fields = Fields::of(&body.0, "TagSchemaRequest")?;
    let request = TagSchemaRequest {
        subject: path.subject()?,
        version: path.version()?,
        new_version: fields.int("newVersion")?,
        tags_to_add: schema_tags(&fields, "tagsToAdd")?,
        tags_to_remove: schema_tags(&fields, "tagsToRemove")?,
        metadata_json: fields.json_text("metadata"),
        rule_set_json: fields.json_text("ruleSet"),
        rules_to_merge_json: fields.json_text("rulesToMerge"),
        rules_to_remove: fields.strings("rulesToRemove")?,
    };
    let reply = state.api.tag_schema(state.request(request)).await?;
    Ok(render::ok(render::register_response(&reply.into_inner())?))
}

/// `GET /subjects/{s}/versions/{v}`: `Schema` shape.
pub(crate) async fn get_subject_version(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let request = version_request(&path, &query)?;
    let reply = state.api.get_version(state.request(request)).await?;
    let reply = reply.into_inner();
    Ok(render::ok(render::schema_entity(&reply)?))
}

/// `GET /subjects/{s}/versions/{v}/schema`: the schema text is the body.
pub(crate) async fn get_subject_version_schema(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let request = version_request(&path, &query)?;
    let reply = state.api.get_version(state.request(request)).await?;
    Ok(reply.into_inner().schema.into_response())
}

/// `GET /subjects/{s}/versions/{v}/referencedby`: schema ids, `[3, 4]`.
pub(crate) async fn get_subject_version_referencedby(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let request = GetReferencedByRequest {
        subject: path.subject()?,
        version: path.version()?,
        deleted: query.flag("deleted"),
        offset: query.int("offset", 0)?,
        limit: query.int("limit", -1)?,
    };
    let reply = state.api.get_referenced_by(state.request(request)).await?;
    Ok(render::ok(reply.into_inner().ids))
}

/// `DELETE /subjects/{s}/versions/{v}`: the bare version number, `1`.
pub(crate) async fn delete_subject_version(
    state: Call,
    path: PathArgs,
    query: Query,
) -> Result<Response, RestError> {
    let request = DeleteVersionRequest {
        subject: path.subject()?,
        version: path.version()?,
        permanent: query.flag("permanent"),
    };
    let reply = state.api.delete_version(state.request(request)).await?;
    Ok(render::ok(reply.into_inner().version))
}
