//! The schema as Confluent's compatibility rules see it.
//!
//! Confluent loads a JSON schema into everit's object model and diffs that,
//! so its verdicts follow everit's reading of the keywords: a single `type`
//! gives one typed schema, an array of types an `anyOf` of them, keywords of
//! several kinds (say `type` and `enum`) an `allOf` of one schema per kind,
//! `{}` and `true` the empty schema, `$ref` a reference to the schema it
//! points at. This module builds that reading as a graph; `$ref`s are edges,
//! so recursive schemas are finite.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::references::{Docs, pointer_child};

pub(crate) type NodeId = usize;

/// Keywords every schema may carry; Confluent reports their changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Meta {
    pub(crate) id: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) default: Option<Value>,
}

/// How a combined schema's subschemas apply (named as the keywords are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)]
pub(crate) enum Criterion {
    AllOf,
    AnyOf,
    OneOf,
}

impl Criterion {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Criterion::AllOf => "allOf",
            Criterion::AnyOf => "anyOf",
            Criterion::OneOf => "oneOf",
        }
    }
}

/// `additionalProperties` / `additionalItems`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Additional {
    /// Absent or `true`.
    Allowed,
    Forbidden,
    Schema(NodeId),
}

impl Additional {
    pub(crate) fn permits(self) -> bool {
        !matches!(self, Additional::Forbidden)
    }

