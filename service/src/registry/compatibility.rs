//! Compatibility: a candidate schema from a request, and its verdict
//! against the versions the level names.

use std::sync::Arc;

use scute_formats::SchemaType;
use scute_proto::v1 as api;
use scute_storage::record::SchemaReference;

use super::settings::{config_normalize, effective_level};
use super::subjects::find_version;
use super::work::{Directions, Output, Parsed, Problems, Work};
use super::{Candidate, Registry};
use crate::context;
use crate::data_contract;
use crate::error::Error;
use crate::model::{CompatibilityLevel, Version, VersionSelector};
use crate::state::{SchemaContent, State, VersionEntry};

/// Confluent's verdict on a version of another schema type.
const DIFFERENT_SCHEMA_TYPE: &str = "Incompatible because of different schema type";
/// How much of an old schema's text a message quotes (Confluent's
/// `MAX_SCHEMA_SIZE_FOR_LOGGING`).
const QUOTED_SCHEMA_CHARS: usize = 10 * 1024;

impl Registry {
    pub async fn check_compatibility(
        &self,
        mut req: api::CheckCompatibilityRequest,
    ) -> Result<api::CompatibilityResult, Error> {
        req.subject = context::normalize(req.subject);
        let selector = req
            .version
            .as_deref()
            .map(VersionSelector::parse)
            .transpose()?;
        let mut work = self.work();
        self.with_work(&mut work, |state, work| {
            let normalize = req.normalize || config_normalize(state, &req.subject);
            let candidate = match self
                .candidate(
                    state,
                    work,
                    &req.subject,
                    &req.schema_type,
                    &req.schema,
                    &req.references,
                    normalize,
                    None,
                    None,
                )
                .and_then(|c| match c {
                    Some(c) => c
                        .parsed
                        .schema
                        .validate_new()
                        .map(|()| Some(c))
                        .map_err(|e| Error::InvalidSchema(e.to_string())),
                    None => Ok(None),
                }) {
                Ok(Some(c)) => c,
                Ok(None) => return Ok(None),
                // With verbose, Confluent answers an invalid schema with its
                // reason instead of an error.
                Err(Error::InvalidSchema(reason)) if req.verbose => {
                    return Ok(Some(api::CompatibilityResult {
                        is_compatible: false,
                        messages: vec![reason],
                    }));
                }
                Err(e) => return Err(e),
            };
            let against = match selector {
                None | Some(VersionSelector::Latest) if state.versions(&req.subject).is_none() => {
                    return Ok(Some(api::CompatibilityResult {
                        is_compatible: true,
                        messages: vec![],
                    }));
                }
                // Confluent looks the version up without checking the
                // subject first: no versions at all is 40402 too.
                Some(VersionSelector::Number(n)) => {
                    match state.versions(&req.subject).and_then(|vs| vs.get(&n)) {
                        Some(e) if !e.deleted => Some(n),
                        _ => return Err(Error::VersionNotFound(n.to_string())),
                    }
                }
                Some(VersionSelector::Latest) => {
                    let (v, _) = find_version(state, &req.subject, "latest", false)?;
                    Some(v)
                }
                None => None,
            };
            let level = effective_level(state, &req.subject, self.info.compatibility_level);
            let Some(messages) =
                self.check_against(state, work, &req.subject, &candidate.parsed, level, against)?
            else {
                return Ok(None);
            };
            Ok(Some(api::CompatibilityResult {
                is_compatible: messages.is_empty(),
                messages: if req.verbose { messages } else { vec![] },
            }))
        })
        .await
    }

    /// Confluent's verbose messages for every problem of `new` against the
    /// versions `level` names (or just `only`), empty when compatible;
    /// `None` until `work` has compared them all.
    pub(super) fn check_against(
        &self,
        state: &State,
        work: &mut Work,
        subject: &str,
        new: &Arc<Parsed>,
        level: CompatibilityLevel,
        only: Option<Version>,
    ) -> Result<Option<Vec<String>>, Error> {
        if level == CompatibilityLevel::None {
            return Ok(Some(vec![]));
        }
        let Some(versions) = state.versions(subject) else {
            return Ok(Some(vec![]));
        };
        let mut live: Vec<(&Version, &VersionEntry)> =
            versions.iter().filter(|(_, e)| !e.deleted).collect();
        match only {
            Some(v) => live.retain(|(n, _)| **n == v),
            None if !level.transitive() => live = live.split_off(live.len().saturating_sub(1)),
            None => {}
        }
        let directions = Directions {
            backward: level.backward(),
            forward: level.forward(),
        };
        // Newest first, as Confluent checks them; the first version that
        // fails is the one reported (`validateAll`), so a version whose
        // comparison is not done yet leaves the verdict open.
        let mut pending = false;
        let mut messages = Vec::new();
        for (version, entry) in live.into_iter().rev() {
            let found = if entry.content.schema_type != new.schema.schema_type().as_str() {
                vec![DIFFERENT_SCHEMA_TYPE.to_owned()]
            } else {
                match work.problems(state, subject, new, &entry.content, directions)? {
                    None => {
                        pending = true;
                        continue;
                    }
                    Some(Ok(problems)) => version_messages(&problems, directions, *version, entry)?,
                    Some(Err(e)) => {
                        tracing::warn!(%subject, version, error = %e, "a stored version no longer parses; skipping it in the compatibility check");
                        continue;
                    }
                }
            };
            if !found.is_empty() {
                messages = found;
                break;
            }
        }
        if pending {
            return Ok(None);
        }
        if !messages.is_empty() {
            messages.push(format!(
                "{{validateFields: 'false', compatibility: '{level}'}}"
            ));
        }
        Ok(Some(messages))
    }

