//! Bounds on the work a schema can cause, checked before the work starts.
//!
//! Parsers here and in the crates underneath (serde_json, apache-avro,
//! protox, jsonschema) recurse once per level of nesting, so nesting is
//! measured on the raw text first, by a scanner that does not recurse, and
//! a schema nested deeper than [`Limits::max_depth`] is refused with the
//! place it goes too deep. The checks that compare two schemas can take
//! long on large inputs: they look at [`expired`] as they go and stop once
//! the caller's deadline ([`until`]) has passed.

use std::cell::Cell;
use std::time::Instant;

/// Bounds applied to every schema parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The deepest nesting accepted: JSON arrays and objects in AVRO and
    /// JSON Schema text, braces, brackets and parentheses in Protobuf text,
    /// nested messages in Protobuf descriptors.
    pub max_depth: usize,
}

impl Limits {
    /// Deeper than any real schema (Confluent's test corpora and Google's
    /// API protos nest under 20), and what serde_json itself allows.
    pub const DEFAULT_MAX_DEPTH: usize = 128;
    /// The most `max_depth` may be set to: the depth the parsers are known
    /// to handle on a compute thread's stack.
    pub const MAX_MAX_DEPTH: usize = 1000;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: Self::DEFAULT_MAX_DEPTH,
        }
    }
}

/// A bound a schema broke: what and where, for the 42201 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TooDeep {
    pub(crate) limit: usize,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the schema nests deeper than {} levels at line {}, column {} (the limit is --max-schema-depth)",
            self.limit, self.line, self.column
        )
    }
}

/// Where a byte offset of `text` is, 1-based, in characters.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn too_deep(text: &str, offset: usize, limit: usize) -> TooDeep {
    let (line, column) = line_column(text, offset);
    TooDeep {
        limit,
        line,
        column,
    }
}

/// Checks the nesting of JSON text: arrays and objects, strings skipped.
/// Text that is not JSON is left for the parser to refuse.
pub(crate) fn check_json_depth(text: &str, limit: usize) -> Result<(), TooDeep> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in text.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Err(too_deep(text, i, limit));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Reads JSON schema text within the depth limit. serde_json's own limit
/// (128) is lifted, since the depth was checked first; the caller runs on a
/// thread whose stack holds [`Limits::MAX_MAX_DEPTH`] levels.
pub(crate) fn read_json(text: &str, limits: &Limits) -> Result<serde_json::Value, String> {
    use serde::Deserialize;
    check_json_depth(text, limits.max_depth).map_err(|e| e.to_string())?;
    let mut reader = serde_json::Deserializer::from_str(text);
    reader.disable_recursion_limit();
    let value = serde_json::Value::deserialize(&mut reader).map_err(|e| e.to_string())?;
    reader.end().map_err(|e| e.to_string())?;
    Ok(value)
}

thread_local! {
    /// The deadline of the work running on this thread, if any.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Whether the work running on this thread saw its deadline pass.
    static EXPIRED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `work` with a deadline that the long checks of this crate look at
/// ([`expired`]). Returns `None` if the deadline passed while it ran: the
/// result may then be cut short, and must not be used.
pub fn until<T>(deadline: Instant, work: impl FnOnce() -> T) -> Option<T> {
    let previous = DEADLINE.with(|d| d.replace(Some(deadline)));
    EXPIRED.with(|e| e.set(false));
    let out = work();
    DEADLINE.with(|d| d.set(previous));
    let expired = EXPIRED.with(|e| e.replace(false)) || Instant::now() > deadline;
    (!expired).then_some(out)
}

/// Whether the deadline of the work on this thread has passed. Once it
/// has, stays so until [`until`] returns, so that every check on the way
/// out stops too.
pub(crate) fn expired() -> bool {
    if EXPIRED.with(Cell::get) {
        return true;
    }
    let passed = DEADLINE.with(Cell::get).is_some_and(|d| Instant::now() > d);
    if passed {
        EXPIRED.with(|e| e.set(true));
    }
    passed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn json_depth_counts_containers_not_strings() {
        assert!(check_json_depth(r#"[[["[[[[[["]]]"#, 3).is_ok());
        assert!(check_json_depth(r#"{"a\"[[[[":[{"b":{}}]}"#, 4).is_ok());
        let err = check_json_depth("[\n [\n  [1]]]", 2).unwrap_err();
        assert_eq!((err.line, err.column), (3, 3));
        assert!(
            err.to_string()
                .contains("deeper than 2 levels at line 3, column 3")
        );
    }

    #[test]
    fn deadline_is_seen_by_the_work_and_reported() {
        let past = Instant::now() - Duration::from_millis(1);
        assert_eq!(until(past, expired), None);
        let later = Instant::now() + Duration::from_secs(60);
        assert_eq!(until(later, expired), Some(false));
        // Outside any deadline, nothing expires.
        assert!(!expired());
    }
}