    pub(crate) fn schema(self) -> Option<NodeId> {
        match self {
            Additional::Schema(id) => Some(id),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Object {
    pub(crate) properties: Vec<(String, NodeId)>,
    pub(crate) required: Vec<String>,
    pub(crate) additional: Option<Additional>,
    pub(crate) pattern_properties: Vec<(String, NodeId)>,
    pub(crate) property_dependencies: Vec<(String, Vec<String>)>,
    pub(crate) schema_dependencies: Vec<(String, NodeId)>,
    pub(crate) min_properties: Option<u64>,
    pub(crate) max_properties: Option<u64>,
    /// `unevaluatedProperties` (2019-09 and later only: the older drafts'
    /// loader keeps it as an unknown keyword the rules never look at).
    pub(crate) unevaluated: Option<NodeId>,
}

impl Object {
    pub(crate) fn property(&self, name: &str) -> Option<NodeId> {
        self.properties
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, id)| *id)
    }

    pub(crate) fn additional(&self) -> Additional {
        self.additional.unwrap_or(Additional::Allowed)
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Array {
    /// `items` as one schema for every item.
    pub(crate) all_items: Option<NodeId>,
    /// `items` as a list (or `prefixItems`).
    pub(crate) item_schemas: Vec<NodeId>,
    pub(crate) additional: Option<Additional>,
    /// `unevaluatedItems` (2019-09 and later only).
    pub(crate) unevaluated: Option<NodeId>,
    pub(crate) min_items: Option<u64>,
    pub(crate) max_items: Option<u64>,
    pub(crate) unique_items: bool,
    pub(crate) min_contains: Option<u64>,
    pub(crate) max_contains: Option<u64>,
}

impl Array {
    pub(crate) fn additional(&self) -> Additional {
        self.additional.unwrap_or(Additional::Allowed)
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    False,
    True,
    Empty,
    Boolean,
    Null,
    String {
        min_length: Option<u64>,
        max_length: Option<u64>,
        pattern: Option<String>,
    },
    Number {
        integer: bool,
        minimum: Option<f64>,
        maximum: Option<f64>,
        exclusive_minimum: Option<f64>,
        exclusive_maximum: Option<f64>,
        multiple_of: Option<f64>,
    },
    Enum(Vec<Value>),
    Const(Value),
    Combined {
        criterion: Criterion,
        subschemas: Vec<NodeId>,
    },
    Not(NodeId),
    Object(Box<Object>),
    Array(Box<Array>),
    Reference(NodeId),
    Conditional,
}

impl Kind {
    /// everit's classes: two schemas of different classes are different
    /// types to Confluent.
    pub(crate) fn class(&self) -> u8 {
        match self {
            Kind::False => 0,
            Kind::True => 1,
            Kind::Empty => 2,
            Kind::Boolean => 3,
            Kind::Null => 4,
            Kind::String { .. } => 5,
            Kind::Number { .. } => 6,
            Kind::Enum(_) => 7,
            Kind::Const(_) => 8,
            Kind::Combined { .. } => 9,
            Kind::Not(_) => 10,
            Kind::Object(_) => 11,
            Kind::Array(_) => 12,
            Kind::Reference(_) => 13,
            Kind::Conditional => 14,
        }
    }

    /// everit's `EmptySchema` and its subclass `TrueSchema`.
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Kind::True | Kind::Empty)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) meta: Meta,
    pub(crate) kind: Kind,
}

/// A schema and everything it references, as nodes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Graph {
    pub(crate) nodes: Vec<Node>,
    pub(crate) root: NodeId,
}

impl Graph {
    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Follows references to the schema they name (a cycle of references
    /// that names no schema ends where it started).
    pub(crate) fn deref(&self, mut id: NodeId) -> NodeId {
        for _ in 0..64 {
            match self.nodes[id].kind {
                Kind::Reference(target) => id = target,
                _ => return id,
            }
        }
        id
    }
}

/// Builds the graph of the schema at `docs.root()`; an unresolvable `$ref`
/// is an error naming it and where it is. Schemas nested (through `$ref`s
/// too) deeper than `max_depth` are an error.
pub(crate) fn build(docs: &Docs<'_>, max_depth: usize) -> Result<Graph, String> {
    let mut b = Builder {
        docs,
        nodes: Vec::new(),
        at: HashMap::new(),
        depth: 0,
        max_depth,
    };
    let root = b.load(0, String::new())?;
    Ok(Graph {
        nodes: b.nodes,
        root,
    })
}

struct Builder<'d, 'a> {
    docs: &'d Docs<'a>,
    nodes: Vec<Node>,
    /// The node of each (document, JSON pointer) already loaded.
    at: HashMap<(usize, String), NodeId>,
    depth: usize,
    max_depth: usize,
}

/// Keywords that make an untyped schema an object schema, per loader:
/// everit for drafts 4 to 7, json-sKema (translated to everit's model) for
/// 2019-09 and 2020-12. Keywords a loader does not know imply nothing.
const OBJECT_KEYWORDS: &[&str] = &[
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "minProperties",
    "maxProperties",
    "dependencies",
    "propertyNames",
];
const MODERN_OBJECT_KEYWORDS: &[&str] = &[
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "minProperties",
    "maxProperties",
    "dependentRequired",
    "dependentSchemas",
    "propertyNames",
    "unevaluatedProperties",
];
const ARRAY_KEYWORDS: &[&str] = &[
    "items",
    "additionalItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
];
/// `minContains` and `maxContains` alone build nothing in json-sKema: they
/// only qualify `contains`.
const MODERN_ARRAY_KEYWORDS: &[&str] = &[
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "unevaluatedItems",
];
const STRING_KEYWORDS: &[&str] = &["minLength", "maxLength", "pattern", "format"];
const NUMBER_KEYWORDS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];

impl<'a> Builder<'_, 'a> {
    fn push(&mut self, kind: Kind) -> NodeId {
        self.nodes.push(Node {
            meta: Meta::default(),
            kind,
        });
        self.nodes.len() - 1
    }

    /// The node of the schema at `pointer` in document `doc`, loaded once.
    fn load(&mut self, doc: usize, pointer: String) -> Result<NodeId, String> {
        self.load_at(doc, pointer, None)
    }

    /// [`Builder::load`] of a schema whose value the caller already holds.
    fn load_value(
        &mut self,
        doc: usize,
        pointer: String,
        value: &'a Value,
    ) -> Result<NodeId, String> {
        self.load_at(doc, pointer, Some(value))
    }

