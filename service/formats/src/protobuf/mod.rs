//! PROTOBUF: .proto text (or a base64 FileDescriptorProto) parsed with
//! protox against its imports, printed back as Confluent's registry prints
//! it, and compared with Confluent's Protobuf rules.

mod compat;
mod lenient;
mod normalize;
mod parse;
mod precheck;
mod print;
mod tags;
mod wellknown;

#[cfg(test)]
mod tests;

use base64::Engine;
use prost::Message;

pub use compat::{ChangeType, Difference};
pub use parse::schema_from_descriptor_set;

use crate::{Dependency, ErrorType, FormatError, Incompatibility, Limits};

/// A parsed Protobuf schema.
#[derive(Debug, Clone)]
pub struct ProtobufSchema {
    /// Boxed: descriptors are large, and `ParsedSchema` is passed by value.
    compiled: Box<parse::Compiled>,
    canonical: String,
}

impl ProtobufSchema {
    /// Parses `text` (.proto source, or a base64 FileDescriptorProto as
    /// Confluent also accepts) against its dependencies by import path,
    /// within the default [`Limits`].
    pub fn parse(text: &str, dependencies: &[Dependency]) -> Result<Self, FormatError> {
        Self::parse_with(text, dependencies, &Limits::default())
    }

    /// [`ProtobufSchema::parse`] within `limits`.
    pub fn parse_with(
        text: &str,
        dependencies: &[Dependency],
        limits: &Limits,
    ) -> Result<Self, FormatError> {
        let compiled = Box::new(parse::compile(text, dependencies, limits)?);
        let canonical = printer(&compiled, false).file(&compiled.source);
        if !compiled.from_text {
            // A descriptor can hold what no .proto file can (names that are
            // not identifiers, say): what is stored must read back as text.
            parse::compile(&canonical, dependencies, limits).map_err(|e| {
                let reason = match e {
                    FormatError::Invalid { reason, .. } => reason,
                    other => other.to_string(),
                };
                FormatError::Invalid {
                    schema_type: crate::SchemaType::Protobuf,
                    reason: format!("the descriptor describes no valid .proto file: {reason}"),
                }
            })?;
        }
        Ok(Self {
            compiled,
            canonical,
        })
    }

    /// The text Confluent stores for this schema.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// Confluent's `copy(tagsToAdd, tagsToRemove)`, then its canonical
    /// text: the tags are written into `(confluent.message_meta)` and
    /// `(confluent.field_meta)` options (see [`tags`]).
    pub fn with_tags(
        &self,
        add: &crate::SchemaTags,
        remove: &crate::SchemaTags,
        dependencies: &[Dependency],
        limits: &Limits,
    ) -> Result<String, FormatError> {
        tags::with_tags(self, add, remove, dependencies, limits)
    }

    /// Confluent's `inlineTaggedEntities()`: each tagged message and field
    /// with its tags (what `findTags` answers from).
    pub fn tagged_entities(&self) -> crate::SchemaTags {
        tags::tagged_entities(self)
    }

    /// Confluent's normalized text.
    pub fn normalized(&self) -> String {
        let qualified = normalize::qualified(&self.compiled.source, &self.compiled.file);
        printer(&self.compiled, true).file(&qualified)
    }

    /// `format=serialized`: the schema as a base64 FileDescriptorProto
    /// (JSON names only where written, as in Confluent's).
    pub fn serialized(&self) -> String {
        let mut file = normalize::written_json_names(&self.compiled.file, &self.compiled.source);
        file.source_code_info = None;
        base64::engine::general_purpose::STANDARD.encode(file.encode_to_vec())
    }

    /// Confluent's differences from `original` to this schema.
    pub fn differences(&self, original: &ProtobufSchema) -> Vec<Difference> {
        compat::differences(
            &original.compiled,
            &self.compiled,
            compat::MAX_MESSAGE_COMPARISONS,
        )
        .differences
    }

    /// Problems that stop a reader of `self` from reading data written with
    /// `writer`: Confluent's incompatible differences from writer to reader.
    pub fn read_problems(&self, writer: &ProtobufSchema) -> Vec<Incompatibility> {
        self.read_problems_within(writer, compat::MAX_MESSAGE_COMPARISONS)
    }

    /// [`ProtobufSchema::read_problems`] comparing at most `max_messages`
    /// messages.
    fn read_problems_within(
        &self,
        writer: &ProtobufSchema,
        max_messages: usize,
    ) -> Vec<Incompatibility> {
        let outcome = compat::differences(&writer.compiled, &self.compiled, max_messages);
        let mut problems: Vec<Incompatibility> = outcome
            .differences
            .into_iter()
            .filter(|d| !d.change.is_compatible())
            .map(|d| Incompatibility {
                error_type: ErrorType::Protobuf(d.change),
                path: d.path,
                additional_info: String::new(),
            })
            .collect();
        if outcome.limit_hit {
            problems.push(Incompatibility {
                error_type: ErrorType::CheckLimit,
                path: "#/".to_owned(),
                additional_info: format!(
                    "the schemas are too large to compare: more than {max_messages} message comparisons"
                ),
            });
        }
        problems
    }
}

fn printer(compiled: &parse::Compiled, normalize: bool) -> print::Printer {
    let syntax = compiled.source.syntax.as_deref().unwrap_or("");
    print::Printer {
        from_text: compiled.from_text,
        proto2_declared: compiled.proto2_declared,
        proto2: syntax.is_empty() || syntax == "proto2",
        normalize,
        entries_as_messages: !compiled.from_text,
        default_json_names: true,
    }
}
