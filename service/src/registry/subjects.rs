//! Subjects and their versions: listing, reading, deleting.

use std::collections::BTreeSet;

use scute_proto::v1 as api;
use scute_storage::record::{DeleteSubjectValue, Record};

use super::reply::{page, schema_reply, schema_value};
use super::schemas::resolve_subject;
use super::settings::check_writable;
use super::{Registry, SEARCH_LIMIT};
use crate::context;
use crate::error::Error;
use crate::model::{SchemaId, Version, VersionSelector};
use crate::state::{State, VersionEntry};

impl Registry {
    pub async fn list_subjects(
        &self,
        req: api::ListSubjectsRequest,
    ) -> Result<api::Subjects, Error> {
        self.list_subjects_where(req, |_| true).await
    }

    /// [`Self::list_subjects`] of the subjects `visible` accepts, filtered
    /// before paging so that pages stay full.
    pub async fn list_subjects_where(
        &self,
        req: api::ListSubjectsRequest,
        visible: impl Fn(&str) -> bool,
    ) -> Result<api::Subjects, Error> {
        let state = self.read();
        let subjects = state
            .subjects()
            .filter(|(s, _)| context::matches_prefix(&req.subject_prefix, s))
            .filter(|(s, _)| visible(s))
            .filter(|(_, vs)| {
                let live = vs.values().any(|e| !e.deleted);
                if req.deleted_only {
                    !live
                } else {
                    live || req.deleted
                }
            })
            .map(|(s, _)| s.to_string())
            .collect();
        Ok(api::Subjects {
            subjects: page(subjects, req.offset, req.limit, None),
        })
    }

    pub async fn list_versions(
        &self,
        mut req: api::ListVersionsRequest,
    ) -> Result<api::Versions, Error> {
        req.subject = context::normalize(req.subject);
        let state = self.read();
        let versions: Vec<Version> = state
            .versions(&req.subject)
            .into_iter()
            .flatten()
            .filter(|(_, e)| {
                if req.deleted_only {
                    e.deleted
                } else {
                    req.deleted || !e.deleted
                }
            })
            .map(|(v, _)| *v)
            .collect();
        if versions.is_empty() {
            return Err(Error::SubjectNotFound(req.subject));
        }
        Ok(api::Versions {
            versions: page(versions, req.offset, req.limit, None),
        })
    }

    pub async fn get_version(&self, mut req: api::GetVersionRequest) -> Result<api::Schema, Error> {
        req.subject = resolve_subject(&self.read(), context::normalize(req.subject));
        let (mut reply, content) = {
            let state = self.read();
            let (version, entry) = find_version(&state, &req.subject, &req.version, req.deleted)?;
            (
                schema_reply(&req.subject, version, entry)?,
                entry.content.clone(),
            )
        };
        self.finish_read(
            &req.subject,
            &content,
            &req.format,
            &req.find_tags,
            &mut reply,
        )
        .await;
        Ok(reply)
    }

