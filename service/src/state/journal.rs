//! Undoing applied records: a writer on a shared log builds several writes
//! ahead, each on the state with the ones before it applied, and no reader
//! may ever see those speculative records. So each is applied with a
//! [`Journal`] that keeps the previous value of every entry the record can
//! change, and [`State::undo`] puts them back before the lock is released.
//!
//! The journal saves whole entries, chosen from the record and the state
//! before it applies, rather than hooking every change inside `apply`: the
//! rules of `apply` stay in one place, and the tests below check, for every
//! kind of record, that apply then undo leaves the state as it was.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;
use std::sync::Arc;

use scute_storage::log::Offset;
use scute_storage::record::{AssociationKey, ConfigValue, KeyStamp, ModeValue, Record};

use super::{AssociationEntry, IdEntry, State, Versions};
use crate::context;
use crate::guid::{self, Guid};
use crate::model::{SchemaId, Version};

/// What records applied with [`State::apply_journaled`] changed.
#[derive(Debug, Default)]
pub struct Journal(Vec<Saved>);

impl Journal {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One entry as it was before a record changed it (`None`: absent).
#[derive(Debug)]
enum Saved {
    Counters {
        applied: u64,
        position: Offset,
    },
    /// The subject's versions, with the map's own key (shared by the ids'
    /// users).
    Subject(String, Option<(Arc<str>, Versions)>),
    /// A context that held no ids: undone by removing its id space.
    NewSpace(String),
    Id(String, SchemaId, Option<IdEntry>),
    Guid(String, Guid, Option<SchemaId>, Option<Vec<SchemaId>>),
    MaxId(String, SchemaId),
    Referrers((String, Version), Option<BTreeSet<(String, Version)>>),
    Config(Option<String>, Option<ConfigValue>, Option<Vec<KeyStamp>>),
    Mode(Option<String>, Option<ModeValue>, Option<Vec<KeyStamp>>),
    Association(AssociationKey, Option<AssociationEntry>),
    ByResourceId(String, Option<BTreeSet<AssociationKey>>),
    BySubject(String, Option<BTreeSet<AssociationKey>>),
    Context(String, Option<Vec<KeyStamp>>),
}

impl State {
    /// [`State::apply_at`], noting in `journal` what the record changes so
    /// that [`State::undo`] can put it back. `guid`: a SCHEMA record's, if
    /// computed ahead with [`guid::of`] (a record applied again and again
    /// is hashed once).
    pub fn apply_journaled(
        &mut self,
        journal: &mut Journal,
        offset: Offset,
        record: Record,
        stamp: Option<KeyStamp>,
        guid: Option<Guid>,
    ) -> bool {
        self.save(&record, guid, journal);
        self.applying_guid = guid;
        let applied = self.apply_at(offset, record, stamp);
        self.applying_guid = None;
        applied
    }

    /// Puts back everything the journaled records changed, newest first.
    pub fn undo(&mut self, journal: Journal) {
        for saved in journal.0.into_iter().rev() {
            self.restore(saved);
        }
    }

