//! The registry's one error type. Each variant knows its Confluent
//! `error_code` and message text (clients match on both) and the gRPC code it
//! travels as; the HTTP status follows from the error code.

use tonic::Code;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    #[error("Version {0} not found.")]
    VersionNotFound(String),
    #[error("Schema not found")]
    SchemaNotFound,
    #[error("Schema {0} not found")]
    SchemaIdNotFound(i32),
    #[error("Schema {0} not found")]
    SchemaGuidNotFound(String),
    #[error("Subject '{0}' was soft deleted.Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    #[error("Subject '{0}' Version {1} was soft deleted.Set permanent=true to delete permanently")]
    VersionSoftDeleted(String, i32),
    #[error("Subject '{0}' Version {1} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted(String, i32),
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectCompatibilityNotConfigured(String),
    #[error("Subject '{0}' does not have subject-level mode configured")]
    SubjectModeNotConfigured(String),
    #[error(
        "Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]",
        messages.join(", ")
    )]
    IncompatibleSchema {
        subject: String,
        messages: Vec<String>,
    },
    /// The schema text (or its references) is not valid; the text is the
    /// format's own message, as Confluent passes its provider's through.
    #[error("{0}")]
    InvalidSchema(String),
    #[error(
        "The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
    )]
    InvalidVersion(String),
    #[error(
        "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"
    )]
    InvalidCompatibilityLevel,
    #[error("Invalid mode. Valid values are READWRITE, READONLY, IMPORT and FORWARD.")]
    InvalidMode,
    #[error("{0}")]
    OperationNotPermitted(String),
    #[error("Forward mode only supported on global level")]
    ForwardModeNotGlobal,
    #[error("Subject {0} in context {ctx} is in read-only mode", ctx = qualified_context(.0))]
    ReadOnlyMode(String),
    #[error("Subject {0} in context {ctx} is not in import mode", ctx = qualified_context(.0))]
    NotImportMode(String),
    #[error("Subject {0} in context {ctx} is not in read-write mode", ctx = qualified_context(.0))]
    NotReadWriteMode(String),
    #[error(
        "Overwrite new schema with id {id} in context {ctx} is not permitted.",
        ctx = qualified_context(subject)
    )]
    IdOverwrite { id: i32, subject: String },
    #[error("Cannot import since found existing subjects")]
    ImportOverExistingSubjects,
    #[error("Subject '{0}' has a strong association and cannot be referenced")]
    StrongAssociationReferenced(String),
    #[error("Empty schema")]
    EmptySchema,
    #[error("Version is not one more than previous version")]
    VersionNotNext,
    #[error("Invalid schema type {0}")]
    InvalidSchemaType(String),
    #[error("Invalid schema reference {name}: subject {subject} not found")]
    ReferencedSubjectNotFound { name: String, subject: String },
    #[error("Invalid schema reference {name}: subject {subject} version {version} not found")]
    ReferencedVersionNotFound {
        name: String,
        subject: String,
        version: i32,
    },
    #[error("Invalid reference version {version} for {name}")]
    InvalidReferenceVersion { name: String, version: i32 },
    #[error("Schema references nest deeper than {limit} levels at {name}")]
    ReferencesTooDeep { name: String, limit: usize },
    #[error("A file_descriptor_set is a PROTOBUF schema, not {0}")]
    DescriptorSetNotProtobuf(String),
    #[error(
        "One or more references exist to the schema {{magic=1,keytype=SCHEMA,subject={0},version={1}}}."
    )]
    ReferenceExists(String, i32),
    #[error("One or more references exist to the schema {0}.")]
    SubjectReferenced(String),
    #[error("Context '{0}' not found.")]
    ContextNotFound(String),
    #[error("The specified context '{0}' is not empty.")]
    ContextNotEmpty(String),
    #[error("Association for '{0}' not found.")]
    AssociationNotFound(String),
    #[error(
        "An association of type '{association_type}' already exists for resource '{resource_name}'"
    )]
    AssociationExists {
        association_type: String,
        resource_name: String,
    },
    #[error("An association already exists for subject '{0}'")]
    AssociationForSubjectExists(String),
    #[error("A strong association already exists for subject '{0}'")]
    StrongAssociationExists(String),
    #[error("No active (non-deleted) version exists for subject '{0}'")]
    NoActiveSubjectVersion(String),
    // Two spaces after "type", as Confluent words it.
    #[error("The association of type  '{association_type}' is frozen for subject '{subject}'")]
    AssociationFrozen {
        association_type: String,
        subject: String,
    },
    /// A field of an association request that breaks a rule: the field's
    /// JSON name and why.
    #[error(
        "The association specified an invalid value for property: '{property}', reason: {reason}"
    )]
    InvalidAssociation { property: String, reason: String },
    #[error("The specified subject '{0}' is not a valid.")]
    InvalidSubject(String),
    #[error("Register operation failed because schema is too large")]
    SchemaTooLarge,
    /// A field of the wrong type (Confluent: Jackson's mapping error, which
    /// its REST layer sends with `error_code` 400).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Store(String),
    #[error("{0}")]
    Timeout(String),
    /// The node has not read the shared log up to where it was when it
    /// started: any answer could be stale. REST sends it as HTTP 503.
    #[error("{0}")]
    NotReady(String),
    /// A limit on what the server takes at once was reached (requests in
    /// flight, connections, work queued): HTTP 503, retry shortly.
    #[error("{0}")]
    Overloaded(String),
    /// Parsing or checking a schema ran past its deadline: Confluent's
    /// "operation timed out" code, with a message naming the limit.
    #[error("{0}")]
    WorkDeadline(String),
    /// A bug: a request's work panicked. Logged in full; the request gets
    /// a 500 (Confluent's generic error), the server goes on.
    #[error("{0}")]
    Internal(String),
    /// No credentials, or ones that prove nothing. The reason goes to the
    /// log and the audit log; the caller learns only this.
    #[error("Unauthorized")]
    Unauthenticated,
    /// An authenticated caller without the permission the call needs.
    #[error("User is denied operation {operation} on {resource}")]
    Forbidden {
        operation: &'static str,
        resource: String,
    },
}

