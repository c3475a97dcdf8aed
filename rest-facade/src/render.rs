//! The JSON shapes of Confluent 8.x's entities, built from proto replies.
//!
//! Confluent serializes with Jackson and `@JsonInclude(NON_EMPTY)`: nulls,
//! empty strings and empty lists are left out, `false` and `0` are kept.
//! Field order is Jackson's: creator parameters first, in their order, then
//! the remaining properties in declaration order. `serde_json` is built with
//! `preserve_order`, so a `Map` renders in insertion order.

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use scute_proto::v1::{Config, Schema, SchemaReference};
use serde_json::{Map, Value, json};

use crate::error::RestError;

/// A 200 with a JSON body; the negotiation layer sets the media type.
pub(crate) fn ok(value: impl serde::Serialize) -> Response {
    Json(value).into_response()
}

fn references(refs: &[SchemaReference]) -> Value {
    Value::Array(
        refs.iter()
            .map(|r| json!({"name": r.name, "subject": r.subject, "version": r.version}))
            .collect(),
    )
}

/// Metadata, rule sets and extra config travel as JSON text in the proto;
/// they are embedded as JSON values. Text that does not parse is the
/// registry's bug, not the client's.
fn embed(text: Option<&str>, what: &str) -> Result<Option<Value>, RestError> {
    match text {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => serde_json::from_str(text).map(Some).map_err(|err| {
            tracing::error!(%err, what, "registry returned JSON text that does not parse");
            RestError::internal()
        }),
    }
}

fn put_string(map: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        map.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

fn put_references(map: &mut Map<String, Value>, refs: &[SchemaReference]) {
    if !refs.is_empty() {
        map.insert("references".to_owned(), references(refs));
    }
}

fn put_json(map: &mut Map<String, Value>, key: &str, text: Option<&str>) -> Result<(), RestError> {
    if let Some(value) = embed(text, key)? {
        map.insert(key.to_owned(), value);
    }
    Ok(())
}

/// `Schema` (`C:ent/Schema.java`): what `GET /subjects/{s}/versions/{v}`,
/// `POST /subjects/{s}` and `GET /schemas` return.
///
/// The creator parameters come first: `subject, version, id, guid,
/// schemaType, references, metadata, "ruleset", schema, schemaTags, ts,
/// deleted`. The creator spells `ruleset` in lower case, which makes
/// `ruleSet` a separate, non-creator property, so Jackson writes it after
/// `deleted` (Confluent's published OpenAPI lists the same order).
/// `guid`, `schemaTags` and `ts` have no counterpart in the proto and are
/// not rendered. `deleted` is rendered as 8.x does (it is a Boolean, which
/// NON_EMPTY keeps when false).
pub(crate) fn schema_entity(schema: &Schema) -> Result<Value, RestError> {
    let mut map = Map::new();
    put_string(&mut map, "subject", &schema.subject);
    if schema.version > 0 {
        map.insert("version".to_owned(), json!(schema.version));
    }
    map.insert("id".to_owned(), json!(schema.id));
    put_string(&mut map, "schemaType", &schema.schema_type);
    put_references(&mut map, &schema.references);
    put_json(&mut map, "metadata", schema.metadata_json.as_deref())?;
    map.insert("schema".to_owned(), json!(schema.schema));
    map.insert("deleted".to_owned(), json!(schema.deleted));
    put_json(&mut map, "ruleSet", schema.rule_set_json.as_deref())?;
    Ok(Value::Object(map))
}

/// `RegisterSchemaResponse` (8.x): `id, version, guid, schemaType,
/// references, metadata, ruleSet, schema, ts, deleted`, with version 0
/// suppressed. `guid`, `ts` and `deleted` are not rendered (no proto field,
/// and a fresh registration is never deleted).
pub(crate) fn register_response(schema: &Schema) -> Result<Value, RestError> {
    let mut map = Map::new();
    map.insert("id".to_owned(), json!(schema.id));
    if schema.version > 0 {
        map.insert("version".to_owned(), json!(schema.version));
    }
    put_string(&mut map, "schemaType", &schema.schema_type);
    put_references(&mut map, &schema.references);
    put_json(&mut map, "metadata", schema.metadata_json.as_deref())?;
    put_json(&mut map, "ruleSet", schema.rule_set_json.as_deref())?;
    map.insert("schema".to_owned(), json!(schema.schema));
    Ok(Value::Object(map))
}

/// `SchemaString` (8.x), what `GET /schemas/ids/{id}` returns: `subject,
/// version, guid, schemaType, schema, references, metadata, ruleSet,
/// schemaTags, maxId, ts, deleted` in declaration order. `subject` and
/// `version` appear only when the client asked with `?subject=`
/// (`KafkaSchemaRegistry.get`); `maxId` only with `fetchMaxId=true`.
pub(crate) fn schema_string(schema: &Schema, with_subject: bool) -> Result<Value, RestError> {
    let mut map = Map::new();
    if with_subject {
        put_string(&mut map, "subject", &schema.subject);
        if schema.version > 0 {
            map.insert("version".to_owned(), json!(schema.version));
        }
    }
    put_string(&mut map, "schemaType", &schema.schema_type);
    map.insert("schema".to_owned(), json!(schema.schema));
    put_references(&mut map, &schema.references);
    put_json(&mut map, "metadata", schema.metadata_json.as_deref())?;
    put_json(&mut map, "ruleSet", schema.rule_set_json.as_deref())?;
    if let Some(max_id) = schema.max_id {
        map.insert("maxId".to_owned(), json!(max_id));
    }
    Ok(Value::Object(map))
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
    let mut fields = match embed(config.extra_json.as_deref(), "extra_json")? {
        None => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => {
            tracing::error!("registry returned config extra_json that is not an object");
            return Err(RestError::internal());
        }
    };
    if let Some(level) = &config.compatibility_level {
        fields.insert("compatibilityLevel".to_owned(), json!(level));
    }
    if let Some(normalize) = config.normalize {
        fields.insert("normalize".to_owned(), json!(normalize));
    }
    Ok(Value::Object(in_order(fields, &CONFIG_FIELDS)))
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
