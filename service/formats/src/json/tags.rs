//! Schema tags on JSON schemas: the `confluent:tags` keyword of any schema
//! object.
//!
//! Confluent finds an entity on the raw JSON (`JsonSchemaUtils.
//! findMatchingEntity`, a walk led by type-prefixed paths such as
//! `object.f.array.object.g`) but lists tagged entities from everit's
//! object model (`JsonSchema.inlineTaggedEntities`). Both sort the
//! subschemas of `allOf`/`anyOf`/`oneOf` with Confluent's
//! `JsonSchemaComparator`, so this module reads a schema as everit does
//! (one typed schema, or a synthetic `allOf` of one schema per kind of
//! keyword) to order them the same way.

use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::{Map, Value};

use super::model::implied_types;
use super::{JsonSchema, invalid};
use crate::limits::{self, Limits};
use crate::tags::{self, EntityKind, JsonStep, SchemaEntity, SchemaTags, TAGS_PROPERTY as TAGS};
use crate::{Dependency, FormatError, SchemaType};

/// Reference hops one comparison follows: Confluent would follow a cycle
/// until its stack overflows; this stops early instead.
const MAX_REF_HOPS: usize = 4;

/// The text Confluent registers after `copy(add, remove)` of `schema`.
pub(crate) fn with_tags(
    schema: &JsonSchema,
    add: &SchemaTags,
    remove: &SchemaTags,
    dependencies: &[Dependency],
    limits: &Limits,
) -> Result<String, FormatError> {
    let mut json = limits::read_json(schema.canonical(), limits).map_err(invalid)?;
    let work = Work::default();
    tags::retag_json(&mut json, add, remove, SchemaType::Json, |json, entity| {
        find_entity(json, entity, &work)
    })?;
    JsonSchema::parse_with(&json.to_string(), dependencies, limits).map(|s| s.canonical)
}

/// The work budget of one tag change (comparisons and nodes visited).
#[derive(Default)]
struct Work {
    spent: Cell<usize>,
    exhausted: Cell<bool>,
}

impl Work {
    /// Counts one unit; false once the budget or the deadline is gone.
    fn step(&self) -> bool {
        if self.exhausted.get() {
            return false;
        }
        let spent = self.spent.get() + 1;
        self.spent.set(spent);
        if spent > tags::MAX_VISITS || (spent.is_multiple_of(4096) && limits::expired()) {
            self.exhausted.set(true);
            return false;
        }
        true
    }
}

