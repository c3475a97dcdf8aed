//! Schema tags (Confluent's `confluent:tags`): the entities a tag names,
//! how requests naming the same entity twice are merged, and the errors
//! Confluent answers when a path names nothing.
//!
//! The per-format work (finding an entity, rewriting the schema, listing
//! the tagged entities) lives in each format's `tags` module; this module
//! holds what they share, so all formats read requests the same way.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::{FormatError, SchemaType};

/// What a tag is attached to: Confluent's `SchemaEntity.EntityType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// `sr_record`: an Avro record, a JSON object schema, a Protobuf message.
    Record,
    /// `sr_field`: a field of one of those.
    Field,
}

impl EntityKind {
    /// The name used on the wire (`entityType`).
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Record => "sr_record",
            EntityKind::Field => "sr_field",
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityKind {
    type Err = String;

    /// Exact, lower-case names only, as Jackson reads the enum.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sr_record" => Ok(EntityKind::Record),
            "sr_field" => Ok(EntityKind::Field),
            other => Err(format!("unknown entity type '{other}'")),
        }
    }
}

/// A tagged place in a schema: Confluent's `SchemaEntity`.
#[derive(Debug, Clone)]
pub struct SchemaEntity {
    /// `entityPath` as given (a leading `.` is kept: Avro reads it as "any
    /// namespace").
    pub path: String,
    pub kind: EntityKind,
}

impl SchemaEntity {
    pub fn new(path: impl Into<String>, kind: EntityKind) -> SchemaEntity {
        SchemaEntity {
            path: path.into(),
            kind,
        }
    }

    /// The path without its leading `.`: what equality compares, so that
    /// `.a.B.f` and `a.B.f` are one entity, as Confluent merges them.
    pub fn normalized_path(&self) -> &str {
        self.path.strip_prefix('.').unwrap_or(&self.path)
    }

    /// Whether two entities are the same key of Confluent's tag maps.
    pub fn same(&self, other: &SchemaEntity) -> bool {
        self.kind == other.kind && self.normalized_path() == other.normalized_path()
    }
}

impl PartialEq for SchemaEntity {
    fn eq(&self, other: &Self) -> bool {
        self.same(other)
    }
}

impl Eq for SchemaEntity {}

impl std::hash::Hash for SchemaEntity {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
        self.normalized_path().hash(state);
    }
}

/// Tags by entity, in insertion order: Confluent's
/// `LinkedHashMap<SchemaEntity, LinkedHashSet<String>>`.
pub type SchemaTags = Vec<(SchemaEntity, Vec<String>)>;

/// Confluent's `TagSchemaRequest.schemaTagsListToMap`: entries for equal
/// entities become one (the first entity's path is kept, at the first
/// place), their tags unioned in order, each tag once.
pub fn merge_tags<'a, I>(entries: I) -> SchemaTags
where
    I: IntoIterator<Item = &'a (SchemaEntity, Vec<String>)>,
{
    let mut out: SchemaTags = Vec::new();
    let mut at: HashMap<SchemaEntity, usize> = HashMap::new();
    for (entity, tags) in entries {
        let slot = *at.entry(entity.clone()).or_insert_with(|| {
            out.push((entity.clone(), Vec::new()));
            out.len() - 1
        });
        out[slot].1.extend(tags.iter().cloned());
    }
    for (_, tags) in &mut out {
        *tags = unique(std::mem::take(tags));
    }
    out
}

/// The strings in first-seen order, each once. A set beside the list keeps
/// this linear: a request or a stored schema may carry a great many tags.
pub(crate) fn unique(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|item| seen.insert(item.clone()))
        .collect()
}

/// Tagged entities as a listing collects them: Java's `map.put`, where a
/// later entry for an entity replaces the earlier one's tags at its place.
#[derive(Default)]
pub(crate) struct Tagged {
    list: SchemaTags,
    /// Where each entity (by exact path and kind) sits in `list`.
    at: HashMap<(String, EntityKind), usize>,
}

impl Tagged {
    pub(crate) fn put(&mut self, entity: SchemaEntity, tags: Vec<String>) {
        let key = (entity.path.clone(), entity.kind);
        match self.at.get(&key) {
            Some(&slot) => self.list[slot].1 = tags,
            None => {
                self.at.insert(key, self.list.len());
                self.list.push((entity, tags));
            }
        }
    }

