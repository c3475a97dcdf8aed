//! The JSON shapes of Confluent 8.x's entities, built from proto replies.
//!
//! Confluent serializes with Jackson and `@JsonInclude(NON_EMPTY)`: nulls,
//! empty strings and empty lists are left out, `false` and `0` are kept.
//! Field order is Jackson's: creator parameters first, in their order, then
//! the remaining properties in declaration order. `serde_json` is built with
//! `preserve_order`, so a `Map` renders in insertion order.

use axum::response::{IntoResponse, Response};
use scute_proto::v1::association_result::Outcome;
use scute_proto::v1::{
    Association, AssociationBatchResponse, AssociationResponse, Config, Schema, SchemaReference,
};
use serde::{Serialize, Serializer, ser::SerializeSeq};
use serde_json::{Map, Value, json, value::RawValue};

use crate::error::RestError;

/// A 200 with a JSON body; the negotiation layer sets the media type.
///
/// The body is written into one buffer sized for a typical schema, so most
/// answers need no reallocation.
pub(crate) fn ok(value: impl serde::Serialize) -> Response {
    let mut body = Vec::with_capacity(1024);
    match serde_json::to_writer(&mut body, &value) {
        Ok(()) => Response::new(axum::body::Body::from(body)),
        Err(err) => {
            tracing::error!(%err, "cannot render a reply as JSON");
            RestError::internal().into_response()
        }
    }
}

/// Metadata, rule sets and extra config travel as JSON text in the proto;
/// they are embedded as JSON values. Text that does not parse is the
/// registry's bug, not the client's.
fn embed(text: Option<&str>, what: &str) -> Result<Option<Value>, RestError> {
    match raw(text, what)? {
        None => Ok(None),
        Some(raw) => serde_json::from_str(raw.get()).map(Some).map_err(|err| {
            tracing::error!(%err, what, "registry returned JSON text that does not parse");
            RestError::internal()
        }),
    }
}

/// Like [`embed`], but written out verbatim, without building a value.
fn raw<'a>(text: Option<&'a str>, what: &str) -> Result<Option<&'a RawValue>, RestError> {
    match text {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => serde_json::from_str(text).map(Some).map_err(|err| {
            tracing::error!(%err, what, "registry returned JSON text that does not parse");
            RestError::internal()
        }),
    }
}

/// `references`: `[{"name", "subject", "version"}]`.
struct References<'a>(&'a [SchemaReference]);

impl Serialize for References<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for r in self.0 {
            seq.serialize_element(&ReferenceEntity {
                name: &r.name,
                subject: &r.subject,
                version: r.version,
            })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct ReferenceEntity<'a> {
    name: &'a str,
    subject: &'a str,
    version: i32,
}

fn no_references(refs: &References<'_>) -> bool {
    refs.0.is_empty()
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

/// `Schema` (`C:ent/Schema.java`): what `GET /subjects/{s}/versions/{v}`,
/// `POST /subjects/{s}` and `GET /schemas` return.
///
/// The creator parameters come first: `subject, version, id, guid,
/// schemaType, references, metadata, "ruleset", schema, schemaTags, ts,
/// deleted`. The creator spells `ruleset` in lower case, which makes
/// `ruleSet` a separate, non-creator property, so Jackson writes it after
/// `deleted` (Confluent's published OpenAPI lists the same order).
/// `schemaTags` and `ts` have no counterpart in the proto and are not
/// rendered. `deleted` is rendered as 8.x does (it is a Boolean, which
/// NON_EMPTY keeps when false).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SchemaEntity<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    subject: &'a str,
    #[serde(skip_serializing_if = "is_zero")]
    version: i32,
    id: i32,
    #[serde(skip_serializing_if = "str::is_empty")]
    guid: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    schema_type: &'a str,
    #[serde(skip_serializing_if = "no_references")]
    references: References<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a RawValue>,
    schema: &'a str,
    deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_set: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    schema_tags: Vec<Value>,
}

pub(crate) fn schema_entity(schema: &Schema) -> Result<SchemaEntity<'_>, RestError> {
    Ok(SchemaEntity {
        subject: &schema.subject,
        version: schema.version,
        id: schema.id,
        guid: &schema.guid,
        schema_type: &schema.schema_type,
        references: References(&schema.references),
        metadata: raw(schema.metadata_json.as_deref(), "metadata")?,
        schema: &schema.schema,
        deleted: schema.deleted,
        rule_set: raw(schema.rule_set_json.as_deref(), "ruleSet")?,
        schema_tags: schema_tags(schema),
    })
}

