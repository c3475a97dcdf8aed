//! Avro schema resolution checked as Avro Java's `SchemaCompatibility`
//! checks it: every problem is collected, each with the JSON-pointer
//! location Java reports, and reader/writer pairs are memoized by node
//! identity so recursive types terminate (and repeated pairs report the
//! same problems, at the location of their first visit, as in Java).

use std::collections::{BTreeSet, HashMap};

use super::model::{Field, Graph, Kind, Node, NodeId};
use crate::{ErrorType, Incompatibility};

/// The most problems one reader/writer pair keeps. Java keeps them all, and
/// a named type used twice by each of n nested records then reports 2^n;
/// real schemas report a handful.
const MAX_PROBLEMS: usize = 1000;

/// One problem before its location is turned into a path.
#[derive(Debug, Clone)]
struct Problem {
    error_type: ErrorType,
    message: String,
    location: Vec<String>,
}

/// Problems met when `reader` reads data written with `writer`.
pub(crate) fn check(
    reader: &Graph,
    reader_root: NodeId,
    writer: &Graph,
    writer_root: NodeId,
) -> Vec<Incompatibility> {
    let mut checker = Checker {
        r: reader,
        w: writer,
        memo: HashMap::new(),
    };
    checker
        .fresh(reader_root, writer_root)
        .into_iter()
        .map(|p| Incompatibility {
            error_type: p.error_type,
            path: pointer(&p.location),
            additional_info: p.message,
        })
        .collect()
}

/// `Incompatibility.getLocation`: the root token dropped, `~` and `/` escaped.
fn pointer(location: &[String]) -> String {
    let parts: Vec<String> = location
        .iter()
        .skip(1)
        .map(|c| c.replace('~', "~0").replace('/', "~1"))
        .collect();
    format!("/{}", parts.join("/"))
}

struct Checker<'a> {
    r: &'a Graph,
    w: &'a Graph,
    /// `None` while the pair is being checked (recursion in progress).
    memo: HashMap<(NodeId, NodeId), Option<Vec<Problem>>>,
}

