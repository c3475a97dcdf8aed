//! Schema tags on PROTOBUF schemas: the `tags` of the custom options
//! `(confluent.message_meta)` (a message, `sr_record`) and
//! `(confluent.field_meta)` (a field, `sr_field`).
//!
//! A change works as Confluent's `ProtobufSchema.copy(tagsToAdd,
//! tagsToRemove)` does. Each entity is found by `findMatchingElement` (a
//! walk from the file's top-level messages by name, relative to the
//! package, where the second-to-last name may be a oneof); the element's
//! options are merged by name as `mergeOptions` merges them (options with a
//! sub-name, like `(confluent.field_meta).tags = "a"`, become one aggregate
//! value; repeated keys become a list); the new tags are merged in; and
//! the options are written back in the order of Java's `HashMap`, which
//! `mergeOptions` collects into. The file is then printed and parsed again,
//! and the text kept is the canonical text of that parse, as Confluent
//! keeps the canonical text of its re-parse.

use std::collections::{HashMap, HashSet};

use prost_types::field_descriptor_proto::Type;
use prost_types::uninterpreted_option::NamePart;
use prost_types::{DescriptorProto, FileDescriptorProto, UninterpretedOption};

use super::ProtobufSchema;
use super::print::{MapValue, parse_aggregate};
use crate::limits::{self, Limits};
use crate::tags::{self, EntityKind, SchemaEntity, SchemaTags};
use crate::{Dependency, FormatError};

const FIELD_META: &str = "confluent.field_meta";
const MESSAGE_META: &str = "confluent.message_meta";
const TAGS: &str = "tags";

/// Java's `HashMap` turns a crowded bin into a tree (whose iteration order
/// is not a plain insertion order) only from this capacity on.
const MIN_TREEIFY_CAPACITY: usize = 64;

/// Counts the steps of one request, so that a hostile one stops.
#[derive(Default)]
struct Work {
    visits: usize,
}

impl Work {
    fn step(&mut self) -> Result<(), FormatError> {
        self.visits += 1;
        if self.visits > tags::MAX_VISITS || (self.visits.is_multiple_of(4096) && limits::expired())
        {
            return Err(tags::too_much_work());
        }
        Ok(())
    }
}

/// An option as wire's `OptionElement` holds it after `mergeOptions`.
#[derive(Debug, Clone)]
struct Opt {
    /// The name in parentheses, or the whole dotted plain name.
    name: String,
    parenthesized: bool,
    /// `None` for a value that is not a message (kept as written).
    map: Option<Vec<(String, MapValue)>>,
    /// The option as written, as long as nothing changed it.
    written: Option<UninterpretedOption>,
}

impl Opt {
    /// The key `mergeOptions` files it under: the name without a leading dot.
    fn key(&self) -> &str {
        self.name.strip_prefix('.').unwrap_or(&self.name)
    }

    fn to_uninterpreted(&self) -> UninterpretedOption {
        if let Some(written) = &self.written {
            return written.clone();
        }
        UninterpretedOption {
            name: vec![NamePart {
                name_part: self.name.clone(),
                is_extension: self.parenthesized,
            }],
            aggregate_value: Some(aggregate_text(self.map.as_deref().unwrap_or_default())),
            ..Default::default()
        }
    }
}

fn unsupported(what: String) -> FormatError {
    FormatError::Tags(format!(
        "the options of the tagged element cannot be rewritten: {what}"
    ))
}

/// Reads an option as wire parses it and as `transform` turns it into a
/// map: `(a).b.c = v` becomes `(a) = { b: { c: v } }`.
fn read_option(o: &UninterpretedOption) -> Result<Opt, FormatError> {
    let Some(first) = o.name.first() else {
        return Err(unsupported("an option without a name".to_owned()));
    };
    let (name, parenthesized, rest) = if first.is_extension {
        (first.name_part.clone(), true, &o.name[1..])
    } else {
        // wire reads a plain name with its dots as one name.
        let n = o.name.iter().take_while(|p| !p.is_extension).count();
        let joined: Vec<&str> = o.name[..n].iter().map(|p| p.name_part.as_str()).collect();
        (joined.join("."), false, &o.name[n..])
    };
    if let Some(bad) = rest.iter().find(|p| p.is_extension) {
        return Err(unsupported(format!(
            "the option name part ({}) is not one Confluent's parser reads",
            bad.name_part
        )));
    }
    let map = match rest.split_first() {
        None => o.aggregate_value.as_deref().and_then(parse_aggregate),
        Some((head, tail)) => {
            let mut value = leaf(o)?;
            for part in tail.iter().rev() {
                value = MapValue::Map(vec![(part.name_part.clone(), value)]);
            }
            Some(vec![(head.name_part.clone(), value)])
        }
    };
    let written = if rest.is_empty() {
        Some(o.clone())
    } else {
        None
    };
    Ok(Opt {
        name,
        parenthesized,
        map,
        written,
    })
}

/// An option's value as a value inside a map (what the printer prints for
/// it on its own).
fn leaf(o: &UninterpretedOption) -> Result<MapValue, FormatError> {
    Ok(if let Some(s) = &o.string_value {
        MapValue::Str(String::from_utf8_lossy(s).into_owned())
    } else if let Some(i) = &o.identifier_value {
        MapValue::Raw(i.clone())
    } else if let Some(n) = o.positive_int_value {
        MapValue::Raw(n.to_string())
    } else if let Some(n) = o.negative_int_value {
        MapValue::Raw(n.to_string())
    } else if let Some(d) = o.double_value {
        MapValue::Raw(d.to_string())
    } else if let Some(a) = &o.aggregate_value {
        MapValue::Map(
            parse_aggregate(a).ok_or_else(|| unsupported(format!("the value {{ {a} }}")))?,
        )
    } else {
        MapValue::Raw(String::new())
    })
}

