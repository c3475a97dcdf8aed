//! Schema tags: Confluent's tags written into a schema's text (AVRO and
//! JSON Schema `confluent:tags`), by a new version of a subject
//! (`TagSchema`, or a registration with tags to add and remove), and found
//! again (`find_tags`).

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;

use scute_formats::{EntityKind, SchemaEntity, SchemaType};
use scute_proto::v1 as api;
use serde_json::{Map, Value};

use super::Registry;
use super::subjects::find_version;
use super::work::{Parsed, dependencies, texts};
use crate::context;
use crate::error::Error;
use crate::model::{VersionSelector, validate_subject};
use crate::state::SchemaContent;

/// The rule lists of a rule set.
const RULE_LISTS: [&str; 3] = ["migrationRules", "domainRules", "encodingRules"];

impl Registry {
    /// Registers the text of a version again, its tags changed, as the
    /// subject's next version (Confluent's `registerSchemaTags`).
    pub async fn tag_schema(&self, mut req: api::TagSchemaRequest) -> Result<api::Schema, Error> {
        req.subject = context::normalize(req.subject);
        validate_subject(&req.subject)?;
        VersionSelector::parse(&req.version)?;
        let add = tags_of(&req.tags_to_add)?;
        let remove = tags_of(&req.tags_to_remove)?;
        let (content, next) = {
            let state = self.read();
            let (_, entry) = find_version(&state, &req.subject, &req.version, false)?;
            let next = state
                .versions(&req.subject)
                .and_then(|vs| vs.keys().next_back())
                .map_or(1, |v| v.saturating_add(1));
            (entry.content.clone(), next)
        };
        let text = self
            .retag(&req.subject, &content, &content.text()?, &add, &remove)
            .await?;
        let version = req.new_version.filter(|v| *v > 0).unwrap_or(next);
        // The metadata names the version it was tagged for.
        let mut metadata = match &req.metadata_json {
            Some(json) => serde_json::from_str(json)
                .map_err(|e| Error::BadRequest(format!("Invalid metadata: {e}")))?,
            None => content
                .metadata
                .as_deref()
                .cloned()
                .unwrap_or(Value::Object(Map::new())),
        };
        if let Some(object) = metadata.as_object_mut() {
            let properties = object
                .entry("properties")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(properties) = properties.as_object_mut() {
                properties.insert("confluent:version".into(), version.to_string().into());
            }
        }
        let rule_set = rule_set_of(&req, content.rule_set.as_deref())?;
        let register = api::RegisterSchemaRequest {
            subject: req.subject,
            schema: text,
            schema_type: content.schema_type.clone(),
            references: content
                .references
                .iter()
                .map(super::reply::reference_to_api)
                .collect(),
            version: req.new_version,
            metadata_json: Some(metadata.to_string()),
            rule_set_json: rule_set.map(|r| r.to_string()),
            ..Default::default()
        };
        self.register_schema(register).await
    }

    /// `text` (of `content`'s type and references, in `subject`'s context)
    /// with tags added, then removed, in canonical form; worked on the
    /// compute pool.
    pub(super) async fn retag(
        &self,
        subject: &str,
        content: &SchemaContent,
        text: &str,
        add: &scute_formats::SchemaTags,
        remove: &scute_formats::SchemaTags,
    ) -> Result<String, Error> {
        let schema_type: SchemaType = content
            .schema_type
            .parse()
            .map_err(|_| Error::InvalidSchemaType(content.schema_type.clone()))?;
        let deps = texts(&dependencies(&self.read(), subject, &content.references)?)?;
        let (text, add, remove) = (text.to_owned(), add.clone(), remove.clone());
        let limits = self.limits.parse;
        let compute = &self.compute;
        compute
            .run("tagging a schema", compute.deadline(), move || {
                scute_formats::parse_with(schema_type, &text, &deps, &limits)
                    .and_then(|parsed| parsed.with_tags(&add, &remove, &deps, &limits))
            })
            .await?
            .map_err(|e| Error::InvalidSchema(e.to_string()))
    }

    /// Every tagged part of a parsed schema, listed on the compute pool
    /// (a large schema's listing is work like any other).
    pub(super) async fn tagged_parts(
        &self,
        parsed: Arc<Parsed>,
    ) -> Result<scute_formats::SchemaTags, Error> {
        let compute = &self.compute;
        compute
            .run("listing a schema's tags", compute.deadline(), move || {
                parsed.schema.tagged_entities()
            })
            .await
    }
}