    /// Parses a schema from a request against the references it names;
    /// `None` until `work` has parsed it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn candidate(
        &self,
        state: &State,
        work: &mut Work,
        subject: &str,
        schema_type: &str,
        schema: &str,
        references: &[api::SchemaReference],
        normalize: bool,
        metadata: Option<&str>,
        rule_set: Option<&str>,
    ) -> Result<Option<Candidate>, Error> {
        if schema.len() > self.limits.max_schema_bytes {
            return Err(Error::SchemaTooLarge);
        }
        // Typed first, as Jackson reads the request before anything else.
        let metadata = metadata.map(data_contract::metadata).transpose()?;
        let rule_set = rule_set.map(data_contract::rule_set).transpose()?;
        let schema_type: SchemaType = if schema_type.is_empty() {
            SchemaType::Avro
        } else {
            schema_type
                .parse()
                .map_err(|_| Error::InvalidSchemaType(schema_type.to_owned()))?
        };
        let resolved = resolve_references(state, subject, references)?;
        let output = if normalize {
            Output::Normalized
        } else {
            Output::Canonical
        };
        let Some(parsed) = work.parse(state, subject, schema_type, schema, &resolved, output)?
        else {
            return Ok(None);
        };
        let content = SchemaContent::new(
            schema_type.to_string(),
            parsed.text.clone(),
            resolved,
            metadata,
            rule_set,
        );
        Ok(Some(Candidate { parsed, content }))
    }

    /// The schema text a `file_descriptor_set` stands for (its last file, as
    /// Confluent's clients send it: a base64 FileDescriptorProto), read on
    /// the compute pool.
    pub(super) async fn descriptor_set_schema(
        &self,
        schema_type: &str,
        set: Vec<u8>,
    ) -> Result<String, Error> {
        if !schema_type.is_empty() && schema_type != SchemaType::Protobuf.as_str() {
            return Err(Error::DescriptorSetNotProtobuf(schema_type.to_owned()));
        }
        if set.len() > self.limits.max_schema_bytes {
            return Err(Error::SchemaTooLarge);
        }
        let limits = self.limits.parse;
        let compute = &self.compute;
        compute
            .run(
                "reading a file_descriptor_set",
                compute.deadline(),
                move || scute_formats::protobuf::schema_from_descriptor_set(&set, &limits),
            )
            .await?
            .map_err(|e| Error::InvalidSchema(e.to_string()))
    }
}

/// Confluent's messages against one version (`SchemaValidatorBuilder`):
/// forward problems first, then backward ones; the old version and its text
/// follow the backward ones only (with FORWARD alone, the forward ones).
fn version_messages(
    problems: &Problems,
    directions: Directions,
    version: Version,
    entry: &VersionEntry,
) -> Result<Vec<String>, Error> {
    let forward = problems.forward.iter().map(|p| p.message("old", "new"));
    let backward = problems.backward.iter().map(|p| p.message("new", "old"));
    let mut messages: Vec<String> = forward.collect();
    let trailer = if problems.backward.is_empty() {
        !messages.is_empty() && !directions.backward
    } else {
        messages.extend(backward);
        true
    };
    if trailer {
        messages.push(format!("{{oldSchemaVersion: {version}}}"));
        messages.push(quoted_schema(&entry.content.text()?));
    }
    Ok(messages)
}

/// `{oldSchema: '...'}`, cut to Confluent's length.
fn quoted_schema(schema: &str) -> String {
    match schema.char_indices().nth(QUOTED_SCHEMA_CHARS) {
        None => format!("{{oldSchema: '{schema}'}}"),
        Some((end, _)) => format!(
            "{{oldSchema: <truncated to {QUOTED_SCHEMA_CHARS} characters> '{}'}}",
            &schema[..end]
        ),
    }
}

/// A request's references with `latest` (-1) resolved to a version, each
/// looked for in the context of the subject that holds them.
pub(super) fn resolve_references(
    state: &State,
    subject: &str,
    references: &[api::SchemaReference],
) -> Result<Vec<SchemaReference>, Error> {
    let mut resolved = Vec::with_capacity(references.len());
    for r in references {
        let selector = VersionSelector::parse(&r.version.to_string()).map_err(|_| {
            Error::InvalidReferenceVersion {
                name: r.name.clone(),
                version: r.version,
            }
        })?;
        let version = match selector {
            VersionSelector::Number(n) => n,
            VersionSelector::Latest => {
                let subject = context::qualify_with_parent(subject, &r.subject);
                find_version(state, &subject, "latest", false)
                    .map_err(|_| Error::ReferencedSubjectNotFound {
                        name: r.name.clone(),
                        subject: r.subject.clone(),
                    })?
                    .0
            }
        };
        resolved.push(SchemaReference {
            name: r.name.clone(),
            subject: r.subject.clone(),
            version,
        });
    }
    Ok(resolved)
}
