//! The in-memory view of the log: every read is served from here.
//!
//! `State::apply` is the only way state changes. It is deterministic and
//! total: any node that applies the same records in the same order reaches
//! the same state, whoever wrote them (Scute, Confluent, Karapace), and a
//! record that cannot apply is logged and skipped, never fatal.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::context;
use crate::error::Error;
use crate::guid::{self, Guid};
use crate::model::{SchemaId, Version};
use scute_storage::log::Offset;
use scute_storage::record::{
    AssociationKey, AssociationValue, ConfigValue, KeyStamp, ModeValue, Record, SchemaReference,
    SchemaValue,
};

mod journal;
pub mod snapshot;
mod text;
mod text_cache;
pub use journal::Journal;
pub use text::{LogTexts, SchemaText};

/// A schema's content, shared by every subject version that holds it.
///
/// Two registrations are "the same schema" when type, text, references,
/// metadata and rule set are all equal, as Confluent compares them; the guid
/// (a hash of all but the type) is compared first, so equality is cheap.
#[derive(Debug, PartialEq)]
pub struct SchemaContent {
    pub guid: Guid,
    /// `AVRO`, `PROTOBUF` or `JSON`.
    pub schema_type: String,
    /// Read it with [`SchemaContent::text`]: it may be in the log.
    pub schema: SchemaText,
    pub references: Vec<SchemaReference>,
    /// Boxed: a `Value` is 80 bytes inline and nearly every schema has none.
    pub metadata: Option<Box<serde_json::Value>>,
    pub rule_set: Option<Box<serde_json::Value>>,
}

impl SchemaContent {
    pub fn new(
        schema_type: String,
        schema: String,
        references: Vec<SchemaReference>,
        metadata: Option<serde_json::Value>,
        rule_set: Option<serde_json::Value>,
    ) -> Self {
        let guid = guid::of(&schema, &references, metadata.as_ref(), rule_set.as_ref());
        Self::with_guid(
            guid,
            schema_type,
            schema.into(),
            references,
            metadata,
            rule_set,
        )
    }

    /// Like [`SchemaContent::new`], with the guid `guid::of` gave for these
    /// fields, computed ahead (a replay hashes on another thread), and the
    /// text possibly left in the log.
    pub fn with_guid(
        guid: Guid,
        schema_type: String,
        schema: SchemaText,
        references: Vec<SchemaReference>,
        metadata: Option<serde_json::Value>,
        rule_set: Option<serde_json::Value>,
    ) -> Self {
        Self {
            guid,
            schema_type,
            schema,
            references,
            metadata: metadata.map(Box::new),
            rule_set: rule_set.map(Box::new),
        }
    }

    /// The schema's text (read from the log if it was left there).
    pub fn text(&self) -> Result<Cow<'_, str>, Error> {
        self.schema.read()
    }

    /// Whether two contents are the same schema, or the error reading a text.
    pub fn same(&self, other: &Self) -> Result<bool, Error> {
        let rest_equal = self.guid == other.guid
            && self.schema_type == other.schema_type
            && self.references == other.references
            && self.metadata == other.metadata
            && self.rule_set == other.rule_set;
        Ok(rest_equal && self.schema.same(&other.schema)?)
    }
}

/// One version of a subject.
#[derive(Debug, Clone)]
#[cfg_attr(test, derive(PartialEq))]
pub struct VersionEntry {
    pub id: SchemaId,
    pub deleted: bool,
    pub content: Arc<SchemaContent>,
    /// Fields of the record Scute does not use (written by another
    /// registry), passed through when Scute rewrites the record.
    pub extra: Option<Box<serde_json::Map<String, serde_json::Value>>>,
    /// The stamps of the keys this version was written under on a shared
    /// topic: each stamped key is a key of its own to compaction, so a hard
    /// delete must tombstone every one of them. Empty elsewhere.
    pub stamps: Vec<KeyStamp>,
}

/// A subject's versions in order: a sorted vector, since most subjects hold
/// a handful of versions and a tree's node costs hundreds of bytes.
#[derive(Debug, Default, Clone)]
#[cfg_attr(test, derive(PartialEq))]
pub struct Versions(Vec<(Version, VersionEntry)>);