    pub(crate) fn into_list(self) -> SchemaTags {
        self.list
    }
}

/// The entities a tag change touches, in Confluent's order: those with
/// tags to add, then those with tags to remove only. Each comes with the
/// tags to add and to remove.
pub(crate) struct Change<'a> {
    pub(crate) entity: &'a SchemaEntity,
    pub(crate) add: &'a [String],
    pub(crate) remove: &'a [String],
}

pub(crate) fn changes<'a>(add: &'a SchemaTags, remove: &'a SchemaTags) -> Vec<Change<'a>> {
    // The first entry of each entity, as Confluent's maps keep one.
    let index = |map: &'a SchemaTags| {
        let mut by: HashMap<&'a SchemaEntity, &'a [String]> = HashMap::new();
        for (entity, tags) in map {
            by.entry(entity).or_insert(tags.as_slice());
        }
        by
    };
    let (to_add, to_remove) = (index(add), index(remove));
    let mut seen = HashSet::new();
    add.iter()
        .chain(remove.iter())
        .filter(|(entity, _)| seen.insert(entity))
        .map(|(entity, _)| Change {
            entity,
            add: to_add.get(entity).copied().unwrap_or_default(),
            remove: to_remove.get(entity).copied().unwrap_or_default(),
        })
        .collect()
}

/// Applies one change to an entity's current tags: Confluent adds to the
/// ordered set, then removes; existing tags keep their places.
pub(crate) fn apply(current: &mut Vec<String>, change: &Change<'_>) {
    let all = std::mem::take(current)
        .into_iter()
        .chain(change.add.iter().cloned());
    let remove: HashSet<&String> = change.remove.iter().collect();
    *current = unique(all);
    current.retain(|t| !remove.contains(t));
}

/// Confluent's answer for a path that names nothing in the schema (Java's
/// `IllegalArgumentException`, as its `toString()` shows it).
pub(crate) fn no_match(path: &str) -> FormatError {
    FormatError::Tags(format!(
        "java.lang.IllegalArgumentException: No matching path '{path}' found in the schema"
    ))
}

/// The most nodes one tag change may visit in all: a hostile request (many
/// entities, each searched through a large schema) stops here.
pub(crate) const MAX_VISITS: usize = 5_000_000;

pub(crate) fn too_much_work() -> FormatError {
    FormatError::Tags(
        "the tag change needs too much work: the schema is too large for this many entities"
            .to_owned(),
    )
}

/// Java's `String.split("\\.")`: trailing empty strings are dropped, and an
/// empty input gives one empty string.
pub(crate) fn java_split_dots(path: &str) -> Vec<&str> {
    if path.is_empty() {
        return vec![""];
    }
    let mut parts: Vec<&str> = path.split('.').collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// A tag read from schema JSON as Jackson's `asText()` reads an array
/// element: strings as they are, numbers and booleans as written, other
/// values as nothing.
pub(crate) fn tag_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        Value::Array(_) | Value::Object(_) => String::new(),
    }
}

/// The `confluent:tags` of a schema object as Confluent reads them for a
/// change: an array's elements, each once. Anything else under the key is
/// refused (Confluent fails there with a `ClassCastException`).
pub(crate) fn tags_of(
    object: &serde_json::Map<String, Value>,
    key: &str,
) -> Result<Vec<String>, String> {
    match object.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(unique(items.iter().map(tag_text))),
        Some(_) => Err(format!("'{key}' is not an array")),
    }
}

/// Writes `tags` under `key` (replacing in place, or appending), or removes
/// the key, keeping the other keys' order, as Jackson's `ObjectNode` does.
pub(crate) fn store_tags(
    object: &mut serde_json::Map<String, Value>,
    key: &str,
    tags: Vec<String>,
) {
    if tags.is_empty() {
        object.shift_remove(key);
    } else {
        object.insert(
            key.to_owned(),
            Value::Array(tags.into_iter().map(Value::String).collect()),
        );
    }
}