/// Java's `equals` on the values wire builds: maps regardless of order.
fn same_value(a: &MapValue, b: &MapValue) -> bool {
    match (a, b) {
        (MapValue::Str(x), MapValue::Str(y)) | (MapValue::Raw(x), MapValue::Raw(y)) => x == y,
        (MapValue::List(x), MapValue::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
        }
        (MapValue::Map(x), MapValue::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(yk, yv)| yk == k && same_value(v, yv)))
        }
        _ => false,
    }
}

/// `ProtobufSchema.merge` of two values under one key: an ordered set of
/// both, each once.
fn union(existing: &MapValue, added: MapValue) -> MapValue {
    let mut out: Vec<MapValue> = Vec::new();
    let mut push = |v: MapValue| {
        if !out.iter().any(|o| same_value(o, &v)) {
            out.push(v);
        }
    };
    match existing {
        MapValue::List(items) => items.iter().cloned().for_each(&mut push),
        other => push(other.clone()),
    }
    match added {
        MapValue::List(items) => items.into_iter().for_each(&mut push),
        other => push(other),
    }
    MapValue::List(out)
}

/// `ProtobufSchema.merge`: two maps become one (the later one's name);
/// otherwise the later option replaces the earlier.
fn merge(existing: &Opt, replacement: Opt) -> Opt {
    match (&existing.map, replacement.map) {
        (Some(old), Some(new)) => {
            let mut merged = old.clone();
            for (key, value) in new {
                match merged.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, slot)) => *slot = union(slot, value),
                    None => merged.push((key, value)),
                }
            }
            Opt {
                name: replacement.name,
                parenthesized: replacement.parenthesized,
                map: Some(merged),
                written: None,
            }
        }
        (_, map) => Opt { map, ..replacement },
    }
}

/// Java's `String.hashCode`, spread as `HashMap.hash` spreads it.
fn java_hash(s: &str) -> u32 {
    let mut h: i32 = 0;
    for unit in s.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(i32::from(unit));
    }
    let h = h as u32;
    h ^ (h >> 16)
}

/// The options of one element merged by key, as the `HashMap` of
/// `Collectors.toMap` holds them.
struct Merged {
    /// Distinct keys in first-insertion order, with their hash.
    entries: Vec<(String, u32, Opt)>,
    /// The table's capacity once all were merged in.
    capacity: usize,
}

impl Merged {
    fn build(options: Vec<Opt>, work: &mut Work) -> Result<Merged, FormatError> {
        let mut entries: Vec<(String, u32, Opt)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        // `HashMap.merge` checks for a resize on every call, then treeifies
        // (or, in a small table, resizes) a bin that reached eight nodes.
        let mut capacity = 0usize;
        let mut size = 0usize;
        let mut bins: Vec<usize> = Vec::new();
        for opt in options {
            work.step()?;
            let key = opt.key().to_owned();
            let hash = java_hash(&key);
            if capacity == 0 || size > capacity / 4 * 3 {
                capacity = if capacity == 0 { 16 } else { capacity * 2 };
                bins = rebin(&entries, capacity);
            }
            match index.get(&key) {
                Some(&at) => {
                    let merged = merge(&entries[at].2, opt);
                    entries[at].2 = merged;
                }
                None => {
                    let bin = hash as usize & (capacity - 1);
                    let before = bins[bin];
                    index.insert(key.clone(), entries.len());
                    entries.push((key, hash, opt));
                    bins[bin] += 1;
                    if before >= 7 {
                        if capacity >= MIN_TREEIFY_CAPACITY {
                            return Err(unsupported(
                                "too many of its option names share one hash bin".to_owned(),
                            ));
                        }
                        capacity *= 2;
                        bins = rebin(&entries, capacity);
                    }
                    size += 1;
                }
            }
        }
        Ok(Merged { entries, capacity })
    }

    fn get(&self, key: &str) -> Option<&Opt> {
        self.entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, o)| o)
    }

    /// `put` on a key already there: the value changes, not its place.
    fn replace(&mut self, key: &str, opt: Opt) {
        if let Some(entry) = self.entries.iter_mut().find(|(k, _, _)| k == key) {
            entry.2 = opt;
        }
    }

    fn remove(&mut self, key: &str) {
        self.entries.retain(|(k, _, _)| k != key);
    }

    /// Java's iteration order: by bin, and within a bin newest first, as
    /// `HashMap.merge` puts a new node at the head of its bin (resizing
    /// keeps the order of a bin).
    fn ordered(&self) -> Vec<&Opt> {
        let mask = self.capacity.saturating_sub(1);
        let mut order: Vec<(usize, &(String, u32, Opt))> =
            self.entries.iter().enumerate().collect();
        order.sort_by_key(|(at, (_, hash, _))| (*hash as usize & mask, std::cmp::Reverse(*at)));
        order.into_iter().map(|(_, (_, _, o))| o).collect()
    }
}

fn rebin(entries: &[(String, u32, Opt)], capacity: usize) -> Vec<usize> {
    let mut bins = vec![0usize; capacity];
    for (_, hash, _) in entries {
        bins[*hash as usize & (capacity - 1)] += 1;
    }
    bins
}

/// An aggregate value as text the printer's parser reads back as `entries`.
fn aggregate_text(entries: &[(String, MapValue)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(key);
        out.push_str(": ");
        value_text(&mut out, value);
    }
    out
}

fn value_text(out: &mut String, value: &MapValue) {
    match value {
        MapValue::Str(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        MapValue::Raw(r) => out.push_str(r),
        MapValue::Map(entries) => {
            out.push_str("{ ");
            out.push_str(&aggregate_text(entries));
            out.push_str(" }");
        }
        MapValue::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i > 0 { ", " } else { " " });
                value_text(out, item);
            }
            out.push_str(" ]");
        }
    }
}

/// The element an entity names: a message by its index path, or a field
/// of one by its index in `field`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Message(Vec<usize>),
    Field(Vec<usize>, usize),
}