/// `RegisterSchemaResponse` (8.x): `id, version, guid, schemaType,
/// references, metadata, ruleSet, schema, ts, deleted`, with version 0
/// suppressed. `ts` and `deleted` are not rendered (no proto field, and a
/// fresh registration is never deleted).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RegisterResponse<'a> {
    id: i32,
    #[serde(skip_serializing_if = "is_zero")]
    version: i32,
    #[serde(skip_serializing_if = "str::is_empty")]
    guid: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    schema_type: &'a str,
    #[serde(skip_serializing_if = "no_references")]
    references: References<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_set: Option<&'a RawValue>,
    schema: &'a str,
}

pub(crate) fn register_response(schema: &Schema) -> Result<RegisterResponse<'_>, RestError> {
    Ok(RegisterResponse {
        id: schema.id,
        version: schema.version,
        guid: &schema.guid,
        schema_type: &schema.schema_type,
        references: References(&schema.references),
        metadata: raw(schema.metadata_json.as_deref(), "metadata")?,
        rule_set: raw(schema.rule_set_json.as_deref(), "ruleSet")?,
        schema: &schema.schema,
    })
}

/// `SchemaString` (8.x), what `GET /schemas/ids/{id}` returns: `subject,
/// version, guid, schemaType, schema, references, metadata, ruleSet,
/// schemaTags, maxId, ts, deleted` in declaration order. `subject` and
/// `version` appear only when the client asked with `?subject=`
/// (`KafkaSchemaRegistry.get`); `maxId` only with `fetchMaxId=true`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SchemaString<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    subject: &'a str,
    #[serde(skip_serializing_if = "is_zero")]
    version: i32,
    #[serde(skip_serializing_if = "str::is_empty")]
    guid: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    schema_type: &'a str,
    schema: &'a str,
    #[serde(skip_serializing_if = "no_references")]
    references: References<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_set: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    schema_tags: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_id: Option<i32>,
}

pub(crate) fn schema_string(
    schema: &Schema,
    with_subject: bool,
) -> Result<SchemaString<'_>, RestError> {
    Ok(SchemaString {
        subject: if with_subject { &schema.subject } else { "" },
        version: if with_subject { schema.version } else { 0 },
        guid: &schema.guid,
        schema_type: &schema.schema_type,
        schema: &schema.schema,
        references: References(&schema.references),
        metadata: raw(schema.metadata_json.as_deref(), "metadata")?,
        rule_set: raw(schema.rule_set_json.as_deref(), "ruleSet")?,
        schema_tags: schema_tags(schema),
        max_id: schema.max_id,
    })
}

/// `schemaTags`: Confluent's `SchemaTags` entities, as `findTags` found them.
fn schema_tags(schema: &Schema) -> Vec<Value> {
    schema
        .schema_tags
        .iter()
        .map(|t| {
            let entity = t.schema_entity.clone().unwrap_or_default();
            serde_json::json!({
                "schemaEntity": {"entityPath": entity.entity_path, "entityType": entity.entity_type},
                "tags": t.tags,
            })
        })
        .collect()
}

/// The fields of Confluent's `Config` entity in Jackson's order (as listed
/// in Confluent's OpenAPI description); `compatibilityLevel` is the level.
const CONFIG_FIELDS: [&str; 13] = [
    "alias",
    "aliasForDeks",
    "normalize",
    "validateFields",
    "validateNewSchemas",
    "validateRules",
    "compatibilityLevel",
    "compatibilityPolicy",
    "compatibilityGroup",
    "defaultMetadata",
    "overrideMetadata",
    "defaultRuleSet",
    "overrideRuleSet",
];

/// `Config`: what `GET` and `DELETE` on `/config[/{s}]` return, e.g.
/// `{"compatibilityLevel":"BACKWARD"}`. The proto's `extra_json` fields are
/// merged in; fields Confluent does not know keep their place at the end.
pub(crate) fn config_entity(config: &Config) -> Result<Value, RestError> {
    config_fields(config, "compatibilityLevel", &CONFIG_FIELDS)
}