/// Where AVRO and JSON Schema keep tags: a property of the object.
pub(crate) const TAGS_PROPERTY: &str = "confluent:tags";

/// A step into a JSON value, owned so that the value can be changed after
/// the search that found it.
#[derive(Debug, Clone)]
pub(crate) enum JsonStep {
    Key(String),
    Index(usize),
}

fn navigate<'v>(mut value: &'v mut Value, path: &[JsonStep]) -> Option<&'v mut Value> {
    for step in path {
        value = match (step, value) {
            (JsonStep::Key(k), Value::Object(map)) => map.get_mut(k)?,
            (JsonStep::Index(i), Value::Array(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Confluent's `copy(add, remove)` on a schema's JSON (AVRO, JSON
/// Schema): each entity `find` locates gets its `confluent:tags`
/// rewritten, in Confluent's order of changes.
pub(crate) fn retag_json(
    json: &mut Value,
    add: &SchemaTags,
    remove: &SchemaTags,
    schema_type: SchemaType,
    mut find: impl FnMut(&Value, &SchemaEntity) -> Result<Vec<JsonStep>, FormatError>,
) -> Result<(), FormatError> {
    let add = merge_tags(add);
    let remove = merge_tags(remove);
    for change in changes(&add, &remove) {
        let path = find(json, change.entity)?;
        let Some(Value::Object(object)) = navigate(json, &path) else {
            // A record or a field is always an object; Java would fail on
            // the cast.
            return Err(no_match(&change.entity.path));
        };
        let mut current =
            tags_of(object, TAGS_PROPERTY).map_err(|reason| FormatError::Invalid {
                schema_type,
                reason,
            })?;
        apply(&mut current, &change);
        store_tags(object, TAGS_PROPERTY, current);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(path: &str) -> SchemaEntity {
        SchemaEntity::new(path, EntityKind::Field)
    }

    #[test]
    fn a_leading_dot_names_the_same_entity() {
        let merged = merge_tags(&[
            (field("SampleRecord.f1"), vec!["tag1".to_owned()]),
            (
                field(".SampleRecord.f1"),
                vec!["tag2".to_owned(), "tag1".to_owned()],
            ),
        ]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].0.path, "SampleRecord.f1");
        assert_eq!(merged[0].1, ["tag1", "tag2"]);
        // A record and a field of one path are different entities.
        let kinds = merge_tags(&[
            (field("R"), vec!["a".to_owned()]),
            (
                SchemaEntity::new("R", EntityKind::Record),
                vec!["b".to_owned()],
            ),
        ]);
        assert_eq!(kinds.len(), 2);
    }

    #[test]
    fn merging_keeps_first_seen_order() {
        let merged = merge_tags(&[
            (
                field("com.example.SampleRecord.f1"),
                vec!["tag1".to_owned()],
            ),
            (field("SampleRecord.f1"), vec!["tag2".to_owned()]),
            (field("SampleRecord.f2"), vec!["tag3".to_owned()]),
        ]);
        let paths: Vec<&str> = merged.iter().map(|(e, _)| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "com.example.SampleRecord.f1",
                "SampleRecord.f1",
                "SampleRecord.f2"
            ]
        );
    }

    #[test]
    fn changes_list_added_entities_first() {
        let add = vec![(field("a.B.x"), vec!["T".to_owned()])];
        let remove = vec![
            (field("a.B.y"), vec!["U".to_owned()]),
            (field(".a.B.x"), vec!["V".to_owned()]),
        ];
        let list = changes(&add, &remove);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].entity.path, "a.B.x");
        assert_eq!(list[0].add, ["T"]);
        assert_eq!(list[0].remove, ["V"]);
        assert_eq!(list[1].entity.path, "a.B.y");
        let mut current = vec!["V".to_owned(), "W".to_owned()];
        apply(&mut current, &list[0]);
        assert_eq!(current, ["W", "T"]);
    }

    #[test]
    fn java_split_drops_trailing_empties() {
        assert_eq!(java_split_dots("a.b"), ["a", "b"]);
        assert_eq!(java_split_dots(".a.b."), ["", "a", "b"]);
        assert_eq!(java_split_dots(""), [""]);
        assert!(java_split_dots("...").is_empty());
    }
}