impl Versions {
    fn position(&self, version: Version) -> Result<usize, usize> {
        self.0.binary_search_by_key(&version, |(v, _)| *v)
    }

    pub fn get(&self, version: &Version) -> Option<&VersionEntry> {
        self.get_key_value(version).map(|(_, e)| e)
    }

    pub fn get_key_value(&self, version: &Version) -> Option<(&Version, &VersionEntry)> {
        let at = self.position(*version).ok()?;
        self.0.get(at).map(|(v, e)| (v, e))
    }

    /// Versions with their entries, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Version, &VersionEntry)> {
        self.0.iter().map(|(v, e)| (v, e))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Version> {
        self.0.iter().map(|(v, _)| v)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &VersionEntry> {
        self.0.iter().map(|(_, e)| e)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn insert(&mut self, version: Version, entry: VersionEntry) {
        match self.position(version) {
            Ok(at) => self.0[at].1 = entry,
            Err(at) => insert_tight(&mut self.0, at, (version, entry)),
        }
    }

    fn remove(&mut self, version: &Version) -> Option<VersionEntry> {
        let at = self.position(*version).ok()?;
        Some(self.0.remove(at).1)
    }

    fn mark_deleted_up_to(&mut self, version: Version) {
        for (_, entry) in self.0.iter_mut().take_while(|(v, _)| *v <= version) {
            entry.deleted = true;
        }
    }
}

impl<'a> IntoIterator for &'a Versions {
    type Item = (&'a Version, &'a VersionEntry);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Version, VersionEntry)>,
        fn(&'a (Version, VersionEntry)) -> (&'a Version, &'a VersionEntry),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(v, e)| (v, e))
    }
}

/// An association, and the stamped keys it was written under on a shared
/// topic (as for [`VersionEntry::stamps`], a delete tombstones each).
#[derive(Debug, Clone)]
#[cfg_attr(test, derive(PartialEq))]
struct AssociationEntry {
    value: AssociationValue,
    stamps: Vec<KeyStamp>,
}

/// A registered schema id and what it holds.
#[derive(Debug, Clone)]
#[cfg_attr(test, derive(PartialEq))]
struct IdEntry {
    content: Arc<SchemaContent>,
    /// The subject versions that use the id, sorted; when the last goes
    /// (hard delete), the id stops resolving. A vector, not a set: nearly
    /// every id has one user, and a set's node costs hundreds of bytes.
    users: Vec<(Arc<str>, Version)>,
}

/// A map keyed by ids, guids or log positions, on every lookup's path and
/// filled a million times at start: foldhash, several times SipHash's
/// speed, still seeded at random per process so that keys a client
/// chooses (an imported id, a schema text's guid) cannot be aimed at one
/// bucket.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The ids of one context: each context numbers its schemas on its own.
#[derive(Debug, Default)]
#[cfg_attr(test, derive(PartialEq))]
struct IdSpace {
    ids: FastMap<SchemaId, IdEntry>,
    /// Ids by guid, for "same schema, same id" across subjects and for
    /// lookups by guid: the first id with each guid.
    by_guid: FastMap<Guid, SchemaId>,
    /// Further ids sharing a guid: the same text under another schema type.
    /// Almost always empty.
    guid_collisions: FastMap<Guid, Vec<SchemaId>>,
    /// Highest id ever seen: never lowered, so ids are never reused.
    max_id: SchemaId,
}

impl IdSpace {
    /// Indexes an id by its guid. The lowest id is the one in `by_guid` and
    /// the others are sorted, so the index is the same whatever order the
    /// ids came in (a snapshot rebuilds it in id order).
    fn index_guid(&mut self, guid: Guid, id: SchemaId) {
        match self.by_guid.get_mut(&guid) {
            None => _ = self.by_guid.insert(guid, id),
            Some(first) if *first == id => {}
            Some(first) => {
                let other = if id < *first {
                    std::mem::replace(first, id)
                } else {
                    id
                };
                let more = self.guid_collisions.entry(guid).or_default();
                if let Err(at) = more.binary_search(&other) {
                    more.insert(at, other);
                }
            }
        }
    }

