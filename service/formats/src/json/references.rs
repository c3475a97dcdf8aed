//! Where a `$ref` points: inside the schema itself, or into a referenced
//! schema.
//!
//! Confluent registers each referenced schema under its reference's name
//! (and, for a relative name, under the name resolved against the
//! referring schema's `$id`) and lets the validator look `$ref`s up there.
//! Here a `$ref`'s part before `#` is matched the same ways: against a
//! reference name, with or without a leading `./`, resolved against the
//! referring document's id, or against a referenced schema's own id. The
//! part after `#` is a JSON pointer or an anchor. Nothing is fetched.

use serde_json::Value;

use super::validate::Draft;

/// One JSON document: the schema (index 0) or a referenced schema.
pub(crate) struct Doc<'a> {
    pub(crate) name: Option<&'a str>,
    pub(crate) value: &'a Value,
    pub(crate) draft: Draft,
}

impl Doc<'_> {
    fn id(&self) -> Option<&str> {
        self.value
            .get(self.draft.id_keyword())
            .and_then(Value::as_str)
    }
}

/// The schema and its dependencies, by index.
pub(crate) struct Docs<'a> {
    docs: Vec<Doc<'a>>,
}

impl<'a> Docs<'a> {
    pub(crate) fn new(root: &'a Value, dependencies: &'a [(String, Value)]) -> Docs<'a> {
        let mut docs = vec![Doc {
            name: None,
            value: root,
            draft: Draft::of(root),
        }];
        for (name, value) in dependencies {
            docs.push(Doc {
                name: Some(name),
                value,
                draft: Draft::of(value),
            });
        }
        Docs { docs }
    }

    pub(crate) fn value(&self, doc: usize, pointer: &str) -> Option<&'a Value> {
        self.docs[doc].value.pointer(pointer)
    }

    pub(crate) fn draft(&self, doc: usize) -> Draft {
        self.docs[doc].draft
    }

    /// The document and JSON pointer a `$ref` in document `doc` names.
    pub(crate) fn resolve(&self, doc: usize, reference: &str) -> Result<(usize, String), String> {
        let (base, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let target = if base.is_empty() {
            doc
        } else {
            self.find(doc, base)
                .ok_or_else(|| format!("$ref '{reference}' names no schema among the references"))?
        };
        let pointer = if fragment.is_empty() {
            String::new()
        } else if fragment.starts_with('/') {
            percent_decode(fragment)
        } else {
            anchor(
                self.docs[target].value,
                fragment,
                self.docs[target].draft,
                "",
            )
            .ok_or_else(|| format!("$ref '{reference}' names no anchor '{fragment}'"))?
        };
        if self.docs[target].value.pointer(&pointer).is_none() {
            return Err(format!("$ref '{reference}' points at nothing"));
        }
        Ok((target, pointer))
    }

    fn find(&self, doc: usize, base: &str) -> Option<usize> {
        let plain = base.trim_start_matches("./");
        let absolute = self.docs[doc].id().and_then(|id| join(id, base));
        let names = |s: &str| {
            s == base || s.trim_start_matches("./") == plain || Some(s) == absolute.as_deref()
        };
        if self.docs[doc].id().is_some_and(names) {
            return Some(doc);
        }
        self.docs
            .iter()
            .position(|d| d.name.is_some_and(names))
            .or_else(|| self.docs.iter().position(|d| d.id().is_some_and(names)))
    }
}

/// `relative` resolved against the URI `base` (the last path segment
/// replaced), or `None` when `base` has no path.
fn join(base: &str, relative: &str) -> Option<String> {
    if relative.contains("://") {
        return Some(relative.to_owned());
    }
    let base = base.split('#').next().unwrap_or(base);
    let slash = base.rfind('/')?;
    Some(format!(
        "{}{}",
        &base[..=slash],
        relative.trim_start_matches("./")
    ))
}

/// The pointer of the subschema declaring anchor `name` (`$anchor`, or an
/// id of `#name` in the older drafts).
fn anchor(value: &Value, name: &str, draft: Draft, at: &str) -> Option<String> {
    match value {
        Value::Object(obj) => {
            let declares = obj.get("$anchor").and_then(Value::as_str) == Some(name)
                || obj
                    .get(draft.id_keyword())
                    .and_then(Value::as_str)
                    .and_then(|id| id.strip_prefix('#'))
                    == Some(name);
            if declares {
                return Some(at.to_owned());
            }
            obj.iter()
                .find_map(|(k, v)| anchor(v, name, draft, &pointer_child(at, k)))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| anchor(v, name, draft, &pointer_child(at, &i.to_string()))),
        _ => None,
    }
}

/// `pointer` extended by one reference token.
pub(crate) fn pointer_child(pointer: &str, key: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + key.len() + 1);
    out.push_str(pointer);
    out.push('/');
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// A URI fragment's `%XX` escapes decoded.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
