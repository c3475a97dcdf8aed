//! JSON Schema: parsing and meta-schema validation (drafts 4, 6, 7,
//! 2019-09, 2020-12), `$ref`s into referenced schemas, Confluent's stored
//! and normalized texts, and Confluent's compatibility rules.

mod canonical;
mod compat;
mod model;
mod references;
mod tags;
mod validate;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde_json::Value;

use crate::limits::{self, Limits};
use crate::{Dependency, ErrorType, FormatError, Incompatibility, SchemaType};
pub use compat::ChangeType;
pub use validate::Draft;

/// A parsed JSON schema with the graph Confluent's rules compare.
#[derive(Debug, Clone)]
pub struct JsonSchema {
    canonical: String,
    draft: Draft,
    graph: Arc<model::Graph>,
}

fn invalid(reason: impl std::fmt::Display) -> FormatError {
    FormatError::Invalid {
        schema_type: SchemaType::Json,
        reason: reason.to_string(),
    }
}

impl JsonSchema {
    /// Parses `text`, checks it against its draft's meta-schema and
    /// resolves its `$ref`s against `dependencies` (by reference name),
    /// within the default [`Limits`].
    pub fn parse(text: &str, dependencies: &[Dependency]) -> Result<JsonSchema, FormatError> {
        Self::parse_with(text, dependencies, &Limits::default())
    }

    /// [`JsonSchema::parse`] within `limits`.
    pub fn parse_with(
        text: &str,
        dependencies: &[Dependency],
        limits: &Limits,
    ) -> Result<JsonSchema, FormatError> {
        let value: Value =
            limits::read_json(text, limits).map_err(|e| invalid(format!("Invalid JSON: {e}")))?;
        if !matches!(value, Value::Object(_) | Value::Bool(_)) {
            return Err(invalid(
                "a JSON schema must be an object or a boolean at '#'",
            ));
        }
        let draft = Draft::of(&value);
        validate::check_meta(&value, draft).map_err(invalid)?;
        let mut deps = Vec::with_capacity(dependencies.len());
        for d in dependencies {
            let v: Value = limits::read_json(&d.schema, limits).map_err(|e| {
                invalid(format!("the referenced schema {} is not JSON: {e}", d.name))
            })?;
            deps.push((d.name.clone(), v));
        }
        let docs = references::Docs::new(&value, &deps);
        let graph = model::build(&docs, limits.max_depth).map_err(invalid)?;
        let canonical = canonical::canonical(text)
            .ok_or_else(|| invalid("the schema text could not be re-read"))?;
        Ok(JsonSchema {
            canonical,
            draft,
            graph: Arc::new(graph),
        })
    }

    /// Confluent's stored text: compact, key order kept, numbers as
    /// Jackson prints them.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// Confluent's normalized text: the canonical text with every object's
    /// keys sorted.
    pub fn normalized(&self) -> String {
        canonical::normalized(&self.canonical).unwrap_or_else(|| self.canonical.clone())
    }

    /// The canonical text after Confluent's `copy(tagsToAdd, tagsToRemove)`:
    /// `confluent:tags` changed on each entity the paths name.
    pub fn with_tags(
        &self,
        add: &crate::SchemaTags,
        remove: &crate::SchemaTags,
        dependencies: &[Dependency],
        limits: &Limits,
    ) -> Result<String, FormatError> {
        tags::with_tags(self, add, remove, dependencies, limits)
    }

    /// Confluent's `inlineTaggedEntities()`.
    pub fn tagged_entities(&self) -> crate::SchemaTags {
        tags::tagged_entities(self)
    }

    /// The draft the schema is read as.
    pub fn draft(&self) -> Draft {
        self.draft
    }

    /// Problems that stop a reader of `self` from reading data written
    /// with `writer`: Confluent's differences from `writer` (the original)
    /// to `self` (the update) that it does not accept.
    pub fn read_problems(&self, writer: &JsonSchema) -> Vec<Incompatibility> {
        self.read_problems_within(writer, compat::MAX_PAIRS)
    }

    /// [`JsonSchema::read_problems`] comparing at most `budget` pairs of
    /// subschemas.
    fn read_problems_within(&self, writer: &JsonSchema, budget: usize) -> Vec<Incompatibility> {
        let outcome = compat::compare(&writer.graph, &self.graph, budget);
        let mut problems: Vec<Incompatibility> = outcome
            .differences
            .iter()
            .filter(|d| !d.change.is_compatible())
            .map(|d| Incompatibility {
                error_type: ErrorType::Json(d.change),
                path: d.json_path(),
                additional_info: String::new(),
            })
            .collect();
        if outcome.limit_hit {
            problems.push(Incompatibility {
                error_type: ErrorType::CheckLimit,
                path: "#/".to_owned(),
                additional_info: format!(
                    "the schemas are too large to compare: more than {budget} pairs of subschemas"
                ),
            });
        }
        problems
    }

    /// Every difference Confluent sees from `original` to `self`, each as
    /// its change type and path, compatible ones included.
    pub fn changes_from(&self, original: &JsonSchema) -> Vec<(ChangeType, String)> {
        compat::compare(&original.graph, &self.graph, compat::MAX_PAIRS)
            .differences
            .into_iter()
            .map(|d| (d.change, d.json_path()))
            .collect()
    }
}