/// `JsonSchemaUtils.findMatchingEntity` (its `findNodeHelper`): the path to
/// the schema object `entity` names.
fn find_entity(
    root: &Value,
    entity: &SchemaEntity,
    work: &Work,
) -> Result<Vec<JsonStep>, FormatError> {
    let mut tokens: std::collections::VecDeque<&str> =
        tags::java_split_dots(&entity.path).into_iter().collect();
    let record = entity.kind == EntityKind::Record;
    let none = || tags::no_match(&entity.path);
    let mut node = root;
    let mut path: Vec<JsonStep> = Vec::new();
    loop {
        if !work.step() {
            return Err(tags::too_much_work());
        }
        let Some(kind) = tokens.pop_front() else {
            return Err(none());
        };
        match kind {
            "object" => {
                if record && tokens.is_empty() {
                    return Ok(path);
                }
                let container = match tokens.front() {
                    None => return Err(none()),
                    Some(&"definitions") => {
                        tokens.pop_front();
                        "definitions"
                    }
                    Some(&"$defs") => {
                        tokens.pop_front();
                        "$defs"
                    }
                    Some(_) => "properties",
                };
                let Some(Value::Object(map)) = node.get(container) else {
                    return Err(none());
                };
                // Names with dots: words are joined until a key matches.
                let Some(first) = tokens.pop_front() else {
                    return Err(none());
                };
                let mut name = first.to_owned();
                while !map.contains_key(&name) {
                    let Some(word) = tokens.pop_front() else {
                        break;
                    };
                    name.push('.');
                    name.push_str(word);
                }
                let Some(child) = map.get(&name) else {
                    return Err(none());
                };
                path.push(JsonStep::Key(container.to_owned()));
                path.push(JsonStep::Key(name));
                node = child;
                if tokens.is_empty() {
                    return Ok(path);
                }
            }
            "array" => node = descend(node, "items", &mut path).ok_or_else(none)?,
            "not" => node = descend(node, "not", &mut path).ok_or_else(none)?,
            "anyof" | "allof" | "oneof" => {
                let keyword = match kind {
                    "anyof" => "anyOf",
                    "allof" => "allOf",
                    _ => "oneOf",
                };
                if node.get(keyword).is_some() || kind == "oneof" {
                    let Some(index) = tokens.pop_front() else {
                        return Err(none());
                    };
                    let Some(Value::Array(items)) = node.get(keyword) else {
                        return Err(none());
                    };
                    let order = sorted_isolated(items, work);
                    if work.exhausted.get() {
                        return Err(tags::too_much_work());
                    }
                    let i = java_parse_int(index)?;
                    let Some(&at) = usize::try_from(i).ok().and_then(|i| order.get(i)) else {
                        return Err(FormatError::Tags(format!(
                            "java.lang.IndexOutOfBoundsException: Index {i} out of bounds for length {}",
                            order.len()
                        )));
                    };
                    path.push(JsonStep::Key(keyword.to_owned()));
                    path.push(JsonStep::Index(at));
                    node = &items[at];
                } else {
                    // `"type": [..]` (anyof) or if/then/else (allof) make a
                    // combined schema without the keyword: skip the index.
                    tokens.pop_front();
                    if kind == "allof" && tokens.front() == Some(&"conditional") {
                        tokens.pop_front();
                        let Some(branch) = tokens.pop_front() else {
                            return Err(none());
                        };
                        node = descend(node, branch, &mut path).ok_or_else(none)?;
                    }
                }
            }
            _ => return Err(none()),
        }
    }
}

fn descend<'a>(node: &'a Value, key: &str, path: &mut Vec<JsonStep>) -> Option<&'a Value> {
    let child = node.get(key)?;
    path.push(JsonStep::Key(key.to_owned()));
    Some(child)
}

/// Java's `Integer.parseInt` with its refusal text.
fn java_parse_int(s: &str) -> Result<i64, FormatError> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let parsed = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        s.parse::<i32>().ok()
    } else {
        None
    };
    parsed.map(i64::from).ok_or_else(|| {
        FormatError::Tags(format!(
            "java.lang.NumberFormatException: For input string: \"{s}\""
        ))
    })
}

/// Indexes of `items` in `JsonNodeComparator` order: each subschema loaded
/// on its own (its `$ref`s resolved within itself only).
fn sorted_isolated(items: &[Value], work: &Work) -> Vec<usize> {
    let views: Vec<View<'_>> = items.iter().map(|v| view(v, false, v)).collect();
    let cx = Cx { work };
    let mut order: Vec<usize> = (0..items.len()).collect();
    merge_sort(&mut order, &|a, b| cx.compare(&views[*a], &views[*b], 0));
    order
}

/// A stable sort that never panics, whatever the comparison answers (a
/// budget cut can make it inconsistent); Java's sort is stable too.
fn merge_sort<T: Copy>(items: &mut [T], cmp: &dyn Fn(&T, &T) -> Ordering) {
    let n = items.len();
    let mut buf: Vec<T> = items.to_vec();
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j, mut k) = (start, mid, start);
            while i < mid && j < end {
                if cmp(&items[j], &items[i]) == Ordering::Less {
                    buf[k] = items[j];
                    j += 1;
                } else {
                    buf[k] = items[i];
                    i += 1;
                }
                k += 1;
            }
            buf[k..k + (mid - i)].copy_from_slice(&items[i..mid]);
            k += mid - i;
            buf[k..k + (end - j)].copy_from_slice(&items[j..end]);
            start = end;
        }
        items.copy_from_slice(&buf);
        width *= 2;
    }
}

