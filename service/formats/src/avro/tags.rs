//! Schema tags on AVRO schemas: the `confluent:tags` property of a record
//! or a field.
//!
//! A change works as Confluent's `AvroSchema.copy(tagsToAdd, tagsToRemove)`
//! does: on the JSON of the canonical text, each entity is found by
//! `AvroSchemaUtils.findMatchingEntity` (a breadth-first search by name and
//! namespace), its tags rewritten, and the result parsed again; the text
//! kept is that schema's canonical text.

use std::collections::{HashSet, VecDeque};

use serde_json::Value;

use super::model::{Graph, Node, NodeId, Props};
use super::{AvroSchema, invalid};
use crate::limits::{self, Limits};
use crate::tags::{self, EntityKind, JsonStep, SchemaEntity, SchemaTags, TAGS_PROPERTY as TAGS};
use crate::{Dependency, FormatError, SchemaType};

/// One step from a JSON value to a child of it.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The text Confluent registers after `copy(add, remove)` of `schema`.
pub(crate) fn with_tags(
    schema: &AvroSchema,
    add: &SchemaTags,
    remove: &SchemaTags,
    dependencies: &[Dependency],
    limits: &Limits,
) -> Result<String, FormatError> {
    let mut json = limits::read_json(schema.canonical(), limits).map_err(invalid)?;
    let mut visits = 0usize;
    tags::retag_json(&mut json, add, remove, SchemaType::Avro, |json, entity| {
        find_entity(json, entity, &mut visits)
    })?;
    AvroSchema::parse_with(&json.to_string(), dependencies, limits).map(|s| s.canonical)
}

/// Java's `Arrays.copyOfRange(ids, 0, to)` refusal for paths too short to
/// name a record (or a record and a field).
fn too_short(to: isize) -> FormatError {
    FormatError::Tags(format!("java.lang.IllegalArgumentException: 0 > {to}"))
}

/// `AvroSchemaUtils.findMatchingEntity`: the path to the record or field
/// object `entity` names.
fn find_entity(
    root: &Value,
    entity: &SchemaEntity,
    visits: &mut usize,
) -> Result<Vec<JsonStep>, FormatError> {
    let ids = tags::java_split_dots(&entity.path);
    let n = ids.len();
    let (namespace, record, field) = match entity.kind {
        EntityKind::Record => {
            if n < 1 {
                return Err(too_short(n as isize - 1));
            }
            (ids[..n - 1].join("."), ids[n - 1], None)
        }
        EntityKind::Field => {
            if n < 2 {
                return Err(too_short(n as isize - 2));
            }
            (ids[..n - 2].join("."), ids[n - 2], Some(ids[n - 1]))
        }
    };
    // Every node reached, with how it was reached: (parent, step).
    let mut arena: Vec<(usize, Option<Step<'_>>)> = vec![(usize::MAX, None)];
    let mut queue: Queue<'_> = VecDeque::new();
    queue.push_back((root, own_namespace(root, None), 0));
    let mut found: Option<usize> = None;
    'search: while let Some((node, space, at)) = queue.pop_front() {
        *visits += 1;
        if *visits > tags::MAX_VISITS || ((*visits).is_multiple_of(4096) && limits::expired()) {
            return Err(tags::too_much_work());
        }
        let Some(ty) = node.get("type") else {
            // A union (or anything without a type): visit what it holds.
            match node {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        arena.push((at, Some(Step::Index(i))));
                        queue.push_back((item, own_namespace(item, space), arena.len() - 1));
                    }
                }
                Value::Object(map) => {
                    for (k, item) in map {
                        arena.push((at, Some(Step::Key(k))));
                        queue.push_back((item, own_namespace(item, space), arena.len() - 1));
                    }
                }
                _ => {}
            }
            continue;
        };
        match ty.as_str().unwrap_or("") {
            "record" => {
                let name = node.get("name").map(tags::tag_text).unwrap_or_default();
                let fields = node.get("fields").and_then(Value::as_array);
                let space_matches = namespace.is_empty() || Some(namespace.as_str()) == space;
                if space_matches && name == record {
                    match field {
                        None => {
                            found = Some(at);
                            break 'search;
                        }
                        Some(wanted) => {
                            for (i, f) in fields.into_iter().flatten().enumerate() {
                                let fname = f.get("name").map(tags::tag_text).unwrap_or_default();
                                if fname == wanted {
                                    arena.push((at, Some(Step::Key("fields"))));
                                    let list = arena.len() - 1;
                                    arena.push((list, Some(Step::Index(i))));
                                    found = Some(arena.len() - 1);
                                    break 'search;
                                }
                            }
                        }
                    }
                } else if let Some(fields) = fields {
                    arena.push((at, Some(Step::Key("fields"))));
                    let list = arena.len() - 1;
                    for (i, f) in fields.iter().enumerate() {
                        arena.push((list, Some(Step::Index(i))));
                        queue.push_back((f, own_namespace(f, space), arena.len() - 1));
                    }
                }
            }
            "array" => push_child(node, "items", space, at, &mut arena, &mut queue),
            "map" => push_child(node, "values", space, at, &mut arena, &mut queue),
            _ => push_child(node, "type", space, at, &mut arena, &mut queue),
        }
    }
    let Some(mut at) = found else {
        return Err(tags::no_match(&entity.path));
    };
    let mut path = Vec::new();
    while let Some((parent, Some(step))) = arena.get(at).copied() {
        path.push(match step {
            Step::Key(k) => JsonStep::Key(k.to_owned()),
            Step::Index(i) => JsonStep::Index(i),
        });
        at = parent;
    }
    path.reverse();
    Ok(path)
}