impl Error {
    pub(crate) fn invalid_association(property: &str, reason: impl Into<String>) -> Self {
        Self::InvalidAssociation {
            property: property.to_owned(),
            reason: reason.into(),
        }
    }

    /// Confluent's `error_code`.
    pub fn error_code(&self) -> i32 {
        match self {
            Self::SubjectNotFound(_) | Self::ContextNotFound(_) => 40401,
            Self::VersionNotFound(_) => 40402,
            Self::SchemaNotFound | Self::SchemaIdNotFound(_) | Self::SchemaGuidNotFound(_) => 40403,
            Self::SubjectSoftDeleted(_) => 40404,
            Self::SubjectNotSoftDeleted(_) => 40405,
            Self::VersionSoftDeleted(..) => 40406,
            Self::VersionNotSoftDeleted(..) => 40407,
            Self::SubjectCompatibilityNotConfigured(_) => 40408,
            Self::SubjectModeNotConfigured(_) => 40409,
            Self::AssociationNotFound(_) => 40410,
            // Confluent 8.x (since late 2025); earlier releases sent 409.
            Self::IncompatibleSchema { .. } => 40901,
            Self::AssociationExists { .. } => 40903,
            Self::AssociationForSubjectExists(_) => 40904,
            Self::StrongAssociationExists(_) => 40905,
            Self::NoActiveSubjectVersion(_) => 40907,
            Self::AssociationFrozen { .. } => 40908,
            Self::InvalidSchema(_)
            | Self::EmptySchema
            | Self::VersionNotNext
            | Self::InvalidSchemaType(_)
            | Self::ReferencedSubjectNotFound { .. }
            | Self::ReferencedVersionNotFound { .. }
            | Self::InvalidReferenceVersion { .. }
            | Self::ReferencesTooDeep { .. }
            | Self::DescriptorSetNotProtobuf(_) => 42201,
            Self::InvalidVersion(_) => 42202,
            Self::InvalidCompatibilityLevel => 42203,
            Self::InvalidMode | Self::ForwardModeNotGlobal => 42204,
            Self::OperationNotPermitted(_)
            | Self::ReadOnlyMode(_)
            | Self::NotImportMode(_)
            | Self::NotReadWriteMode(_)
            | Self::IdOverwrite { .. }
            | Self::ImportOverExistingSubjects
            | Self::StrongAssociationReferenced(_) => 42205,
            Self::ReferenceExists(..) | Self::SubjectReferenced(_) => 42206,
            Self::InvalidSubject(_) => 42208,
            Self::SchemaTooLarge => 42209,
            Self::ContextNotEmpty(_) => 42211,
            Self::InvalidAssociation { .. } => 42212,
            Self::BadRequest(_) => 400,
            Self::Store(_) => 50001,
            Self::Timeout(_) => 50002,
            Self::NotReady(_) => 50003,
            Self::Overloaded(_) => 503,
            Self::WorkDeadline(_) => 50002,
            Self::Internal(_) => 500,
            Self::Unauthenticated => 40101,
            Self::Forbidden { .. } => 40301,
        }
    }