/// What `PUT /config[/{s}]` answers: the registry's echo of the update
/// (the level as sent, the rest as typed), in `ConfigUpdateRequest`'s shape
/// (`compatibility`, not `compatibilityLevel`).
pub(crate) fn config_update(config: &Config) -> Result<Value, RestError> {
    let order = CONFIG_FIELDS.map(|name| match name {
        "compatibilityLevel" => "compatibility",
        other => other,
    });
    config_fields(config, "compatibility", &order)
}

fn config_fields(config: &Config, level: &str, order: &[&str]) -> Result<Value, RestError> {
    let mut fields = match embed(config.extra_json.as_deref(), "extra_json")? {
        None => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => {
            tracing::error!("registry returned config extra_json that is not an object");
            return Err(RestError::internal());
        }
    };
    if let Some(compatibility) = &config.compatibility_level {
        fields.insert(level.to_owned(), json!(compatibility));
    }
    if let Some(normalize) = config.normalize {
        fields.insert("normalize".to_owned(), json!(normalize));
    }
    Ok(Value::Object(in_order(fields, order)))
}

/// Reorders `fields` to follow `order`, dropping nulls; unknown keys last.
pub(crate) fn in_order(mut fields: Map<String, Value>, order: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for key in order {
        if let Some(value) = fields.remove(*key)
            && !value.is_null()
        {
            out.insert((*key).to_owned(), value);
        }
    }
    for (key, value) in fields {
        if !value.is_null() {
            out.insert(key, value);
        }
    }
    out
}

/// `Association` (`C:ent/Association.java`): `subject, guid, resourceName,
/// resourceNamespace, resourceId, resourceType, associationType, lifecycle,
/// frozen, createTs`, empty strings left out, `frozen` always written.
/// `updateTs` (the broker's timestamp of the last write) has no proto field
/// and is not rendered.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AssociationEntity<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    subject: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    guid: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    resource_name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    resource_namespace: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    resource_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    resource_type: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    association_type: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    lifecycle: &'a str,
    frozen: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    create_ts: Option<i64>,
}

pub(crate) fn association_entity(a: &Association) -> AssociationEntity<'_> {
    AssociationEntity {
        subject: &a.subject,
        guid: &a.guid,
        resource_name: &a.resource_name,
        resource_namespace: &a.resource_namespace,
        resource_id: &a.resource_id,
        resource_type: &a.resource_type,
        association_type: &a.association_type,
        lifecycle: &a.lifecycle,
        frozen: a.frozen,
        create_ts: a.create_ts,
    }
}

/// `AssociationInfo`: `subject, associationType, lifecycle, frozen, schema`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AssociationInfoEntity<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    subject: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    association_type: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    lifecycle: &'a str,
    frozen: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<SchemaEntity<'a>>,
}

/// `AssociationResponse`: `resourceName, resourceNamespace, resourceId,
/// resourceType, associations` (left out when empty).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AssociationResponseEntity<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    resource_name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    resource_namespace: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    resource_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    resource_type: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    associations: Vec<AssociationInfoEntity<'a>>,
}

pub(crate) fn association_response(
    r: &AssociationResponse,
) -> Result<AssociationResponseEntity<'_>, RestError> {
    let associations = r
        .associations
        .iter()
        .map(|i| {
            Ok(AssociationInfoEntity {
                subject: &i.subject,
                association_type: &i.association_type,
                lifecycle: &i.lifecycle,
                frozen: i.frozen,
                schema: i.schema.as_ref().map(schema_entity).transpose()?,
            })
        })
        .collect::<Result<_, RestError>>()?;
    Ok(AssociationResponseEntity {
        resource_name: &r.resource_name,
        resource_namespace: &r.resource_namespace,
        resource_id: &r.resource_id,
        resource_type: &r.resource_type,
        associations,
    })
}

/// `AssociationBatchResponse`: `{"results": [{"result": ..} | {"error":
/// {"error_code", "message"}}]}`, one per request, in order.
pub(crate) fn association_batch(r: &AssociationBatchResponse) -> Result<Value, RestError> {
    let results = r
        .results
        .iter()
        .map(|item| match &item.outcome {
            Some(Outcome::Result(result)) => {
                let entity = serde_json::to_value(association_response(result)?)
                    .map_err(|_| RestError::internal())?;
                Ok(json!({ "result": entity }))
            }
            Some(Outcome::Error(e)) => Ok(json!({
                "error": { "error_code": e.error_code, "message": e.message }
            })),
            None => Ok(json!({})),
        })
        .collect::<Result<Vec<Value>, RestError>>()?;
    Ok(json!({ "results": results }))
}