/// The parts `findTags` asks for: those with any of `wanted` ("*": any),
/// each with all its tags.
pub(super) fn found_tags(
    all: scute_formats::SchemaTags,
    wanted: &[String],
) -> Vec<api::SchemaTags> {
    let wanted: HashSet<&str> = wanted.iter().map(String::as_str).collect();
    let any = wanted.contains("*");
    all.into_iter()
        .filter(|(_, tags)| any || tags.iter().any(|t| wanted.contains(t.as_str())))
        .map(|(entity, tags)| api::SchemaTags {
            schema_entity: Some(api::SchemaEntity {
                entity_path: entity.path,
                entity_type: entity.kind.as_str().to_owned(),
            }),
            tags,
        })
        .collect()
}

/// Tags from a request, as the formats take them.
pub(super) fn tags_of(tags: &[api::SchemaTags]) -> Result<scute_formats::SchemaTags, Error> {
    tags.iter()
        .map(|t| {
            let entity = t.schema_entity.clone().unwrap_or_default();
            let kind = EntityKind::from_str(&entity.entity_type).map_err(|_| {
                Error::BadRequest(format!(
                    "Invalid entityType {:?}: expected sr_record or sr_field",
                    entity.entity_type
                ))
            })?;
            Ok((SchemaEntity::new(entity.entity_path, kind), t.tags.clone()))
        })
        .collect()
}

/// The rule set of a tagged version: the request's, or the version's with
/// rules merged in and removed by name, as Confluent merges them (old rules
/// a new one does not replace, in their order, then the new ones).
fn rule_set_of(req: &api::TagSchemaRequest, old: Option<&Value>) -> Result<Option<Value>, Error> {
    let parse = |json: &str, what: &str| {
        serde_json::from_str::<Value>(json)
            .map_err(|e| Error::BadRequest(format!("Invalid {what}: {e}")))
    };
    if req.rules_to_merge_json.is_none() && req.rules_to_remove.is_empty() {
        return match &req.rule_set_json {
            Some(json) => parse(json, "ruleSet").map(Some),
            None => Ok(old.cloned()),
        };
    }
    let mut rules = old.cloned().unwrap_or(Value::Object(Map::new()));
    if let Some(json) = &req.rules_to_merge_json {
        let merge = parse(json, "rulesToMerge")?;
        for list in RULE_LISTS {
            let Some(new) = merge.get(list).and_then(Value::as_array) else {
                continue;
            };
            let names: HashSet<String> = new
                .iter()
                .filter_map(|r| r.get("name"))
                .map(Value::to_string)
                .collect();
            let kept: Vec<Value> = rules
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|r| {
                    r.get("name")
                        .is_none_or(|n| !names.contains(&n.to_string()))
                })
                .cloned()
                .chain(new.iter().cloned())
                .collect();
            if let Some(object) = rules.as_object_mut() {
                object.insert(list.into(), Value::Array(kept));
            }
        }
    }
    let removed: HashSet<&str> = req.rules_to_remove.iter().map(String::as_str).collect();
    for list in RULE_LISTS {
        if let Some(Value::Array(items)) = rules.get_mut(list) {
            items.retain(|r| {
                r.get("name")
                    .and_then(Value::as_str)
                    .is_none_or(|n| !removed.contains(n))
            });
        }
    }
    Ok(Some(rules))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_merge_by_name_and_go_by_name() {
        let old =
            json!({"domainRules": [{"name": "myRule"}, {"name": "myRule2"}, {"name": "myRule3"}]});
        let req = api::TagSchemaRequest {
            rules_to_merge_json: Some(
                json!({"domainRules": [{"name": "myRule5"}, {"name": "myRule4"}, {"name": "myRule2", "x": 1}]})
                    .to_string(),
            ),
            rules_to_remove: vec!["myRule".into()],
            ..Default::default()
        };
        let merged = rule_set_of(&req, Some(&old)).unwrap().unwrap();
        let names: Vec<&str> = merged["domainRules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["myRule3", "myRule5", "myRule4", "myRule2"]);
        // Neither: the request's rule set, else the version's.
        let plain = api::TagSchemaRequest::default();
        assert_eq!(rule_set_of(&plain, Some(&old)).unwrap(), Some(old));
    }

    #[test]
    fn entity_types_are_confluents() {
        let tags = |kind: &str| {
            tags_of(&[api::SchemaTags {
                schema_entity: Some(api::SchemaEntity {
                    entity_path: "r.f".into(),
                    entity_type: kind.into(),
                }),
                tags: vec!["PII".into()],
            }])
        };
        assert!(tags("sr_field").is_ok());
        assert!(matches!(tags("field"), Err(Error::BadRequest(_))));
    }
}