    /// Confluent's "latest with metadata": the newest version whose metadata
    /// properties hold every requested key with its value.
    pub async fn get_latest_with_metadata(
        &self,
        mut req: api::GetLatestWithMetadataRequest,
    ) -> Result<api::Schema, Error> {
        req.subject = context::normalize(req.subject);
        let (mut reply, content) = {
            let state = self.read();
            let versions = state
                .versions(&req.subject)
                .filter(|vs| req.deleted || vs.values().any(|e| !e.deleted))
                .ok_or_else(|| Error::SubjectNotFound(req.subject.clone()))?;
            let holds_all = |entry: &VersionEntry| {
                let properties = entry
                    .content
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get("properties"))
                    .and_then(serde_json::Value::as_object);
                properties.is_some_and(|props| {
                    req.metadata
                        .iter()
                        .all(|(k, v)| props.get(k).and_then(serde_json::Value::as_str) == Some(v))
                })
            };
            let (version, entry) = versions
                .iter()
                .rev()
                .find(|(_, e)| (req.deleted || !e.deleted) && holds_all(e))
                .ok_or(Error::SchemaNotFound)?;
            (
                schema_reply(&req.subject, *version, entry)?,
                entry.content.clone(),
            )
        };
        self.finish_read(&req.subject, &content, &req.format, &[], &mut reply)
            .await;
        Ok(reply)
    }

    pub async fn get_referenced_by(
        &self,
        mut req: api::GetReferencedByRequest,
    ) -> Result<api::SchemaIds, Error> {
        req.subject = context::normalize(req.subject);
        let state = self.read();
        let (version, _) = find_version(&state, &req.subject, &req.version, req.deleted)?;
        let ids: BTreeSet<SchemaId> = state
            .referrers(&req.subject, version)
            .filter_map(|(s, v)| state.versions(s)?.get(v))
            .filter(|e| req.deleted || !e.deleted)
            .map(|e| e.id)
            .collect();
        Ok(api::SchemaIds {
            ids: page(
                ids.into_iter().collect(),
                req.offset,
                req.limit,
                Some(SEARCH_LIMIT),
            ),
        })
    }

    pub async fn delete_subject(
        &self,
        mut req: api::DeleteSubjectRequest,
    ) -> Result<api::Versions, Error> {
        req.subject = context::normalize(req.subject);
        let subject = req.subject;
        self.write("Delete subject", |state| {
            let versions = state
                .versions(&subject)
                .ok_or_else(|| Error::SubjectNotFound(subject.clone()))?;
            check_writable(state, &subject)?;
            let live: Vec<Version> = versions
                .iter()
                .filter(|(_, e)| !e.deleted)
                .map(|(v, _)| *v)
                .collect();
            check_unreferenced(state, &subject, req.permanent)?;
            if state.associations_of_subject(&subject).next().is_some() {
                return Err(Error::AssociationForSubjectExists(subject.clone()));
            }
            if req.permanent {
                if !live.is_empty() {
                    return Err(Error::SubjectNotSoftDeleted(subject.clone()));
                }
                let all: Vec<Version> = versions.keys().copied().collect();
                return Ok((purge(state, &subject), api::Versions { versions: all }));
            }
            let Some(&latest) = live.last() else {
                return Err(Error::SubjectSoftDeleted(subject.clone()));
            };
            let record = Record::DeleteSubject {
                subject: subject.clone(),
                value: Some(DeleteSubjectValue {
                    subject: subject.clone(),
                    version: latest,
                    extra: Default::default(),
                }),
            };
            Ok((vec![record], api::Versions { versions: live }))
        })
        .await
    }

    pub async fn delete_version(
        &self,
        mut req: api::DeleteVersionRequest,
    ) -> Result<api::DeletedVersion, Error> {
        req.subject = context::normalize(req.subject);
        let selector = VersionSelector::parse(&req.version)?;
        let subject = req.subject;
        self.write("Delete schema version", |state| {
            let versions = state
                .versions(&subject)
                .ok_or_else(|| Error::SubjectNotFound(subject.clone()))?;
            // Confluent's order: the version, then whether it is already
            // soft-deleted, then the mode, then its referrers.
            let (version, entry) = match selector {
                // `latest` is the newest live version, for either delete.
                VersionSelector::Latest => versions
                    .iter()
                    .rev()
                    .find(|(_, e)| !e.deleted)
                    .ok_or_else(|| Error::VersionNotFound("-1".into()))?,
                VersionSelector::Number(n) => versions
                    .get_key_value(&n)
                    .ok_or_else(|| Error::VersionNotFound(n.to_string()))?,
            };
            let version = *version;
            if !req.permanent && entry.deleted {
                return Err(Error::VersionSoftDeleted(subject.clone(), version));
            }
            check_writable(state, &subject)?;
            if referenced(state, &subject, version, req.permanent, |_| true) {
                return Err(Error::ReferenceExists(subject.clone(), version));
            }
            let associated = state.associations_of_subject(&subject).next().is_some();
            let mut records = Vec::new();
            let value = if req.permanent {
                if !entry.deleted {
                    return Err(Error::VersionNotSoftDeleted(subject.clone(), version));
                }
                if associated {
                    return Err(Error::AssociationForSubjectExists(subject.clone()));
                }
                // The subject's last version gone for good takes its config
                // and mode with it.
                if versions.len() == 1 {
                    records.extend(settings_tombstones(state, &subject));
                }
                None
            } else {
                // An associated subject keeps a live version.
                let last_live = !versions.iter().any(|(v, e)| *v != version && !e.deleted);
                if associated && last_live {
                    return Err(Error::NoActiveSubjectVersion(subject.clone()));
                }
                Some(schema_value(&subject, version, entry, true)?)
            };
            records.insert(
                0,
                Record::Schema {
                    subject: subject.clone(),
                    version,
                    value,
                },
            );
            Ok((records, api::DeletedVersion { version }))
        })
        .await
    }
}