    fn unindex_guid(&mut self, guid: Guid, id: SchemaId) {
        let Some(more) = self.guid_collisions.get_mut(&guid) else {
            if self.by_guid.get(&guid) == Some(&id) {
                self.by_guid.remove(&guid);
            }
            return;
        };
        if self.by_guid.get(&guid) == Some(&id) {
            let next = more.remove(0);
            self.by_guid.insert(guid, next);
        } else {
            more.retain(|other| *other != id);
        }
        if more.is_empty() {
            self.guid_collisions.remove(&guid);
        }
    }
}

#[derive(Debug, Default)]
#[cfg_attr(test, derive(PartialEq))]
pub struct State {
    /// Subjects in name order, so listings need no sorting (qualified
    /// names, `:.ctx:name`, sort before the default context's).
    subjects: BTreeMap<Arc<str>, Versions>,
    /// Ids by context name.
    spaces: BTreeMap<Arc<str>, IdSpace>,
    /// The contexts other than the default one that CONTEXT records made,
    /// with the stamped keys they were written under.
    contexts: BTreeMap<String, Vec<KeyStamp>>,
    /// Who references a subject version: (subject, version) -> referrers,
    /// every subject qualified with its context.
    referenced_by: HashMap<(String, Version), BTreeSet<(String, Version)>>,
    /// Subject configs by subject; `None` is the global config.
    configs: HashMap<Option<String>, ConfigValue>,
    modes: HashMap<Option<String>, ModeValue>,
    /// The stamped keys each config and mode was written under on a shared
    /// topic, for their deletes to tombstone (see [`VersionEntry::stamps`]).
    config_stamps: HashMap<Option<String>, Vec<KeyStamp>>,
    mode_stamps: HashMap<Option<String>, Vec<KeyStamp>>,
    /// Associations in Confluent's listing order (resource name, namespace,
    /// type, association type, subject), which is the key's field order.
    associations: BTreeMap<AssociationKey, AssociationEntry>,
    /// Association keys by resource id and by subject.
    associations_by_resource_id: HashMap<String, BTreeSet<AssociationKey>>,
    associations_by_subject: HashMap<String, BTreeSet<AssociationKey>>,
    /// Number of records applied, including skipped ones.
    applied: u64,
    /// The offset after the last record applied with [`State::apply_at`]: where
    /// the next record must land for this state to be its whole past.
    position: Offset,
    /// The stamp of the record being applied, for `put_version`.
    applying_stamp: Option<KeyStamp>,
    /// The guid of the schema record being applied, if computed ahead.
    applying_guid: Option<Guid>,
    /// The text of the schema record being applied, if left in the log.
    applying_text: Option<SchemaText>,
}

impl State {
    /// Applies a record read at `offset` of a log that many writers share.
    ///
    /// A record whose key carries a stamp (Redpanda's and Scute's `seq` and
    /// `node`) and that has a value counts only if it landed at its `seq`: its
    /// writer built it from the state just before that offset, so anywhere
    /// else it lost a race and is ignored by every reader (first writer wins).
    /// Tombstones and unstamped records (Confluent, Karapace) apply as they
    /// come; the id guard in `apply` still keeps an id from being rebound.
    /// Returns whether the record was applied.
    pub fn apply_at(&mut self, offset: Offset, record: Record, stamp: Option<KeyStamp>) -> bool {
        self.position = self.position.max(offset + 1);
        let has_value = record.has_value();
        if let Some(stamp) = stamp
            && has_value
            && u64::try_from(stamp.seq).ok() != Some(offset)
        {
            self.applied += 1;
            tracing::debug!(
                offset,
                seq = stamp.seq,
                node = stamp.node,
                "ignoring a record that lost a race"
            );
            return false;
        }
        self.applying_stamp = stamp;
        self.apply(record);
        self.applying_stamp = None;
        true
    }

    /// Applies a SCHEMA record replayed from the embedded log: its content's
    /// guid computed ahead with `guid::of` over its value (a replay hashes
    /// on another thread), and its text, if left in the log, read from there
    /// instead of kept.
    pub fn apply_replayed(&mut self, record: Record, guid: Option<Guid>, text: Option<SchemaText>) {
        self.applying_guid = guid;
        self.applying_text = text;
        self.apply(record);
        self.applying_guid = None;
        self.applying_text = None;
    }

    /// See [`State::apply_at`].
    pub fn position(&self) -> Offset {
        self.position
    }

