//! Schema guids: Confluent's content hash of a schema, shown as a UUID.
//!
//! The hash is MD5 over the schema text, each reference (name, subject,
//! version as four big-endian bytes), then, each behind a `1` byte so that
//! "absent" and "empty" differ, the metadata and the rule set with their
//! maps and sets in sorted order. Every registry that holds the same schema
//! gives it the same guid, whatever id it got there.

use md5::{Digest, Md5};
use scute_storage::record::SchemaReference;
use serde_json::Value;

/// A guid's 16 bytes.
pub type Guid = [u8; 16];

/// The guid of a SCHEMA record's content; `None` for any other record.
pub fn of_record(record: &scute_storage::record::Record) -> Option<Guid> {
    match record {
        scute_storage::record::Record::Schema { value: Some(v), .. } => Some(of(
            &v.schema,
            &v.references,
            v.metadata.as_ref(),
            v.rule_set.as_ref(),
        )),
        _ => None,
    }
}

/// The guid of a schema's content.
pub fn of(
    schema: &str,
    references: &[SchemaReference],
    metadata: Option<&Value>,
    rule_set: Option<&Value>,
) -> Guid {
    let mut md = Md5::new();
    md.update(schema.as_bytes());
    for r in references {
        md.update(r.name.as_bytes());
        md.update(r.subject.as_bytes());
        md.update(r.version.to_be_bytes());
    }
    if let Some(metadata) = metadata {
        md.update([1]);
        hash_metadata(&mut md, metadata);
    }
    if let Some(rule_set) = rule_set {
        md.update([1]);
        for kind in ["migrationRules", "domainRules", "encodingRules"] {
            for rule in rule_set
                .get(kind)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                hash_rule(&mut md, rule);
            }
        }
    }
    md.finalize().into()
}

/// `tags` (each key, then its values), `properties` (each key, then its
/// value) and `sensitive`, all sorted as Confluent's sorted maps keep them.
fn hash_metadata(md: &mut Md5, metadata: &Value) {
    if let Some(tags) = metadata.get("tags").and_then(Value::as_object) {
        let mut keys: Vec<&String> = tags.keys().collect();
        keys.sort_by(|a, b| java_order(a, b));
        for key in keys {
            md.update(key.as_bytes());
            for value in sorted_strings(tags.get(key)) {
                md.update(value.as_bytes());
            }
        }
    }
    hash_string_map(md, metadata.get("properties"));
    for value in sorted_strings(metadata.get("sensitive")) {
        md.update(value.as_bytes());
    }
}

fn hash_rule(md: &mut Md5, rule: &Value) {
    let text = |field: &str| rule.get(field).and_then(Value::as_str);
    for field in ["name", "doc", "kind", "mode", "type"] {
        if let Some(value) = text(field) {
            md.update(value.as_bytes());
        }
    }
    for tag in sorted_strings(rule.get("tags")) {
        md.update(tag.as_bytes());
    }
    hash_string_map(md, rule.get("params"));
    for field in ["expr", "onSuccess", "onFailure"] {
        if let Some(value) = text(field) {
            md.update(value.as_bytes());
        }
    }
    if rule.get("disabled").and_then(Value::as_bool) == Some(true) {
        md.update([1]);
    }
}

fn hash_string_map(md: &mut Md5, map: Option<&Value>) {
    let Some(map) = map.and_then(Value::as_object) else {
        return;
    };
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|(a, _), (b, _)| java_order(a, b));
    for (key, value) in entries {
        md.update(key.as_bytes());
        if let Some(value) = value.as_str() {
            md.update(value.as_bytes());
        }
    }
}

/// The strings of a JSON array, sorted and without duplicates (a set).
fn sorted_strings(value: Option<&Value>) -> Vec<&str> {
    let mut out: Vec<&str> = value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    out.sort_unstable_by(|a, b| java_order(a, b));
    out.dedup();
    out
}