fn illegal(message: String) -> FormatError {
    FormatError::Tags(format!("java.lang.IllegalArgumentException: {message}"))
}

fn no_message(name: &str) -> FormatError {
    illegal(format!(
        "No matching Message with name '{name}' found in the schema"
    ))
}

fn no_field(name: &str) -> FormatError {
    illegal(format!(
        "No matching Field with name '{name}' found in the schema"
    ))
}

/// The names of the types of a message's groups: nested types wire keeps
/// apart from its messages.
fn group_types(parent: Option<&DescriptorProto>) -> HashSet<&str> {
    parent
        .into_iter()
        .flat_map(|p| &p.field)
        .filter(|f| is_group(f))
        .filter_map(|f| f.type_name().rsplit('.').next())
        .collect()
}

/// Whether a nested type is a message wire sees: not the entry type of a
/// `map<K, V>` field nor the type of a group.
fn is_wire_message(groups: &HashSet<&str>, m: &DescriptorProto) -> bool {
    !m.options.as_ref().is_some_and(|o| o.map_entry()) && !groups.contains(m.name())
}

fn is_group(f: &prost_types::FieldDescriptorProto) -> bool {
    f.r#type == Some(Type::Group as i32)
}

/// Whether the oneof at `index` is the synthetic one of a proto3
/// `optional` field (wire has no such oneof).
fn is_synthetic_oneof(m: &DescriptorProto, index: usize) -> bool {
    m.field
        .iter()
        .any(|f| f.proto3_optional() && f.oneof_index == Some(index as i32))
}

/// `ProtobufSchemaUtils.findMatchingElement`.
fn find(
    file: &FileDescriptorProto,
    ids: &[&str],
    field: bool,
    work: &mut Work,
) -> Result<Target, FormatError> {
    // The index of the last message name (exclusive).
    let end = if field {
        ids.len().checked_sub(1)
    } else {
        Some(ids.len())
    };
    let Some(end) = end else {
        return Err(FormatError::Tags(
            "java.lang.ArrayIndexOutOfBoundsException: Index -1 out of bounds for length 0"
                .to_owned(),
        ));
    };
    let mut path: Vec<usize> = Vec::new();
    let mut current: Option<&DescriptorProto> = None;
    let mut i = 0;
    while i < end {
        let wanted = ids[i];
        let list = match current {
            None => &file.message_type,
            Some(m) => &m.nested_type,
        };
        let mut found = None;
        for (at, m) in list.iter().enumerate() {
            work.step()?;
            if m.name() == wanted && is_wire_message(&group_types(current), m) {
                found = Some((at, m));
                break;
            }
        }
        match found {
            Some((at, m)) => {
                path.push(at);
                current = Some(m);
            }
            // The last name may be a oneof's, not a message's.
            None if field && i + 1 == end => break,
            None => return Err(no_message(wanted)),
        }
        i += 1;
    }
    if !field {
        return match current {
            Some(_) => Ok(Target::Message(path)),
            // Confluent reads the options of no message.
            None => Err(FormatError::Tags(
                "java.lang.NullPointerException".to_owned(),
            )),
        };
    }
    let name = ids[ids.len() - 1];
    let Some(message) = current else {
        return Err(no_field(name));
    };
    if i == end {
        for (at, f) in message.field.iter().enumerate() {
            work.step()?;
            if f.name() == name && !is_group(f) {
                return Ok(Target::Field(path, at));
            }
        }
    } else {
        let oneof = ids[i];
        let found = message
            .oneof_decl
            .iter()
            .enumerate()
            .rev()
            .find(|(at, o)| o.name() == oneof && !is_synthetic_oneof(message, *at))
            .map(|(at, _)| at);
        if let Some(index) = found {
            for (at, f) in message.field.iter().enumerate() {
                work.step()?;
                if f.oneof_index == Some(index as i32) && !f.proto3_optional() && f.name() == name {
                    return Ok(Target::Field(path, at));
                }
            }
        }
    }
    Err(no_field(name))
}

fn message_at<'a>(file: &'a FileDescriptorProto, path: &[usize]) -> Option<&'a DescriptorProto> {
    let (first, rest) = path.split_first()?;
    let mut m = file.message_type.get(*first)?;
    for at in rest {
        m = m.nested_type.get(*at)?;
    }
    Some(m)
}

fn message_at_mut<'a>(
    file: &'a mut FileDescriptorProto,
    path: &[usize],
) -> Option<&'a mut DescriptorProto> {
    let (first, rest) = path.split_first()?;
    let mut m = file.message_type.get_mut(*first)?;
    for at in rest {
        m = m.nested_type.get_mut(*at)?;
    }
    Some(m)
}

fn options_of<'a>(file: &'a FileDescriptorProto, target: &Target) -> &'a [UninterpretedOption] {
    let options = match target {
        Target::Message(path) => {
            message_at(file, path).and_then(|m| m.options.as_ref().map(|o| &o.uninterpreted_option))
        }
        Target::Field(path, at) => message_at(file, path)
            .and_then(|m| m.field.get(*at))
            .and_then(|f| f.options.as_ref().map(|o| &o.uninterpreted_option)),
    };
    options.map_or(&[][..], Vec::as_slice)
}

fn set_options(file: &mut FileDescriptorProto, target: &Target, options: Vec<UninterpretedOption>) {
    match target {
        Target::Message(path) => {
            if let Some(m) = message_at_mut(file, path) {
                m.options
                    .get_or_insert_with(Default::default)
                    .uninterpreted_option = options;
            }
        }
        Target::Field(path, at) => {
            if let Some(f) = message_at_mut(file, path).and_then(|m| m.field.get_mut(*at)) {
                f.options
                    .get_or_insert_with(Default::default)
                    .uninterpreted_option = options;
            }
        }
    }
}