    fn save(&self, record: &Record, guid: Option<Guid>, journal: &mut Journal) {
        let saved = &mut journal.0;
        saved.push(Saved::Counters {
            applied: self.applied,
            position: self.position,
        });
        match record {
            Record::Schema {
                subject,
                version,
                value,
            } => {
                let mut touched = Touched::default();
                if let Some(entry) = self.versions(subject).and_then(|vs| vs.get(version)) {
                    touched.version(subject, entry);
                }
                if let Some(value) = value {
                    touched.ids.push(value.id);
                    touched.guids.push(guid.unwrap_or_else(|| {
                        guid::of(
                            &value.schema,
                            &value.references,
                            value.metadata.as_ref(),
                            value.rule_set.as_ref(),
                        )
                    }));
                    for r in &value.references {
                        touched
                            .targets
                            .push((context::qualify_with_parent(subject, &r.subject), r.version));
                    }
                }
                self.save_subject(subject, touched, saved);
            }
            Record::ClearSubject { subject } => {
                let mut touched = Touched::default();
                for entry in self
                    .versions(subject)
                    .into_iter()
                    .flat_map(|vs| vs.values())
                {
                    if entry.deleted {
                        touched.version(subject, entry);
                    }
                }
                self.save_subject(subject, touched, saved);
            }
            Record::DeleteSubject {
                subject,
                value: Some(_),
            } => saved.push(self.saved_subject(subject)),
            Record::DeleteSubject { value: None, .. } => {}
            Record::Config { subject, .. } => saved.push(Saved::Config(
                subject.clone(),
                self.configs.get(subject).cloned(),
                self.config_stamps.get(subject).cloned(),
            )),
            Record::Mode { subject, .. } => saved.push(Saved::Mode(
                subject.clone(),
                self.modes.get(subject).cloned(),
                self.mode_stamps.get(subject).cloned(),
            )),
            Record::Association { key, value } => {
                let old = self.associations.get(key);
                saved.push(Saved::Association(key.clone(), old.cloned()));
                let ids = old
                    .map(|o| &o.value.resource_id)
                    .into_iter()
                    .chain(value.as_ref().map(|v| &v.resource_id));
                for id in ids {
                    saved.push(Saved::ByResourceId(
                        id.clone(),
                        self.associations_by_resource_id.get(id).cloned(),
                    ));
                }
                saved.push(Saved::BySubject(
                    key.subject.clone(),
                    self.associations_by_subject.get(&key.subject).cloned(),
                ));
            }
            Record::Context { context, .. } => saved.push(Saved::Context(
                context.clone(),
                self.contexts.get(context).cloned(),
            )),
            Record::Noop | Record::Unknown { .. } => {}
        }
    }

    fn saved_subject(&self, subject: &str) -> Saved {
        Saved::Subject(
            subject.to_owned(),
            self.subjects
                .get_key_value(subject)
                .map(|(k, v)| (k.clone(), v.clone())),
        )
    }

    /// Saves a subject's versions and what its schema records may change
    /// beside them: ids, the guid index, the highest id, referrers.
    fn save_subject(&self, subject: &str, mut touched: Touched, saved: &mut Vec<Saved>) {
        saved.push(self.saved_subject(subject));
        let space_name = context::of(subject);
        match self.spaces.get(space_name) {
            None => saved.push(Saved::NewSpace(space_name.to_owned())),
            Some(space) => {
                saved.push(Saved::MaxId(space_name.to_owned(), space.max_id));
                for id in &touched.ids {
                    let entry = space.ids.get(id);
                    if let Some(entry) = entry {
                        touched.guids.push(entry.content.guid);
                    }
                    saved.push(Saved::Id(space_name.to_owned(), *id, entry.cloned()));
                }
                for guid in &touched.guids {
                    saved.push(Saved::Guid(
                        space_name.to_owned(),
                        *guid,
                        space.by_guid.get(guid).copied(),
                        space.guid_collisions.get(guid).cloned(),
                    ));
                }
            }
        }
        for target in touched.targets {
            let old = self.referenced_by.get(&target).cloned();
            saved.push(Saved::Referrers(target, old));
        }
    }

