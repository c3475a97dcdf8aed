//! AVRO: parsing with references, Confluent's canonical, resolved and
//! normalized texts, and reader/writer compatibility.

mod compat;
pub(crate) mod json;
mod model;
mod normalize;
mod print;

use serde_json::Value;

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

/// Avro Java does not validate field defaults of stored schemas (Confluent
/// validates them only for new registrations) and accepts textual float
/// defaults, so apache-avro's stricter default checks must not reject.
fn is_field_default_error(e: &apache_avro::Error) -> bool {
    use apache_avro::error::Details;
    matches!(
        e.details(),
        Details::GetDefaultRecordField(..) | Details::GetDefaultUnion(..)
    )
}

impl AvroSchema {
    /// Parses `text` against its dependencies (dependencies first).
    pub fn parse(text: &str, dependencies: &[Dependency]) -> Result<AvroSchema, FormatError> {
        let json: Value = serde_json::from_str(text).map_err(invalid)?;
        // apache-avro validates names, unions, symbols and the like.
        let checked = if dependencies.is_empty() {
            apache_avro::Schema::parse(&json).map(drop)
        } else {
            apache_avro::Schema::parse_str_with_list(
                text,
                dependencies.iter().map(|d| d.schema.as_str()),
            )
            .map(drop)
        };
        if let Err(e) = checked
            && !is_field_default_error(&e)
        {
            return Err(invalid(e));
        }
        let mut graph = Graph::default();
        let mut dependency_names = Vec::with_capacity(dependencies.len());
        for dep in dependencies {
            let dep_json: Value = serde_json::from_str(&dep.schema).map_err(invalid)?;
            let id = graph.add(&dep_json).map_err(invalid)?;
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
        let Ok(json) = serde_json::from_str::<Value>(&text) else {
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