/// Java's `String.compareTo`, by UTF-16 code unit, which Confluent's sorted
/// maps and sets use: it differs from byte order for characters beyond
/// U+FFFF against U+E000..U+FFFF.
fn java_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `1d20cbb9-e5e3-5e97-54e7-da170b6e5ddb`. Written on every schema answer,
/// so it builds the text in one allocation.
pub fn to_string(guid: &Guid) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, byte) in guid.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

/// A guid written as a UUID, or as 32 hex digits (both are accepted).
pub fn parse(text: &str) -> Option<Guid> {
    let dashed = text.len() == 36
        && text
            .char_indices()
            .all(|(i, c)| (c == '-') == matches!(i, 8 | 13 | 18 | 23));
    if !(dashed || text.len() == 32) {
        return None;
    }
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut guid = [0u8; 16];
    for (i, byte) in guid.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(guid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCHEMA: &str = r#"{"type":"record","name":"myrecord","fields":[{"type":"string","default":null,"name":"f"}]}"#;

    fn signed(guid: Guid) -> Vec<i8> {
        guid.iter().map(|b| *b as i8).collect()
    }

    /// The values Confluent pins for the same inputs in its own tests.
    #[test]
    fn matches_confluents_pinned_hashes() {
        assert_eq!(
            signed(of(SCHEMA, &[], None, None)),
            [
                29, 32, -53, -71, -27, -29, 94, -105, 84, -25, -38, 23, 11, 110, 93, -37
            ]
        );
        let rule_set = json!({"domainRules": [{"kind": "TRANSFORM", "mode": "WRITEREAD"}]});
        assert_eq!(
            signed(of(SCHEMA, &[], Some(&json!({})), Some(&rule_set))),
            [
                22, -15, -20, -91, -21, -7, 34, -77, -38, -128, 33, 47, -113, -89, 52, 46
            ]
        );
    }

    #[test]
    fn references_metadata_and_rules_change_the_guid() {
        let base = of(SCHEMA, &[], None, None);
        let r = SchemaReference {
            name: "a".into(),
            subject: "a".into(),
            version: 1,
        };
        assert_ne!(of(SCHEMA, std::slice::from_ref(&r), None, None), base);
        assert_ne!(of(SCHEMA, &[], Some(&json!({})), None), base);
        let a = json!({"properties": {"owner": "x", "team": "y"}});
        let b = json!({"properties": {"team": "y", "owner": "x"}});
        assert_eq!(
            of(SCHEMA, &[], Some(&a), None),
            of(SCHEMA, &[], Some(&b), None)
        );
    }

    #[test]
    fn sets_and_maps_sort_as_java_strings_do() {
        // By UTF-8 bytes U+FF61 sorts first; by UTF-16 units the emoji's
        // surrogate (0xD83D) does, as in Confluent's TreeSet.
        let sent = json!(["\u{FF61}", "\u{1F600}", "a"]);
        assert_eq!(sorted_strings(Some(&sent)), ["a", "\u{1F600}", "\u{FF61}"]);
        let hashed = |keys: [&str; 2]| {
            let mut md = Md5::new();
            let map: serde_json::Map<String, Value> =
                keys.iter().map(|k| (k.to_string(), json!("v"))).collect();
            hash_string_map(&mut md, Some(&Value::Object(map)));
            let digest: Guid = md.finalize().into();
            digest
        };
        let mut expected = Md5::new();
        for key in ["\u{1F600}", "\u{FF61}"] {
            expected.update(key.as_bytes());
            expected.update(b"v");
        }
        let expected: Guid = expected.finalize().into();
        assert_eq!(hashed(["\u{FF61}", "\u{1F600}"]), expected);
    }

    #[test]
    fn text_round_trips() {
        let guid = of(SCHEMA, &[], None, None);
        let text = to_string(&guid);
        assert_eq!(text, "1d20cbb9-e5e3-5e97-54e7-da170b6e5ddb");
        assert_eq!(parse(&text), Some(guid));
        assert_eq!(parse(&text.replace('-', "")), Some(guid));
        for bad in [
            "",
            "1d20cbb9",
            "zz20cbb9-e5e3-5e97-54e7-da170b6e5ddb",
            "1d20cbb9e-5e3-5e97-54e7-da170b6e5ddb",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