    /// Applies one record of the log.
    pub fn apply(&mut self, record: Record) {
        self.applied += 1;
        match record {
            Record::Schema {
                subject,
                version,
                value: Some(value),
            } => self.put_version(subject, version, value),
            Record::Schema {
                subject,
                version,
                value: None,
            } => self.remove_version(&subject, version),
            Record::Config { subject, value } => match value {
                Some(v) => {
                    remember_stamp(&mut self.config_stamps, &subject, self.applying_stamp);
                    self.configs.insert(subject, v);
                }
                None => {
                    self.configs.remove(&subject);
                    self.config_stamps.remove(&subject);
                }
            },
            Record::Mode { subject, value } => match value {
                Some(v) => {
                    remember_stamp(&mut self.mode_stamps, &subject, self.applying_stamp);
                    self.modes.insert(subject, v);
                }
                None => {
                    self.modes.remove(&subject);
                    self.mode_stamps.remove(&subject);
                }
            },
            Record::DeleteSubject {
                subject,
                value: Some(value),
            } => {
                if let Some(versions) = self.subjects.get_mut(subject.as_str()) {
                    versions.mark_deleted_up_to(value.version);
                }
            }
            // A tombstone for a DELETE_SUBJECT key means nothing.
            Record::DeleteSubject { value: None, .. } => {}
            Record::ClearSubject { subject } => {
                let deleted: Vec<Version> = self
                    .subjects
                    .get(subject.as_str())
                    .map(|vs| {
                        vs.iter()
                            .filter(|(_, e)| e.deleted)
                            .map(|(v, _)| *v)
                            .collect()
                    })
                    .unwrap_or_default();
                for version in deleted {
                    self.remove_version(&subject, version);
                }
            }
            Record::Association { key, value } => {
                let mut stamps = self
                    .remove_association(&key)
                    .map(|old| old.stamps)
                    .unwrap_or_default();
                if let Some(value) = value {
                    stamps.extend(self.applying_stamp);
                    self.associations_by_resource_id
                        .entry(value.resource_id.clone())
                        .or_default()
                        .insert(key.clone());
                    self.associations_by_subject
                        .entry(key.subject.clone())
                        .or_default()
                        .insert(key.clone());
                    self.associations
                        .insert(key, AssociationEntry { value, stamps });
                }
            }
            Record::Context {
                context,
                live: true,
                ..
            } => {
                let stamps = self.contexts.entry(context).or_default();
                stamps.extend(self.applying_stamp);
            }
            Record::Context {
                context,
                live: false,
                ..
            } => {
                self.contexts.remove(&context);
            }
            Record::Noop => {}
            Record::Unknown { keytype } => {
                tracing::debug!(%keytype, "skipping a record of a key type scute does not use");
            }
        }
    }