    fn restore(&mut self, saved: Saved) {
        match saved {
            Saved::Counters { applied, position } => {
                self.applied = applied;
                self.position = position;
            }
            Saved::Subject(name, old) => {
                self.subjects.remove(name.as_str());
                if let Some((key, versions)) = old {
                    self.subjects.insert(key, versions);
                }
            }
            Saved::NewSpace(name) => {
                self.spaces.remove(name.as_str());
            }
            Saved::Id(space, id, old) => {
                if let Some(space) = self.spaces.get_mut(space.as_str()) {
                    put_back(&mut space.ids, id, old);
                }
            }
            Saved::Guid(space, guid, first, more) => {
                if let Some(space) = self.spaces.get_mut(space.as_str()) {
                    put_back(&mut space.by_guid, guid, first);
                    put_back(&mut space.guid_collisions, guid, more);
                }
            }
            Saved::MaxId(space, max_id) => {
                if let Some(space) = self.spaces.get_mut(space.as_str()) {
                    space.max_id = max_id;
                }
            }
            Saved::Referrers(target, old) => put_back(&mut self.referenced_by, target, old),
            Saved::Config(subject, value, stamps) => {
                put_back(&mut self.configs, subject.clone(), value);
                put_back(&mut self.config_stamps, subject, stamps);
            }
            Saved::Mode(subject, value, stamps) => {
                put_back(&mut self.modes, subject.clone(), value);
                put_back(&mut self.mode_stamps, subject, stamps);
            }
            Saved::Association(key, old) => put_back_ordered(&mut self.associations, key, old),
            Saved::ByResourceId(id, old) => {
                put_back(&mut self.associations_by_resource_id, id, old);
            }
            Saved::BySubject(subject, old) => {
                put_back(&mut self.associations_by_subject, subject, old);
            }
            Saved::Context(context, old) => put_back_ordered(&mut self.contexts, context, old),
        }
    }
}

/// What a subject's schema records may change beside its versions.
#[derive(Default)]
struct Touched {
    ids: Vec<SchemaId>,
    guids: Vec<Guid>,
    targets: Vec<(String, Version)>,
}

impl Touched {
    /// What removing or rewriting this version changes.
    fn version(&mut self, subject: &str, entry: &super::VersionEntry) {
        self.ids.push(entry.id);
        self.guids.push(entry.content.guid);
        for r in &entry.content.references {
            self.targets
                .push((context::qualify_with_parent(subject, &r.subject), r.version));
        }
    }
}

fn put_back<K: Eq + Hash, V, S: std::hash::BuildHasher>(
    map: &mut HashMap<K, V, S>,
    key: K,
    old: Option<V>,
) {
    match old {
        Some(old) => _ = map.insert(key, old),
        None => _ = map.remove(&key),
    }
}

fn put_back_ordered<K: Ord, V>(map: &mut BTreeMap<K, V>, key: K, old: Option<V>) {
    match old {
        Some(old) => _ = map.insert(key, old),
        None => _ = map.remove(&key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scute_storage::record::{
        AssociationValue, DeleteSubjectValue, SchemaReference, SchemaValue,
    };

    fn schema(subject: &str, version: Version, id: SchemaId, text: &str) -> Record {
        Record::Schema {
            subject: subject.into(),
            version,
            value: Some(SchemaValue {
                subject: subject.into(),
                version,
                id,
                schema_type: None,
                references: vec![],
                metadata: None,
                rule_set: None,
                schema: text.into(),
                deleted: false,
                extra: Default::default(),
            }),
        }
    }

    fn typed(record: Record, schema_type: &str) -> Record {
        match record {
            Record::Schema {
                subject,
                version,
                value: Some(mut v),
            } => {
                v.schema_type = Some(schema_type.into());
                Record::Schema {
                    subject,
                    version,
                    value: Some(v),
                }
            }
            other => other,
        }
    }

    fn referencing(record: Record, subject: &str, version: Version) -> Record {
        match record {
            Record::Schema {
                subject: s,
                version: v,
                value: Some(mut value),
            } => {
                value.references.push(SchemaReference {
                    name: "r".into(),
                    subject: subject.into(),
                    version,
                });
                Record::Schema {
                    subject: s,
                    version: v,
                    value: Some(value),
                }
            }
            other => other,
        }
    }

    fn soft_deleted(record: Record) -> Record {
        match record {
            Record::Schema {
                subject,
                version,
                value: Some(mut v),
            } => {
                v.deleted = true;
                Record::Schema {
                    subject,
                    version,
                    value: Some(v),
                }
            }
            other => other,
        }
    }

    fn tombstone(subject: &str, version: Version) -> Record {
        Record::Schema {
            subject: subject.into(),
            version,
            value: None,
        }
    }

    fn key(subject: &str) -> AssociationKey {
        AssociationKey {
            tenant: "default".into(),
            resource_name: "orders".into(),
            resource_namespace: "lkc-1".into(),
            resource_type: "topic".into(),
            association_type: "value".into(),
            subject: subject.into(),
        }
    }

    fn association(subject: &str, resource_id: Option<&str>) -> Record {
        Record::Association {
            key: key(subject),
            value: resource_id.map(|id| AssociationValue {
                guid: "g".into(),
                resource_id: id.into(),
                lifecycle: "WEAK".into(),
                frozen: false,
                create_ts: None,
                extra: Default::default(),
            }),
        }
    }

    fn config(subject: Option<&str>, level: Option<&str>) -> Record {
        Record::Config {
            subject: subject.map(str::to_owned),
            value: level.map(|level| ConfigValue {
                subject: subject.map(str::to_owned),
                compatibility_level: Some(level.into()),
                normalize: None,
                extra: Default::default(),
            }),
        }
    }

    fn mode(subject: Option<&str>, mode: Option<&str>) -> Record {
        Record::Mode {
            subject: subject.map(str::to_owned),
            value: mode.map(|mode| ModeValue {
                subject: subject.map(str::to_owned),
                mode: mode.into(),
                extra: Default::default(),
            }),
        }
    }

    fn stamp(seq: i64) -> Option<KeyStamp> {
        Some(KeyStamp { seq, node: 7 })
    }

    /// A state holding some of everything, built the same way each time.
    fn populated() -> State {
        let mut s = State::default();
        let records = [
            schema("a", 1, 1, "\"string\""),
            schema("a", 2, 2, "\"int\""),
            schema("b", 1, 1, "\"string\""),
            referencing(schema("c", 1, 3, "\"long\""), "a", 1),
            soft_deleted(schema("d", 1, 4, "\"float\"")),
            schema("d", 2, 5, "\"double\""),
            typed(schema("e", 1, 6, "\"string\""), "JSON"),
            schema(":.ctx:x", 1, 1, "\"bytes\""),
            config(None, Some("FULL")),
            config(Some("a"), Some("NONE")),
            mode(Some("a"), Some("IMPORT")),
            association("a", Some("rid-1")),
            Record::Context {
                context: ".ctx".into(),
                tenant: "default".into(),
                live: true,
            },
        ];
        for (offset, record) in records.into_iter().enumerate() {
            let offset = offset as Offset;
            s.apply_at(offset, record, stamp(offset as i64));
        }
        s
    }

    /// Applies `records` journaled on a populated state, checks they did
    /// something, undoes them and compares with a fresh populated state.
    fn undone(records: Vec<(Record, Option<KeyStamp>)>) {
        let mut s = populated();
        let mut journal = Journal::default();
        for (offset, (record, stamp)) in (s.position()..).zip(records.clone()) {
            s.apply_journaled(&mut journal, offset, record, stamp, None);
        }
        assert!(!journal.is_empty());
        s.undo(journal);
        assert!(s == populated(), "not undone: {records:?}\n{s:#?}");
    }

    #[test]
    fn every_kind_of_record_is_undone() {
        let at = |seq| stamp(seq);
        let position = populated().position() as i64;
        let cases: Vec<Vec<(Record, Option<KeyStamp>)>> = vec![
            // A new subject with a new id, stamped and not.
            vec![(schema("n", 1, 7, "\"boolean\""), at(position))],
            vec![(schema("n", 1, 7, "\"boolean\""), None)],
            // The same content under another subject: the id gains a user.
            vec![(schema("n", 1, 1, "\"string\""), None)],
            // A new version of a subject, referencing another.
            vec![(referencing(schema("a", 3, 7, "\"null\""), "c", 1), None)],
            // A soft delete: the version rewritten with another stamp.
            vec![(soft_deleted(schema("a", 2, 2, "\"int\"")), at(position))],
            // A version rewritten with another id.
            vec![(schema("a", 2, 7, "\"null\""), None)],
            // An id rebound to other content: skipped, counted.
            vec![(schema("n", 1, 2, "\"null\""), None)],
            // A stamped record that lost its race: ignored, counted.
            vec![(schema("n", 1, 7, "\"null\""), at(0))],
            // The same text under another type: a second id for one guid.
            vec![(typed(schema("n", 1, 7, "\"string\""), "PROTOBUF"), None)],
            // Hard deletes: an id's last user, one of two users, a
            // referrer, a referenced version, one of a guid's two ids.
            vec![(tombstone("d", 2), None)],
            vec![(tombstone("b", 1), None)],
            vec![(tombstone("c", 1), None)],
            vec![(tombstone("a", 1), None)],
            vec![(tombstone("e", 1), None)],
            vec![(tombstone("zz", 1), None)],
            // A new context's first schema, and a context's next.
            vec![(schema(":.new:y", 1, 1, "\"string\""), at(position))],
            vec![(schema(":.ctx:y", 1, 2, "\"string\""), None)],
            vec![(
                Record::DeleteSubject {
                    subject: "a".into(),
                    value: Some(DeleteSubjectValue {
                        subject: "a".into(),
                        version: 2,
                        extra: Default::default(),
                    }),
                },
                None,
            )],
            vec![(
                Record::DeleteSubject {
                    subject: "a".into(),
                    value: None,
                },
                None,
            )],
            vec![(
                Record::ClearSubject {
                    subject: "d".into(),
                },
                None,
            )],
            vec![(config(Some("a"), Some("FULL")), at(position))],
            vec![(config(Some("n"), Some("FULL")), at(position))],
            vec![(config(Some("a"), None), None)],
            vec![(config(None, None), None)],
            vec![(mode(Some("a"), Some("READONLY")), at(position))],
            vec![(mode(None, Some("READONLY")), None)],
            vec![(mode(Some("a"), None), None)],
            vec![(association("a", Some("rid-2")), at(position))],
            vec![(association("b", Some("rid-1")), None)],
            vec![(association("a", None), None)],
            vec![(
                Record::Context {
                    context: ".new".into(),
                    tenant: "default".into(),
                    live: true,
                },
                at(position),
            )],
            vec![(
                Record::Context {
                    context: ".ctx".into(),
                    tenant: "default".into(),
                    live: false,
                },
                None,
            )],
            vec![(Record::Noop, None)],
            vec![(
                Record::Unknown {
                    keytype: "OTHER".into(),
                },
                None,
            )],
        ];
        for records in cases {
            undone(records);
        }
    }

    #[test]
    fn a_run_of_records_touching_the_same_entries_is_undone() {
        let position = populated().position() as i64;
        undone(vec![
            (schema("n", 1, 7, "\"boolean\""), stamp(position)),
            (schema("m", 1, 7, "\"boolean\""), stamp(position + 1)),
            (soft_deleted(schema("n", 1, 7, "\"boolean\"")), None),
            (
                Record::ClearSubject {
                    subject: "n".into(),
                },
                None,
            ),
            (tombstone("m", 1), None),
            (typed(schema("o", 1, 8, "\"boolean\""), "JSON"), None),
            (config(Some("n"), Some("FULL")), stamp(position + 6)),
            (config(Some("n"), None), None),
            (association("n", Some("rid-1")), None),
            (association("n", Some("rid-3")), None),
            (tombstone("a", 2), None),
            (tombstone("a", 1), None),
            (tombstone("b", 1), None),
        ]);
    }

    #[test]
    fn the_state_between_journaled_records_is_what_apply_gives() {
        let records = [
            schema("n", 1, 7, "\"boolean\""),
            schema("m", 1, 7, "\"boolean\""),
            tombstone("a", 1),
        ];
        let mut journaled = populated();
        let mut plain = populated();
        let mut journal = Journal::default();
        let offset = journaled.position();
        for (i, record) in records.into_iter().enumerate() {
            let at = offset + i as Offset;
            // The guid computed ahead, as the writer does.
            let guid = guid::of_record(&record);
            journaled.apply_journaled(&mut journal, at, record.clone(), None, guid);
            plain.apply_at(at, record, None);
            assert!(journaled == plain);
        }
        journaled.undo(journal);
        assert!(journaled == populated());
    }
}
