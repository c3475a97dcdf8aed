//! Schema formats of Scute: parsing, the canonical text that decides
//! "same schema, same id", Confluent's normalized form, and reader/writer
//! compatibility with Confluent's messages.
//!
//! The reference is Confluent's Schema Registry (Java) and Apache Avro Java
//! underneath: texts and verdicts here must match theirs byte for byte, so
//! clients can switch registries without noticing. AVRO, PROTOBUF and JSON
//! Schema are sibling modules behind one format-neutral API ([`parse`],
//! [`ParsedSchema`], [`Incompatibility`]).

use std::fmt;
use std::str::FromStr;

pub mod avro;
pub mod json;
pub mod limits;
pub mod protobuf;
pub mod tags;

pub use limits::Limits;
pub use tags::{EntityKind, SchemaEntity, SchemaTags, merge_tags};

/// The `schemaType` of the REST API and of the `_schemas` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaType {
    Avro,
    Protobuf,
    Json,
}

impl SchemaType {
    /// The upper-case name Confluent uses.
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaType::Avro => "AVRO",
            SchemaType::Protobuf => "PROTOBUF",
            SchemaType::Json => "JSON",
        }
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SchemaType {
    type Err = FormatError;

    /// Case-sensitive, as Confluent looks its providers up by exact name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "AVRO" => Ok(SchemaType::Avro),
            "PROTOBUF" => Ok(SchemaType::Protobuf),
            "JSON" => Ok(SchemaType::Json),
            other => Err(FormatError::UnknownType(other.to_owned())),
        }
    }
}

/// A referenced schema's text, by reference name. Callers pass all
/// transitive dependencies, dependencies before dependents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub name: String,
    pub schema: String,
}

/// Why a schema could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Confluent answers 42201 with "Invalid schema {entity} with refs
    /// {refs} of type {type}, details: {reason}"; the registry knows the
    /// entity, this crate only the type and the reason.
    #[error("Invalid schema of type {schema_type}, details: {reason}")]
    Invalid {
        schema_type: SchemaType,
        reason: String,
    },
    /// Confluent: "Invalid schema type X" (42201).
    #[error("Invalid schema type {0}")]
    UnknownType(String),
    /// A tag change Confluent refuses (42201), worded as Confluent words
    /// it: the Java exception's `toString()`, e.g.
    /// `java.lang.IllegalArgumentException: No matching path 'x' found in the schema`.
    #[error("{0}")]
    Tags(String),
}

/// A parsed schema of any type.
#[derive(Debug, Clone)]
pub enum ParsedSchema {
    Avro(avro::AvroSchema),
    Protobuf(protobuf::ProtobufSchema),
    Json(json::JsonSchema),
}

/// Parses and validates `text` of type `schema_type` against its
/// dependencies, within the default [`Limits`].
pub fn parse(
    schema_type: SchemaType,
    text: &str,
    dependencies: &[Dependency],
) -> Result<ParsedSchema, FormatError> {
    parse_with(schema_type, text, dependencies, &Limits::default())
}

/// [`parse`] within `limits`.
pub fn parse_with(
    schema_type: SchemaType,
    text: &str,
    dependencies: &[Dependency],
    limits: &Limits,
) -> Result<ParsedSchema, FormatError> {
    match schema_type {
        SchemaType::Avro => {
            avro::AvroSchema::parse_with(text, dependencies, limits).map(ParsedSchema::Avro)
        }
        SchemaType::Protobuf => protobuf::ProtobufSchema::parse_with(text, dependencies, limits)
            .map(ParsedSchema::Protobuf),
        SchemaType::Json => {
            json::JsonSchema::parse_with(text, dependencies, limits).map(ParsedSchema::Json)
        }
    }
}

impl ParsedSchema {
    pub fn schema_type(&self) -> SchemaType {
        match self {
            ParsedSchema::Avro(_) => SchemaType::Avro,
            ParsedSchema::Protobuf(_) => SchemaType::Protobuf,
            ParsedSchema::Json(_) => SchemaType::Json,
        }
    }

    /// The checks Confluent makes of a new schema only (a registration or a
    /// compatibility check, not a lookup or an import): AVRO field defaults
    /// must fit their types.
    pub fn validate_new(&self) -> Result<(), FormatError> {
        match self {
            ParsedSchema::Avro(s) => s.validate_defaults(),
            ParsedSchema::Protobuf(_) | ParsedSchema::Json(_) => Ok(()),
        }
    }

