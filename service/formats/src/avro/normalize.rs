//! Confluent's normalized Avro text (`AvroSchemaUtils.toNormalizedString`),
//! adapted from Avro's parsing canonical form: full names, properties
//! sorted, aliases sorted, defaults re-encoded from their typed value.
//! The registry stores the canonical text of this text re-parsed.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::Value;

use super::json::{java_double, java_float, write_str, write_value};
use super::model::{Graph, Kind, Node, NodeId, Props};

/// Normalized text of `root`; names in `known` are written as references.
pub(crate) fn normalized_text(graph: &Graph, root: NodeId, known: &[&str]) -> String {
    let mut env: HashSet<String> = known.iter().map(|s| (*s).to_owned()).collect();
    let mut out = String::with_capacity(256);
    build(graph, &mut env, root, &mut out);
    out
}

fn build(graph: &Graph, env: &mut HashSet<String>, id: NodeId, o: &mut String) {
    match graph.node(id) {
        Node::Union { branches } => {
            o.push('[');
            for (i, b) in branches.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                build(graph, env, *b, o);
            }
            o.push(']');
        }
        Node::Array { items, props } => {
            o.push_str("{\"type\":\"array\",\"items\":");
            build(graph, env, *items, o);
            sorted_props(o, props);
            o.push('}');
        }
        Node::Map { values, props } => {
            o.push_str("{\"type\":\"map\",\"values\":");
            build(graph, env, *values, o);
            sorted_props(o, props);
            o.push('}');
        }
        Node::Primitive { kind, props } => {
            if let Some(lt) = logical_type(*kind, props, None) {
                o.push_str("{\"type\":\"");
                o.push_str(kind.json_name());
                o.push('"');
                logical_props(o, &lt);
                sorted_props(o, props);
                o.push('}');
            } else if props.is_empty() {
                write_str(o, kind.json_name());
            } else {
                o.push_str("{\"type\":\"");
                o.push_str(kind.json_name());
                o.push('"');
                sorted_props(o, props);
                o.push('}');
            }
        }
        node => {
            let Some(info) = node.named() else { return };
            let full = info.name.full.clone();
            if env.contains(&full) {
                write_str(o, &full);
                return;
            }
            env.insert(full.clone());
            o.push_str("{\"name\":");
            write_str(o, &full);
            o.push_str(",\"type\":\"");
            o.push_str(node.kind().json_name());
            o.push('"');
            match node {
                Node::Enum { symbols, .. } => {
                    o.push_str(",\"symbols\":[");
                    for (i, s) in symbols.iter().enumerate() {
                        if i > 0 {
                            o.push(',');
                        }
                        write_str(o, s);
                    }
                    o.push(']');
                }
                Node::Fixed { size, .. } => {
                    o.push_str(",\"size\":");
                    o.push_str(&size.to_string());
                    if let Some(lt) = logical_type(Kind::Fixed, &info.props, Some(*size)) {
                        logical_props(o, &lt);
                    }
                }
                Node::Record { fields, .. } => {
                    o.push_str(",\"fields\":[");
                    for (i, f) in fields.iter().enumerate() {
                        if i > 0 {
                            o.push(',');
                        }
                        o.push_str("{\"name\":");
                        write_str(o, &f.name);
                        o.push_str(",\"type\":");
                        build(graph, env, f.ty, o);
                        o.push_str(",\"order\":\"");
                        o.push_str(f.order.as_deref().unwrap_or("ascending"));
                        o.push('"');
                        if let Some(doc) = &f.doc {
                            o.push_str(",\"doc\":");
                            write_str(o, doc);
                        }
                        if !f.aliases.is_empty() {
                            let sorted: BTreeSet<&str> =
                                f.aliases.iter().map(String::as_str).collect();
                            string_array(o, "aliases", sorted);
                        }
                        if let Some(default) = &f.default
                            && let Some(v) = typed_default(graph, default, Some(f.ty))
                        {
                            o.push_str(",\"default\":");
                            o.push_str(&v);
                        }
                        sorted_props(o, &f.props);
                        o.push('}');
                    }
                    o.push(']');
                }
                _ => {}
            }
            if let Some(doc) = &info.doc
                && !doc.is_empty()
            {
                o.push_str(",\"doc\":");
                write_str(o, doc);
            }
            if !info.aliases.is_empty() {
                let sorted: BTreeSet<&str> = info.aliases.iter().map(|a| a.full.as_str()).collect();
                string_array(o, "aliases", sorted);
            }
            if let Node::Enum {
                default: Some(d), ..
            } = node
            {
                o.push_str(",\"default\":");
                write_str(o, d);
            }
            sorted_props(o, &info.props);
            o.push('}');
        }
    }
}

fn string_array<'a>(o: &mut String, key: &str, items: impl IntoIterator<Item = &'a str>) {
    o.push_str(",\"");
    o.push_str(key);
    o.push_str("\":[");
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        write_str(o, s);
    }
    o.push(']');
}

fn sorted_props(o: &mut String, props: &Props) {
    let sorted: BTreeMap<&str, &Value> = props.iter().map(|(k, v)| (k.as_str(), v)).collect();
    for (k, v) in sorted {
        o.push(',');
        write_str(o, k);
        o.push(':');
        write_sorted(o, v);
    }
}

