//! One module per Confluent resource class; handlers are named after their
//! routes.

pub(crate) mod associations;
pub(crate) mod compatibility;
pub(crate) mod config;
pub(crate) mod contexts;
pub(crate) mod metadata;
pub(crate) mod mode;
pub(crate) mod root;
pub(crate) mod schemas;
pub(crate) mod subject_versions;
pub(crate) mod subjects;

use scute_proto::v1::{RegisterSchemaRequest, SchemaEntity, SchemaReference, SchemaTags};
use serde_json::Value;

use crate::{
    error::RestError,
    extract::{Fields, JsonBody},
};

/// The schema part of a `RegisterSchemaRequest` body, shared by register,
/// lookup and the compatibility checks.
pub(crate) struct SchemaBody {
    pub(crate) schema: String,
    pub(crate) schema_type: String,
    pub(crate) references: Vec<SchemaReference>,
}

impl SchemaBody {
    pub(crate) fn parse(body: &JsonBody) -> Result<Self, RestError> {
        let fields = Fields::of(&body.0, "RegisterSchemaRequest")?;
        Self::from_fields(&fields)
    }

    fn from_fields(fields: &Fields<'_>) -> Result<Self, RestError> {
        Ok(Self {
            schema: fields.string("schema")?.unwrap_or_default(),
            schema_type: fields.string("schemaType")?.unwrap_or_default(),
            references: fields.references()?,
        })
    }
}

/// The whole `RegisterSchemaRequest` body (Confluent's
/// `C:ent/requests/RegisterSchemaRequest.java`): `schema`, `schemaType`,
/// `references`, `metadata`, `ruleSet`, `id`, `version`,
/// `schemaTagsToAdd`, `schemaTagsToRemove`, `propagateSchemaTags`.
pub(crate) fn register_request(
    subject: String,
    body: &JsonBody,
    normalize: bool,
) -> Result<RegisterSchemaRequest, RestError> {
    register_request_of(subject, &body.0, normalize)
}

/// [`register_request`] of a JSON value (a body, or a field of one).
pub(crate) fn register_request_of(
    subject: String,
    body: &Value,
    normalize: bool,
) -> Result<RegisterSchemaRequest, RestError> {
    let fields = Fields::of(body, "RegisterSchemaRequest")?;
    let SchemaBody {
        schema,
        schema_type,
        references,
    } = SchemaBody::from_fields(&fields)?;
    Ok(RegisterSchemaRequest {
        subject,
        schema,
        schema_type,
        references,
        normalize,
        id: fields.int("id")?,
        version: fields.int("version")?,
        metadata_json: fields.json_text("metadata"),
        rule_set_json: fields.json_text("ruleSet"),
        file_descriptor_set: Default::default(),
        schema_tags_to_add: schema_tags(&fields, "schemaTagsToAdd")?,
        schema_tags_to_remove: schema_tags(&fields, "schemaTagsToRemove")?,
        propagate_schema_tags: fields.bool("propagateSchemaTags")?.unwrap_or(false),
    })
}

/// A list of Confluent's `SchemaTags`:
/// `[{"schemaEntity": {"entityPath", "entityType"}, "tags": [...]}]`.
pub(crate) fn schema_tags(fields: &Fields<'_>, name: &str) -> Result<Vec<SchemaTags>, RestError> {
    fields
        .list(name)?
        .into_iter()
        .map(|item| {
            let tags = Fields::of(item, "SchemaTags")?;
            let schema_entity = tags
                .object("schemaEntity")
                .map(|entity| {
                    let entity = Fields::of(entity, "SchemaEntity")?;
                    Ok::<_, RestError>(SchemaEntity {
                        entity_path: entity.string("entityPath")?.unwrap_or_default(),
                        entity_type: entity.string("entityType")?.unwrap_or_default(),
                    })
                })
                .transpose()?;
            Ok(SchemaTags {
                schema_entity,
                tags: tags.strings("tags")?,
            })
        })
        .collect()
}