    /// The text Confluent's registry stores and returns for this schema (its
    /// canonicalString): this is what decides "same schema, same id".
    pub fn canonical(&self) -> &str {
        match self {
            ParsedSchema::Avro(s) => s.canonical(),
            ParsedSchema::Protobuf(s) => s.canonical(),
            ParsedSchema::Json(s) => s.canonical(),
        }
    }

    /// Confluent's normalized form (normalize=true).
    pub fn normalized(&self) -> String {
        match self {
            ParsedSchema::Avro(s) => s.normalized(),
            ParsedSchema::Protobuf(s) => s.normalized(),
            ParsedSchema::Json(s) => s.normalized(),
        }
    }

    /// The normalized form, as it would be stored: refused when it does not
    /// read back as a schema. Confluent's rules can make such a text (a
    /// proto3 enum whose values sort a negative one first, where proto3
    /// wants 0), and a stored text must always parse.
    pub fn normalized_text(
        &self,
        dependencies: &[Dependency],
        limits: &Limits,
    ) -> Result<String, FormatError> {
        let text = self.normalized();
        let schema_type = self.schema_type();
        parse_with(schema_type, &text, dependencies, limits).map_err(|e| {
            let reason = match e {
                FormatError::Invalid { reason, .. } => reason,
                other => other.to_string(),
            };
            FormatError::Invalid {
                schema_type,
                reason: format!("its normalized form is not a valid schema: {reason}"),
            }
        })?;
        Ok(text)
    }

    /// The `format=resolved` text: referenced types inlined (AVRO); a JSON
    /// schema's text is returned as stored, as Confluent does.
    pub fn resolved(&self) -> String {
        match self {
            ParsedSchema::Avro(s) => s.resolved(),
            // Imports stay imports: Confluent has no resolved Protobuf form.
            ParsedSchema::Protobuf(s) => s.canonical().to_owned(),
            ParsedSchema::Json(s) => s.canonical().to_owned(),
        }
    }

    /// The `format=serialized` text, for the types that have one
    /// (PROTOBUF: a base64 FileDescriptorProto).
    pub fn serialized(&self) -> Option<String> {
        match self {
            ParsedSchema::Protobuf(s) => Some(s.serialized()),
            _ => None,
        }
    }

    /// The text Confluent registers after tagging this schema (its
    /// `copy(tagsToAdd, tagsToRemove)`, then `canonicalString()`). Entries
    /// for equal entities are merged first, as Confluent's request reader
    /// does. `dependencies` are the schema's own, for the re-parse.
    pub fn with_tags(
        &self,
        add: &SchemaTags,
        remove: &SchemaTags,
        dependencies: &[Dependency],
        limits: &Limits,
    ) -> Result<String, FormatError> {
        match self {
            ParsedSchema::Avro(s) => s.with_tags(add, remove, dependencies, limits),
            ParsedSchema::Protobuf(s) => s.with_tags(add, remove, dependencies, limits),
            ParsedSchema::Json(s) => s.with_tags(add, remove, dependencies, limits),
        }
    }

    /// Confluent's `inlineTaggedEntities()`: each tagged record and field
    /// with its tags, in Confluent's order (what `findTags` answers from).
    pub fn tagged_entities(&self) -> SchemaTags {
        match self {
            ParsedSchema::Avro(s) => s.tagged_entities(),
            ParsedSchema::Protobuf(s) => s.tagged_entities(),
            ParsedSchema::Json(s) => s.tagged_entities(),
        }
    }

    /// Problems that stop a reader of `self` from reading data written with
    /// `writer`. Backward compatibility is `new.read_problems(old)`, forward
    /// is `old.read_problems(new)`.
    pub fn read_problems(&self, writer: &ParsedSchema) -> Vec<Incompatibility> {
        match (self, writer) {
            (ParsedSchema::Avro(r), ParsedSchema::Avro(w)) => r.read_problems(w),
            (ParsedSchema::Protobuf(r), ParsedSchema::Protobuf(w)) => r.read_problems(w),
            (ParsedSchema::Json(r), ParsedSchema::Json(w)) => r.read_problems(w),
            _ => vec![Incompatibility {
                error_type: ErrorType::DifferentSchemaType,
                path: String::new(),
                additional_info: String::new(),
            }],
        }
    }
}

