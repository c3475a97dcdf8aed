//! Schemas: registration, lookup, and reads by id and guid.

use std::collections::BTreeSet;
use std::sync::Arc;

use scute_formats::SchemaType;
use scute_proto::v1 as api;
use scute_storage::record::{Record, SchemaValue};

use super::reply::{content_reply, page, reference_to_api, schema_reply};
use super::settings::{config_normalize, effective_level, effective_mode};
use super::work::Output;
use super::{Registry, SEARCH_LIMIT, associations};
use crate::error::Error;
use crate::guid;
use crate::model::{Mode, SchemaId, Version, validate_subject};
use crate::state::{SchemaContent, State, VersionEntry};

impl Registry {
    pub async fn register_schema(
        &self,
        req: api::RegisterSchemaRequest,
    ) -> Result<api::Schema, Error> {
        validate_subject(&req.subject)?;
        let mut req = req;
        let mut work = self.work();
        if !req.file_descriptor_set.is_empty() {
            let set = std::mem::take(&mut req.file_descriptor_set);
            req.schema = self.descriptor_set_schema(&req.schema_type, set).await?;
            req.schema_type = SchemaType::Protobuf.to_string();
        }
        // No schema at all: Confluent registers the latest live version
        // again (its text, type and references), or answers "Empty schema".
        if req.schema.is_empty() {
            let state = self.read();
            let (_, latest) = state
                .versions(&req.subject)
                .and_then(|vs| vs.iter().rev().find(|(_, e)| !e.deleted))
                .ok_or(Error::EmptySchema)?;
            req.schema = latest.content.schema.clone();
            req.schema_type = latest.content.schema_type.clone();
            req.references = latest
                .content
                .references
                .iter()
                .map(reference_to_api)
                .collect();
        }
        let subject = req.subject;
        let candidate = self
            .with_work(&mut work, |state, work| {
                let normalize = req.normalize || config_normalize(state, &subject);
                self.candidate(
                    state,
                    work,
                    &req.schema_type,
                    &req.schema,
                    &req.references,
                    normalize,
                    req.metadata_json.as_deref(),
                    req.rule_set_json.as_deref(),
                )
            })
            .await?;
        // Registering what the subject already holds answers at once, even in
        // READONLY mode, as Confluent does.
        let latest_only = req.version == Some(-1);
        let existing = live_match(&self.read(), &subject, &candidate.content, latest_only)
            .map(|(version, entry)| schema_reply(&subject, version, entry));
        if let Some(out) = existing {
            self.log
                .flush()
                .await
                .map_err(|e| Error::store("Register", e))?;
            return Ok(out);
        }
        self.write_with_work("Register", &mut work, |state, work| {
            if let Some((version, entry)) =
                live_match(state, &subject, &candidate.content, latest_only)
            {
                return Ok(Some((vec![], schema_reply(&subject, version, entry))));
            }
            // A STRONG association's subject belongs to its topic alone.
            if let Some(r) = candidate.content.references.iter().find(|r| {
                state
                    .associations_of_subject(&r.subject)
                    .any(|(_, a)| a.lifecycle == associations::STRONG)
            }) {
                return Err(Error::StrongAssociationReferenced(r.subject.clone()));
            }
            let mode = effective_mode(state, &subject);
            let import = mode == Mode::Import;
            match (req.id, mode) {
                (Some(_), Mode::Import) | (None, Mode::ReadWrite) => {}
                (_, m) if m.read_only() => {
                    return Err(Error::ReadOnlyMode(subject.clone()));
                }
                (Some(_), _) => {
                    return Err(Error::NotImportMode(subject.clone()));
                }
                (None, _) => {
                    return Err(Error::NotReadWriteMode(subject.clone()));
                }
            }
            // Confluent validates what a new schema alone can get wrong
            // (AVRO field defaults) unless it is imported.
            if !import {
                candidate
                    .parsed
                    .schema
                    .validate_new()
                    .map_err(|e| Error::InvalidSchema(e.to_string()))?;
            }
            let versions = state.versions(&subject);
            let last = versions
                .and_then(|vs| vs.keys().next_back())
                .copied()
                .unwrap_or(0);
            // A version imported as 2^31-1 leaves no next one.
            let next = last
                .checked_add(1)
                .ok_or_else(|| Error::InvalidVersion("2147483648".into()))?;
            let version = match req.version {
                // 0 and below mean "the next one", in any mode.
                Some(v) if v <= 0 => next,
                Some(v) if import => v,
                Some(v) if v == next => next,
                Some(_) => {
                    return Err(Error::VersionNotNext);
                }
                None => next,
            };
            if !import {
                let level = effective_level(state, &subject);
                let Some(messages) =
                    self.check_against(state, work, &subject, &candidate.parsed, level, None)?
                else {
                    return Ok(None);
                };
                if !messages.is_empty() {
                    return Err(Error::IncompatibleSchema {
                        subject: subject.clone(),
                        messages,
                    });
                }
            }
            let id = match req.id {
                Some(id) => {
                    if state
                        .schema(id)
                        .is_some_and(|existing| **existing != candidate.content)
                    {
                        return Err(Error::IdOverwrite {
                            id,
                            subject: subject.clone(),
                        });
                    }
                    id
                }
                None => match state.id_of(&candidate.content) {
                    Some(id) => id,
                    // An id imported as 2^31-1 leaves no new one.
                    None => state.max_id().checked_add(1).ok_or_else(|| {
                        Error::store("Register", "every schema id up to 2147483647 is taken")
                    })?,
                },
            };
            let content = &candidate.content;
            let value = SchemaValue {
                subject: subject.clone(),
                version,
                id,
                schema_type: Some(content.schema_type.clone()),
                references: content.references.clone(),
                metadata: content.metadata.clone(),
                rule_set: content.rule_set.clone(),
                schema: content.schema.clone(),
                deleted: false,
                extra: Default::default(),
            };
            let mut records = Vec::new();
            // Re-registering a soft-deleted schema: the old soft-deleted
            // versions with that id go, unless something references them.
            if let Some(vs) = versions {
                for (v, e) in vs {
                    if e.deleted && e.id == id && state.referrers(&subject, *v).next().is_none() {
                        records.push(Record::Schema {
                            subject: subject.clone(),
                            version: *v,
                            value: None,
                        });
                    }
                }
            }
            let reply = api::Schema {
                subject: subject.clone(),
                version,
                ..content_reply(id, content)
            };
            records.push(Record::Schema {
                subject: subject.clone(),
                version,
                value: Some(value),
            });
            Ok(Some((records, reply)))
        })
        .await
    }