/// everit's `CombinedSchema` criteria, as Confluent names them in paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[allow(clippy::enum_variant_names)]
enum Crit {
    AllOf,
    AnyOf,
    OneOf,
}

impl Crit {
    fn name(self) -> &'static str {
        match self {
            Crit::AllOf => "allof",
            Crit::AnyOf => "anyof",
            Crit::OneOf => "oneof",
        }
    }
}

/// A schema as everit models it, over the JSON it came from.
struct View<'a> {
    /// The object whose title, description, default and unknown keywords
    /// (such as `confluent:tags`) the schema carries; none for the
    /// synthetic parts everit splits an object into.
    src: Option<&'a Map<String, Value>>,
    kind: VKind<'a>,
    /// The document `$ref`s resolve in.
    root: &'a Value,
    modern: bool,
}

enum VKind<'a> {
    Array(&'a Map<String, Value>),
    Boolean,
    Combined(Crit, Vec<Sub<'a>>),
    Conditional(&'a Map<String, Value>),
    Const(&'a Value),
    Empty,
    Enum(&'a [Value]),
    False,
    Not(&'a Value),
    Null,
    Number,
    Object(&'a Map<String, Value>),
    Reference(&'a str),
    String,
    True,
}

impl VKind<'_> {
    /// `JsonSchemaComparator.SchemaType`'s order (alphabetical).
    fn rank(&self) -> u8 {
        match self {
            VKind::Array(_) => 0,
            VKind::Boolean => 1,
            VKind::Combined(..) => 2,
            VKind::Conditional(_) => 3,
            VKind::Const(_) => 4,
            VKind::Empty => 5,
            VKind::Enum(_) => 6,
            VKind::False => 7,
            VKind::Not(_) => 8,
            VKind::Null => 9,
            VKind::Number => 10,
            VKind::Object(_) => 11,
            VKind::Reference(_) => 12,
            VKind::String => 13,
            VKind::True => 14,
        }
    }
}

/// A subschema of a combined schema: a schema of its own, or a part
/// everit split off the same object.
enum Sub<'a> {
    Json(&'a Value),
    Part(VKind<'a>),
}

/// Reads `value` as everit loads a schema.
fn view<'a>(value: &'a Value, modern: bool, root: &'a Value) -> View<'a> {
    let make = |src, kind| View {
        src,
        kind,
        root,
        modern,
    };
    let obj = match value {
        Value::Bool(true) => return make(None, VKind::True),
        Value::Bool(false) => return make(None, VKind::False),
        Value::Object(obj) => obj,
        _ => return make(None, VKind::Empty),
    };
    if let Some(Value::String(reference)) = obj.get("$ref") {
        return make(Some(obj), VKind::Reference(reference));
    }
    let mut parts: Vec<VKind<'a>> = Vec::new();
    match obj.get("type") {
        Some(Value::String(t)) => parts.push(typed(obj, t)),
        Some(Value::Array(types)) => {
            let subs = types
                .iter()
                .filter_map(Value::as_str)
                .map(|t| Sub::Part(typed(obj, t)))
                .collect();
            parts.push(VKind::Combined(Crit::AnyOf, subs));
        }
        _ => {
            parts.extend(
                implied_types(obj, modern)
                    .into_iter()
                    .map(|t| typed(obj, t)),
            );
        }
    }
    if let Some(Value::Array(values)) = obj.get("enum") {
        parts.push(VKind::Enum(values));
    }
    if let Some(v) = obj.get("const") {
        parts.push(VKind::Const(v));
    }
    for (crit, keyword) in [
        (Crit::AllOf, "allOf"),
        (Crit::AnyOf, "anyOf"),
        (Crit::OneOf, "oneOf"),
    ] {
        if let Some(Value::Array(items)) = obj.get(keyword) {
            parts.push(VKind::Combined(
                crit,
                distinct(items).into_iter().map(Sub::Json).collect(),
            ));
        }
    }
    if let Some(not) = obj.get("not") {
        parts.push(VKind::Not(not));
    }
    if obj.contains_key("if") {
        parts.push(VKind::Conditional(obj));
    }
    let kind = match parts.len() {
        0 => VKind::Empty,
        1 => parts.pop().unwrap_or(VKind::Empty),
        _ => VKind::Combined(Crit::AllOf, parts.into_iter().map(Sub::Part).collect()),
    };
    make(Some(obj), kind)
}

fn typed<'a>(obj: &'a Map<String, Value>, t: &str) -> VKind<'a> {
    match t {
        "string" => VKind::String,
        "number" | "integer" => VKind::Number,
        "boolean" => VKind::Boolean,
        "null" => VKind::Null,
        "object" => VKind::Object(obj),
        "array" => VKind::Array(obj),
        _ => VKind::Empty,
    }
}

impl<'a> View<'a> {
    fn sub(&self, sub: &Sub<'a>) -> View<'a> {
        match sub {
            Sub::Json(v) => view(v, self.modern, self.root),
            Sub::Part(kind) => View {
                src: None,
                kind: kind.clone_shallow(),
                root: self.root,
                modern: self.modern,
            },
        }
    }

    fn child(&self, value: &'a Value) -> View<'a> {
        view(value, self.modern, self.root)
    }

    fn text(&self, key: &str) -> Option<&'a str> {
        self.src.and_then(|o| o.get(key)).and_then(Value::as_str)
    }

    fn default_text(&self) -> Option<String> {
        self.src.and_then(|o| o.get("default")).map(java_text)
    }

    /// The schema a `$ref` names, within this view's document (a pointer
    /// fragment only; other references are not followed).
    fn referred(&self, reference: &str) -> Option<View<'a>> {
        let pointer = reference.strip_prefix('#')?;
        let target = if pointer.is_empty() {
            self.root
        } else {
            self.root.pointer(pointer)?
        };
        Some(self.child(target))
    }
}

impl<'a> VKind<'a> {
    /// Parts hold only references, so this is cheap.
    fn clone_shallow(&self) -> VKind<'a> {
        match self {
            VKind::Array(o) => VKind::Array(o),
            VKind::Boolean => VKind::Boolean,
            VKind::Combined(c, subs) => VKind::Combined(
                *c,
                subs.iter()
                    .map(|s| match s {
                        Sub::Json(v) => Sub::Json(v),
                        Sub::Part(k) => Sub::Part(k.clone_shallow()),
                    })
                    .collect(),
            ),
            VKind::Conditional(o) => VKind::Conditional(o),
            VKind::Const(v) => VKind::Const(v),
            VKind::Empty => VKind::Empty,
            VKind::Enum(v) => VKind::Enum(v),
            VKind::False => VKind::False,
            VKind::Not(v) => VKind::Not(v),
            VKind::Null => VKind::Null,
            VKind::Number => VKind::Number,
            VKind::Object(o) => VKind::Object(o),
            VKind::Reference(r) => VKind::Reference(r),
            VKind::String => VKind::String,
            VKind::True => VKind::True,
        }
    }
}

/// Java's `toString()` of a JSON value as org.json holds it: strings bare,
/// the rest as JSON.
fn java_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `Comparator.nullsFirst(naturalOrder())` on strings (UTF-16 order, as
/// Java's `compareTo`).
fn cmp_opt(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => a.encode_utf16().cmp(b.encode_utf16()),
    }
}

/// `compareCollections`: by size, then element texts sorted.
fn cmp_collections(a: Vec<String>, b: Vec<String>) -> Ordering {
    if a.len() != b.len() {
        return a.len().cmp(&b.len());
    }
    let sort = |mut v: Vec<String>| {
        v.sort_by(|x, y| x.encode_utf16().cmp(y.encode_utf16()));
        v
    };
    let (a, b) = (sort(a), sort(b));
    for (x, y) in a.iter().zip(&b) {
        let c = cmp_opt(Some(x), Some(y));
        if c != Ordering::Equal {
            return c;
        }
    }
    Ordering::Equal
}

/// Comparison context: the work budget.
struct Cx<'w> {
    work: &'w Work,
}

impl Cx<'_> {
    /// `JsonSchemaComparator.compare`; `hops` counts `$ref`s followed.
    fn compare(&self, a: &View<'_>, b: &View<'_>, hops: usize) -> Ordering {
        if !self.work.step() {
            return Ordering::Equal;
        }
        let by_rank = a.kind.rank().cmp(&b.kind.rank());
        if by_rank != Ordering::Equal {
            return by_rank;
        }
        let meta = cmp_opt(a.text("title"), b.text("title"))
            .then_with(|| cmp_opt(a.text("description"), b.text("description")))
            .then_with(|| cmp_opt(a.default_text().as_deref(), b.default_text().as_deref()));
        if meta != Ordering::Equal {
            return meta;
        }
        match (&a.kind, &b.kind) {
            (VKind::Const(x), VKind::Const(y)) => cmp_opt(Some(&java_text(x)), Some(&java_text(y))),
            (VKind::Enum(x), VKind::Enum(y)) => {
                cmp_collections(distinct_texts(x), distinct_texts(y))
            }
            (VKind::Combined(cx, xs), VKind::Combined(cy, ys)) => {
                let c = cx.name().cmp(cy.name()).then(xs.len().cmp(&ys.len()));
                if c != Ordering::Equal {
                    return c;
                }
                let xs = self.sorted(a, xs, hops);
                let ys = self.sorted(b, ys, hops);
                for (x, y) in xs.iter().zip(&ys) {
                    let c = self.compare(x, y, hops);
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                Ordering::Equal
            }
            (VKind::Not(x), VKind::Not(y)) => self.compare(&a.child(x), &b.child(y), hops),
            (VKind::Conditional(x), VKind::Conditional(y)) => {
                for key in ["if", "then", "else"] {
                    let empty = Value::Object(Map::new());
                    let vx = x
                        .get(key)
                        .map_or_else(|| view(&empty, false, &empty), |v| a.child(v));
                    let vy = y
                        .get(key)
                        .map_or_else(|| view(&empty, false, &empty), |v| b.child(v));
                    let c = self.compare(&vx, &vy, hops);
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                Ordering::Equal
            }
            (VKind::Object(x), VKind::Object(y)) => {
                let keys = |o: &Map<String, Value>| -> Vec<String> {
                    match o.get("properties") {
                        Some(Value::Object(p)) => p.keys().cloned().collect(),
                        _ => Vec::new(),
                    }
                };
                let required = |o: &Map<String, Value>| -> Vec<String> {
                    match o.get("required") {
                        Some(Value::Array(r)) => r.iter().map(java_text).collect(),
                        _ => Vec::new(),
                    }
                };
                cmp_collections(keys(x), keys(y))
                    .then_with(|| cmp_collections(required(x), required(y)))
            }
            (VKind::Array(x), VKind::Array(y)) => match (all_items(x), all_items(y)) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(vx), Some(vy)) => self.compare(&a.child(vx), &b.child(vy), hops),
            },
            (VKind::Reference(x), VKind::Reference(y)) => {
                if hops >= MAX_REF_HOPS {
                    return Ordering::Equal;
                }
                match (a.referred(x), b.referred(y)) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(vx), Some(vy)) => self.compare(&vx, &vy, hops + 1),
                }
            }
            _ => Ordering::Equal,
        }
    }

    /// The subschemas of a combined schema, in comparator order.
    fn sorted<'a>(&self, parent: &View<'a>, subs: &[Sub<'a>], hops: usize) -> Vec<View<'a>> {
        let mut views: Vec<View<'a>> = subs.iter().map(|s| parent.sub(s)).collect();
        let mut order: Vec<usize> = (0..views.len()).collect();
        merge_sort(&mut order, &|x, y| {
            self.compare(&views[*x], &views[*y], hops)
        });
        let mut slots: Vec<Option<View<'a>>> = views.drain(..).map(Some).collect();
        order
            .iter()
            .filter_map(|&i| slots.get_mut(i).and_then(Option::take))
            .collect()
    }
}

/// everit's `getAllItemSchema()`: `items` when it is one schema.
fn all_items(obj: &Map<String, Value>) -> Option<&Value> {
    match obj.get("items") {
        Some(v @ (Value::Object(_) | Value::Bool(_))) => Some(v),
        _ => None,
    }
}

fn distinct_texts(values: &[Value]) -> Vec<String> {
    distinct(values).into_iter().map(java_text).collect()
}

/// The values in first-seen order, each once by JSON equality (Java's
/// `LinkedHashSet<JsonNode>`). Values are bucketed by a hash that agrees
/// with equality, so a schema listing many subschemas stays linear.
fn distinct(values: &[Value]) -> Vec<&Value> {
    let mut buckets: std::collections::HashMap<u64, Vec<&Value>> = Default::default();
    let mut out = Vec::new();
    for v in values {
        let bucket = buckets.entry(json_hash(v)).or_default();
        if !bucket.contains(&v) {
            bucket.push(v);
            out.push(v);
        }
    }
    out
}

/// A hash equal for equal JSON values: objects hash their entries in any
/// order, as their equality ignores it. The value's nesting was bounded
/// when it was read, so the recursion is too.
fn json_hash(v: &Value) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    match v {
        Value::Null => 0u8.hash(&mut h),
        Value::Bool(b) => (1u8, b).hash(&mut h),
        // As `Number`'s equality: by kind, and floats by value (0.0 is -0.0).
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => (2u8, 0u8, u).hash(&mut h),
            (None, Some(i), _) => (2u8, 1u8, i).hash(&mut h),
            (None, None, f) => {
                let f = f.filter(|f| *f != 0.0).unwrap_or(0.0);
                (2u8, 2u8, f.to_bits()).hash(&mut h)
            }
        },
        Value::String(s) => (3u8, s).hash(&mut h),
        Value::Array(items) => {
            (4u8, items.len()).hash(&mut h);
            for item in items {
                json_hash(item).hash(&mut h);
            }
        }
        Value::Object(map) => {
            let entries = map.iter().fold(0u64, |acc, (k, v)| {
                let mut e = DefaultHasher::new();
                (k, json_hash(v)).hash(&mut e);
                acc.wrapping_add(e.finish())
            });
            (5u8, map.len(), entries).hash(&mut h);
        }
    }
    h.finish()
}