    /// The gRPC code the error travels as.
    pub fn grpc_code(&self) -> Code {
        match self.error_code() {
            40101 => Code::Unauthenticated,
            40301 => Code::PermissionDenied,
            40401..=40403 | 40410 => Code::NotFound,
            40404..=40409 => Code::FailedPrecondition,
            40903 => Code::AlreadyExists,
            40901..=40999 => Code::FailedPrecondition,
            42205 | 42206 | 42211 => Code::FailedPrecondition,
            400 | 42201..=42299 => Code::InvalidArgument,
            50002 => Code::DeadlineExceeded,
            503 => Code::ResourceExhausted,
            500 => Code::Internal,
            _ => Code::Unavailable,
        }
    }

    pub fn timeout(operation: &str, cause: impl std::fmt::Display) -> Self {
        Self::Timeout(format!("{operation} operation timed out: {cause}"))
    }

    pub fn store(operation: &str, cause: impl std::fmt::Display) -> Self {
        Self::Store(format!(
            "{operation} operation failed while writing to the store: {cause}"
        ))
    }
}

/// The context part of a subject as Confluent's messages print it
/// (`QualifiedSubject.toQualifiedContext`): `:.ctx:` for a subject in a named
/// context, nothing for the default one.
pub fn qualified_context(subject: &str) -> &str {
    subject
        .strip_prefix(":.")
        .and_then(|rest| rest.find(':'))
        .map_or("", |end| &subject[..end + 3])
}

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        scute_proto::error_status(error.grpc_code(), error.error_code(), error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_and_codes_are_confluents() {
        let e = Error::SubjectSoftDeleted("s".into());
        assert_eq!(
            e.to_string(),
            "Subject 's' was soft deleted.Set permanent=true to delete permanently"
        );
        assert_eq!(e.error_code(), 40404);
        let e = Error::ReferenceExists("s".into(), 2);
        assert_eq!(
            e.to_string(),
            "One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=s,version=2}."
        );
        let e = Error::IncompatibleSchema {
            subject: "s".into(),
            messages: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            e.to_string(),
            "Schema being registered is incompatible with an earlier schema for subject \"s\", details: [a, b]"
        );
        // Confluent 8 prints the qualified context: nothing for the default.
        assert_eq!(
            Error::ReadOnlyMode("s".into()).to_string(),
            "Subject s in context  is in read-only mode"
        );
        assert_eq!(
            Error::IdOverwrite {
                id: 7,
                subject: ":.ctx:s".into()
            }
            .to_string(),
            "Overwrite new schema with id 7 in context :.ctx: is not permitted."
        );
        assert_eq!(qualified_context(":.a:b"), ":.a:");
        assert_eq!(qualified_context(":.a"), "");
        assert_eq!(qualified_context("plain"), "");
        let status = tonic::Status::from(Error::SubjectNotFound("x".into()));
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(scute_proto::error_code(&status), Some(40401));
        assert_eq!(status.message(), "Subject 'x' not found.");
    }
}
