//! Contexts: Confluent's namespaces of subjects and ids. A subject names its
//! context in a prefix, `:.ctx:name`; a subject without one lives in the
//! default context `.`. Each context has its own ids, its own config and
//! mode (kept under the context-level subject `:.ctx:`) and its own
//! references; the default context is the registry as it always was.

use crate::error::Error;

/// The default context.
pub const DEFAULT: &str = ".";
/// A subject prefix that matches every context (`:*:name`).
pub const WILDCARD: &str = ":*:";

/// A subject split as Confluent's `QualifiedSubject` splits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Qualified<'a> {
    /// `.`, `.ctx`, or `*` for the wildcard.
    pub context: &'a str,
    /// The name within the context; empty for a context-level subject.
    pub name: &'a str,
}

/// Splits a subject into its context and name.
pub fn parse(subject: &str) -> Qualified<'_> {
    if let Some(rest) = subject.strip_prefix(":.") {
        return match rest.find(':') {
            Some(end) => Qualified {
                context: &subject[1..end + 2],
                name: &rest[end + 1..],
            },
            None => Qualified {
                context: &subject[1..],
                name: "",
            },
        };
    }
    if let Some(name) = subject.strip_prefix(WILDCARD) {
        return Qualified { context: "*", name };
    }
    Qualified {
        context: DEFAULT,
        name: subject,
    }
}

/// The context a subject lives in.
pub fn of(subject: &str) -> &str {
    parse(subject).context
}

/// `name` in `context`, written as Confluent stores it: the default
/// context has no prefix.
pub fn qualify(context: &str, name: &str) -> String {
    if context == DEFAULT {
        name.to_owned()
    } else {
        format!(":{context}:{name}")
    }
}

/// A subject as Confluent normalizes it before use: `:.:name` is `name`.
pub fn normalize(subject: String) -> String {
    match subject.strip_prefix(":.:") {
        Some(name) => name.to_owned(),
        None => subject,
    }
}

/// The subject a reference names, as seen from the schema that holds it: a
/// name without a context lives in the referrer's context.
pub fn qualify_with_parent(parent: &str, child: &str) -> String {
    let child = parse(child);
    if child.context == DEFAULT {
        qualify(of(parent), child.name)
    } else {
        qualify(child.context, child.name)
    }
}

/// The subject a context's own config and mode are kept under (`:.ctx:`);
/// `None` for the default context, whose settings are the global ones.
pub fn settings_subject(context: &str) -> Option<String> {
    (context != DEFAULT).then(|| format!(":{context}:"))
}

/// A context name from a URL or a request, as Confluent reads it: `ctx`,
/// `.ctx`, `:.ctx:` and `:ctx:` all name `.ctx`; a colon inside is an error.
pub fn normalize_context(raw: &str) -> Result<String, Error> {
    let trimmed = raw.strip_prefix(':').unwrap_or(raw);
    let trimmed = trimmed.strip_suffix(':').unwrap_or(trimmed);
    if trimmed.contains(':') {
        return Err(Error::BadRequest(
            "Context name cannot contain a colon".into(),
        ));
    }
    Ok(if trimmed.starts_with('.') {
        trimmed.to_owned()
    } else {
        format!(".{trimmed}")
    })
}

/// Whether a subject is in `context` (the wildcard holds every subject).
pub fn holds(context: &str, subject: &str) -> bool {
    context == "*" || of(subject) == context
}

/// Confluent's prefix filter for listings (`subjectPrefix`): `:*:p` is `p`
/// in every context, `:.ctx:p` is `p` in that context, and a plain prefix
/// is the default context.
pub fn matches_prefix(prefix: &str, subject: &str) -> bool {
    let want = parse(prefix);
    let have = parse(subject);
    holds(want.context, subject) && have.name.starts_with(want.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_split_as_confluent_splits_them() {
        let q = |s| {
            let p = parse(s);
            (p.context, p.name)
        };
        assert_eq!(q(":.ctx:foo"), (".ctx", "foo"));
        assert_eq!(q(":.ctx:"), (".ctx", ""));
        assert_eq!(q(":.ctx"), (".ctx", ""));
        assert_eq!(q(":.:foo"), (".", "foo"));
        assert_eq!(q(":*:foo"), ("*", "foo"));
        assert_eq!(q("foo"), (".", "foo"));
        assert_eq!(q(":foo"), (".", ":foo"));
        assert_eq!(normalize(":.:foo".into()), "foo");
        assert_eq!(normalize(":.a:foo".into()), ":.a:foo");
    }

    #[test]
    fn references_live_in_their_referrers_context() {
        assert_eq!(qualify_with_parent(":.a:s", "r"), ":.a:r");
        assert_eq!(qualify_with_parent(":.a:s", ":.b:r"), ":.b:r");
        assert_eq!(qualify_with_parent("s", "r"), "r");
        // `:.:r` names the default context, which is "no context" here too.
        assert_eq!(qualify_with_parent(":.a:s", ":.:r"), ":.a:r");
    }

    #[test]
    fn context_names_read_as_confluent_reads_them() {
        for raw in ["ctx", ".ctx", ":.ctx:", ":ctx:"] {
            assert_eq!(normalize_context(raw).unwrap(), ".ctx");
        }
        assert_eq!(normalize_context(".").unwrap(), ".");
        assert_eq!(normalize_context(":.:").unwrap(), ".");
        assert!(normalize_context("a:b").is_err());
    }

    #[test]
    fn prefixes_choose_contexts() {
        assert!(matches_prefix("", "s"));
        assert!(!matches_prefix("", ":.a:s"));
        assert!(matches_prefix(":*:", ":.a:s"));
        assert!(matches_prefix(":*:s", "s1"));
        assert!(matches_prefix(":*:s", ":.a:s1"));
        assert!(!matches_prefix(":*:t", ":.a:s1"));
        assert!(matches_prefix(":.a:", ":.a:s"));
        assert!(!matches_prefix(":.a:", ":.b:s"));
        assert!(!matches_prefix(":.a:", "s"));
        assert!(matches_prefix("o", "orders"));
    }
}
