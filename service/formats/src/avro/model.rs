//! The schema graph Scute reasons about, built from the schema's JSON the
//! way Avro Java's `Schema.Parser` builds its `Schema` objects.
//!
//! Why our own graph rather than `apache_avro::Schema`: the canonical text
//! must keep every custom property in source order and the compatibility
//! check memoizes on schema identity (a named type used twice is one node,
//! a primitive used twice is two), as Avro Java does.

use std::collections::HashMap;

use serde_json::{Map, Value};

pub(crate) type NodeId = usize;
pub(crate) type Props = Vec<(String, Value)>;

/// Avro Java's `Schema.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Record,
    Enum,
    Array,
    Map,
    Union,
    Fixed,
    String,
    Bytes,
    Int,
    Long,
    Float,
    Double,
    Boolean,
    Null,
}

impl Kind {
    /// The lower-case name used in schema JSON.
    pub(crate) fn json_name(self) -> &'static str {
        match self {
            Kind::Record => "record",
            Kind::Enum => "enum",
            Kind::Array => "array",
            Kind::Map => "map",
            Kind::Union => "union",
            Kind::Fixed => "fixed",
            Kind::String => "string",
            Kind::Bytes => "bytes",
            Kind::Int => "int",
            Kind::Long => "long",
            Kind::Float => "float",
            Kind::Double => "double",
            Kind::Boolean => "boolean",
            Kind::Null => "null",
        }
    }

    /// The Java enum constant name, used in compatibility messages.
    pub(crate) fn java_name(self) -> &'static str {
        match self {
            Kind::Record => "RECORD",
            Kind::Enum => "ENUM",
            Kind::Array => "ARRAY",
            Kind::Map => "MAP",
            Kind::Union => "UNION",
            Kind::Fixed => "FIXED",
            Kind::String => "STRING",
            Kind::Bytes => "BYTES",
            Kind::Int => "INT",
            Kind::Long => "LONG",
            Kind::Float => "FLOAT",
            Kind::Double => "DOUBLE",
            Kind::Boolean => "BOOLEAN",
            Kind::Null => "NULL",
        }
    }

    fn primitive(name: &str) -> Option<Kind> {
        Some(match name {
            "string" => Kind::String,
            "bytes" => Kind::Bytes,
            "int" => Kind::Int,
            "long" => Kind::Long,
            "float" => Kind::Float,
            "double" => Kind::Double,
            "boolean" => Kind::Boolean,
            "null" => Kind::Null,
            _ => return None,
        })
    }

    /// Whether `name` is the name of a type (Java then always writes a
    /// reference to a named type of that name fully qualified).
    pub(crate) fn is_type_name(name: &str) -> bool {
        Kind::primitive(name).is_some()
            || matches!(
                name,
                "record" | "enum" | "array" | "map" | "union" | "fixed"
            )
    }
}

/// A full name split as Avro Java's `Schema.Name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    pub(crate) name: String,
    pub(crate) space: Option<String>,
    pub(crate) full: String,
}

impl Name {
    pub(crate) fn new(name: &str, space: Option<&str>) -> Name {
        let (space, name) = match name.rfind('.') {
            Some(dot) => (Some(&name[..dot]), &name[dot + 1..]),
            None => (space, name),
        };
        let space = space.filter(|s| !s.is_empty()).map(str::to_owned);
        let full = match &space {
            Some(s) => format!("{s}.{name}"),
            None => name.to_owned(),
        };
        Name {
            name: name.to_owned(),
            space,
            full,
        }
    }

    /// `Name.getQualified`: the short name when it lives in `default_space`.
    pub(crate) fn qualified(&self, default_space: Option<&str>) -> &str {
        match (&self.space, default_space) {
            (Some(s), Some(d)) if s == d && !Kind::is_type_name(&self.name) => &self.name,
            _ => &self.full,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) doc: Option<String>,
    pub(crate) ty: NodeId,
    pub(crate) default: Option<Value>,
    /// `None` for the default ascending order (Java does not write it).
    pub(crate) order: Option<String>,
    pub(crate) aliases: Vec<String>,
    pub(crate) props: Props,
}

#[derive(Debug, Clone)]
pub(crate) struct NamedInfo {
    pub(crate) name: Name,
    pub(crate) doc: Option<String>,
    pub(crate) aliases: Vec<Name>,
    pub(crate) props: Props,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Primitive {
        kind: Kind,
        props: Props,
    },
    Record {
        info: NamedInfo,
        is_error: bool,
        fields: Vec<Field>,
    },
    Enum {
        info: NamedInfo,
        symbols: Vec<String>,
        default: Option<String>,
    },
    Fixed {
        info: NamedInfo,
        size: u64,
    },
    Array {
        items: NodeId,
        props: Props,
    },
    Map {
        values: NodeId,
        props: Props,
    },
    Union {
        branches: Vec<NodeId>,
    },
}

impl Node {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Node::Primitive { kind, .. } => *kind,
            Node::Record { .. } => Kind::Record,
            Node::Enum { .. } => Kind::Enum,
            Node::Fixed { .. } => Kind::Fixed,
            Node::Array { .. } => Kind::Array,
            Node::Map { .. } => Kind::Map,
            Node::Union { .. } => Kind::Union,
        }
    }

    pub(crate) fn named(&self) -> Option<&NamedInfo> {
        match self {
            Node::Record { info, .. } | Node::Enum { info, .. } | Node::Fixed { info, .. } => {
                Some(info)
            }
            _ => None,
        }
    }
}