/// The keys of `map` in the order a Java `HashMap` filled in this order
/// iterates them: by bucket of the table grown from 16 entries, then in
/// insertion order (everit keeps properties and definitions in one).
fn java_hash_order(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let n = map.len();
    let mut capacity: usize = 16;
    while n > capacity / 4 * 3 {
        capacity *= 2;
    }
    let bucket = |key: &str| -> usize {
        let mut h: i32 = 0;
        for unit in key.encode_utf16() {
            h = h.wrapping_mul(31).wrapping_add(i32::from(unit));
        }
        let h = h as u32;
        ((h ^ (h >> 16)) as usize) & (capacity - 1)
    };
    let mut entries: Vec<(usize, (&String, &Value))> =
        map.iter().map(|(k, v)| (bucket(k), (k, v))).collect();
    entries.sort_by_key(|(b, _)| *b);
    entries.into_iter().map(|(_, e)| e).collect()
}

/// The tags a schema object carries (`getUnprocessedProperties()`): an
/// array only, each element's text once.
fn inline_tags(src: Option<&Map<String, Value>>) -> Vec<String> {
    match src.and_then(|o| o.get(TAGS)) {
        Some(Value::Array(items)) => tags::unique(items.iter().map(java_text)),
        _ => Vec::new(),
    }
}

