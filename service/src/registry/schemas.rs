//! Schemas: registration, lookup, and reads by id and guid.

use std::collections::BTreeSet;
use std::sync::Arc;

use scute_formats::SchemaType;
use scute_proto::v1 as api;
use scute_storage::record::{DEFAULT_TENANT, Record, SchemaValue};

use super::compatibility::resolve_references;
use super::reply::{content_reply, page, reference_to_api, schema_reply};
use super::settings::{config_normalize, effective_level, effective_mode};
use super::work::{Output, Parsed};
use super::{Registry, SEARCH_LIMIT, associations, tags};
use crate::context;
use crate::error::Error;
use crate::guid;
use crate::model::{Mode, SchemaId, Version, validate_subject};
use crate::state::{SchemaContent, State, VersionEntry};

impl Registry {
    pub async fn register_schema(
        &self,
        req: api::RegisterSchemaRequest,
    ) -> Result<api::Schema, Error> {
        let mut req = req;
        req.subject = context::normalize(req.subject);
        validate_subject(&req.subject)?;
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
            req.schema = latest.content.text()?.into_owned();
            req.schema_type = latest.content.schema_type.clone();
            req.references = latest
                .content
                .references
                .iter()
                .map(reference_to_api)
                .collect();
        }
        if !req.schema_tags_to_add.is_empty()
            || !req.schema_tags_to_remove.is_empty()
            || req.propagate_schema_tags
        {
            req.schema = self.tagged_request_schema(&req).await?;
        }
        let subject = req.subject;
        let candidate = self
            .with_work(&mut work, |state, work| {
                let normalize = req.normalize || config_normalize(state, &subject);
                self.candidate(
                    state,
                    work,
                    &subject,
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
        let existing = live_match(&self.read(), &subject, &candidate.content, latest_only)?
            .map(|(version, entry)| schema_reply(&subject, version, entry))
            .transpose()?;
        if let Some(out) = existing {
            self.log
                .flush()
                .await
                .map_err(|e| Error::store("Register", e))?;
            return Ok(out);
        }
        self.write_with_work("Register", &mut work, |state, work| {
            if let Some((version, entry)) =
                live_match(state, &subject, &candidate.content, latest_only)?
            {
                return Ok(Some((vec![], schema_reply(&subject, version, entry)?)));
            }
            // A STRONG association's subject belongs to its topic alone.
            if let Some(r) = candidate.content.references.iter().find(|r| {
                state
                    .associations_of_subject(&context::qualify_with_parent(&subject, &r.subject))
                    .any(|(_, a)| a.lifecycle == associations::STRONG)
            }) {
                return Err(Error::StrongAssociationReferenced(r.subject.clone()));
            }
            let mode = effective_mode(state, &subject);
            let import = mode.takes_ids();
            match (req.id, mode) {
                (Some(_), m) if m.takes_ids() => {}
                (None, Mode::ReadWrite) => {}
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
                let level = effective_level(state, &subject, self.info.compatibility_level);
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
            let space = context::of(&subject);
            let id = match req.id {
                Some(id) => {
                    let differs = match state.schema(space, id) {
                        Some(existing) => !existing.same(&candidate.content)?,
                        None => false,
                    };
                    if differs {
                        return Err(Error::IdOverwrite {
                            id,
                            subject: subject.clone(),
                        });
                    }
                    id
                }
                None => match state.id_of(space, &candidate.content)? {
                    Some(id) => id,
                    // An id imported as 2^31-1 leaves no new one.
                    None => state.max_id(space).checked_add(1).ok_or_else(|| {
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
                metadata: content.metadata.as_deref().cloned(),
                rule_set: content.rule_set.as_deref().cloned(),
                schema: content.text()?.into_owned(),
                deleted: false,
                extra: Default::default(),
            };
            let mut records = Vec::new();
            // A context's first schema makes the context, as in Confluent.
            if space != context::DEFAULT && !state.has_context(space) {
                records.push(Record::Context {
                    tenant: DEFAULT_TENANT.to_owned(),
                    context: space.to_owned(),
                    live: true,
                });
            }
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
                ..content_reply(id, content)?
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

    /// The schema of a registration with its tags changed: those to add and
    /// remove, then (`propagate_schema_tags`) those of the latest version.
    async fn tagged_request_schema(
        &self,
        req: &api::RegisterSchemaRequest,
    ) -> Result<String, Error> {
        let add = tags::tags_of(&req.schema_tags_to_add)?;
        let remove = tags::tags_of(&req.schema_tags_to_remove)?;
        let (stand_in, previous) = {
            let state = self.read();
            let references = resolve_references(&state, &req.subject, &req.references)?;
            let schema_type = if req.schema_type.is_empty() {
                SchemaType::Avro.to_string()
            } else {
                req.schema_type.clone()
            };
            let previous = state
                .versions(&req.subject)
                .and_then(|vs| vs.values().rev().find(|e| !e.deleted))
                .map(|e| e.content.clone());
            (
                SchemaContent::new(schema_type, String::new(), references, None, None),
                previous,
            )
        };
        let mut text = req.schema.clone();
        if !add.is_empty() || !remove.is_empty() {
            text = self
                .retag(&req.subject, &stand_in, &text, &add, &remove)
                .await?;
        }
        if let Some(previous) = previous.filter(|_| req.propagate_schema_tags) {
            // A latest version that no longer parses has no tags to give.
            let carried = match self
                .parse_stored(&req.subject, &previous, Output::Canonical)
                .await
            {
                Ok(parsed) => self.tagged_parts(parsed).await?,
                Err(e) => {
                    tracing::warn!(error = %e, "the latest version could not be read for its tags");
                    Vec::new()
                }
            };
            if !carried.is_empty() {
                text = self
                    .retag(&req.subject, &stand_in, &text, &carried, &Vec::new())
                    .await?;
            }
        }
        Ok(text)
    }

    pub async fn lookup_schema(
        &self,
        mut req: api::LookupSchemaRequest,
    ) -> Result<api::Schema, Error> {
        req.subject = resolve_subject(&self.read(), context::normalize(req.subject));
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
                &req.subject,
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
            let found = find_ok(versions.iter().rev(), |(_, e)| {
                Ok((req.deleted || !e.deleted) && same_schema(&e.content, &candidate.content)?)
            })?;
            let (version, entry) = found.ok_or(Error::SchemaNotFound)?;
            Ok(Some(schema_reply(&req.subject, *version, entry)?))
        })
        .await
    }

    pub async fn get_schema_by_id(
        &self,
        req: api::GetSchemaByIdRequest,
    ) -> Result<api::Schema, Error> {
        let (mut reply, content, space) = {
            let state = self.read();
            let (space, user) = find_id(&state, req.id, req.subject.as_deref())
                .ok_or(Error::SchemaIdNotFound(req.id))?;
            let content = state
                .schema(space, req.id)
                .ok_or(Error::SchemaIdNotFound(req.id))?;
            let mut reply = content_reply(req.id, content)?;
            // With a subject (even an empty one) Confluent names a use of
            // the id: that subject's, else the first in its context.
            if req.subject.is_some()
                && let Some((subject, version)) = user
            {
                reply.subject = subject.to_string();
                reply.version = *version;
            }
            if req.fetch_max_id {
                reply.max_id = Some(state.max_id(space));
            }
            (reply, content.clone(), context::qualify(space, ""))
        };
        self.finish_read(&space, &content, &req.format, &req.find_tags, &mut reply)
            .await;
        Ok(reply)
    }

    /// What a read of a stored schema asks beyond its text, from one
    /// parse: the text in an output `format` (Confluent's `resolved` for
    /// AVRO, referenced types written in full; `serialized` for PROTOBUF, a
    /// base64 FileDescriptorProto; formats that do not apply are ignored, as
    /// Confluent ignores them) and the parts tagged with `find_tags`.
    pub(super) async fn finish_read(
        &self,
        parent: &str,
        content: &SchemaContent,
        format: &str,
        find_tags: &[String],
        reply: &mut api::Schema,
    ) {
        let output = match format {
            "resolved" if content.schema_type == "AVRO" && !content.references.is_empty() => {
                Some(Output::Resolved)
            }
            "serialized" if content.schema_type == "PROTOBUF" => Some(Output::Serialized),
            _ => None,
        };
        if output.is_none() && find_tags.is_empty() {
            return;
        }
        let parsed = match self
            .parse_stored(parent, content, output.unwrap_or(Output::Canonical))
            .await
        {
            Ok(parsed) => parsed,
            Err(e) => {
                tracing::warn!(error = %e, "a stored schema could not be read; returning it as stored");
                return;
            }
        };
        if output.is_some() {
            reply.schema = parsed.text.clone();
        }
        if !find_tags.is_empty() {
            match self.tagged_parts(parsed).await {
                Ok(all) => reply.schema_tags = tags::found_tags(all, find_tags),
                Err(e) => tracing::warn!(error = %e, "a stored schema's tags could not be listed"),
            }
        }
    }

    /// A stored schema, parsed (its references in `parent`'s context).
    pub(super) async fn parse_stored(
        &self,
        parent: &str,
        content: &SchemaContent,
        output: Output,
    ) -> Result<Arc<Parsed>, Error> {
        let schema_type = content
            .schema_type
            .parse::<SchemaType>()
            .map_err(|_| Error::InvalidSchemaType(content.schema_type.clone()))?;
        let text = content.text()?;
        let mut work = self.work();
        self.with_work(&mut work, |state, work| {
            work.parse(
                state,
                parent,
                schema_type,
                &text,
                &content.references,
                output,
            )
        })
        .await
    }

    pub async fn list_schema_id_versions(
        &self,
        req: api::ListSchemaIdVersionsRequest,
    ) -> Result<api::SubjectVersions, Error> {
        let state = self.read();
        // Only the schema itself names the id in its 40403.
        let (space, _) =
            find_id(&state, req.id, req.subject.as_deref()).ok_or(Error::SchemaNotFound)?;
        let subject_versions = id_uses(&state, space, req.id, req.deleted)
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
        let (space, _) =
            find_id(&state, req.id, req.subject.as_deref()).ok_or(Error::SchemaNotFound)?;
        let subjects: BTreeSet<&Arc<str>> = id_uses(&state, space, req.id, req.deleted)
            .map(|(s, _)| s)
            .collect();
        Ok(api::Subjects {
            subjects: subjects.into_iter().map(|s| s.to_string()).collect(),
        })
    }

    pub async fn list_schemas(&self, req: api::ListSchemasRequest) -> Result<api::Schemas, Error> {
        self.list_schemas_where(req, |_| true).await
    }

    /// [`Self::list_schemas`] of the subjects `visible` accepts, filtered
    /// before paging.
    pub async fn list_schemas_where(
        &self,
        req: api::ListSchemasRequest,
        visible: impl Fn(&str) -> bool,
    ) -> Result<api::Schemas, Error> {
        let state = self.read();
        // Paged before the texts are read: a text may be in the log.
        let mut listed = Vec::new();
        for (subject, versions) in state
            .subjects()
            .filter(|(s, _)| context::matches_prefix(&req.subject_prefix, s))
            .filter(|(s, _)| visible(s))
        {
            let mut visible = versions
                .iter()
                .filter(|(_, e)| req.deleted || !e.deleted)
                .map(|(v, e)| (subject, *v, e));
            if req.latest_only {
                listed.extend(visible.next_back());
            } else {
                listed.extend(visible);
            }
        }
        let schemas = page(listed, req.offset, req.limit, Some(SEARCH_LIMIT))
            .into_iter()
            .map(|(subject, v, e)| schema_reply(subject, v, e))
            .collect::<Result<_, _>>()?;
        Ok(api::Schemas { schemas })
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
        let (mut reply, content, space) = {
            let state = self.read();
            let not_found = || Error::SchemaGuidNotFound(req.guid.clone());
            let guid = guid::parse(&req.guid).ok_or_else(not_found)?;
            let (space, id) = guid_ids(&state, &guid).next().ok_or_else(not_found)?;
            let content = state.schema(space, id).ok_or_else(not_found)?;
            (
                content_reply(id, content)?,
                content.clone(),
                context::qualify(space, ""),
            )
        };
        self.finish_read(&space, &content, &req.format, &[], &mut reply)
            .await;
        Ok(reply)
    }

    pub async fn list_guid_ids(
        &self,
        req: api::ListGuidIdsRequest,
    ) -> Result<api::ContextIds, Error> {
        let state = self.read();
        let guid =
            guid::parse(&req.guid).ok_or_else(|| Error::SchemaGuidNotFound(req.guid.clone()))?;
        let ids: Vec<api::ContextId> = guid_ids(&state, &guid)
            .map(|(context, id)| api::ContextId {
                context: context.to_owned(),
                id,
            })
            .collect();
        if ids.is_empty() {
            return Err(Error::SchemaGuidNotFound(req.guid));
        }
        Ok(api::ContextIds { ids })
    }
}

/// Same type, text and references (metadata and rule set aside), or the
/// error reading a text.
pub(super) fn same_schema(a: &SchemaContent, b: &SchemaContent) -> Result<bool, Error> {
    Ok(a.schema_type == b.schema_type
        && a.references == b.references
        && a.schema.same(&b.schema)?)
}

/// The first of `items` for which `test` holds, or the first error it gives.
pub(super) fn find_ok<T>(
    items: impl IntoIterator<Item = T>,
    mut test: impl FnMut(&T) -> Result<bool, Error>,
) -> Result<Option<T>, Error> {
    for item in items {
        if test(&item)? {
            return Ok(Some(item));
        }
    }
    Ok(None)
}

/// The newest live version of `subject` holding this exact content; with
/// `latest_only` (a registration naming version -1), only the newest live
/// version counts.
pub(super) fn live_match<'s>(
    state: &'s State,
    subject: &str,
    content: &SchemaContent,
    latest_only: bool,
) -> Result<Option<(Version, &'s VersionEntry)>, Error> {
    let Some(versions) = state.versions(subject) else {
        return Ok(None);
    };
    let live = versions.iter().rev().filter(|(_, e)| !e.deleted);
    let found = if latest_only {
        find_ok(live.take(1), |(_, e)| e.content.same(content))?
    } else {
        find_ok(live, |(_, e)| e.content.same(content))?
    };
    Ok(found.map(|(v, e)| (*v, e)))
}

/// Every use of an id; a subject in the request only chooses where to look
/// (its context), as in Confluent, so it filters nothing here.
pub(super) fn id_uses<'s>(
    state: &'s State,
    space: &'s str,
    id: SchemaId,
    deleted: bool,
) -> impl Iterator<Item = (&'s Arc<str>, Version)> {
    state
        .id_users(space, id)
        .filter(move |(s, v)| {
            deleted
                || state
                    .versions(s)
                    .and_then(|vs| vs.get(v))
                    .is_some_and(|e| !e.deleted)
        })
        .map(|(s, v)| (s, *v))
}

/// A subject version using an id.
type IdUse = (Arc<str>, Version);

/// Where Confluent looks an id up (`getSchemaKeyUsingContexts`): in the
/// context of the subject given (the default one without), at that
/// subject's use of the id if it has one; a plain subject that does not
/// use it there is looked for in every other context; else any use of the
/// id in the context. `None` when the context does not have the id.
pub(super) fn find_id<'s>(
    state: &'s State,
    id: SchemaId,
    subject: Option<&str>,
) -> Option<(&'s str, Option<&'s IdUse>)> {
    let subject = subject.map(|s| context::normalize(s.to_owned()));
    let wanted = subject.as_deref().map(context::parse);
    let space = match wanted {
        Some(q) if q.context != "*" => q.context,
        _ => context::DEFAULT,
    };
    // The context as the state names it, for the lifetime of the answer.
    let space = state.id_context(space)?;
    let named = |space: &'s str, name: &str| {
        state
            .id_users(space, id)
            .find(|(s, _)| **s == *context::qualify(space, name))
    };
    if let Some(q) = wanted.filter(|q| !q.name.is_empty()) {
        if let Some(user) = named(space, q.name) {
            return Some((space, Some(user)));
        }
        if q.context == context::DEFAULT {
            for other in state.id_contexts().filter(|c| *c != context::DEFAULT) {
                if let Some(user) = named(other, q.name) {
                    return Some((other, Some(user)));
                }
            }
        }
    }
    state.schema(space, id)?;
    Some((space, state.id_users(space, id).next()))
}

/// The ids holding a guid, by context, the default context first.
fn guid_ids<'s>(
    state: &'s State,
    guid: &'s guid::Guid,
) -> impl Iterator<Item = (&'s str, SchemaId)> {
    state
        .id_contexts()
        .flat_map(move |space| state.ids_of_guid(space, guid).map(move |id| (space, id)))
}

/// A plain subject the default context does not have, found in another
/// context (`:.ctx:name`) when one has it, as Confluent's reads fall back.
pub(super) fn resolve_subject(state: &State, subject: String) -> String {
    if state.versions(&subject).is_some() || context::of(&subject) != context::DEFAULT {
        return subject;
    }
    state
        .contexts()
        .map(|c| context::qualify(c, &subject))
        .find(|qualified| state.versions(qualified).is_some())
        .unwrap_or(subject)
}
