//! Replies to the API built from the state, and records rebuilt from it.

use scute_proto::v1 as api;
use scute_storage::record::{SchemaReference, SchemaValue};

use crate::error::Error;
use crate::guid;
use crate::model::{SchemaId, Version};
use crate::state::{SchemaContent, VersionEntry};

pub(super) fn reference_to_api(r: &SchemaReference) -> api::SchemaReference {
    api::SchemaReference {
        name: r.name.clone(),
        subject: r.subject.clone(),
        version: r.version,
    }
}

/// A stored schema as the API answers it; an error only if its text cannot
/// be read from the log.
pub(super) fn content_reply(id: SchemaId, content: &SchemaContent) -> Result<api::Schema, Error> {
    Ok(api::Schema {
        id,
        subject: String::new(),
        version: 0,
        schema_type: content.schema_type.clone(),
        schema: content.text()?.into_owned(),
        references: content.references.iter().map(reference_to_api).collect(),
        metadata_json: content.metadata.as_ref().map(|v| v.to_string()),
        rule_set_json: content.rule_set.as_ref().map(|v| v.to_string()),
        deleted: false,
        max_id: None,
        guid: guid::to_string(&content.guid),
        schema_tags: Vec::new(),
    })
}

pub(super) fn schema_reply(
    subject: &str,
    version: Version,
    entry: &VersionEntry,
) -> Result<api::Schema, Error> {
    Ok(api::Schema {
        subject: subject.to_owned(),
        version,
        deleted: entry.deleted,
        ..content_reply(entry.id, &entry.content)?
    })
}

pub(super) fn schema_value(
    subject: &str,
    version: Version,
    entry: &VersionEntry,
    deleted: bool,
) -> Result<SchemaValue, Error> {
    let c = &entry.content;
    Ok(SchemaValue {
        subject: subject.to_owned(),
        version,
        id: entry.id,
        schema_type: Some(c.schema_type.clone()),
        references: c.references.clone(),
        metadata: c.metadata.as_deref().cloned(),
        rule_set: c.rule_set.as_deref().cloned(),
        schema: c.text()?.into_owned(),
        deleted,
        extra: entry.extra.as_deref().cloned().unwrap_or_default(),
    })
}

/// Confluent's paging: a limit of 0 or less, or above the maximum, means the
/// default (the maximum where there is one, else everything).
pub(super) fn page<T>(items: Vec<T>, offset: i32, limit: i32, max: Option<usize>) -> Vec<T> {
    let offset = usize::try_from(offset).unwrap_or(0);
    let limit = match (usize::try_from(limit).ok().filter(|l| *l > 0), max) {
        (Some(l), Some(m)) if l <= m => l,
        (Some(_) | None, Some(m)) => m,
        (Some(l), None) => l,
        (None, None) => usize::MAX,
    };
    items.into_iter().skip(offset).take(limit).collect()
}
