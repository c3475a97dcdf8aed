//! Avro Java's `validateDefaults`: every record field's default must be a
//! value of the field's type. Confluent checks it for new schemas only
//! (registrations and compatibility checks, not lookups or imports), so it
//! is a step of its own after the parse.

use std::collections::HashSet;

use serde_json::Value;

use super::model::{Graph, Kind, Node, NodeId};
use super::print;

enum Step {
    Visit(NodeId),
    Check { record: NodeId, field: usize },
}

/// The first field, in the order Avro Java's parser meets them (a field's
/// type before its default), whose default its type does not take; nodes
/// before `own_start` (the references) are not looked at.
pub(crate) fn first_invalid(graph: &Graph, root: NodeId, own_start: usize) -> Option<String> {
    let mut seen = HashSet::new();
    let mut stack = vec![Step::Visit(root)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Visit(id) if id < own_start => {}
            Step::Visit(id) => match graph.node(id) {
                Node::Record { fields, .. } => {
                    if seen.insert(id) {
                        for (i, field) in fields.iter().enumerate().rev() {
                            stack.push(Step::Check {
                                record: id,
                                field: i,
                            });
                            stack.push(Step::Visit(field.ty));
                        }
                    }
                }
                Node::Array { items, .. } => stack.push(Step::Visit(*items)),
                Node::Map { values, .. } => stack.push(Step::Visit(*values)),
                Node::Union { branches } => {
                    stack.extend(branches.iter().rev().map(|b| Step::Visit(*b)));
                }
                Node::Primitive { .. } | Node::Enum { .. } | Node::Fixed { .. } => {}
            },
            Step::Check { record, field } => {
                let Node::Record { fields, .. } = graph.node(record) else {
                    continue;
                };
                let Some(field) = fields.get(field) else {
                    continue;
                };
                if let Some(default) = &field.default
                    && !valid(graph, field.ty, default)
                {
                    return Some(format!(
                        "Invalid default for field {}: {} not a {}",
                        field.name,
                        default,
                        print::to_json(graph, field.ty, &[])
                    ));
                }
            }
        }
    }
    None
}

/// Avro Java's `Schema.isValidDefault`. Recursion follows the value, whose
/// nesting the parse already bounded.
fn valid(graph: &Graph, ty: NodeId, value: &Value) -> bool {
    match graph.node(ty) {
        Node::Union { branches } => branches.iter().any(|b| valid_value(graph, *b, value)),
        Node::Record { fields, .. } => value.as_object().is_some_and(|object| {
            fields.iter().all(|f| {
                object
                    .get(&f.name)
                    .or(f.default.as_ref())
                    .is_some_and(|v| valid_value(graph, f.ty, v))
            })
        }),
        Node::Array { items, .. } => value
            .as_array()
            .is_some_and(|a| a.iter().all(|v| valid(graph, *items, v))),
        Node::Map { values, .. } => value
            .as_object()
            .is_some_and(|o| o.values().all(|v| valid(graph, *values, v))),
        Node::Enum { .. } | Node::Fixed { .. } => value.is_string(),
        Node::Primitive { kind, .. } => match kind {
            Kind::String | Kind::Bytes => value.is_string(),
            Kind::Int => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            Kind::Long => value.is_i64(),
            Kind::Float | Kind::Double => value.is_number(),
            Kind::Boolean => value.is_boolean(),
            Kind::Null => value.is_null(),
            _ => false,
        },
    }
}

/// Avro Java's `isValidValue`: a union takes a value any branch takes.
fn valid_value(graph: &Graph, ty: NodeId, value: &Value) -> bool {
    match graph.node(ty) {
        Node::Union { branches } => branches.iter().any(|b| valid(graph, *b, value)),
        _ => valid(graph, ty, value),
    }
}