    fn put_version(&mut self, subject: String, version: Version, mut value: SchemaValue) {
        let extra = std::mem::take(&mut value.extra);
        let extra = (!extra.is_empty()).then(|| Box::new(extra));
        let schema_type = value
            .schema_type
            .take()
            .unwrap_or_else(|| "AVRO".to_owned());
        let content = match self.applying_guid.take() {
            Some(guid) => SchemaContent::with_guid(
                guid,
                schema_type,
                self.applying_text
                    .take()
                    .unwrap_or_else(|| value.schema.into()),
                value.references,
                value.metadata,
                value.rule_set,
            ),
            None => SchemaContent::new(
                schema_type,
                value.schema,
                value.references,
                value.metadata,
                value.rule_set,
            ),
        };
        let id = value.id;
        let space_name = context::of(&subject);
        // An id stays bound to the content it was first given (Confluent's
        // replay guard): a record that rebinds it is someone's lost race.
        let existing = self
            .spaces
            .get(space_name)
            .and_then(|space| space.ids.get(&id));
        let content = match existing.map(|e| (e, e.content.same(&content))) {
            None => Arc::new(content),
            Some((existing, Ok(true))) => existing.content.clone(),
            Some((_, Ok(false))) => {
                tracing::warn!(%subject, version, id, "skipping a schema record that rebinds an id to different content");
                return;
            }
            Some((_, Err(e))) => {
                tracing::warn!(%subject, version, id, error = %e, "skipping a schema record: the text its id holds cannot be read to compare");
                return;
            }
        };
        // A rewrite of the same subject version (soft delete, or a new id).
        let old = self
            .subjects
            .get(subject.as_str())
            .and_then(|vs| vs.get(&version));
        let old_id = old.map(|e| e.id);
        let mut stamps = old.map(|e| e.stamps.clone()).unwrap_or_default();
        stamps.extend(self.applying_stamp);
        if old_id.is_some_and(|old| old != id) {
            self.remove_version(&subject, version);
        }
        for r in &content.references {
            self.referenced_by
                .entry((
                    context::qualify_with_parent(&subject, &r.subject),
                    r.version,
                ))
                .or_default()
                .insert((subject.clone(), version));
        }
        // One allocation of the name, shared by the subject map and the id.
        let subject: Arc<str> = match self.subjects.get_key_value(subject.as_str()) {
            Some((name, _)) => name.clone(),
            None => subject.into(),
        };
        let space = match self.spaces.get_mut(context::of(&subject)) {
            Some(space) => space,
            None => self.spaces.entry(context::of(&subject).into()).or_default(),
        };
        let entry = space.ids.entry(id).or_insert_with(|| IdEntry {
            content: content.clone(),
            users: Vec::new(),
        });
        let user = (subject.clone(), version);
        if let Err(at) = entry.users.binary_search(&user) {
            insert_tight(&mut entry.users, at, user);
        }
        let first_user = entry.users.len() == 1;
        if first_user {
            space.index_guid(content.guid, id);
        }
        space.max_id = space.max_id.max(id);
        self.subjects.entry(subject).or_default().insert(
            version,
            VersionEntry {
                id,
                deleted: value.deleted,
                content,
                extra,
                stamps,
            },
        );
    }

    fn remove_version(&mut self, subject: &str, version: Version) {
        let Some(versions) = self.subjects.get_mut(subject) else {
            return;
        };
        let Some(entry) = versions.remove(&version) else {
            return;
        };
        if versions.is_empty() {
            self.subjects.remove(subject);
        }
        let key = (subject.to_owned(), version);
        let user = (Arc::<str>::from(subject), version);
        for r in &entry.content.references {
            let target = (context::qualify_with_parent(subject, &r.subject), r.version);
            if let Some(referrers) = self.referenced_by.get_mut(&target) {
                referrers.remove(&key);
                if referrers.is_empty() {
                    self.referenced_by.remove(&target);
                }
            }
        }
        let Some(space) = self.spaces.get_mut(context::of(subject)) else {
            return;
        };
        if let Some(id_entry) = space.ids.get_mut(&entry.id) {
            if let Ok(at) = id_entry.users.binary_search(&user) {
                id_entry.users.remove(at);
            }
            if id_entry.users.is_empty() {
                let guid = id_entry.content.guid;
                space.ids.remove(&entry.id);
                space.unindex_guid(guid, entry.id);
            }
        }
    }

    fn remove_association(&mut self, key: &AssociationKey) -> Option<AssociationEntry> {
        let old = self.associations.remove(key)?;
        for (index, name) in [
            (
                &mut self.associations_by_resource_id,
                &old.value.resource_id,
            ),
            (&mut self.associations_by_subject, &key.subject),
        ] {
            if let Some(keys) = index.get_mut(name.as_str()) {
                keys.remove(key);
                if keys.is_empty() {
                    index.remove(name.as_str());
                }
            }
        }
        Some(old)
    }

    // ---- queries ----

    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// The highest id a context has used.
    pub fn max_id(&self, context: &str) -> SchemaId {
        self.spaces.get(context).map_or(0, |s| s.max_id)
    }

    /// The contexts other than the default one, in name order.
    pub fn contexts(&self) -> impl Iterator<Item = &str> {
        self.contexts.keys().map(String::as_str)
    }

    /// Whether a CONTEXT record made this context.
    pub fn has_context(&self, context: &str) -> bool {
        self.contexts.contains_key(context)
    }

    /// The stamped keys a context was written under.
    pub fn context_stamps(&self, context: &str) -> &[KeyStamp] {
        self.contexts.get(context).map_or(&[], Vec::as_slice)
    }

