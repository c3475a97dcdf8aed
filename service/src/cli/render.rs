//! What the commands print: `key: value` header lines, aligned tables,
//! pretty-printed schemas and coloured diffs; or, with `--output json`, the
//! REST entity of the answer, whichever transport brought it.

use std::fmt::Write;

use serde_json::{Value, json};
use similar::{ChangeTag, TextDiff};

use super::{Compatibility, ConfigInfo, Output, SchemaInfo};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Lines of context around each change in a diff.
const CONTEXT: usize = 3;

fn pretty_json(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

/// The schema text laid out one element a line: AVRO and JSON schemas are
/// re-indented (numbers and key order untouched), Protobuf is kept as the
/// registry wrote it. Ends with a newline.
pub(crate) fn pretty(schema_type: &str, text: &str) -> String {
    let is_json = matches!(schema_type, "AVRO" | "JSON")
        && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
    let mut out = if is_json {
        reindent(text)
    } else {
        text.trim_end().to_owned()
    };
    out.push('\n');
    out
}

/// Re-indents valid JSON text by two spaces without parsing its values, so
/// the text of every number and string stays as stored.
fn reindent(text: &str) -> String {
    fn newline(out: &mut String, depth: usize) {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    }
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                while chars.next_if(char::is_ascii_whitespace).is_some() {}
                let close = if c == '{' { '}' } else { ']' };
                out.push(c);
                if chars.next_if_eq(&close).is_some() {
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// Columns padded to their widest cell, two spaces apart.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header_row: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header_row).chain(rows) {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(&widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn schema_entity(schema: &SchemaInfo) -> Value {
    let mut entity = serde_json::Map::new();
    if let Some(subject) = &schema.subject {
        entity.insert("subject".into(), json!(subject));
    }
    if let Some(version) = schema.version {
        entity.insert("version".into(), json!(version));
    }
    entity.insert("id".into(), json!(schema.id));
    entity.insert("schemaType".into(), json!(schema.schema_type));
    if !schema.references.is_empty() {
        entity.insert("references".into(), json!(schema.references));
    }
    entity.insert("schema".into(), json!(schema.schema));
    Value::Object(entity)
}

/// `schema get`: header lines, a blank line, the pretty schema.
pub(crate) fn schema(schema: &SchemaInfo, output: Output) -> String {
    if output == Output::Json {
        return pretty_json(&schema_entity(schema));
    }
    let mut out = where_it_is(schema);
    let _ = writeln!(out, "type: {}", schema.schema_type);
    for r in &schema.references {
        let _ = writeln!(out, "reference: {} -> {}:{}", r.name, r.subject, r.version);
    }
    out.push('\n');
    out.push_str(&pretty(&schema.schema_type, &schema.schema));
    out
}

/// `schema register`: where the schema now is.
pub(crate) fn registered(schema: &SchemaInfo, output: Output) -> String {
    if output == Output::Json {
        let mut entity = json!({ "id": schema.id });
        if let Some(version) = schema.version {
            entity["version"] = json!(version);
        }
        return pretty_json(&entity);
    }
    where_it_is(schema)
}

/// `subject:`, `version:` (when known) and `id:` lines.
fn where_it_is(schema: &SchemaInfo) -> String {
    let mut out = String::new();
    if let Some(subject) = &schema.subject {
        let _ = writeln!(out, "subject: {subject}");
    }
    if let Some(version) = schema.version {
        let _ = writeln!(out, "version: {version}");
    }
    let _ = writeln!(out, "id: {}", schema.id);
    out
}

/// `schema check`: the verdict, then one message a line.
pub(crate) fn compatibility(verdict: &Compatibility, output: Output) -> String {
    if output == Output::Json {
        return pretty_json(&json!({
            "is_compatible": verdict.is_compatible,
            "messages": verdict.messages,
        }));
    }
    let mut out = String::from(if verdict.is_compatible {
        "compatible\n"
    } else {
        "incompatible\n"
    });
    for message in &verdict.messages {
        let _ = writeln!(out, "  {message}");
    }
    out
}

pub(crate) fn deleted_subject(subject: &str, versions: &[i32], output: Output) -> String {
    if output == Output::Json {
        return pretty_json(&json!(versions));
    }
    let versions: Vec<String> = versions.iter().map(i32::to_string).collect();
    format!("deleted {subject} versions {}\n", versions.join(", "))
}

pub(crate) fn deleted_version(subject: &str, version: i32, output: Output) -> String {
    if output == Output::Json {
        return pretty_json(&json!(version));
    }
    format!("deleted {subject} version {version}\n")
}

/// `subject list`: one column, or two with `--deleted` (`live` is then the
/// subjects that are not deleted).
pub(crate) fn subjects(listed: &[String], live: Option<&[String]>, output: Output) -> String {
    if output == Output::Json {
        return pretty_json(&json!(listed));
    }
    if listed.is_empty() {
        return String::new();
    }
    match live {
        None => {
            let rows: Vec<Vec<String>> = listed.iter().map(|s| vec![s.clone()]).collect();
            table(&["SUBJECT"], &rows)
        }
        Some(live) => {
            let rows: Vec<Vec<String>> = listed
                .iter()
                .map(|s| {
                    let deleted = if live.contains(s) { "no" } else { "yes" };
                    vec![s.clone(), deleted.to_owned()]
                })
                .collect();
            table(&["SUBJECT", "DELETED"], &rows)
        }
    }
}

/// `config get`: Confluent's `Config` entity, or its fields as lines.
pub(crate) fn config(config: &ConfigInfo, output: Output) -> String {
    if output == Output::Json {
        let mut entity = serde_json::Map::new();
        if let Some(level) = &config.compatibility_level {
            entity.insert("compatibilityLevel".into(), json!(level));
        }
        if let Some(normalize) = config.normalize {
            entity.insert("normalize".into(), json!(normalize));
        }
        return pretty_json(&Value::Object(entity));
    }
    let mut out = format!(
        "compatibility: {}\n",
        config.compatibility_level.as_deref().unwrap_or("(not set)")
    );
    if let Some(normalize) = config.normalize {
        let _ = writeln!(out, "normalize: {normalize}");
    }
    out
}

/// `config set`: the level now in force, as `PUT /config` echoes it.
pub(crate) fn level_set(level: &str, output: Output) -> String {
    if output == Output::Json {
        return pretty_json(&json!({ "compatibility": level }));
    }
    format!("compatibility: {level}\n")
}

fn paint(out: &mut String, colour: Option<&str>, line: &str) {
    match colour {
        Some(colour) => {
            let _ = writeln!(out, "{colour}{line}{RESET}");
        }
        None => {
            let _ = writeln!(out, "{line}");
        }
    }
}

/// A unified diff of two texts that end with a newline: removed lines red,
/// added green, hunk headers cyan when `colour`. Empty when they are equal.
pub(crate) fn diff(old_label: &str, new_label: &str, old: &str, new: &str, colour: bool) -> String {
    let mut out = String::new();
    if old == new {
        return out;
    }
    let with = |code: &'static str| colour.then_some(code);
    paint(&mut out, with(BOLD), &format!("--- {old_label}"));
    paint(&mut out, with(BOLD), &format!("+++ {new_label}"));
    let lines = TextDiff::from_lines(old, new);
    for hunk in lines.unified_diff().context_radius(CONTEXT).iter_hunks() {
        paint(&mut out, with(CYAN), &hunk.header().to_string());
        for change in hunk.iter_changes() {
            let (sign, code) = match change.tag() {
                ChangeTag::Delete => ('-', with(RED)),
                ChangeTag::Insert => ('+', with(GREEN)),
                ChangeTag::Equal => (' ', None),
            };
            let text = change.value();
            paint(
                &mut out,
                code,
                &format!("{sign}{}", text.strip_suffix('\n').unwrap_or(text)),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Reference;

    const V1: &str =
        r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}"#;
    const V2: &str = r#"{"type":"record","name":"User","fields":[{"name":"full_name","type":"string"},{"name":"age","type":"int","default":0}]}"#;

    fn user(version: i32, text: &str) -> SchemaInfo {
        SchemaInfo {
            subject: Some("users-value".into()),
            version: Some(version),
            id: 7,
            schema_type: "AVRO".into(),
            schema: text.into(),
            references: vec![],
        }
    }

    #[test]
    fn json_schemas_are_laid_out_one_element_a_line() {
        assert_eq!(
            pretty("AVRO", V1),
            "{\n  \"type\": \"record\",\n  \"name\": \"User\",\n  \"fields\": [\n    {\n      \
             \"name\": \"name\",\n      \"type\": \"string\"\n    }\n  ]\n}\n"
        );
        // Strings with structural characters, empty containers and number text survive.
        let tricky = r#"{"doc":"a, {b}: \"c\" [d]","x":[],"y":{ },"n":1.50e+10}"#;
        assert_eq!(
            pretty("JSON", tricky),
            "{\n  \"doc\": \"a, {b}: \\\"c\\\" [d]\",\n  \"x\": [],\n  \"y\": {},\n  \"n\": 1.50e+10\n}\n"
        );
        assert_eq!(pretty("AVRO", "\"string\""), "\"string\"\n");
        // Protobuf text, and text that is not JSON, are left as they are.
        let proto = "syntax = \"proto3\";\nmessage A {\n  string a = 1;\n}\n";
        assert_eq!(pretty("PROTOBUF", proto), proto);
        assert_eq!(pretty("JSON", "{not json"), "{not json\n");
    }

    #[test]
    fn tables_align_columns() {
        let rows = vec![
            vec!["a-long-subject".to_owned(), "no".to_owned()],
            vec!["b".to_owned(), "yes".to_owned()],
        ];
        assert_eq!(
            table(&["SUBJECT", "DELETED"], &rows),
            "SUBJECT         DELETED\na-long-subject  no\nb               yes\n"
        );
        let live = ["a".to_owned()];
        let listed = ["a".to_owned(), "gone".to_owned()];
        assert_eq!(
            subjects(&listed, Some(&live), Output::Text),
            "SUBJECT  DELETED\na        no\ngone     yes\n"
        );
        assert_eq!(
            subjects(&listed, None, Output::Json),
            "[\n  \"a\",\n  \"gone\"\n]\n"
        );
        assert_eq!(subjects(&[], None, Output::Text), "");
    }

    #[test]
    fn schemas_print_headers_then_the_pretty_text() {
        let mut schema = user(2, "\"string\"");
        schema.references.push(Reference {
            name: "other".into(),
            subject: "other-value".into(),
            version: 1,
        });
        assert_eq!(
            super::schema(&schema, Output::Text),
            "subject: users-value\nversion: 2\nid: 7\ntype: AVRO\n\
             reference: other -> other-value:1\n\n\"string\"\n"
        );
        let json: Value =
            serde_json::from_str(&super::schema(&schema, Output::Json)).unwrap_or_default();
        assert_eq!(
            json,
            json!({"subject": "users-value", "version": 2, "id": 7, "schemaType": "AVRO",
                   "references": [{"name": "other", "subject": "other-value", "version": 1}],
                   "schema": "\"string\""})
        );
    }

    #[test]
    fn verdicts_list_their_messages() {
        let verdict = Compatibility {
            is_compatible: false,
            messages: vec!["READER_FIELD_MISSING_DEFAULT_VALUE: age".into()],
        };
        assert_eq!(
            compatibility(&verdict, Output::Text),
            "incompatible\n  READER_FIELD_MISSING_DEFAULT_VALUE: age\n"
        );
        let ok = Compatibility {
            is_compatible: true,
            messages: vec![],
        };
        assert_eq!(compatibility(&ok, Output::Text), "compatible\n");
        assert_eq!(
            compatibility(&ok, Output::Json),
            "{\n  \"is_compatible\": true,\n  \"messages\": []\n}\n"
        );
    }

    #[test]
    fn diffs_without_colour_are_plain_unified_diffs() {
        let (old, new) = (pretty("AVRO", V1), pretty("AVRO", V2));
        let text = diff(
            "users-value version 1",
            "users-value version 2",
            &old,
            &new,
            false,
        );
        assert!(!text.contains('\x1b'), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "--- users-value version 1");
        assert_eq!(lines[1], "+++ users-value version 2");
        assert!(lines[2].starts_with("@@ "), "{text}");
        let added: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            .copied()
            .collect();
        let removed: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with('-') && !l.starts_with("---"))
            .copied()
            .collect();
        assert_eq!(removed, ["-      \"name\": \"name\","]);
        assert_eq!(
            added,
            [
                "+      \"name\": \"full_name\",",
                "+    },",
                "+    {",
                "+      \"name\": \"age\",",
                "+      \"type\": \"int\",",
                "+      \"default\": 0"
            ]
        );
        assert!(
            lines.contains(&"   \"fields\": ["),
            "context lines keep a space: {text}"
        );
        assert_eq!(diff("a", "b", &old, &old, false), "");
    }

    #[test]
    fn diffs_with_colour_paint_removed_red_and_added_green() {
        let (old, new) = (pretty("AVRO", V1), pretty("AVRO", V2));
        let text = diff("v1", "v2", &old, &new, true);
        assert!(
            text.contains(&format!("{RED}-      \"name\": \"name\",{RESET}\n")),
            "{text:?}"
        );
        assert!(
            text.contains(&format!("{GREEN}+      \"name\": \"age\",{RESET}\n")),
            "{text:?}"
        );
        assert!(
            text.starts_with(&format!(
                "{BOLD}--- v1{RESET}\n{BOLD}+++ v2{RESET}\n{CYAN}@@ "
            )),
            "{text:?}"
        );
        // Context lines are not painted.
        assert!(text.contains("\n   \"fields\": [\n"), "{text:?}");
        // Without the escapes, it is the plain diff.
        let plain = text
            .replace(RED, "")
            .replace(GREEN, "")
            .replace(CYAN, "")
            .replace(BOLD, "")
            .replace(RESET, "");
        assert_eq!(plain, diff("v1", "v2", &old, &new, false));
    }

    #[test]
    fn other_answers_render() {
        assert_eq!(
            deleted_subject("s", &[1, 2], Output::Text),
            "deleted s versions 1, 2\n"
        );
        assert_eq!(
            deleted_subject("s", &[1, 2], Output::Json),
            "[\n  1,\n  2\n]\n"
        );
        assert_eq!(
            deleted_version("s", 3, Output::Text),
            "deleted s version 3\n"
        );
        let config_info = ConfigInfo {
            compatibility_level: Some("FULL".into()),
            normalize: None,
        };
        assert_eq!(config(&config_info, Output::Text), "compatibility: FULL\n");
        assert_eq!(
            config(&config_info, Output::Json),
            "{\n  \"compatibilityLevel\": \"FULL\"\n}\n"
        );
        assert_eq!(
            level_set("NONE", Output::Json),
            "{\n  \"compatibility\": \"NONE\"\n}\n"
        );
        assert_eq!(
            registered(&user(2, "x"), Output::Text),
            "subject: users-value\nversion: 2\nid: 7\n"
        );
        assert_eq!(
            registered(&user(2, "x"), Output::Json),
            "{\n  \"id\": 7,\n  \"version\": 2\n}\n"
        );
    }
}
