//! Metadata, rule sets and the other config fields that travel as JSON text
//! (`metadata_json`, `rule_set_json`, `Config.extra_json`), read with the
//! types Confluent's entities give them (`Metadata`, `RuleSet`, `Rule`,
//! `ConfigUpdateRequest`), whichever API they came through.
//!
//! Confluent deserializes these with Jackson, so a field of the wrong type
//! (a list where a map of strings is expected, an object for `disabled`) is
//! a 400 naming where it sits, and a number or boolean where a string is
//! expected becomes its text. The registry stores them, so without this
//! check it would keep, and later answer, values no Confluent client can
//! read. Fields `Metadata` and `RuleSet` do not know are kept as sent; known
//! fields that are `null` are left out, as Confluent writes them.

use serde_json::{Map, Value};

use crate::error::Error;

/// The entity a schema's metadata and rule set sit in (registering, looking
/// up and checking a schema all take it), as Jackson's messages name it.
pub const SCHEMA_REQUEST: &str = "RegisterSchemaRequest";
/// The entity of a config update.
pub const CONFIG_REQUEST: &str = "ConfigUpdateRequest";

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

/// The field types that occur in `Metadata`, `Rule` and config updates.
#[derive(Clone, Copy)]
enum Type {
    String,
    Bool,
    Strings,
    StringMap,
    StringsMap,
    Enum(&'static str, &'static [&'static str]),
    Rules,
    Metadata,
    RuleSet,
}

/// `ConfigUpdateRequest`'s fields in Jackson's order, but for
/// `compatibility` and `normalize`, which have fields of their own in the API.
const CONFIG_EXTRA: [(&str, Type); 11] = [
    ("alias", Type::String),
    ("aliasForDeks", Type::String),
    ("validateFields", Type::Bool),
    ("validateNewSchemas", Type::Bool),
    ("validateRules", Type::Bool),
    ("compatibilityPolicy", Type::String),
    ("compatibilityGroup", Type::String),
    ("defaultMetadata", Type::Metadata),
    ("overrideMetadata", Type::Metadata),
    ("defaultRuleSet", Type::RuleSet),
    ("overrideRuleSet", Type::RuleSet),
];

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

/// A schema's `metadata` sent as JSON text.
pub fn metadata(text: &str) -> Result<Value, Error> {
    let value = parse(text, "metadata")?;
    typed_object(
        &value,
        "Metadata",
        &METADATA,
        &field(SCHEMA_REQUEST, "metadata"),
    )
}

/// A schema's `ruleSet` sent as JSON text.
pub fn rule_set(text: &str) -> Result<Value, Error> {
    let value = parse(text, "ruleSet")?;
    typed_object(
        &value,
        "RuleSet",
        &RULE_SET,
        &field(SCHEMA_REQUEST, "ruleSet"),
    )
}

/// A config update's fields beyond compatibility and normalize, sent as a
/// JSON object: the known ones typed and in Jackson's order, the unknown
/// ones dropped (Confluent ignores them), `null` ones left out.
pub fn config_extra(text: &str) -> Result<Map<String, Value>, Error> {
    let Value::Object(sent) = parse(text, "config")? else {
        return Err(Error::BadRequest(
            "Invalid config: extra fields must be a JSON object".into(),
        ));
    };
    let mut out = Map::new();
    for (name, kind) in CONFIG_EXTRA {
        if let Some(value) = sent.get(name).filter(|v| !v.is_null()) {
            out.insert(
                name.to_owned(),
                typed(value, kind, &field(CONFIG_REQUEST, name))?,
            );
        }
    }
    Ok(out)
}

fn parse(text: &str, what: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| Error::BadRequest(format!("Invalid {what}: {e}")))
}

/// Jackson's name for a field of an entity: `Entity["field"]`.
fn field(entity: &str, name: &str) -> String {
    format!("{entity}[\"{name}\"]")
}

fn typed_object(
    value: &Value,
    entity: &str,
    fields: &[(&str, Type)],
    chain: &str,
) -> Result<Value, Error> {
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

fn typed(value: &Value, kind: Type, chain: &str) -> Result<Value, Error> {
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
            Value::String(text) => Err(Error::BadRequest(format!(
                "Cannot deserialize value of type `{entity}` from String \"{text}\": not one of the values accepted for Enum class: [{}] (through reference chain: {chain})",
                allowed.join(", ")
            ))),
            _ => Err(mistyped(entity, value, chain)),
        },
        Type::Metadata => typed_object(value, "Metadata", &METADATA, chain),
        Type::RuleSet => typed_object(value, "RuleSet", &RULE_SET, chain),
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
fn string(value: &Value, chain: &str) -> Result<String, Error> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(_) | Value::Bool(_) => Ok(value.to_string()),
        _ => Err(mistyped("java.lang.String", value, chain)),
    }
}

/// A set or list of strings; `null` items are dropped.
fn strings(value: &Value, chain: &str) -> Result<Value, Error> {
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
    each: impl Fn(&Value, &str) -> Result<Value, Error>,
) -> Result<Value, Error> {
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

fn mistyped(expected: &str, found: &Value, chain: &str) -> Error {
    let found = match found {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    };
    Error::BadRequest(format!(
        "Cannot deserialize value of type `{expected}` from {found} value (through reference chain: {chain})"
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
            metadata(&sent.to_string()).unwrap(),
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
        let err = metadata(r#"{"properties": {"a": [1]}}"#).unwrap_err();
        assert_eq!(err.error_code(), 400);
        assert_eq!(
            err.to_string(),
            "Cannot deserialize value of type `java.lang.String` from Array value (through reference chain: RegisterSchemaRequest[\"metadata\"]->Metadata[\"properties\"]->java.util.LinkedHashMap[\"a\"])"
        );
        assert!(metadata(r#"{"tags": "x"}"#).is_err());
        assert!(metadata("[]").is_err());
        assert!(metadata("{").is_err());
        let err = rule_set(r#"{"domainRules": [{"name": "r", "disabled": {}}]}"#).unwrap_err();
        assert_eq!(err.error_code(), 400);
        let err = rule_set(r#"{"domainRules": [{"kind": "LOUD"}]}"#).unwrap_err();
        assert!(err.to_string().contains("not one of the values accepted"));
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
        assert_eq!(rule_set(&sent.to_string()).unwrap(), expected);
    }

    #[test]
    fn config_fields_are_typed_ordered_and_unknown_ones_dropped() {
        let sent = json!({
            "defaultMetadata": {"properties": {"n": 1}},
            "alias": 7,
            "validateRules": "true",
            "compatibilityGroup": null,
            "mystery": 1
        });
        let typed = config_extra(&sent.to_string()).unwrap();
        assert_eq!(
            Value::Object(typed.clone()),
            json!({"alias": "7", "validateRules": true, "defaultMetadata": {"properties": {"n": "1"}}})
        );
        let order: Vec<&String> = typed.keys().collect();
        assert_eq!(order, ["alias", "validateRules", "defaultMetadata"]);
        let err = config_extra(r#"{"overrideRuleSet": {"domainRules": {}}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Cannot deserialize value of type `java.util.List` from Object value (through reference chain: ConfigUpdateRequest[\"overrideRuleSet\"]->RuleSet[\"domainRules\"])"
        );
        assert_eq!(config_extra("[1]").unwrap_err().error_code(), 400);
    }
}
