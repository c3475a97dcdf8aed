//! Schema text as Avro Java's `Schema.toString` writes it: compact JSON,
//! Java's key order, named types in full on first use and by (possibly
//! short) name afterwards.

use std::collections::HashSet;

use super::json::{write_str, write_value};
use super::model::{Graph, Name, NamedInfo, Node, NodeId, Props};

/// Writes `root`; the full names in `known` are written by name only (the
/// referenced schemas of `Schema.toString(Collection, boolean)`).
pub(crate) fn to_json(graph: &Graph, root: NodeId, known: &[&str]) -> String {
    let mut p = Printer {
        graph,
        out: String::with_capacity(256),
        written: known.iter().map(|s| (*s).to_owned()).collect(),
        space: None,
    };
    p.schema(root);
    p.out
}

struct Printer<'a> {
    graph: &'a Graph,
    out: String,
    written: HashSet<String>,
    /// The default namespace: that of the innermost enclosing record.
    space: Option<String>,
}

impl Printer<'_> {
    fn key(&mut self, key: &str) {
        write_str(&mut self.out, key);
        self.out.push(':');
    }

    fn str_field(&mut self, key: &str, value: &str) {
        self.out.push(',');
        self.key(key);
        write_str(&mut self.out, value);
    }

    fn props(&mut self, props: &Props) {
        for (k, v) in props {
            self.out.push(',');
            self.key(k);
            write_value(&mut self.out, v);
        }
    }

    /// `writeNameRef`: true if the type was written as a reference.
    fn name_ref(&mut self, name: &Name) -> bool {
        if self.written.contains(&name.full) {
            let q = name.qualified(self.space.as_deref()).to_owned();
            write_str(&mut self.out, &q);
            return true;
        }
        self.written.insert(name.full.clone());
        false
    }

    /// `Name.writeName`.
    fn name(&mut self, name: &Name) {
        self.str_field("name", &name.name);
        match &name.space {
            Some(space) => {
                if self.space.as_deref() != Some(space.as_str()) {
                    self.str_field("namespace", space);
                }
            }
            None => {
                if self.space.is_some() {
                    self.str_field("namespace", "");
                }
            }
        }
    }

    fn aliases(&mut self, info: &NamedInfo) {
        if info.aliases.is_empty() {
            return;
        }
        self.out.push(',');
        self.key("aliases");
        self.out.push('[');
        for (i, alias) in info.aliases.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            write_str(&mut self.out, alias.qualified(info.name.space.as_deref()));
        }
        self.out.push(']');
    }

    fn head(&mut self, ty: &str, info: &NamedInfo) {
        self.out.push('{');
        self.key("type");
        write_str(&mut self.out, ty);
        self.name(&info.name);
    }

    fn schema(&mut self, id: NodeId) {
        let graph = self.graph;
        match graph.node(id) {
            Node::Primitive { kind, props } => {
                if props.is_empty() {
                    write_str(&mut self.out, kind.json_name());
                } else {
                    self.out.push('{');
                    self.key("type");
                    write_str(&mut self.out, kind.json_name());
                    self.props(props);
                    self.out.push('}');
                }
            }
            Node::Record {
                info,
                is_error,
                fields,
            } => {
                if self.name_ref(&info.name) {
                    return;
                }
                let saved = self.space.clone();
                self.head(if *is_error { "error" } else { "record" }, info);
                self.space.clone_from(&info.name.space);
                if let Some(doc) = &info.doc {
                    self.str_field("doc", doc);
                }
                self.out.push(',');
                self.key("fields");
                self.out.push('[');
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.out.push('{');
                    self.key("name");
                    write_str(&mut self.out, &f.name);
                    self.out.push(',');
                    self.key("type");
                    self.schema(f.ty);
                    if let Some(doc) = &f.doc {
                        self.str_field("doc", doc);
                    }
                    if let Some(default) = &f.default {
                        self.out.push(',');
                        self.key("default");
                        write_value(&mut self.out, default);
                    }
                    if let Some(order) = &f.order {
                        self.str_field("order", order);
                    }
                    if !f.aliases.is_empty() {
                        self.out.push(',');
                        self.key("aliases");
                        self.out.push('[');
                        for (j, a) in f.aliases.iter().enumerate() {
                            if j > 0 {
                                self.out.push(',');
                            }
                            write_str(&mut self.out, a);
                        }
                        self.out.push(']');
                    }
                    self.props(&f.props);
                    self.out.push('}');
                }
                self.out.push(']');
                self.props(&info.props);
                self.aliases(info);
                self.out.push('}');
                self.space = saved;
            }
            Node::Enum {
                info,
                symbols,
                default,
            } => {
                if self.name_ref(&info.name) {
                    return;
                }
                self.head("enum", info);
                if let Some(doc) = &info.doc {
                    self.str_field("doc", doc);
                }
                self.out.push(',');
                self.key("symbols");
                self.out.push('[');
                for (i, s) in symbols.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    write_str(&mut self.out, s);
                }
                self.out.push(']');
                if let Some(default) = default {
                    self.str_field("default", default);
                }
                self.props(&info.props);
                self.aliases(info);
                self.out.push('}');
            }
            Node::Fixed { info, size } => {
                if self.name_ref(&info.name) {
                    return;
                }
                self.head("fixed", info);
                if let Some(doc) = &info.doc {
                    self.str_field("doc", doc);
                }
                self.out.push(',');
                self.key("size");
                self.out.push_str(&size.to_string());
                self.props(&info.props);
                self.aliases(info);
                self.out.push('}');
            }
            Node::Array { items, props } => {
                self.out.push('{');
                self.key("type");
                write_str(&mut self.out, "array");
                self.out.push(',');
                self.key("items");
                self.schema(*items);
                self.props(props);
                self.out.push('}');
            }
            Node::Map { values, props } => {
                self.out.push('{');
                self.key("type");
                write_str(&mut self.out, "map");
                self.out.push(',');
                self.key("values");
                self.schema(*values);
                self.props(props);
                self.out.push('}');
            }
            Node::Union { branches } => {
                self.out.push('[');
                for (i, b) in branches.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.schema(*b);
                }
                self.out.push(']');
            }
        }
    }
}
