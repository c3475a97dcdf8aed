//! AVRO: parsing with references, Confluent's canonical, resolved and
//! normalized texts, and reader/writer compatibility.

mod compat;
mod defaults;
pub(crate) mod json;
mod model;
mod normalize;
mod print;
mod tags;

use serde_json::Value;

use crate::limits::{self, Limits};
use crate::{Dependency, FormatError, Incompatibility, SchemaType};
use model::{Graph, NodeId};

/// A parsed Avro schema with the named types of its dependencies.
#[derive(Debug, Clone)]
pub struct AvroSchema {
    graph: Graph,
    root: NodeId,
    /// Nodes before this index belong to the dependencies.
    own_start: usize,
    /// Full names of the named top-level dependency schemas: Confluent
    /// writes these by name in the canonical text.
    dependency_names: Vec<String>,
    canonical: String,
}

fn invalid(reason: impl std::fmt::Display) -> FormatError {
    FormatError::Invalid {
        schema_type: SchemaType::Avro,
        reason: reason.to_string(),
    }
}

/// A copy of a schema's JSON without its record fields' defaults, for
/// apache-avro's validation: Avro Java does not validate field defaults of
/// stored schemas (Confluent validates them only for new registrations) and
/// accepts textual float defaults, while apache-avro refuses such a default
/// and stops there, before checking the names and types after it.
fn without_field_defaults(json: &Value) -> Value {
    let mut copy = json.clone();
    let mut stack = vec![&mut copy];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                let is_record = matches!(
                    map.get("type").and_then(Value::as_str),
                    Some("record" | "error")
                );
                if is_record && let Some(Value::Array(fields)) = map.get_mut("fields") {
                    for field in fields.iter_mut() {
                        if let Value::Object(field) = field {
                            field.remove("default");
                        }
                    }
                }
                stack.extend(map.values_mut());
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
    copy
}

impl AvroSchema {
    /// Parses `text` against its dependencies (dependencies first), within
    /// the default [`Limits`].
    pub fn parse(text: &str, dependencies: &[Dependency]) -> Result<AvroSchema, FormatError> {
        Self::parse_with(text, dependencies, &Limits::default())
    }

    /// [`AvroSchema::parse`] within `limits`.
    pub fn parse_with(
        text: &str,
        dependencies: &[Dependency],
        limits: &Limits,
    ) -> Result<AvroSchema, FormatError> {
        let json: Value = limits::read_json(text, limits).map_err(invalid)?;
        let mut dep_jsons = Vec::with_capacity(dependencies.len());
        for dep in dependencies {
            dep_jsons.push(limits::read_json(&dep.schema, limits).map_err(invalid)?);
        }
        // apache-avro validates names, unions, symbols and the like.
        let checked = if dependencies.is_empty() {
            apache_avro::Schema::parse(&without_field_defaults(&json)).map(drop)
        } else {
            apache_avro::Schema::parse_str_with_list(
                &without_field_defaults(&json).to_string(),
                dep_jsons
                    .iter()
                    .map(|d| without_field_defaults(d).to_string()),
            )
            .map(drop)
        };
        checked.map_err(invalid)?;
        let mut graph = Graph::default();
        let mut dependency_names = Vec::with_capacity(dependencies.len());
        for dep_json in &dep_jsons {
            let id = graph.add(dep_json).map_err(invalid)?;
            if let Some(info) = graph.node(id).named() {
                dependency_names.push(info.name.full.clone());
            }
        }
        let own_start = graph.nodes.len();
        let root = graph.add(&json).map_err(invalid)?;
        let known: Vec<&str> = dependency_names.iter().map(String::as_str).collect();
        let canonical = print::to_json(&graph, root, &known);
        Ok(AvroSchema {
            graph,
            root,
            own_start,
            dependency_names,
            canonical,
        })
    }

    /// Avro Java's `validateDefaults`, which Confluent applies to new
    /// schemas: an error naming the first field whose default does not fit
    /// its type.
    pub fn validate_defaults(&self) -> Result<(), FormatError> {
        match defaults::first_invalid(&self.graph, self.root, self.own_start) {
            Some(reason) => Err(invalid(reason)),
            None => Ok(()),
        }
    }

    /// Confluent's `canonicalString()`: referenced types by name only.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// Confluent's `format=resolved`: referenced types written in full.
    pub fn resolved(&self) -> String {
        print::to_json(&self.graph, self.root, &[])
    }

    /// The canonical text of Confluent's `normalize()` of this schema.
    pub fn normalized(&self) -> String {
        let known: Vec<&str> = self.dependency_names.iter().map(String::as_str).collect();
        let text = normalize::normalized_text(&self.graph, self.root, &known);
        // Confluent re-parses the normalized text; so do we, against the
        // same dependencies, and print that.
        let deepest = Limits {
            max_depth: Limits::MAX_MAX_DEPTH,
        };
        let Ok(json) = limits::read_json(&text, &deepest) else {
            return text;
        };
        let mut graph = self.graph.clone();
        graph.truncate(self.own_start);
        match graph.add(&json) {
            Ok(root) => print::to_json(&graph, root, &known),
            Err(_) => text,
        }
    }

    /// Problems for `self` as reader of data written with `writer`.
    pub fn read_problems(&self, writer: &AvroSchema) -> Vec<Incompatibility> {
        compat::check(&self.graph, self.root, &writer.graph, writer.root)
    }

    /// The canonical text after Confluent's `copy(tagsToAdd, tagsToRemove)`:
    /// the tags of each entity changed, the result parsed again against
    /// the same dependencies.
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
        tags::tagged_entities(&self.graph, self.root)
    }

    /// Full name of the top-level record, as Confluent's `name()`.
    pub fn name(&self) -> Option<&str> {
        match self.graph.node(self.root) {
            model::Node::Record { info, .. } => Some(&info.name.full),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