/// JSON with object keys sorted (Confluent's `SortingNodeFactory`).
fn write_sorted(o: &mut String, v: &Value) {
    match v {
        Value::Object(map) => {
            let sorted: BTreeMap<&str, &Value> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
            o.push('{');
            for (i, (k, v)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                write_str(o, k);
                o.push(':');
                write_sorted(o, v);
            }
            o.push('}');
        }
        Value::Array(items) => {
            o.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                write_sorted(o, item);
            }
            o.push(']');
        }
        other => write_value(o, other),
    }
}

/// A logical type Avro Java accepts (`LogicalTypes.fromSchemaIgnoreInvalid`).
struct Logical {
    name: String,
    decimal: Option<(u64, u64)>,
}

fn logical_type(kind: Kind, props: &Props, fixed_size: Option<u64>) -> Option<Logical> {
    let get = |key: &str| props.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let name = get("logicalType")?.as_str()?;
    let ok = match name {
        "decimal" => {
            let precision = get("precision").and_then(Value::as_u64).unwrap_or(0);
            let scale = match get("scale") {
                None => 0,
                Some(v) => v.as_u64()?,
            };
            let max = match (kind, fixed_size) {
                (Kind::Bytes, _) => u64::MAX,
                (Kind::Fixed, Some(size)) if size > 0 => {
                    // floor(log10(2^(8*size-1) - 1))
                    ((8.0 * size as f64 - 1.0) * std::f64::consts::LOG10_2).floor() as u64
                }
                _ => 0,
            };
            if precision > 0 && scale <= precision && precision <= max {
                return Some(Logical {
                    name: name.to_owned(),
                    decimal: Some((precision, scale)),
                });
            }
            false
        }
        "uuid" => kind == Kind::String || (kind == Kind::Fixed && fixed_size == Some(16)),
        "date" | "time-millis" => kind == Kind::Int,
        "time-micros"
        | "timestamp-millis"
        | "timestamp-micros"
        | "timestamp-nanos"
        | "local-timestamp-millis"
        | "local-timestamp-micros"
        | "local-timestamp-nanos" => kind == Kind::Long,
        "big-decimal" => kind == Kind::Bytes,
        "duration" => kind == Kind::Fixed && fixed_size == Some(12),
        _ => false,
    };
    ok.then(|| Logical {
        name: name.to_owned(),
        decimal: None,
    })
}

fn logical_props(o: &mut String, lt: &Logical) {
    o.push_str(",\"logicalType\":");
    write_str(o, &lt.name);
    if let Some((precision, scale)) = lt.decimal {
        o.push_str(",\"precision\":");
        o.push_str(&precision.to_string());
        if scale != 0 {
            o.push_str(",\"scale\":");
            o.push_str(&scale.to_string());
        }
    }
}

/// A default re-encoded from the value Avro Java reads for the field's type
/// (`JacksonUtils.toObject` then `toJsonNode`); `None` when Java reads none.
fn typed_default(graph: &Graph, v: &Value, ty: Option<NodeId>) -> Option<String> {
    let mut ty = ty;
    if let Some(id) = ty
        && let Node::Union { branches } = graph.node(id)
    {
        ty = branches.first().copied();
    }
    let kind = ty.map(|id| graph.kind(id));
    match v {
        Value::Null => Some("null".to_owned()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => {
            if let Some(i) = n.as_i64().or_else(|| n.as_u64().map(|u| u as i64)) {
                let fits_int = i32::try_from(i).is_ok();
                return match kind {
                    None if fits_int => Some(i.to_string()),
                    None | Some(Kind::Long) => Some(i.to_string()),
                    Some(Kind::Int) => Some(i.to_string()),
                    Some(Kind::Float) => Some(java_float(i as f32)),
                    Some(Kind::Double) => Some(java_double(i as f64)),
                    _ => None,
                };
            }
            let f = n.as_f64()?;
            match kind {
                None | Some(Kind::Double) => Some(java_double(f)),
                Some(Kind::Float) => Some(java_float(f as f32)),
                _ => None,
            }
        }
        Value::String(s) => match kind {
            None | Some(Kind::String | Kind::Enum | Kind::Bytes | Kind::Fixed) => {
                let mut o = String::new();
                write_str(&mut o, s);
                Some(o)
            }
            _ => None,
        },
        Value::Array(items) => {
            let elem = match ty.map(|id| graph.node(id)) {
                Some(Node::Array { items, .. }) => Some(*items),
                _ => None,
            };
            let mut o = String::from("[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                o.push_str(&typed_default(graph, item, elem).unwrap_or_else(|| "null".to_owned()));
            }
            o.push(']');
            Some(o)
        }
        Value::Object(map) => {
            let mut sorted: BTreeMap<&str, String> = BTreeMap::new();
            for (k, item) in map {
                let sub = match ty.map(|id| graph.node(id)) {
                    Some(Node::Map { values, .. }) => Some(*values),
                    Some(Node::Record { fields, .. }) => {
                        fields.iter().find(|f| &f.name == k).map(|f| f.ty)
                    }
                    _ => None,
                };
                let text = typed_default(graph, item, sub).unwrap_or_else(|| "null".to_owned());
                sorted.insert(k, text);
            }
            let mut o = String::from("{");
            for (i, (k, text)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                write_str(&mut o, k);
                o.push(':');
                o.push_str(&text);
            }
            o.push('}');
            Some(o)
        }
    }
}