pub(super) fn find_version<'s>(
    state: &'s State,
    subject: &str,
    version: &str,
    deleted: bool,
) -> Result<(Version, &'s VersionEntry), Error> {
    let selector = VersionSelector::parse(version)?;
    let versions = state
        .versions(subject)
        .ok_or_else(|| Error::SubjectNotFound(subject.to_owned()))?;
    match selector {
        // `latest` is the newest live version even when deleted ones are
        // asked for; with none live, Confluent answers "Version -1".
        VersionSelector::Latest => match versions.iter().rev().find(|(_, e)| !e.deleted) {
            Some((v, e)) => Ok((*v, e)),
            None if deleted => Err(Error::VersionNotFound("-1".into())),
            None => Err(Error::SubjectNotFound(subject.to_owned())),
        },
        VersionSelector::Number(n) => match versions.get(&n) {
            Some(e) if deleted || !e.deleted => Ok((n, e)),
            _ => Err(Error::VersionNotFound(n.to_string())),
        },
    }
}

/// Whether a version has referrers that stop its delete (those `from`
/// accepts): live ones stop any delete; soft-deleted ones, as in Confluent,
/// only a permanent one.
fn referenced(
    state: &State,
    subject: &str,
    version: Version,
    permanent: bool,
    from: impl Fn(&str) -> bool,
) -> bool {
    state.referrers(subject, version).any(|(s, v)| {
        from(s)
            && (permanent
                || state
                    .versions(s)
                    .and_then(|vs| vs.get(v))
                    .is_some_and(|e| !e.deleted))
    })
}

/// A subject other subjects reference cannot be deleted.
pub(super) fn check_unreferenced(
    state: &State,
    subject: &str,
    permanent: bool,
) -> Result<(), Error> {
    let versions = state.versions(subject).into_iter().flat_map(|vs| vs.keys());
    for version in versions {
        if referenced(state, subject, *version, permanent, |s| s != subject) {
            return Err(Error::ReferenceExists(subject.to_owned(), *version));
        }
    }
    Ok(())
}

/// The records that remove a subject for good: every version, its config and
/// its mode.
pub(super) fn purge(state: &State, subject: &str) -> Vec<Record> {
    let mut records: Vec<Record> = state
        .versions(subject)
        .into_iter()
        .flat_map(|vs| vs.keys())
        .map(|v| Record::Schema {
            subject: subject.to_owned(),
            version: *v,
            value: None,
        })
        .collect();
    records.extend(settings_tombstones(state, subject));
    records
}

/// The records that drop a subject's own config and mode.
fn settings_tombstones(state: &State, subject: &str) -> Vec<Record> {
    let mut records = Vec::new();
    if state.config(Some(subject)).is_some() {
        records.push(Record::Config {
            subject: Some(subject.to_owned()),
            value: None,
        });
    }
    if state.mode(Some(subject)).is_some() {
        records.push(Record::Mode {
            subject: Some(subject.to_owned()),
            value: None,
        });
    }
    records
}

/// A subject deleted softly, then permanently, in one write (a STRONG
/// association's subject, going with it).
pub(super) fn remove_subject(state: &State, subject: &str) -> Result<Vec<Record>, Error> {
    let Some(versions) = state.versions(subject) else {
        return Ok(Vec::new());
    };
    check_writable(state, subject)?;
    check_unreferenced(state, subject, true)?;
    let mut records = Vec::new();
    if let Some(latest) = versions
        .iter()
        .rev()
        .find(|(_, e)| !e.deleted)
        .map(|(v, _)| *v)
    {
        records.push(Record::DeleteSubject {
            subject: subject.to_owned(),
            value: Some(DeleteSubjectValue {
                subject: subject.to_owned(),
                version: latest,
                extra: Default::default(),
            }),
        });
    }
    records.extend(purge(state, subject));
    Ok(records)
}