    pub fn subjects(&self) -> impl Iterator<Item = (&Arc<str>, &Versions)> {
        self.subjects.iter()
    }

    pub fn versions(&self, subject: &str) -> Option<&Versions> {
        self.subjects.get(subject)
    }

    /// Whether the subject has a version that is not soft-deleted.
    pub fn is_live(&self, subject: &str) -> bool {
        self.subjects
            .get(subject)
            .is_some_and(|vs| vs.values().any(|e| !e.deleted))
    }

    /// The schema an id of a context holds.
    pub fn schema(&self, context: &str, id: SchemaId) -> Option<&Arc<SchemaContent>> {
        self.spaces.get(context)?.ids.get(&id).map(|e| &e.content)
    }

    /// The subject versions using an id of a context, in order.
    pub fn id_users(
        &self,
        context: &str,
        id: SchemaId,
    ) -> impl Iterator<Item = &(Arc<str>, Version)> {
        self.spaces
            .get(context)
            .and_then(|space| space.ids.get(&id))
            .into_iter()
            .flat_map(|e| e.users.iter())
    }

    /// The id of a context holding this content, if any.
    pub fn id_of(&self, context: &str, content: &SchemaContent) -> Result<Option<SchemaId>, Error> {
        for id in self.ids_of_guid(context, &content.guid) {
            if let Some(held) = self.schema(context, id)
                && held.same(content)?
            {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// The ids of a context whose content has this guid, lowest first.
    pub fn ids_of_guid(&self, context: &str, guid: &Guid) -> impl Iterator<Item = SchemaId> {
        let space = self.spaces.get(context);
        let first = space.and_then(|s| s.by_guid.get(guid)).copied();
        let more = space
            .and_then(|s| s.guid_collisions.get(guid))
            .into_iter()
            .flatten()
            .copied();
        let mut ids: Vec<SchemaId> = first.into_iter().chain(more).collect();
        ids.sort_unstable();
        ids.into_iter()
    }

    /// The context's name as the state holds it, if it holds ids.
    pub fn id_context(&self, context: &str) -> Option<&str> {
        self.spaces.get_key_value(context).map(|(k, _)| &**k)
    }

    /// The contexts that hold ids, the default one first.
    pub fn id_contexts(&self) -> impl Iterator<Item = &str> {
        self.spaces.keys().map(|k| &**k)
    }

    /// Every schema id's content, of every context.
    pub fn all_schemas(&self) -> impl Iterator<Item = &Arc<SchemaContent>> {
        self.spaces
            .values()
            .flat_map(|space| space.ids.values().map(|e| &e.content))
    }

    pub fn referrers(
        &self,
        subject: &str,
        version: Version,
    ) -> impl Iterator<Item = &(String, Version)> {
        self.referenced_by
            .get(&(subject.to_owned(), version))
            .into_iter()
            .flatten()
    }

    pub fn config(&self, subject: Option<&str>) -> Option<&ConfigValue> {
        self.configs.get(&subject.map(str::to_owned))
    }

    pub fn mode(&self, subject: Option<&str>) -> Option<&ModeValue> {
        self.modes.get(&subject.map(str::to_owned))
    }

    /// Every association, in listing order.
    pub fn associations(&self) -> impl Iterator<Item = (&AssociationKey, &AssociationValue)> {
        self.associations.iter().map(|(k, e)| (k, &e.value))
    }

    /// The stamped keys a config (`None`: the global one) was written under.
    pub fn config_stamps(&self, subject: Option<&str>) -> &[KeyStamp] {
        self.config_stamps
            .get(&subject.map(str::to_owned))
            .map_or(&[], Vec::as_slice)
    }

    /// The stamped keys a mode (`None`: the global one) was written under.
    pub fn mode_stamps(&self, subject: Option<&str>) -> &[KeyStamp] {
        self.mode_stamps
            .get(&subject.map(str::to_owned))
            .map_or(&[], Vec::as_slice)
    }

    /// The stamped keys an association was written under.
    pub fn association_stamps(&self, key: &AssociationKey) -> &[KeyStamp] {
        self.associations
            .get(key)
            .map_or(&[], |e| e.stamps.as_slice())
    }

    /// The associations of one resource name, in listing order.
    pub fn associations_of_resource_name<'s>(
        &'s self,
        tenant: &'s str,
        name: &'s str,
    ) -> impl Iterator<Item = (&'s AssociationKey, &'s AssociationValue)> {
        let from = AssociationKey {
            tenant: tenant.to_owned(),
            resource_name: name.to_owned(),
            resource_namespace: String::new(),
            resource_type: String::new(),
            association_type: String::new(),
            subject: String::new(),
        };
        self.associations
            .range(from..)
            .take_while(move |(k, _)| k.tenant == tenant && k.resource_name == name)
            .map(|(k, e)| (k, &e.value))
    }

    /// The associations of one resource id, in listing order.
    pub fn associations_of_resource_id(
        &self,
        resource_id: &str,
    ) -> impl Iterator<Item = (&AssociationKey, &AssociationValue)> {
        self.indexed(&self.associations_by_resource_id, resource_id)
    }

    /// The associations of one subject, in listing order.
    pub fn associations_of_subject(
        &self,
        subject: &str,
    ) -> impl Iterator<Item = (&AssociationKey, &AssociationValue)> {
        self.indexed(&self.associations_by_subject, subject)
    }

    fn indexed<'s>(
        &'s self,
        index: &'s HashMap<String, BTreeSet<AssociationKey>>,
        name: &str,
    ) -> impl Iterator<Item = (&'s AssociationKey, &'s AssociationValue)> {
        index
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|key| self.associations.get_key_value(key))
            .map(|(k, e)| (k, &e.value))
    }
}

/// Inserts into a vector that usually holds one or two items without the
/// first growth's room for four: at a million subjects that room is 240
/// bytes a schema.
fn insert_tight<T>(items: &mut Vec<T>, at: usize, item: T) {
    if items.len() == items.capacity() && items.len() < 8 {
        items.reserve_exact(1);
    }
    items.insert(at, item);
}

/// Notes the stamp of a config or mode record being applied, if it has one.
fn remember_stamp(
    stamps: &mut HashMap<Option<String>, Vec<KeyStamp>>,
    subject: &Option<String>,
    stamp: Option<KeyStamp>,
) {
    if let Some(stamp) = stamp {
        let seen = stamps.entry(subject.clone()).or_default();
        if !seen.contains(&stamp) {
            seen.push(stamp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scute_storage::record::DeleteSubjectValue;

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

    #[test]
    fn a_stamped_record_counts_only_at_its_seq() {
        let mut s = State::default();
        let stamp = |seq| Some(KeyStamp { seq, node: 1 });
        assert!(s.apply_at(0, schema("a", 1, 1, "\"string\""), stamp(0)));
        // Built on the same state by another node, it landed one later: lost.
        assert!(!s.apply_at(1, schema("a", 1, 2, "\"int\""), stamp(0)));
        // Unstamped (Confluent) records apply as they come.
        assert!(s.apply_at(2, schema("b", 1, 3, "\"long\""), None));
        assert_eq!(s.versions("a").unwrap().get(&1).unwrap().id, 1);
        assert!(s.schema(".", 2).is_none());
        assert_eq!(s.position(), 3);
    }

    #[test]
    fn a_version_remembers_every_stamped_key_it_was_written_under() {
        let mut s = State::default();
        let stamp = |seq| Some(KeyStamp { seq, node: 1 });
        s.apply_at(0, schema("a", 1, 1, "\"string\""), stamp(0));
        let mut deleted = schema("a", 1, 1, "\"string\"");
        if let Record::Schema { value: Some(v), .. } = &mut deleted {
            v.deleted = true;
        }
        s.apply_at(1, deleted, stamp(1));
        let stamps: Vec<i64> = s
            .versions("a")
            .unwrap()
            .get(&1)
            .unwrap()
            .stamps
            .iter()
            .map(|k| k.seq)
            .collect();
        assert_eq!(stamps, [0, 1]);
    }

    #[test]
    fn same_content_shares_an_id_and_survives_partial_hard_delete() {
        let mut s = State::default();
        s.apply(schema("a", 1, 1, "\"string\""));
        s.apply(schema("b", 1, 1, "\"string\""));
        assert_eq!(s.id_users(".", 1).count(), 2);
        s.apply(Record::Schema {
            subject: "a".into(),
            version: 1,
            value: None,
        });
        assert!(s.schema(".", 1).is_some());
        assert!(s.versions("a").is_none());
        s.apply(Record::Schema {
            subject: "b".into(),
            version: 1,
            value: None,
        });
        assert!(s.schema(".", 1).is_none());
        assert_eq!(s.max_id("."), 1, "the max id is never lowered");
    }

    #[test]
    fn an_id_rebound_to_other_content_is_skipped() {
        let mut s = State::default();
        s.apply(schema("a", 1, 1, "\"string\""));
        s.apply(schema("b", 1, 1, "\"int\""));
        assert!(s.versions("b").is_none());
        assert_eq!(s.schema(".", 1).unwrap().text().unwrap(), "\"string\"");
    }

    #[test]
    fn delete_subject_marks_versions_up_to_n() {
        let mut s = State::default();
        s.apply(schema("a", 1, 1, "\"string\""));
        s.apply(schema("a", 2, 2, "\"int\""));
        s.apply(schema("a", 3, 3, "\"long\""));
        s.apply(Record::DeleteSubject {
            subject: "a".into(),
            value: Some(DeleteSubjectValue {
                subject: "a".into(),
                version: 2,
                extra: Default::default(),
            }),
        });
        let deleted: Vec<bool> = s
            .versions("a")
            .unwrap()
            .values()
            .map(|e| e.deleted)
            .collect();
        assert_eq!(deleted, [true, true, false]);
        assert!(s.is_live("a"));
        s.apply(Record::ClearSubject {
            subject: "a".into(),
        });
        assert_eq!(s.versions("a").unwrap().len(), 1);
        assert!(s.schema(".", 1).is_none());
    }

    #[test]
    fn associations_are_indexed_and_reindexed() {
        use scute_storage::record::{AssociationKey, AssociationValue};
        let key = AssociationKey {
            tenant: "default".into(),
            resource_name: "orders".into(),
            resource_namespace: "lkc-1".into(),
            resource_type: "topic".into(),
            association_type: "value".into(),
            subject: "orders-value".into(),
        };
        let value = |resource_id: &str| AssociationValue {
            guid: "g".into(),
            resource_id: resource_id.into(),
            lifecycle: "WEAK".into(),
            frozen: false,
            create_ts: None,
            extra: Default::default(),
        };
        let mut s = State::default();
        s.apply_at(
            0,
            Record::Association {
                key: key.clone(),
                value: Some(value("rid-1")),
            },
            Some(KeyStamp { seq: 0, node: 1 }),
        );
        // The same key written again with another resource id moves the index.
        s.apply(Record::Association {
            key: key.clone(),
            value: Some(value("rid-2")),
        });
        assert_eq!(s.associations_of_resource_id("rid-1").count(), 0);
        assert_eq!(s.associations_of_resource_id("rid-2").count(), 1);
        assert_eq!(s.associations_of_subject("orders-value").count(), 1);
        assert_eq!(
            s.associations_of_resource_name("default", "orders").count(),
            1
        );
        assert_eq!(
            s.associations_of_resource_name("default", "order").count(),
            0
        );
        assert_eq!(
            s.association_stamps(&key).len(),
            1,
            "the stamped key is remembered"
        );
        s.apply(Record::Association {
            key: key.clone(),
            value: None,
        });
        assert_eq!(s.associations().count(), 0);
        assert_eq!(s.associations_of_subject("orders-value").count(), 0);
        assert!(s.association_stamps(&key).is_empty());
    }

    #[test]
    fn references_are_tracked_both_ways() {
        let mut s = State::default();
        s.apply(schema(
            "base",
            1,
            1,
            "{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}",
        ));
        let mut r = schema("user", 1, 2, "{}");
        if let Record::Schema { value: Some(v), .. } = &mut r {
            v.references.push(SchemaReference {
                name: "F".into(),
                subject: "base".into(),
                version: 1,
            });
        }
        s.apply(r);
        assert_eq!(
            s.referrers("base", 1).collect::<Vec<_>>(),
            [&("user".to_owned(), 1)]
        );
        s.apply(Record::Schema {
            subject: "user".into(),
            version: 1,
            value: None,
        });
        assert_eq!(s.referrers("base", 1).count(), 0);
    }
}
