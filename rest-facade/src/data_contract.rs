//! Metadata and rule sets in request bodies, read with the types Confluent's
//! entities give them (`Metadata`, `RuleSet`, `Rule`).
//!
//! Confluent deserializes these with Jackson, so a field of the wrong type
//! (a list where a map of strings is expected, an object for `disabled`) is
//! a 400, and a number or boolean where a string is expected becomes its
//! text. The registry stores them as JSON text, so without this check it
//! would keep, and later answer, values no Confluent client can read.
//! Fields Confluent does not know are kept as sent; known fields that are
//! `null` are left out, as Confluent writes them.

use serde_json::{Map, Value};

use crate::error::RestError;

/// Confluent's `RuleKind`.
const RULE_KINDS: [&str; 2] = ["TRANSFORM", "CONDITION"];
/// Confluent's `RuleMode`.
const RULE_MODES: [&str; 6] = [
    "UPGRADE",
    "DOWNGRADE",
    "UPDOWN",
    "WRITE",
    "READ",
    "WRITEREAD",
];

/// The field types that occur in `Metadata` and `Rule`.
#[derive(Clone, Copy)]
enum Type {
    String,
    Bool,
    Strings,
    StringMap,
    StringsMap,
    Enum(&'static str, &'static [&'static str]),
    Rules,
}

const METADATA: [(&str, Type); 3] = [
    ("tags", Type::StringsMap),
    ("properties", Type::StringMap),
    ("sensitive", Type::Strings),
];

const RULE_SET: [(&str, Type); 3] = [
    ("migrationRules", Type::Rules),
    ("domainRules", Type::Rules),
    ("encodingRules", Type::Rules),
];

const RULE: [(&str, Type); 11] = [
    ("name", Type::String),
    ("doc", Type::String),
    ("kind", Type::Enum("RuleKind", &RULE_KINDS)),
    ("mode", Type::Enum("RuleMode", &RULE_MODES)),
    ("type", Type::String),
    ("tags", Type::Strings),
    ("params", Type::StringMap),
    ("expr", Type::String),
    ("onSuccess", Type::String),
    ("onFailure", Type::String),
    ("disabled", Type::Bool),
];

/// A `Metadata` object; `chain` names where it sits, as Jackson's
/// messages do (`RegisterSchemaRequest["metadata"]`).
pub(crate) fn metadata(value: &Value, chain: &str) -> Result<Value, RestError> {
    typed_object(value, "Metadata", &METADATA, chain)
}

/// A `RuleSet` object.
pub(crate) fn rule_set(value: &Value, chain: &str) -> Result<Value, RestError> {
    typed_object(value, "RuleSet", &RULE_SET, chain)
}

fn typed_object(
    value: &Value,
    entity: &str,
    fields: &[(&str, Type)],
    chain: &str,
) -> Result<Value, RestError> {
    let Value::Object(object) = value else {
        return Err(mistyped(entity, value, chain));
    };
    let mut out = Map::new();
    for (key, value) in object {
        let known = fields.iter().find(|(name, _)| name == key);
        match known {
            None => {
                out.insert(key.clone(), value.clone());
            }
            Some(_) if value.is_null() => {}
            Some((name, kind)) => {
                let chain = format!("{chain}->{entity}[\"{name}\"]");
                out.insert(key.clone(), typed(value, *kind, &chain)?);
            }
        }
    }
    Ok(Value::Object(out))
}

fn typed(value: &Value, kind: Type, chain: &str) -> Result<Value, RestError> {
    match kind {
        Type::String => string(value, chain).map(Value::String),
        Type::Bool => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(text) if text.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(text) if text.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(mistyped("java.lang.Boolean", value, chain)),
        },
        Type::Strings => strings(value, chain),
        Type::StringMap => map(value, chain, |v, chain| string(v, chain).map(Value::String)),
        Type::StringsMap => map(value, chain, strings),
        Type::Enum(entity, allowed) => match value {
            Value::String(text) if allowed.contains(&text.as_str()) => Ok(value.clone()),
            Value::String(text) => Err(RestError::bad_request(format!(
                "Cannot deserialize value of type `{entity}` from String \"{text}\": not one of the values accepted for Enum class: [{}] (through reference chain: {chain})",
                allowed.join(", ")
            ))),
            _ => Err(mistyped(entity, value, chain)),
        },
        Type::Rules => {
            let Value::Array(items) = value else {
                return Err(mistyped("java.util.List", value, chain));
            };
            items
                .iter()
                .enumerate()
                .filter(|(_, item)| !item.is_null())
                .map(|(i, item)| typed_object(item, "Rule", &RULE, &format!("{chain}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
    }
}

/// Jackson's scalar coercion to `String`.
fn string(value: &Value, chain: &str) -> Result<String, RestError> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(_) | Value::Bool(_) => Ok(value.to_string()),
        _ => Err(mistyped("java.lang.String", value, chain)),
    }
}

/// A set or list of strings; `null` items are dropped.
fn strings(value: &Value, chain: &str) -> Result<Value, RestError> {
    let Value::Array(items) = value else {
        return Err(mistyped("java.util.Set<java.lang.String>", value, chain));
    };
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| !item.is_null())
        .map(|(i, item)| string(item, &format!("{chain}[{i}]")).map(Value::String))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// A map with string keys and values of one type; `null` values are dropped.
fn map(
    value: &Value,
    chain: &str,
    each: impl Fn(&Value, &str) -> Result<Value, RestError>,
) -> Result<Value, RestError> {
    let Value::Object(object) = value else {
        return Err(mistyped("java.util.Map", value, chain));
    };
    let mut out = Map::new();
    for (key, value) in object.iter().filter(|(_, v)| !v.is_null()) {
        let chain = format!("{chain}->java.util.LinkedHashMap[\"{key}\"]");
        out.insert(key.clone(), each(value, &chain)?);
    }
    Ok(Value::Object(out))
}

fn mistyped(expected: &str, found: &Value, chain: &str) -> RestError {
    RestError::bad_request(format!(
        "Cannot deserialize value of type `{expected}` from {} value (through reference chain: {chain})",
        crate::extract::json_kind(found)
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn metadata_keeps_its_shape_and_coerces_scalars() {
        let sent = json!({
            "tags": {"t": ["a", 1, null]},
            "properties": {"owner": "me", "n": 5, "gone": null},
            "sensitive": ["s"],
            "extra": {"kept": [1]}
        });
        assert_eq!(
            metadata(&sent, "R[\"metadata\"]").unwrap(),
            json!({
                "tags": {"t": ["a", "1"]},
                "properties": {"owner": "me", "n": "5"},
                "sensitive": ["s"],
                "extra": {"kept": [1]}
            })
        );
    }

    #[test]
    fn wrong_types_are_400_with_the_chain() {
        let err = metadata(&json!({"properties": {"a": [1]}}), "R[\"metadata\"]").unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.message(),
            "Cannot deserialize value of type `java.lang.String` from Array value (through reference chain: R[\"metadata\"]->Metadata[\"properties\"]->java.util.LinkedHashMap[\"a\"])"
        );
        assert!(metadata(&json!({"tags": "x"}), "R").is_err());
        assert!(metadata(&json!([]), "R").is_err());
        let rules = json!({"domainRules": [{"name": "r", "disabled": {}}]});
        assert_eq!(rule_set(&rules, "R").unwrap_err().status(), 400);
        let rules = json!({"domainRules": [{"kind": "LOUD"}]});
        assert!(
            rule_set(&rules, "R")
                .unwrap_err()
                .message()
                .contains("not one of the values accepted")
        );
    }

    #[test]
    fn rule_sets_pass_through_when_well_typed() {
        let sent = json!({
            "domainRules": [{"name": "r", "kind": "CONDITION", "mode": "WRITE", "type": "CEL",
                             "expr": "true", "params": {"k": "v"}, "disabled": "TRUE"}],
            "migrationRules": [],
            "enableAt": "ALL"
        });
        let mut expected = sent.clone();
        expected["domainRules"][0]["disabled"] = json!(true);
        assert_eq!(rule_set(&sent, "R").unwrap(), expected);
    }
}