/// Confluent's `JsonSchema.inlineTaggedEntities()`.
pub(crate) fn tagged_entities(schema: &JsonSchema) -> SchemaTags {
    let deepest = Limits {
        max_depth: Limits::MAX_MAX_DEPTH,
    };
    // The canonical text was read within the caller's depth limit when the
    // schema was parsed, so this read cannot go deeper than that.
    let Ok(json) = limits::read_json(schema.canonical(), &deepest) else {
        return Vec::new();
    };
    let work = Work::default();
    let mut walk = Walk {
        out: tags::Tagged::default(),
        visited: HashSet::new(),
        cx: Cx { work: &work },
    };
    let modern = schema.draft().is_modern();
    walk.visit(&view(&json, modern, &json), String::new(), false);
    walk.out.into_list()
}

struct Walk<'w> {
    out: tags::Tagged,
    visited: HashSet<String>,
    cx: Cx<'w>,
}

impl Walk<'_> {
    fn visit(&mut self, schema: &View<'_>, scope: String, in_field: bool) {
        if !self.cx.work.step() {
            return;
        }
        match &schema.kind {
            VKind::Combined(crit, subs) => {
                let scoped = format!("{scope}{}", crit.name());
                let sorted = self.cx.sorted(schema, subs, 0);
                for (i, sub) in sorted.iter().enumerate() {
                    self.visit(sub, format!("{scoped}.{i}."), false);
                }
            }
            VKind::Array(obj) => {
                if let Some(items) = all_items(obj) {
                    self.visit(&schema.child(items), format!("{scope}array."), false);
                }
            }
            VKind::Object(obj) => {
                let scoped = format!("{scope}object");
                if !self.visited.insert(scoped.clone()) {
                    return;
                }
                if !in_field {
                    let found = inline_tags(schema.src);
                    if !found.is_empty() {
                        let entity = SchemaEntity::new(scoped.clone(), EntityKind::Record);
                        self.out.put(entity, found);
                    }
                }
                if let Some(Value::Object(props)) = obj.get("properties") {
                    for (name, value) in java_hash_order(props) {
                        let property = schema.child(value);
                        let path = format!("{scoped}.{name}");
                        let found = inline_tags(property.src);
                        if !found.is_empty() {
                            let entity = SchemaEntity::new(path.clone(), EntityKind::Field);
                            self.out.put(entity, found);
                        }
                        self.visit(&property, format!("{path}."), true);
                    }
                }
                // Unknown keywords of the object itself: only the schema
                // an object loads as has them, not the parts split off it.
                if let Some(src) = schema.src {
                    if let Some(Value::Object(defs)) = src.get("definitions") {
                        for (name, value) in java_hash_order(defs) {
                            // Loaded as a schema document of its own.
                            let def = view(value, false, value);
                            self.visit(&def, format!("{scoped}.definitions.{name}."), false);
                        }
                    }
                    if schema.modern
                        && let Some(Value::Object(defs)) = src.get("$defs")
                    {
                        for (name, value) in java_hash_order(defs) {
                            self.visit(
                                &schema.child(value),
                                format!("{scoped}.$defs.{name}."),
                                false,
                            );
                        }
                    }
                }
            }
            VKind::Conditional(obj) => {
                for key in ["if", "then", "else"] {
                    if let Some(branch) = obj.get(key) {
                        self.visit(
                            &schema.child(branch),
                            format!("{scope}conditional.{key}."),
                            false,
                        );
                    }
                }
            }
            VKind::Not(inner) => {
                self.visit(&schema.child(inner), format!("{scope}not."), false);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_values_follow_json_equality() {
        let values: Vec<Value> = serde_json::from_str(
            r#"[{"a":1,"b":[2]},{"b":[2],"a":1},{"a":1.0,"b":[2]},0.0,-0.0,"x",{"a":1,"b":[3]}]"#,
        )
        .unwrap();
        let kept: Vec<String> = distinct(&values).iter().map(|v| v.to_string()).collect();
        assert_eq!(
            kept,
            [
                r#"{"a":1,"b":[2]}"#,
                r#"{"a":1.0,"b":[2]}"#,
                "0.0",
                "\"x\"",
                r#"{"a":1,"b":[3]}"#
            ]
        );
        // Many distinct subschemas stay linear.
        let many: Vec<Value> = (0..200_000).map(|i| serde_json::json!({"n": i})).collect();
        assert_eq!(distinct(&many).len(), 200_000);
    }
}