type Queue<'a> = VecDeque<(&'a Value, Option<&'a str>, usize)>;

fn push_child<'a>(
    node: &'a Value,
    key: &'static str,
    space: Option<&'a str>,
    at: usize,
    arena: &mut Vec<(usize, Option<Step<'a>>)>,
    queue: &mut Queue<'a>,
) {
    if let Some(child) = node.get(key) {
        arena.push((at, Some(Step::Key(key))));
        queue.push_back((child, own_namespace(child, space), arena.len() - 1));
    }
}

/// `JsonNodeWithNS`: a node's own `namespace`, else its parent's.
fn own_namespace<'a>(node: &'a Value, parent: Option<&'a str>) -> Option<&'a str> {
    match node.get("namespace") {
        Some(Value::String(s)) => Some(s),
        Some(_) => Some(""),
        None => parent,
    }
}

/// Confluent's `AvroSchema.inlineTaggedEntities()`: every record and field
/// with tags, records by full name, fields as `record.field`, in the order
/// of a depth-first walk through unions, arrays, maps and field types,
/// each record once.
pub(crate) fn tagged_entities(graph: &Graph, root: NodeId) -> SchemaTags {
    enum Work {
        Visit(NodeId),
        Field(NodeId, usize),
    }
    let mut out = tags::Tagged::default();
    let mut visited: HashSet<&str> = HashSet::new();
    let mut stack = vec![Work::Visit(root)];
    while let Some(work) = stack.pop() {
        match work {
            Work::Field(record, i) => {
                if let Node::Record { info, fields, .. } = graph.node(record)
                    && let Some(f) = fields.get(i)
                {
                    let found = inline_tags(&f.props);
                    if !found.is_empty() {
                        let path = format!("{}.{}", info.name.full, f.name);
                        out.put(SchemaEntity::new(path, EntityKind::Field), found);
                    }
                }
            }
            Work::Visit(id) => match graph.node(id) {
                Node::Union { branches } => {
                    stack.extend(branches.iter().rev().map(|b| Work::Visit(*b)));
                }
                Node::Array { items, .. } => stack.push(Work::Visit(*items)),
                Node::Map { values, .. } => stack.push(Work::Visit(*values)),
                Node::Record { info, fields, .. } => {
                    if !visited.insert(info.name.full.as_str()) {
                        continue;
                    }
                    let found = inline_tags(&info.props);
                    if !found.is_empty() {
                        let entity = SchemaEntity::new(info.name.full.clone(), EntityKind::Record);
                        out.put(entity, found);
                    }
                    for (i, f) in fields.iter().enumerate().rev() {
                        stack.push(Work::Visit(f.ty));
                        stack.push(Work::Field(id, i));
                    }
                }
                _ => {}
            },
        }
    }
    out.into_list()
}

/// The tags of a schema or field as Avro Java's `getObjectProp` gives them:
/// only an array counts; each element once, in order.
fn inline_tags(props: &Props) -> Vec<String> {
    match props.iter().find(|(k, _)| k == TAGS) {
        Some((_, Value::Array(items))) => tags::unique(items.iter().map(|item| match item {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })),
        _ => Vec::new(),
    }
}