/// The text Confluent registers after `copy(add, remove)` of `schema`.
pub(crate) fn with_tags(
    schema: &ProtobufSchema,
    add: &SchemaTags,
    remove: &SchemaTags,
    dependencies: &[Dependency],
    limits: &Limits,
) -> Result<String, FormatError> {
    let add = tags::merge_tags(add);
    let remove = tags::merge_tags(remove);
    let changes = tags::changes(&add, &remove);
    if changes.is_empty() {
        return Ok(schema.canonical.clone());
    }
    if !schema.compiled.from_text {
        // Confluent works on the text it stored; so does this.
        let text = ProtobufSchema::parse_with(&schema.canonical, dependencies, limits)?;
        return with_tags(&text, &add, &remove, dependencies, limits);
    }
    let original = &schema.compiled.source;
    let mut working = original.clone();
    // `optionCache`: an element reached again (by another path) starts from
    // the meta option written last, and only from it.
    let mut cache: Vec<(Target, Option<Opt>)> = Vec::new();
    let mut work = Work::default();
    for change in &changes {
        let ids = tags::java_split_dots(change.entity.normalized_path());
        let field = change.entity.kind == EntityKind::Field;
        let meta = if field { FIELD_META } else { MESSAGE_META };
        let target = find(original, &ids, field, &mut work)?;
        let cached = cache
            .iter()
            .find(|(t, _)| *t == target)
            .and_then(|(_, o)| o.clone());
        let mut all = match cached {
            Some(opt) => vec![opt],
            None => options_of(original, &target)
                .iter()
                .map(read_option)
                .collect::<Result<Vec<_>, _>>()?,
        };
        if !change.add.is_empty() {
            let list = change.add.iter().cloned().map(MapValue::Str).collect();
            all.push(Opt {
                name: meta.to_owned(),
                parenthesized: true,
                map: Some(vec![(TAGS.to_owned(), MapValue::List(list))]),
                written: None,
            });
        }
        let mut merged = Merged::build(all, &mut work)?;
        if !change.remove.is_empty() {
            remove_tags(&mut merged, meta, change.remove)?;
        }
        let kept = merged.get(meta).cloned();
        match cache.iter_mut().find(|(t, _)| *t == target) {
            Some(slot) => slot.1 = kept,
            None => cache.push((target.clone(), kept)),
        }
        let options = merged
            .ordered()
            .into_iter()
            .map(Opt::to_uninterpreted)
            .collect();
        set_options(&mut working, &target, options);
    }
    let text = super::printer(&schema.compiled, false).file(&working);
    ProtobufSchema::parse_with(&text, dependencies, limits).map(|s| s.canonical)
}

/// Takes `remove` out of the meta option's `tags`; an emptied list goes,
/// and an emptied meta option too.
fn remove_tags(merged: &mut Merged, meta: &str, remove: &[String]) -> Result<(), FormatError> {
    let Some(opt) = merged.get(meta) else {
        return Ok(());
    };
    let Some(map) = &opt.map else {
        return Err(FormatError::Tags(format!(
            "java.lang.ClassCastException: the option ({meta}) is not a message value"
        )));
    };
    let mut map = map.clone();
    let Some(at) = map.iter().position(|(k, _)| k == TAGS) else {
        return Ok(());
    };
    let all = match &map[at].1 {
        MapValue::List(items) => items.clone(),
        single => vec![single.clone()],
    };
    let remove: HashSet<&String> = remove.iter().collect();
    let remaining: Vec<MapValue> = all
        .into_iter()
        .filter(|t| !matches!(t, MapValue::Str(s) if remove.contains(s)))
        .collect();
    if remaining.is_empty() {
        map.remove(at);
    } else {
        map[at].1 = MapValue::List(remaining);
    }
    if map.is_empty() {
        merged.remove(meta);
    } else {
        merged.replace(
            meta,
            Opt {
                name: meta.to_owned(),
                parenthesized: true,
                map: Some(map),
                written: None,
            },
        );
    }
    Ok(())
}