/// Keys Avro Java does not keep as custom properties of a schema.
const SCHEMA_RESERVED: &[&str] = &[
    "doc",
    "fields",
    "items",
    "name",
    "namespace",
    "size",
    "symbols",
    "values",
    "type",
    "aliases",
];
/// Keys Avro Java does not keep as custom properties of a field.
const FIELD_RESERVED: &[&str] = &["default", "doc", "name", "order", "type", "aliases"];

/// All nodes of one schema and of the schemas it references, with the
/// named types by full name (Avro Java's `Schema.Names`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Graph {
    pub(crate) nodes: Vec<Node>,
    pub(crate) names: HashMap<String, NodeId>,
}

impl Graph {
    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub(crate) fn kind(&self, id: NodeId) -> Kind {
        self.nodes[id].kind()
    }

    /// Parses one schema document; its named types become known to the
    /// documents parsed after it.
    pub(crate) fn add(&mut self, json: &Value) -> Result<NodeId, String> {
        self.parse(json, None)
    }

    /// Forgets every node from `len` on, and the names they defined.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.nodes.truncate(len);
        self.names.retain(|_, id| *id < len);
    }

    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn define(&mut self, name: &Name, id: NodeId) -> Result<(), String> {
        if self.names.contains_key(&name.full) {
            return Err(format!("Can't redefine: {}", name.full));
        }
        self.names.insert(name.full.clone(), id);
        Ok(())
    }

    fn lookup(&self, name: &str, space: Option<&str>) -> Option<NodeId> {
        if !name.contains('.')
            && let Some(space) = space
            && let Some(id) = self.names.get(&format!("{space}.{name}"))
        {
            return Some(*id);
        }
        self.names.get(name).copied()
    }

    fn parse(&mut self, json: &Value, space: Option<&str>) -> Result<NodeId, String> {
        match json {
            Value::String(name) => match Kind::primitive(name) {
                Some(kind) => Ok(self.push(Node::Primitive {
                    kind,
                    props: Vec::new(),
                })),
                None => self
                    .lookup(name, space)
                    .ok_or_else(|| format!("Undefined name: {}", compact(json))),
            },
            Value::Array(items) => {
                let mut branches = Vec::with_capacity(items.len());
                for item in items {
                    branches.push(self.parse(item, space)?);
                }
                Ok(self.push(Node::Union { branches }))
            }
            Value::Object(obj) => self.parse_object(json, obj, space),
            _ => Err(format!("Schema not yet supported: {}", compact(json))),
        }
    }

    fn parse_object(
        &mut self,
        json: &Value,
        obj: &Map<String, Value>,
        space: Option<&str>,
    ) -> Result<NodeId, String> {
        let ty = obj
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("No type: {}", compact(json)))?;
        if let Some(kind) = Kind::primitive(ty) {
            let props = props(obj, SCHEMA_RESERVED);
            return Ok(self.push(Node::Primitive { kind, props }));
        }
        match ty {
            "record" | "error" | "enum" | "fixed" => {}
            "array" => {
                let items = obj
                    .get("items")
                    .ok_or_else(|| format!("Array has no items type: {}", compact(json)))?;
                let items = self.parse(items, space)?;
                let props = props(obj, SCHEMA_RESERVED);
                return Ok(self.push(Node::Array { items, props }));
            }
            "map" => {
                let values = obj
                    .get("values")
                    .ok_or_else(|| format!("Map has no values type: {}", compact(json)))?;
                let values = self.parse(values, space)?;
                let props = props(obj, SCHEMA_RESERVED);
                return Ok(self.push(Node::Map { values, props }));
            }
            other => {
                return self
                    .lookup(other, space)
                    .ok_or_else(|| format!("Type not supported: {other}"));
            }
        }

        let own_space = obj.get("namespace").and_then(Value::as_str).or(space);
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("No name in schema: {}", compact(json)))?;
        let name = Name::new(name, own_space);
        let aliases = aliases(obj)?
            .iter()
            .map(|a| Name::new(a, name.space.as_deref()))
            .collect();
        let reserved: &[&str] = if ty == "enum" {
            &[
                "doc",
                "fields",
                "items",
                "name",
                "namespace",
                "size",
                "symbols",
                "values",
                "type",
                "aliases",
                "default",
            ]
        } else {
            SCHEMA_RESERVED
        };
        let info = NamedInfo {
            doc: obj.get("doc").and_then(Value::as_str).map(str::to_owned),
            aliases,
            props: props(obj, reserved),
            name,
        };
        let inner_space = info.name.space.clone();
        match ty {
            "enum" => {
                let symbols = obj
                    .get("symbols")
                    .and_then(Value::as_array)
                    .ok_or_else(|| format!("Enum has no symbols: {}", compact(json)))?
                    .iter()
                    .map(|s| s.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| format!("Enum symbols must be strings: {}", compact(json)))?;
                let default = obj
                    .get("default")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let name = info.name.clone();
                let id = self.push(Node::Enum {
                    info,
                    symbols,
                    default,
                });
                self.define(&name, id)?;
                Ok(id)
            }
            "fixed" => {
                let size = obj
                    .get("size")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| format!("Invalid or no size: {}", compact(json)))?;
                let name = info.name.clone();
                let id = self.push(Node::Fixed { info, size });
                self.define(&name, id)?;
                Ok(id)
            }
            _ => {
                let name = info.name.clone();
                let id = self.push(Node::Record {
                    info,
                    is_error: ty == "error",
                    fields: Vec::new(),
                });
                self.define(&name, id)?;
                let fields_json = obj
                    .get("fields")
                    .and_then(Value::as_array)
                    .ok_or_else(|| format!("Record has no fields: {}", compact(json)))?;
                let mut fields = Vec::with_capacity(fields_json.len());
                for field in fields_json {
                    fields.push(self.parse_field(field, inner_space.as_deref())?);
                }
                if let Node::Record { fields: slot, .. } = &mut self.nodes[id] {
                    *slot = fields;
                }
                Ok(id)
            }
        }
    }

    fn parse_field(&mut self, json: &Value, space: Option<&str>) -> Result<Field, String> {
        let obj = json
            .as_object()
            .ok_or_else(|| format!("Field is not an object: {}", compact(json)))?;
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("No field name: {}", compact(json)))?;
        let ty_json = obj
            .get("type")
            .ok_or_else(|| format!("No field type: {}", compact(json)))?;
        let ty = self.parse(ty_json, space)?;
        let order = match obj.get("order").and_then(Value::as_str) {
            None => None,
            Some(o) => match o.to_ascii_lowercase().as_str() {
                "ascending" => None,
                lower @ ("descending" | "ignore") => Some(lower.to_owned()),
                _ => return Err(format!("Invalid order: {o}")),
            },
        };
        let mut default = obj.get("default").cloned();
        // Java turns a textual float/double default into a number.
        if let Some(Value::String(text)) = &default
            && matches!(self.kind(ty), Kind::Float | Kind::Double)
            && let Ok(f) = text.trim().parse::<f64>()
            && f.is_finite()
            && let Some(n) = serde_json::Number::from_f64(f)
        {
            default = Some(Value::Number(n));
        }
        Ok(Field {
            name: name.to_owned(),
            doc: obj.get("doc").and_then(Value::as_str).map(str::to_owned),
            ty,
            default,
            order,
            aliases: aliases(obj)?,
            props: props(obj, FIELD_RESERVED),
        })
    }
}

fn props(obj: &Map<String, Value>, reserved: &[&str]) -> Props {
    obj.iter()
        .filter(|(k, _)| !reserved.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn aliases(obj: &Map<String, Value>) -> Result<Vec<String>, String> {
    match obj.get("aliases") {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|a| {
                a.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("alias not a string: {}", compact(a)))
            })
            .collect(),
        Some(other) => Err(format!("aliases not an array: {}", compact(other))),
    }
}

fn compact(v: &Value) -> String {
    let mut s = String::new();
    super::json::write_value(&mut s, v);
    s
}