    fn load_at(
        &mut self,
        doc: usize,
        pointer: String,
        value: Option<&'a Value>,
    ) -> Result<NodeId, String> {
        if let Some(&id) = self.at.get(&(doc, pointer.clone())) {
            return Ok(id);
        }
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(format!(
                "the schema nests deeper than {} levels at '#{pointer}' (the limit is --max-schema-depth)",
                self.max_depth
            ));
        }
        let id = self.push(Kind::Empty);
        self.at.insert((doc, pointer.clone()), id);
        let value = match value {
            Some(v) => v,
            None => self
                .docs
                .value(doc, &pointer)
                .ok_or_else(|| format!("no schema at '#{pointer}'"))?,
        };
        let node = self.build(doc, &pointer, value)?;
        self.nodes[id] = node;
        self.depth -= 1;
        Ok(id)
    }

    fn child(&mut self, doc: usize, pointer: &str, key: &str) -> Result<NodeId, String> {
        self.load(doc, pointer_child(pointer, key))
    }

    fn build(&mut self, doc: usize, pointer: &str, value: &'a Value) -> Result<Node, String> {
        let obj = match value {
            Value::Bool(true) => return Ok(plain(Kind::True)),
            Value::Bool(false) => return Ok(plain(Kind::False)),
            Value::Object(obj) => obj,
            _ => {
                return Err(format!(
                    "the schema at '#{pointer}' is not an object or a boolean"
                ));
            }
        };
        let draft = self.docs.draft(doc);
        let meta = Meta {
            id: obj
                .get(draft.id_keyword())
                .and_then(Value::as_str)
                .map(str::to_owned),
            title: obj.get("title").and_then(Value::as_str).map(str::to_owned),
            description: obj
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            default: obj.get("default").cloned(),
        };
        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            let (target_doc, target_pointer) = self
                .docs
                .resolve(doc, reference)
                .map_err(|e| format!("{e} (the $ref at '#{pointer}')"))?;
            let target = self.load(target_doc, target_pointer)?;
            return Ok(Node {
                meta: Meta::default(),
                kind: Kind::Reference(target),
            });
        }
        let mut parts: Vec<NodeId> = Vec::new();
        match obj.get("type") {
            Some(Value::String(t)) => {
                let kind = self.typed(doc, pointer, obj, t)?;
                parts.push(self.push(kind));
            }
            Some(Value::Array(types)) => {
                let mut subs = Vec::new();
                for t in types.iter().filter_map(Value::as_str) {
                    let kind = self.typed(doc, pointer, obj, t)?;
                    subs.push(self.push(kind));
                }
                parts.push(self.push(Kind::Combined {
                    criterion: Criterion::AnyOf,
                    subschemas: subs,
                }));
            }
            _ => {
                for t in implied_types(obj, draft.is_modern()) {
                    let kind = self.typed(doc, pointer, obj, t)?;
                    parts.push(self.push(kind));
                }
            }
        }
        if let Some(Value::Array(values)) = obj.get("enum") {
            let mut distinct: Vec<Value> = Vec::new();
            for v in values {
                if !distinct.contains(v) {
                    distinct.push(v.clone());
                }
            }
            parts.push(self.push(Kind::Enum(distinct)));
        }
        if let Some(v) = obj.get("const") {
            parts.push(self.push(Kind::Const(v.clone())));
        }
        for criterion in [Criterion::AllOf, Criterion::AnyOf, Criterion::OneOf] {
            if let Some(Value::Array(items)) = obj.get(criterion.as_str()) {
                let base = pointer_child(pointer, criterion.as_str());
                let mut subs = Vec::new();
                let mut seen: Vec<&Value> = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    // Confluent collapses equal subschemas.
                    if seen.contains(&item) {
                        continue;
                    }
                    seen.push(item);
                    subs.push(self.load(doc, pointer_child(&base, &i.to_string()))?);
                }
                parts.push(self.push(Kind::Combined {
                    criterion,
                    subschemas: subs,
                }));
            }
        }
        if obj.contains_key("not") {
            let inner = self.child(doc, pointer, "not")?;
            parts.push(self.push(Kind::Not(inner)));
        }
        if obj.contains_key("if") {
            parts.push(self.push(Kind::Conditional));
        }
        let kind = match parts.len() {
            0 => Kind::Empty,
            1 => {
                let only = parts[0];
                std::mem::replace(&mut self.nodes[only].kind, Kind::Empty)
            }
            _ => Kind::Combined {
                criterion: Criterion::AllOf,
                subschemas: parts,
            },
        };
        Ok(Node { meta, kind })
    }

    /// The schema of one `type` with the keywords that apply to it.
    fn typed(
        &mut self,
        doc: usize,
        pointer: &str,
        obj: &'a Map<String, Value>,
        t: &str,
    ) -> Result<Kind, String> {
        let u = |k: &str| obj.get(k).and_then(Value::as_u64);
        let f = |k: &str| obj.get(k).and_then(Value::as_f64);
        Ok(match t {
            "string" => Kind::String {
                min_length: u("minLength"),
                max_length: u("maxLength"),
                pattern: obj
                    .get("pattern")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            "number" | "integer" => Kind::Number {
                integer: t == "integer",
                minimum: f("minimum"),
                maximum: f("maximum"),
                exclusive_minimum: f("exclusiveMinimum"),
                exclusive_maximum: f("exclusiveMaximum"),
                multiple_of: f("multipleOf"),
            },
            "boolean" => Kind::Boolean,
            "null" => Kind::Null,
            "object" => Kind::Object(Box::new(self.object(doc, pointer, obj)?)),
            "array" => Kind::Array(Box::new(self.array(doc, pointer, obj)?)),
            other => return Err(format!("unknown type '{other}' at '#{pointer}/type'")),
        })
    }

    fn object(
        &mut self,
        doc: usize,
        pointer: &str,
        obj: &'a Map<String, Value>,
    ) -> Result<Object, String> {
        let mut o = Object {
            min_properties: obj.get("minProperties").and_then(Value::as_u64),
            max_properties: obj.get("maxProperties").and_then(Value::as_u64),
            ..Object::default()
        };
        if let Some(Value::Object(props)) = obj.get("properties") {
            let base = pointer_child(pointer, "properties");
            for (key, value) in props {
                let id = self.load_value(doc, pointer_child(&base, key), value)?;
                o.properties.push((key.clone(), id));
            }
        }
        if let Some(Value::Array(req)) = obj.get("required") {
            o.required = req
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
        }
        if let Some(Value::Object(props)) = obj.get("patternProperties") {
            let base = pointer_child(pointer, "patternProperties");
            for key in props.keys() {
                let id = self.load(doc, pointer_child(&base, key))?;
                o.pattern_properties.push((key.clone(), id));
            }
        }
        o.additional = self.additional(doc, pointer, obj, "additionalProperties")?;
        let modern = self.docs.draft(doc).is_modern();
        // Each loader reads only its own drafts' dependency keywords.
        let keywords: &[&str] = if modern {
            &["dependentRequired", "dependentSchemas"]
        } else {
            &["dependencies"]
        };
        if modern && obj.contains_key("unevaluatedProperties") {
            o.unevaluated = Some(self.child(doc, pointer, "unevaluatedProperties")?);
        }
        for &keyword in keywords {
            if let Some(Value::Object(deps)) = obj.get(keyword) {
                let base = pointer_child(pointer, keyword);
                for (key, dep) in deps {
                    match dep {
                        Value::Array(names) => o.property_dependencies.push((
                            key.clone(),
                            names
                                .iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect(),
                        )),
                        _ => {
                            let id = self.load(doc, pointer_child(&base, key))?;
                            o.schema_dependencies.push((key.clone(), id));
                        }
                    }
                }
            }
        }
        Ok(o)
    }

    fn array(
        &mut self,
        doc: usize,
        pointer: &str,
        obj: &'a Map<String, Value>,
    ) -> Result<Array, String> {
        let modern = self.docs.draft(doc).is_modern();
        let mut a = Array {
            min_items: obj.get("minItems").and_then(Value::as_u64),
            max_items: obj.get("maxItems").and_then(Value::as_u64),
            unique_items: obj.get("uniqueItems").and_then(Value::as_bool) == Some(true),
            ..Array::default()
        };
        if modern {
            // json-sKema reads the bounds only with `contains`, and
            // `minContains` is then 1 unless given.
            if obj.contains_key("contains") {
                a.min_contains = Some(obj.get("minContains").and_then(Value::as_u64).unwrap_or(1));
                a.max_contains = obj.get("maxContains").and_then(Value::as_u64);
            }
        } else {
            // everit keeps them as unknown keywords, which the rules read.
            a.min_contains = obj.get("minContains").and_then(Value::as_u64);
            a.max_contains = obj.get("maxContains").and_then(Value::as_u64);
        }
        let list = |keyword: &str, b: &mut Self| -> Result<Vec<NodeId>, String> {
            let mut ids = Vec::new();
            if let Some(Value::Array(items)) = obj.get(keyword) {
                let base = pointer_child(pointer, keyword);
                for i in 0..items.len() {
                    ids.push(b.load(doc, pointer_child(&base, &i.to_string()))?);
                }
            }
            Ok(ids)
        };
        let items_list = matches!(obj.get("items"), Some(Value::Array(_)));
        if modern && !items_list {
            // 2020-12: `prefixItems` is the list; `items` is every item when
            // there is no list and the rest when there is; `items: false`
            // forbids more items either way and `items: true` is nothing.
            a.item_schemas = list("prefixItems", self)?;
            let has_prefix = obj
                .get("prefixItems")
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty());
            match obj.get("items") {
                None | Some(Value::Bool(true)) => {}
                Some(Value::Bool(false)) => a.additional = Some(Additional::Forbidden),
                Some(_) if has_prefix => {
                    a.additional = Some(Additional::Schema(self.child(doc, pointer, "items")?));
                }
                Some(_) => a.all_items = Some(self.child(doc, pointer, "items")?),
            }
        } else {
            match obj.get("items") {
                Some(Value::Array(_)) => a.item_schemas = list("items", self)?,
                Some(_) => a.all_items = Some(self.child(doc, pointer, "items")?),
                None => {}
            }
            a.additional = self.additional(doc, pointer, obj, "additionalItems")?;
        }
        if modern && obj.contains_key("unevaluatedItems") {
            a.unevaluated = Some(self.child(doc, pointer, "unevaluatedItems")?);
        }
        Ok(a)
    }

    fn additional(
        &mut self,
        doc: usize,
        pointer: &str,
        obj: &'a Map<String, Value>,
        keyword: &str,
    ) -> Result<Option<Additional>, String> {
        Ok(match obj.get(keyword) {
            None => None,
            Some(Value::Bool(true)) => Some(Additional::Allowed),
            Some(Value::Bool(false)) => Some(Additional::Forbidden),
            Some(_) => Some(Additional::Schema(self.child(doc, pointer, keyword)?)),
        })
    }
}

fn plain(kind: Kind) -> Node {
    Node {
        meta: Meta::default(),
        kind,
    }
}

/// The types an untyped schema's keywords make it, in everit's order
/// (number, string, array, object): one per kind of keyword present. In
/// 2019-09 and later, json-sKema builds nothing for an empty `properties`
/// or `patternProperties`, so they imply no object.
pub(crate) fn implied_types(obj: &Map<String, Value>, modern: bool) -> Vec<&'static str> {
    let (array, object) = if modern {
        (MODERN_ARRAY_KEYWORDS, MODERN_OBJECT_KEYWORDS)
    } else {
        (ARRAY_KEYWORDS, OBJECT_KEYWORDS)
    };
    let implies = |k: &str| match obj.get(k) {
        None => false,
        Some(Value::Object(m)) if modern && (k == "properties" || k == "patternProperties") => {
            !m.is_empty()
        }
        Some(_) => true,
    };
    [
        (NUMBER_KEYWORDS, "number"),
        (STRING_KEYWORDS, "string"),
        (array, "array"),
        (object, "object"),
    ]
    .into_iter()
    .filter(|(keywords, _)| keywords.iter().any(|k| implies(k)))
    .map(|(_, t)| t)
    .collect()
}