    pub async fn lookup_schema(&self, req: api::LookupSchemaRequest) -> Result<api::Schema, Error> {
        let mut work = self.work();
        self.with_work(&mut work, |state, work| {
            // Confluent reads the schema before it looks at the subject;
            // no schema at all matches nothing.
            let versions = state
                .versions(&req.subject)
                .filter(|vs| req.deleted || vs.values().any(|e| !e.deleted));
            if req.schema.is_empty() {
                return Err(match versions {
                    Some(_) => Error::SchemaNotFound,
                    None => Error::SubjectNotFound(req.subject.clone()),
                });
            }
            let normalize = req.normalize || config_normalize(state, &req.subject);
            let Some(candidate) = self.candidate(
                state,
                work,
                &req.schema_type,
                &req.schema,
                &req.references,
                normalize,
                None,
                None,
            )?
            else {
                return Ok(None);
            };
            let versions = versions.ok_or_else(|| Error::SubjectNotFound(req.subject.clone()))?;
            let found = versions.iter().rev().find(|(_, e)| {
                (req.deleted || !e.deleted) && same_schema(&e.content, &candidate.content)
            });
            let (version, entry) = found.ok_or(Error::SchemaNotFound)?;
            Ok(Some(schema_reply(&req.subject, *version, entry)))
        })
        .await
    }

    pub async fn get_schema_by_id(
        &self,
        req: api::GetSchemaByIdRequest,
    ) -> Result<api::Schema, Error> {
        let (mut reply, content) = {
            let state = self.read();
            let content = state
                .schema(req.id)
                .ok_or(Error::SchemaIdNotFound(req.id))?;
            let mut reply = content_reply(req.id, content);
            // With a subject (even an empty one) Confluent names a use of
            // the id: that subject's, else the first.
            if let Some(wanted) = &req.subject {
                let first = state.id_users(req.id).next();
                let named = state.id_users(req.id).find(|(s, _)| **s == **wanted);
                if let Some((subject, version)) = named.or(first) {
                    reply.subject = subject.to_string();
                    reply.version = *version;
                }
            }
            if req.fetch_max_id {
                reply.max_id = Some(state.max_id());
            }
            (reply, content.clone())
        };
        self.apply_format(&content, &req.format, &mut reply).await;
        Ok(reply)
    }

    /// Rewrites the schema text for an output `format`: Confluent's
    /// `resolved` for AVRO (referenced types written in full) and
    /// `serialized` for PROTOBUF (a base64 FileDescriptorProto). Formats that
    /// do not apply are ignored, as Confluent ignores them.
    pub(super) async fn apply_format(
        &self,
        content: &SchemaContent,
        format: &str,
        reply: &mut api::Schema,
    ) {
        let output = match format {
            "resolved" if content.schema_type == "AVRO" && !content.references.is_empty() => {
                Output::Resolved
            }
            "serialized" if content.schema_type == "PROTOBUF" => Output::Serialized,
            _ => return,
        };
        let Ok(schema_type) = content.schema_type.parse::<SchemaType>() else {
            return;
        };
        let mut work = self.work();
        let parsed = self
            .with_work(&mut work, |state, work| {
                work.parse(
                    state,
                    schema_type,
                    &content.schema,
                    &content.references,
                    output,
                )
            })
            .await;
        match parsed {
            Ok(parsed) => reply.schema = parsed.text.clone(),
            Err(e) => {
                tracing::warn!(error = %e, "a stored schema could not be formatted; returning it as stored")
            }
        }
    }