/// Kinds of compatibility problems (Avro's `SchemaIncompatibilityType`
/// for AVRO; the other formats will add theirs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorType {
    NameMismatch,
    FixedSizeMismatch,
    MissingEnumSymbols,
    ReaderFieldMissingDefaultValue,
    TypeMismatch,
    MissingUnionBranch,
    /// Reader and writer are of different schema types.
    DifferentSchemaType,
    /// One of Confluent's Protobuf change types.
    Protobuf(protobuf::ChangeType),
    /// A JSON Schema change Confluent does not accept.
    Json(json::ChangeType),
    /// The check gave up: the schemas are too large to compare.
    CheckLimit,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::NameMismatch => "NAME_MISMATCH",
            ErrorType::FixedSizeMismatch => "FIXED_SIZE_MISMATCH",
            ErrorType::MissingEnumSymbols => "MISSING_ENUM_SYMBOLS",
            ErrorType::ReaderFieldMissingDefaultValue => "READER_FIELD_MISSING_DEFAULT_VALUE",
            ErrorType::TypeMismatch => "TYPE_MISMATCH",
            ErrorType::MissingUnionBranch => "MISSING_UNION_BRANCH",
            ErrorType::DifferentSchemaType => "DIFFERENT_SCHEMA_TYPE",
            ErrorType::Protobuf(change) => change.as_str(),
            ErrorType::Json(change) => change.as_str(),
            ErrorType::CheckLimit => "CHECK_LIMIT_REACHED",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason a reader cannot read a writer's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    pub error_type: ErrorType,
    /// JSON pointer into the reader schema, e.g. `/fields/1`.
    pub path: String,
    /// Avro's message: a field name, `[A, B]`, `expected: x.Y`...
    pub additional_info: String,
}

impl Incompatibility {
    /// Confluent's description (`Difference`), with the reader and writer
    /// roles named: `("new", "old")` for a backward check, `("old", "new")`
    /// for a forward one.
    pub fn description(&self, reader: &str, writer: &str) -> String {
        let path = &self.path;
        let info = &self.additional_info;
        match self.error_type {
            ErrorType::FixedSizeMismatch => format!(
                "The size of FIXED type field at path '{path}' in the {reader} schema does not match with the {writer} schema"
            ),
            ErrorType::TypeMismatch => format!(
                "The type (path '{path}') of a field in the {reader} schema does not match with the {writer} schema"
            ),
            ErrorType::NameMismatch => {
                format!("The name of the schema has changed (path '{path}')")
            }
            ErrorType::MissingEnumSymbols => format!(
                "The {reader} schema is missing enum symbols '{info}' at path '{path}' in the {writer} schema"
            ),
            ErrorType::MissingUnionBranch => format!(
                "The {reader} schema is missing a type inside a union field at path '{path}' in the {writer} schema"
            ),
            ErrorType::ReaderFieldMissingDefaultValue => format!(
                "The field '{info}' at path '{path}' in the {reader} schema has no default value and is missing in the {writer} schema"
            ),
            ErrorType::DifferentSchemaType => String::new(),
            ErrorType::Protobuf(change) => change.description(path, reader, writer),
            // JSON Schema descriptions name the update (the reader) first.
            ErrorType::Json(change) => change.description(path, reader, writer),
            ErrorType::CheckLimit => {
                format!("The compatibility check stopped at path '{path}': {info}")
            }
        }
    }

    /// Confluent's verbose message for this problem, roles as in
    /// [`Incompatibility::description`].
    pub fn message(&self, reader: &str, writer: &str) -> String {
        match self.error_type {
            ErrorType::DifferentSchemaType => {
                return "Incompatible because of different schema type".to_owned();
            }
            // Confluent's Protobuf and JSON `Difference.toString()`: double
            // quotes, no additionalInfo.
            ErrorType::Json(_) | ErrorType::Protobuf(_) | ErrorType::CheckLimit => {
                return format!(
                    "{{errorType:\"{}\", description:\"{}\"}}",
                    self.error_type,
                    self.description(reader, writer)
                );
            }
            _ => {}
        }
        format!(
            "{{errorType:'{}', description:'{}', additionalInfo:'{}'}}",
            self.error_type,
            self.description(reader, writer),
            self.additional_info
        )
    }
}

impl fmt::Display for Incompatibility {
    /// The message of a backward check: the reader is the new schema.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message("new", "old"))
    }
}