impl Checker<'_> {
    /// A check with a new location stack (Java's two-argument overload).
    fn fresh(&mut self, r: NodeId, w: NodeId) -> Vec<Problem> {
        let mut location = Vec::new();
        self.get("", r, w, &mut location)
    }

    fn get(&mut self, token: &str, r: NodeId, w: NodeId, loc: &mut Vec<String>) -> Vec<Problem> {
        loc.push(token.to_owned());
        let result = match self.memo.get(&(r, w)) {
            Some(None) => Vec::new(),
            Some(Some(done)) => done.clone(),
            // The caller's deadline passed: the outcome will be dropped.
            None if crate::limits::expired() => Vec::new(),
            None => {
                self.memo.insert((r, w), None);
                let mut result = self.calculate(r, w, loc);
                result.truncate(MAX_PROBLEMS);
                self.memo.insert((r, w), Some(result.clone()));
                result
            }
        };
        loc.pop();
        result
    }

    fn problem(error_type: ErrorType, message: String, loc: &[String]) -> Problem {
        Problem {
            error_type,
            message,
            location: loc.to_vec(),
        }
    }

    fn calculate(&mut self, r: NodeId, w: NodeId, loc: &mut Vec<String>) -> Vec<Problem> {
        let (rg, wg) = (self.r, self.w);
        let (rn, wn) = (rg.node(r), wg.node(w));
        let (rk, wk) = (rn.kind(), wn.kind());
        let mut out = Vec::new();
        if rk == wk {
            match (rn, wn) {
                (Node::Array { items: ri, .. }, Node::Array { items: wi, .. }) => {
                    out.extend(self.get("items", *ri, *wi, loc));
                }
                (Node::Map { values: rv, .. }, Node::Map { values: wv, .. }) => {
                    out.extend(self.get("values", *rv, *wv, loc));
                }
                (Node::Fixed { size: rs, .. }, Node::Fixed { size: ws, .. }) => {
                    out.extend(self.names(r, w, loc));
                    if rs != ws {
                        loc.push("size".to_owned());
                        out.push(Self::problem(
                            ErrorType::FixedSizeMismatch,
                            format!("expected: {ws}, found: {rs}"),
                            loc,
                        ));
                        loc.pop();
                    }
                }
                (
                    Node::Enum {
                        symbols: rs,
                        default: rd,
                        ..
                    },
                    Node::Enum { symbols: ws, .. },
                ) => {
                    out.extend(self.names(r, w, loc));
                    let missing: BTreeSet<&str> = ws
                        .iter()
                        .filter(|s| !rs.contains(s))
                        .map(String::as_str)
                        .collect();
                    let has_default = rd.as_ref().is_some_and(|d| rs.contains(d));
                    if !missing.is_empty() && !has_default {
                        loc.push("symbols".to_owned());
                        let list: Vec<&str> = missing.into_iter().collect();
                        out.push(Self::problem(
                            ErrorType::MissingEnumSymbols,
                            format!("[{}]", list.join(", ")),
                            loc,
                        ));
                        loc.pop();
                    }
                }
                (Node::Record { fields: rf, .. }, Node::Record { fields: wf, .. }) => {
                    out.extend(self.names(r, w, loc));
                    out.extend(self.fields(rf, w, wf, loc));
                }
                (Node::Union { .. }, Node::Union { branches }) => {
                    for (i, wb) in branches.iter().enumerate() {
                        loc.push(i.to_string());
                        if !self.fresh(r, *wb).is_empty() {
                            out.push(Self::problem(
                                ErrorType::MissingUnionBranch,
                                format!(
                                    "reader union lacking writer type: {}",
                                    wg.kind(*wb).java_name()
                                ),
                                loc,
                            ));
                        }
                        loc.pop();
                    }
                }
                _ => {}
            }
            return out;
        }

        if let Node::Union { branches } = wn {
            for (i, wb) in branches.iter().enumerate() {
                out.extend(self.get(&i.to_string(), r, *wb, loc));
            }
            return out;
        }

        let promotable = matches!(
            (rk, wk),
            (Kind::Long, Kind::Int)
                | (Kind::Float, Kind::Int | Kind::Long)
                | (Kind::Double, Kind::Int | Kind::Long | Kind::Float)
                | (Kind::Bytes, Kind::String)
                | (Kind::String, Kind::Bytes)
        );
        if promotable {
            return out;
        }
        if let Node::Union { branches } = rn {
            for rb in branches {
                if self.fresh(*rb, w).is_empty() {
                    return out;
                }
            }
            out.push(Self::problem(
                ErrorType::MissingUnionBranch,
                format!("reader union lacking writer type: {}", wk.java_name()),
                loc,
            ));
            return out;
        }
        out.push(Self::problem(
            ErrorType::TypeMismatch,
            format!(
                "reader type: {} not compatible with writer type: {}",
                rk.java_name(),
                wk.java_name()
            ),
            loc,
        ));
        out
    }

    /// `checkSchemaNames`: same unqualified name, or a reader alias equal
    /// to the writer's full name.
    fn names(&self, r: NodeId, w: NodeId, loc: &mut Vec<String>) -> Vec<Problem> {
        let (Some(ri), Some(wi)) = (self.r.node(r).named(), self.w.node(w).named()) else {
            return Vec::new();
        };
        if ri.name.name == wi.name.name || ri.aliases.iter().any(|a| a.full == wi.name.full) {
            return Vec::new();
        }
        loc.push("name".to_owned());
        let p = Self::problem(
            ErrorType::NameMismatch,
            format!("expected: {}", wi.name.full),
            loc,
        );
        loc.pop();
        vec![p]
    }

    fn fields(
        &mut self,
        reader_fields: &[Field],
        writer_record: NodeId,
        writer_fields: &[Field],
        loc: &mut Vec<String>,
    ) -> Vec<Problem> {
        let mut out = Vec::new();
        loc.push("fields".to_owned());
        for (pos, rf) in reader_fields.iter().enumerate() {
            loc.push(pos.to_string());
            // Java throws when several writer fields match; the direct name
            // match wins here.
            let wf = writer_fields
                .iter()
                .find(|f| f.name == rf.name)
                .or_else(|| {
                    rf.aliases
                        .iter()
                        .find_map(|a| writer_fields.iter().find(|f| &f.name == a))
                });
            match wf {
                Some(wf) => out.extend(self.get("type", rf.ty, wf.ty, loc)),
                None if rf.default.is_some() => {}
                None => {
                    let rg = self.r;
                    let enum_default = matches!(
                        rg.node(rf.ty),
                        Node::Enum {
                            default: Some(_),
                            ..
                        }
                    );
                    if enum_default {
                        // As Java: the enum is checked against the writer record.
                        out.extend(self.get("type", rf.ty, writer_record, loc));
                    } else {
                        out.push(Self::problem(
                            ErrorType::ReaderFieldMissingDefaultValue,
                            rf.name.clone(),
                            loc,
                        ));
                    }
                }
            }
            loc.pop();
        }
        loc.pop();
        out
    }
}
