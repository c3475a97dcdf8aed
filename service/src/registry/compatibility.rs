//! Compatibility: a candidate schema from a request, and its verdict
//! against the versions the level names.

use std::sync::Arc;

use scute_formats::SchemaType;
use scute_proto::v1 as api;
use scute_storage::record::SchemaReference;

use super::settings::{config_normalize, effective_level};
use super::subjects::find_version;
use super::work::{Directions, Output, Parsed, Work};
use super::{Candidate, Registry};
use crate::data_contract;
use crate::error::Error;
use crate::model::{CompatibilityLevel, Version, VersionSelector};
use crate::state::{SchemaContent, State, VersionEntry};

impl Registry {
    pub async fn check_compatibility(
        &self,
        req: api::CheckCompatibilityRequest,
    ) -> Result<api::CompatibilityResult, Error> {
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
            let level = effective_level(state, &req.subject);
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
        let mut messages = Vec::new();
        let mut pending = false;
        // Newest first, as Confluent reports them.
        for (version, entry) in live.into_iter().rev() {
            let problems = match work.problems(state, new, &entry.content, directions)? {
                None => {
                    pending = true;
                    continue;
                }
                Some(Ok(problems)) => problems,
                Some(Err(e)) => {
                    tracing::warn!(%subject, version, error = %e, "a stored version no longer parses; skipping it in the compatibility check");
                    continue;
                }
            };
            let found: Vec<String> = problems
                .backward
                .iter()
                .map(|p| p.message("new", "old"))
                .chain(problems.forward.iter().map(|p| p.message("old", "new")))
                .collect();
            if !found.is_empty() {
                messages.extend(found);
                messages.push(format!("{{oldSchemaVersion: {version}}}"));
                messages.push(format!("{{oldSchema: '{}'}}", entry.content.schema));
                messages.push(format!(
                    "{{validateFields: 'false', compatibility: '{level}'}}"
                ));
            }
        }
        Ok((!pending).then_some(messages))
    }

    /// Parses a schema from a request against the references it names;
    /// `None` until `work` has parsed it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn candidate(
        &self,
        state: &State,
        work: &mut Work,
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
                .map_err(|_| Error::InvalidSchema(format!("Invalid schema type {schema_type}")))?
        };
        let mut resolved = Vec::with_capacity(references.len());
        for r in references {
            let selector = VersionSelector::parse(&r.version.to_string()).map_err(|_| {
                Error::InvalidSchema(format!(
                    "Invalid reference version {} for {}",
                    r.version, r.name
                ))
            })?;
            let version = match selector {
                VersionSelector::Number(n) => n,
                VersionSelector::Latest => {
                    find_version(state, &r.subject, "latest", false)
                        .map_err(|_| {
                            Error::InvalidSchema(format!(
                                "Invalid schema reference {}: subject {} not found",
                                r.name, r.subject
                            ))
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
        let output = if normalize {
            Output::Normalized
        } else {
            Output::Canonical
        };
        let Some(parsed) = work.parse(state, schema_type, schema, &resolved, output)? else {
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
            return Err(Error::InvalidSchema(format!(
                "A file_descriptor_set is a PROTOBUF schema, not {schema_type}"
            )));
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