    pub async fn list_schema_id_versions(
        &self,
        req: api::ListSchemaIdVersionsRequest,
    ) -> Result<api::SubjectVersions, Error> {
        let state = self.read();
        // Only the schema itself names the id in its 40403.
        state.schema(req.id).ok_or(Error::SchemaNotFound)?;
        let subject_versions = id_uses(&state, req.id, req.deleted)
            .map(|(subject, version)| api::SubjectVersion {
                subject: subject.to_string(),
                version,
            })
            .collect();
        Ok(api::SubjectVersions { subject_versions })
    }

    pub async fn list_schema_id_subjects(
        &self,
        req: api::ListSchemaIdSubjectsRequest,
    ) -> Result<api::Subjects, Error> {
        let state = self.read();
        state.schema(req.id).ok_or(Error::SchemaNotFound)?;
        let subjects: BTreeSet<&Arc<str>> = id_uses(&state, req.id, req.deleted)
            .map(|(s, _)| s)
            .collect();
        Ok(api::Subjects {
            subjects: subjects.into_iter().map(|s| s.to_string()).collect(),
        })
    }

    pub async fn list_schemas(&self, req: api::ListSchemasRequest) -> Result<api::Schemas, Error> {
        let state = self.read();
        let mut schemas = Vec::new();
        for (subject, versions) in state
            .subjects()
            .filter(|(s, _)| s.starts_with(&req.subject_prefix))
        {
            let mut visible = versions.iter().filter(|(_, e)| req.deleted || !e.deleted);
            if req.latest_only {
                schemas.extend(
                    visible
                        .next_back()
                        .map(|(v, e)| schema_reply(subject, *v, e)),
                );
            } else {
                schemas.extend(visible.map(|(v, e)| schema_reply(subject, *v, e)));
            }
        }
        Ok(api::Schemas {
            schemas: page(schemas, req.offset, req.limit, Some(SEARCH_LIMIT)),
        })
    }

    pub fn schema_types(&self) -> api::SchemaTypes {
        api::SchemaTypes {
            schema_types: [SchemaType::Avro, SchemaType::Protobuf, SchemaType::Json]
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }

    pub async fn get_schema_by_guid(
        &self,
        req: api::GetSchemaByGuidRequest,
    ) -> Result<api::Schema, Error> {
        let (mut reply, content) = {
            let state = self.read();
            let not_found = || Error::SchemaGuidNotFound(req.guid.clone());
            let guid = guid::parse(&req.guid).ok_or_else(not_found)?;
            let id = state.ids_of_guid(&guid).next().ok_or_else(not_found)?;
            let content = state.schema(id).ok_or_else(not_found)?;
            (content_reply(id, content), content.clone())
        };
        self.apply_format(&content, &req.format, &mut reply).await;
        Ok(reply)
    }

    pub async fn list_guid_ids(
        &self,
        req: api::ListGuidIdsRequest,
    ) -> Result<api::SchemaIds, Error> {
        let state = self.read();
        let guid =
            guid::parse(&req.guid).ok_or_else(|| Error::SchemaGuidNotFound(req.guid.clone()))?;
        let ids: Vec<SchemaId> = state.ids_of_guid(&guid).collect();
        if ids.is_empty() {
            return Err(Error::SchemaGuidNotFound(req.guid));
        }
        Ok(api::SchemaIds { ids })
    }
}

pub(super) fn same_schema(a: &SchemaContent, b: &SchemaContent) -> bool {
    a.schema_type == b.schema_type && a.schema == b.schema && a.references == b.references
}

/// The newest live version of `subject` holding this exact content; with
/// `latest_only` (a registration naming version -1), only the newest live
/// version counts.
pub(super) fn live_match<'s>(
    state: &'s State,
    subject: &str,
    content: &SchemaContent,
    latest_only: bool,
) -> Option<(Version, &'s VersionEntry)> {
    let mut live = state
        .versions(subject)?
        .iter()
        .rev()
        .filter(|(_, e)| !e.deleted);
    let found = if latest_only {
        live.next().filter(|(_, e)| *e.content == *content)
    } else {
        live.find(|(_, e)| *e.content == *content)
    };
    found.map(|(v, e)| (*v, e))
}

/// Every use of an id; a subject in the request only chooses where to look
/// (its context), as in Confluent, so it filters nothing here.
pub(super) fn id_uses(
    state: &State,
    id: SchemaId,
    deleted: bool,
) -> impl Iterator<Item = (&Arc<str>, Version)> {
    state
        .id_users(id)
        .filter(move |(s, v)| {
            deleted
                || state
                    .versions(s)
                    .and_then(|vs| vs.get(v))
                    .is_some_and(|e| !e.deleted)
        })
        .map(|(s, v)| (s, *v))
}