/// The tags of an element's meta option, as `findMeta` reads them: the
/// options merged, then `tags` (a list, or one value), each once.
fn meta_tags(options: &[UninterpretedOption], meta: &str, work: &mut Work) -> Vec<String> {
    let Ok(all) = options
        .iter()
        .map(read_option)
        .collect::<Result<Vec<_>, _>>()
    else {
        return Vec::new();
    };
    let Ok(merged) = Merged::build(all, work) else {
        return Vec::new();
    };
    let Some(map) = merged.get(meta).and_then(|o| o.map.as_ref()) else {
        return Vec::new();
    };
    let Some((_, value)) = map.iter().find(|(k, _)| k == TAGS) else {
        return Vec::new();
    };
    let items = match value {
        MapValue::List(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    tags::unique(items.iter().filter_map(|item| match item {
        MapValue::Str(s) | MapValue::Raw(s) => Some(s.clone()),
        MapValue::Map(_) | MapValue::List(_) => None,
    }))
}

fn element_options<T>(
    options: Option<&T>,
    get: impl Fn(&T) -> &[UninterpretedOption],
) -> &[UninterpretedOption] {
    options.map_or(&[][..], get)
}

/// Each tagged message (`sr_record`, its name path under the package) and
/// field (`sr_field`, the message's path and the field's name), in the
/// order Confluent's `inlineTags` walks a file: a message's own tags, its
/// fields, its nested messages (each in full), then its oneofs' fields.
pub(crate) fn tagged_entities(schema: &ProtobufSchema) -> SchemaTags {
    let parsed;
    let file = if schema.compiled.from_text {
        &schema.compiled.source
    } else {
        match protox_parse::parse("schema.proto", &schema.canonical) {
            Ok(f) => {
                parsed = f;
                &parsed
            }
            Err(_) => return Vec::new(),
        }
    };
    enum Step<'a> {
        Message(&'a DescriptorProto, String),
        Oneofs(&'a DescriptorProto, String),
    }
    let mut out = tags::Tagged::default();
    let mut work = Work::default();
    let mut stack: Vec<Step<'_>> = file
        .message_type
        .iter()
        .rev()
        .filter(|m| is_wire_message(&HashSet::new(), m))
        .map(|m| Step::Message(m, m.name().to_owned()))
        .collect();
    while let Some(step) = stack.pop() {
        if work.step().is_err() {
            break;
        }
        match step {
            Step::Message(m, path) => {
                let options = element_options(m.options.as_ref(), |o| &o.uninterpreted_option);
                let found = meta_tags(options, MESSAGE_META, &mut work);
                if !found.is_empty() {
                    out.put(SchemaEntity::new(path.clone(), EntityKind::Record), found);
                }
                let real_oneof = |f: &prost_types::FieldDescriptorProto| {
                    f.oneof_index.is_some() && !f.proto3_optional()
                };
                for f in m.field.iter().filter(|f| !real_oneof(f) && !is_group(f)) {
                    field_tags(&mut out, &path, f, &mut work);
                }
                stack.push(Step::Oneofs(m, path.clone()));
                let groups = group_types(Some(m));
                for n in m
                    .nested_type
                    .iter()
                    .rev()
                    .filter(|n| is_wire_message(&groups, n))
                {
                    stack.push(Step::Message(n, format!("{path}.{}", n.name())));
                }
            }
            Step::Oneofs(m, path) => {
                // Members of proto3 `optional` fields' synthetic oneofs are
                // plain fields to wire, listed above.
                let mut members: Vec<Vec<&prost_types::FieldDescriptorProto>> =
                    vec![Vec::new(); m.oneof_decl.len()];
                for f in m.field.iter().filter(|f| !f.proto3_optional()) {
                    let slot = f
                        .oneof_index
                        .and_then(|i| usize::try_from(i).ok())
                        .and_then(|i| members.get_mut(i));
                    if let Some(slot) = slot {
                        slot.push(f);
                    }
                }
                for f in members.into_iter().flatten() {
                    field_tags(&mut out, &path, f, &mut work);
                }
            }
        }
    }
    out.into_list()
}

/// Lists a field under `path` when its meta option has tags.
fn field_tags(
    out: &mut tags::Tagged,
    path: &str,
    f: &prost_types::FieldDescriptorProto,
    work: &mut Work,
) {
    let options = element_options(f.options.as_ref(), |o| &o.uninterpreted_option);
    let found = meta_tags(options, FIELD_META, work);
    if !found.is_empty() {
        let entity = SchemaEntity::new(format!("{path}.{}", f.name()), EntityKind::Field);
        out.put(entity, found);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn parse(text: &str) -> ProtobufSchema {
        ProtobufSchema::parse(text, &[]).unwrap()
    }

    fn field(path: &str, tags: &[&str]) -> (SchemaEntity, Vec<String>) {
        let tags = tags.iter().map(|t| (*t).to_owned()).collect();
        (SchemaEntity::new(path, EntityKind::Field), tags)
    }

    fn record(path: &str, tags: &[&str]) -> (SchemaEntity, Vec<String>) {
        let tags = tags.iter().map(|t| (*t).to_owned()).collect();
        (SchemaEntity::new(path, EntityKind::Record), tags)
    }

    fn tag(schema: &ProtobufSchema, add: SchemaTags, remove: SchemaTags) -> String {
        schema
            .with_tags(&add, &remove, &[], &Limits::default())
            .unwrap()
    }

    fn tag_err(schema: &ProtobufSchema, add: SchemaTags) -> String {
        schema
            .with_tags(&add, &Vec::new(), &[], &Limits::default())
            .unwrap_err()
            .to_string()
    }

    /// The text must be what the registry would store for itself.
    fn stable(text: &str) -> String {
        assert_eq!(parse(text).canonical(), text);
        text.to_owned()
    }

    const REST_API: &str = "syntax = \"proto3\";\npackage com.example;\n\nmessage Message1 {\n  string f1 = 1;\n  string f2 = 2;\n}\n";

    /// Confluent's RestApiTest: two paths of one field, then removals.
    #[test]
    fn rest_api_example_adds_then_removes() {
        let original = parse(REST_API);
        let tagged = stable(&tag(
            &original,
            vec![
                field("Message1.f1", &["TAG1"]),
                field(".Message1.f1", &["TAG2"]),
            ],
            vec![],
        ));
        assert_eq!(
            tagged,
            "syntax = \"proto3\";\npackage com.example;\n\nmessage Message1 {\n  string f1 = 1 [(confluent.field_meta) = {\n    tags: [\n      \"TAG1\",\n      \"TAG2\"\n    ]\n  }];\n  string f2 = 2;\n}\n"
        );
        let removed = stable(&tag(
            &parse(&tagged),
            vec![],
            vec![field("Message1.f1", &["TAG2"])],
        ));
        assert_eq!(
            removed,
            "syntax = \"proto3\";\npackage com.example;\n\nmessage Message1 {\n  string f1 = 1 [(confluent.field_meta) = {\n    tags: [\n      \"TAG1\"\n    ]\n  }];\n  string f2 = 2;\n}\n"
        );
        let back = tag(
            &parse(&removed),
            vec![],
            vec![field(".Message1.f1", &["TAG1"])],
        );
        assert_eq!(back, original.canonical());
        assert!(parse(&back).tagged_entities().is_empty());
    }

    const SAMPLE: &str = "syntax = \"proto3\";\npackage com.example.mynamespace;\n\nimport \"confluent/meta.proto\";\nimport \"confluent/type/decimal.proto\";\n\noption java_package = \"io.confluent.kafka.serializers.protobuf.test\";\noption java_outer_classname = \"ComplexProto\";\noption (confluent.file_meta).tags = \"FILE\";\n\nmessage SampleRecord {\n  option (confluent.message_meta).tags = \"OTHER\";\n\n  int32 my_field1 = 1 [\n    (confluent.field_meta).tags = \"OTHER\",\n    (confluent.field_meta).tags = \"PRIVATE\"\n  ];\n  double my_field2 = 2 [(confluent.field_meta) = {\n    tags: [ \"PRIVATE\" ]\n  }];\n  NestedRecord my_field3 = 3 [(confluent.field_meta) = {\n    doc: \"field_meta\"\n  }];\n\n  message NestedRecord {\n    int64 nested_filed1 = 4;\n  }\n  enum Kind {\n    option (confluent.enum_meta).tags = \"ENUM\";\n    APPLE = 0 [(confluent.enum_value_meta) = {\n      tags: [\n        \"CONST\"\n      ]\n    }];\n    BANANA = 7;\n  }\n}\n";

    const SAMPLE_HEAD: &str = "syntax = \"proto3\";\npackage com.example.mynamespace;\n\nimport \"confluent/meta.proto\";\nimport \"confluent/type/decimal.proto\";\n\noption java_package = \"io.confluent.kafka.serializers.protobuf.test\";\noption java_outer_classname = \"ComplexProto\";\noption (confluent.file_meta).tags = \"FILE\";\n\n";

    const SAMPLE_ENUM: &str = "  enum Kind {\n    option (confluent.enum_meta).tags = \"ENUM\";\n    APPLE = 0 [(confluent.enum_value_meta) = {\n      tags: [\n        \"CONST\"\n      ]\n    }];\n    BANANA = 7;\n  }\n}\n";

    /// Confluent's ProtobufSchemaTest.testBasicAddAndRemoveSchemaTags:
    /// message tags, nested messages, existing tags in every written form
    /// (its enum starts at 6, which protoc refuses in proto3; 0 here).
    #[test]
    fn message_and_nested_tags_merge_with_existing_ones() {
        let add = vec![
            field(".SampleRecord.my_field1", &["PII"]),
            field(".SampleRecord.my_field2", &["PII"]),
            field(".SampleRecord.my_field3", &["PII"]),
            field(".SampleRecord.NestedRecord.nested_filed1", &["PII"]),
            record(".SampleRecord", &["PII"]),
            record(".SampleRecord.NestedRecord", &["PII"]),
        ];
        let tagged = stable(&tag(&parse(SAMPLE), add, vec![]));
        let expected = format!(
            "{SAMPLE_HEAD}message SampleRecord {{\n  option (confluent.message_meta) = {{\n    tags: [\n      \"OTHER\",\n      \"PII\"\n    ]\n  }};\n\n  int32 my_field1 = 1 [(confluent.field_meta) = {{\n    tags: [\n      \"OTHER\",\n      \"PRIVATE\",\n      \"PII\"\n    ]\n  }}];\n  double my_field2 = 2 [(confluent.field_meta) = {{\n    tags: [\n      \"PRIVATE\",\n      \"PII\"\n    ]\n  }}];\n  NestedRecord my_field3 = 3 [(confluent.field_meta) = {{\n    doc: \"field_meta\",\n    tags: [\n      \"PII\"\n    ]\n  }}];\n\n  message NestedRecord {{\n    option (confluent.message_meta) = {{\n      tags: [\n        \"PII\"\n      ]\n    }};\n  \n    int64 nested_filed1 = 4 [(confluent.field_meta) = {{\n      tags: [\n        \"PII\"\n      ]\n    }}];\n  }}\n{SAMPLE_ENUM}"
        );
        assert_eq!(tagged, expected);

        let listed: Vec<(String, &str, Vec<String>)> = parse(&tagged)
            .tagged_entities()
            .into_iter()
            .map(|(e, t)| (e.path, e.kind.as_str(), t))
            .collect();
        let s = |v: &[&str]| v.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            listed,
            vec![
                ("SampleRecord".to_owned(), "sr_record", s(&["OTHER", "PII"])),
                (
                    "SampleRecord.my_field1".to_owned(),
                    "sr_field",
                    s(&["OTHER", "PRIVATE", "PII"])
                ),
                (
                    "SampleRecord.my_field2".to_owned(),
                    "sr_field",
                    s(&["PRIVATE", "PII"])
                ),
                ("SampleRecord.my_field3".to_owned(), "sr_field", s(&["PII"])),
                (
                    "SampleRecord.NestedRecord".to_owned(),
                    "sr_record",
                    s(&["PII"])
                ),
                (
                    "SampleRecord.NestedRecord.nested_filed1".to_owned(),
                    "sr_field",
                    s(&["PII"])
                ),
            ]
        );

        let remove = vec![
            field(".SampleRecord.my_field1", &["OTHER"]),
            field(".SampleRecord.my_field2", &["PRIVATE"]),
            field(".SampleRecord.my_field3", &["PII"]),
            field(
                ".SampleRecord.NestedRecord.nested_filed1",
                &["DOES_NOT_EXIST"],
            ),
            record(".SampleRecord", &["OTHER"]),
            record(".SampleRecord.NestedRecord", &["PII"]),
        ];
        let removed = stable(&tag(&parse(&tagged), vec![], remove));
        let expected = format!(
            "{SAMPLE_HEAD}message SampleRecord {{\n  option (confluent.message_meta) = {{\n    tags: [\n      \"PII\"\n    ]\n  }};\n\n  int32 my_field1 = 1 [(confluent.field_meta) = {{\n    tags: [\n      \"PRIVATE\",\n      \"PII\"\n    ]\n  }}];\n  double my_field2 = 2 [(confluent.field_meta) = {{\n    tags: [\n      \"PII\"\n    ]\n  }}];\n  NestedRecord my_field3 = 3 [(confluent.field_meta) = {{\n    doc: \"field_meta\"\n  }}];\n\n  message NestedRecord {{\n    int64 nested_filed1 = 4 [(confluent.field_meta) = {{\n      tags: [\n        \"PII\"\n      ]\n    }}];\n  }}\n{SAMPLE_ENUM}"
        );
        assert_eq!(removed, expected);
    }

    /// Confluent's testAddDuplicateTags: a tag already there is not added
    /// twice, but the option takes the aggregate form.
    #[test]
    fn a_tag_already_there_is_not_repeated() {
        let text = "syntax = \"proto3\";\npackage com.example.mynamespace;\n\nmessage SampleRecord {\n  int32 my_field1 = 1 [(confluent.field_meta).tags = \"PRIVATE\"];\n  int32 my_field2 = 2;\n}\n";
        let tagged = tag(
            &parse(text),
            vec![field(".SampleRecord.my_field1", &["PRIVATE"])],
            vec![],
        );
        assert_eq!(
            tagged,
            "syntax = \"proto3\";\npackage com.example.mynamespace;\n\nmessage SampleRecord {\n  int32 my_field1 = 1 [(confluent.field_meta) = {\n    tags: [\n      \"PRIVATE\"\n    ]\n  }];\n  int32 my_field2 = 2;\n}\n"
        );
    }

    /// Confluent's testComplexRemove (the one field written there with a
    /// list at statement level, which protoc's grammar has no room for, is
    /// written in the aggregate form here).
    #[test]
    fn removing_the_last_tag_drops_the_option() {
        let text = "syntax = \"proto3\";\npackage com.example.mynamespace;\n\nimport \"confluent/meta.proto\";\nimport \"confluent/type/decimal.proto\";\n\noption java_package = \"io.confluent.kafka.serializers.protobuf.test\";\noption java_outer_classname = \"ComplexProto\";\n\nmessage SampleRecord {\n  int32 my_field1 = 1 [(confluent.field_meta).tags = \"PRIVATE\"];\n  double my_field2 = 2 [(confluent.field_meta) = {\n    doc: \"no tag\"\n  }];\n  NestedRecord my_field3 = 3 [(confluent.field_meta) = {\n    doc: \"field_meta\",\n    tags: [\n      \"PII\",\n      \"PRIVATE\"\n    ]\n  }];\n  int32 my_field4 = 5 [\n    otherOption = \"foo\",\n    (confluent.field_meta).tags = \"PRIVATE\"\n  ];\n  oneof some_val {\n    int32 other_id = 11 [(confluent.field_meta).tags = \"PRIVATE\"];\n    string one_id = 12;\n  }\n\n  message NestedRecord {\n    int64 nested_filed1 = 4 [(confluent.field_meta) = { tags: [\"PII\"] }];\n  }\n}\n";
        let remove = vec![
            field(".SampleRecord.my_field1", &["PRIVATE"]),
            field(".SampleRecord.my_field2", &["PRIVATE"]),
            field(".SampleRecord.my_field3", &["PRIVATE"]),
            field(".SampleRecord.my_field4", &["PRIVATE"]),
            field(".SampleRecord.NestedRecord.nested_filed1", &["PRIVATE"]),
            field(".SampleRecord.some_val.other_id", &["PRIVATE"]),
        ];
        let removed = stable(&tag(&parse(text), vec![], remove));
        assert_eq!(
            removed,
            "syntax = \"proto3\";\npackage com.example.mynamespace;\n\nimport \"confluent/meta.proto\";\nimport \"confluent/type/decimal.proto\";\n\noption java_package = \"io.confluent.kafka.serializers.protobuf.test\";\noption java_outer_classname = \"ComplexProto\";\n\nmessage SampleRecord {\n  int32 my_field1 = 1;\n  double my_field2 = 2 [(confluent.field_meta) = {\n    doc: \"no tag\"\n  }];\n  NestedRecord my_field3 = 3 [(confluent.field_meta) = {\n    doc: \"field_meta\",\n    tags: [\n      \"PII\"\n    ]\n  }];\n  int32 my_field4 = 5 [otherOption = \"foo\"];\n\n  oneof some_val {\n    int32 other_id = 11;\n    string one_id = 12;\n  }\n\n  message NestedRecord {\n    int64 nested_filed1 = 4 [(confluent.field_meta) = {\n      tags: [\n        \"PII\"\n      ]\n    }];\n  }\n}\n"
        );
    }

    /// Confluent's testOptionalOneOfFieldName: a oneof member by either
    /// path, both paths adding to the same field.
    #[test]
    fn oneof_members_are_found_with_or_without_the_oneof_name() {
        let text = "syntax = \"proto3\";\npackage com.example.mynamespace;\n\nmessage SampleRecord {\n  oneof test_oneof {\n    string f1 = 1;\n    int32 f2 = 2;\n  }\n}\n";
        let add = vec![
            field(".SampleRecord.f1", &["TAG1"]),
            field(".SampleRecord.test_oneof.f1", &["TAG2"]),
            field("SampleRecord.f2", &["TAG3"]),
            field("SampleRecord.test_oneof.f2", &["TAG4"]),
        ];
        let tagged = stable(&tag(&parse(text), add, vec![]));
        assert_eq!(
            tagged,
            "syntax = \"proto3\";\npackage com.example.mynamespace;\n\nmessage SampleRecord {\n  oneof test_oneof {\n    string f1 = 1 [(confluent.field_meta) = {\n      tags: [\n        \"TAG1\",\n        \"TAG2\"\n      ]\n    }];\n    int32 f2 = 2 [(confluent.field_meta) = {\n      tags: [\n        \"TAG3\",\n        \"TAG4\"\n      ]\n    }];\n  }\n}\n"
        );
        // Oneof members are listed after the message's other fields, under
        // the message's path.
        let listed: Vec<(String, Vec<String>)> = parse(&format!(
            "{}  string plain = 3 [(confluent.field_meta).tags = \"P\"];\n}}\n",
            tagged.trim_end().trim_end_matches('}')
        ))
        .tagged_entities()
        .into_iter()
        .map(|(e, t)| (e.path, t))
        .collect();
        let s = |p: &str, v: &[&str]| (p.to_owned(), v.iter().map(|t| (*t).to_owned()).collect());
        assert_eq!(
            listed,
            vec![
                s("SampleRecord.plain", &["P"]),
                s("SampleRecord.f1", &["TAG1", "TAG2"]),
                s("SampleRecord.f2", &["TAG3", "TAG4"]),
            ]
        );
    }

    /// Confluent's testInvalidPath, with the messages its
    /// `findMatchingElement` throws.
    #[test]
    fn paths_that_match_nothing_are_refused_as_confluent_refuses_them() {
        let text = "syntax = \"proto3\";\npackage com.example.mynamespace;\n\nmessage SampleRecord {\n  oneof test_oneof {\n    string f1 = 1;\n    int32 f2 = 2;\n  }\n}\n";
        let schema = parse(text);
        let no_field = |name: &str| {
            format!(
                "java.lang.IllegalArgumentException: No matching Field with name '{name}' found in the schema"
            )
        };
        let no_message = |name: &str| {
            format!(
                "java.lang.IllegalArgumentException: No matching Message with name '{name}' found in the schema"
            )
        };
        let err = |entity| tag_err(&schema, vec![entity]);
        assert!(err(field("SampleRecord", &["T"])).contains(&no_field("SampleRecord")));
        assert!(err(field("SampleRecord.bad_oneof.f1", &["T"])).contains(&no_field("f1")));
        assert!(err(field("SampleRecord.f3", &["T"])).contains(&no_field("f3")));
        assert!(err(field("Nope.f1", &["T"])).contains(&no_field("f1")));
        assert!(err(field("Nope.Inner.f1", &["T"])).contains(&no_message("Nope")));
        assert!(err(record("badRecord", &["T"])).contains(&no_message("badRecord")));
        assert!(err(record("..SampleRecord", &["T"])).contains(&no_message("")));
        assert!(err(record(".SampleRecord.f1", &["T"])).contains(&no_message("f1")));
        // A path names messages under the package, not with it.
        let full = err(record("com.example.mynamespace.SampleRecord", &["T"]));
        assert!(full.contains(&no_message("com")), "{full}");
        assert!(err(record("..", &["T"])).contains("NullPointerException"));
        assert!(err(field("..", &["T"])).contains("ArrayIndexOutOfBoundsException"));
    }

    /// `mergeOptions` collects into a `HashMap`: the options of a tagged
    /// element come back in its order (checked against Java's).
    /// Plain options by these names, merged: their names in Java's order.
    fn java_order(names: &[&str]) -> Vec<String> {
        let options: Vec<Opt> = names
            .iter()
            .map(|n| Opt {
                name: (*n).to_owned(),
                parenthesized: false,
                map: None,
                written: None,
            })
            .collect();
        let merged = Merged::build(options, &mut Work::default()).unwrap();
        merged.ordered().iter().map(|o| o.name.clone()).collect()
    }

    #[test]
    fn options_come_back_in_java_hash_map_order() {
        let names = [
            "otherOption",
            "confluent.field_meta",
            "zeta",
            "a.b",
            "packed",
            "jstype",
            "ctype",
            "x1",
            "x2",
            "x3",
            "x4",
            "x5",
            "x6",
            "x7",
            "x8",
            "confluent.field_meta",
        ];
        let order = java_order(&names);
        // Java 17: `Collectors.toMap(k -> k, k -> 1, (a, b) -> a).keySet()`.
        assert_eq!(
            order,
            [
                "x8",
                "zeta",
                "jstype",
                "otherOption",
                "confluent.field_meta",
                "ctype",
                "a.b",
                "x1",
                "x2",
                "x3",
                "x4",
                "packed",
                "x5",
                "x6",
                "x7"
            ]
        );

        // Eight names in one bin: the table grows instead.
        let names = [
            "AaAaAa",
            "AaAaBB",
            "AaBBAa",
            "AaBBBB",
            "deprecated",
            "BBAaAa",
            "BBAaBB",
            "BBBBAa",
            "BBBBBB",
            "deprecated",
            "zz",
        ];
        let order = java_order(&names);
        assert_eq!(
            order,
            [
                "zz",
                "deprecated",
                "BBBBBB",
                "BBBBAa",
                "BBAaBB",
                "BBAaAa",
                "AaBBBB",
                "AaBBAa",
                "AaAaBB",
                "AaAaAa"
            ]
        );

        let text = "syntax = \"proto3\";\nmessage M {\n  string f = 1 [deprecated = true, (foo).bar = 1];\n}\n";
        let tagged = stable(&tag(&parse(text), vec![field("M.f", &["T"])], vec![]));
        assert_eq!(
            tagged,
            "syntax = \"proto3\";\n\nmessage M {\n  string f = 1 [\n    (confluent.field_meta) = {\n      tags: [\n        \"T\"\n      ]\n    },\n    (foo) = {\n      bar: 1\n    },\n    deprecated = true\n  ];\n}\n"
        );
    }

    #[test]
    fn nothing_to_change_gives_the_canonical_text_back() {
        let schema = parse(REST_API);
        assert_eq!(tag(&schema, vec![], vec![]), schema.canonical());
    }

    #[test]
    fn odd_tags_survive_the_round_trip() {
        let tagged = tag(
            &parse(REST_API),
            vec![field(
                "Message1.f2",
                &["a\"b", "c\\d", "e\nf", "ü", "\u{7}"],
            )],
            vec![],
        );
        stable(&tagged);
        let listed = parse(&tagged).tagged_entities();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].1, ["a\"b", "c\\d", "e\nf", "ü", "\u{7}"]);
    }
}
