#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use super::canonical::jackson_number;
use super::{Draft, JsonSchema};
use crate::{Dependency, FormatError};

fn parse(v: Value) -> JsonSchema {
    JsonSchema::parse(&v.to_string(), &[]).unwrap()
}

fn reason(text: &str, deps: &[Dependency]) -> String {
    match JsonSchema::parse(text, deps) {
        Err(FormatError::Invalid { reason, .. }) => reason,
        other => panic!("expected an invalid schema, got {other:?}"),
    }
}

/// The change types from `original` to `update`, each with its path.
fn changes(original: Value, update: Value) -> Vec<String> {
    parse(update)
        .changes_from(&parse(original))
        .into_iter()
        .map(|(c, p)| format!("{c} {p}"))
        .collect()
}

/// Whether a reader on `update` reads data written with `original`.
fn compatible(original: Value, update: Value) -> bool {
    parse(update).read_problems(&parse(original)).is_empty()
}

fn check(original: Value, update: Value, expected: &[&str], is_compatible: bool) {
    let got = changes(original.clone(), update.clone());
    for e in expected {
        assert!(got.iter().any(|g| g == e), "missing {e} in {got:?}");
    }
    assert_eq!(
        compatible(original, update),
        is_compatible,
        "changes: {got:?}"
    );
}

// ---- parsing and validation ----

#[test]
fn drafts_follow_dollar_schema_and_default_to_draft_7() {
    let of = |s: &str| Draft::of(&json!({ "$schema": s }));
    assert_eq!(Draft::of(&json!({})), Draft::Draft7);
    assert_eq!(of("http://json-schema.org/draft-04/schema#"), Draft::Draft4);
    assert_eq!(of("http://json-schema.org/draft-06/schema#"), Draft::Draft6);
    assert_eq!(of("http://json-schema.org/draft-07/schema"), Draft::Draft7);
    assert_eq!(
        of("https://json-schema.org/draft/2019-09/schema"),
        Draft::Draft201909
    );
    assert_eq!(
        of("https://json-schema.org/draft/2020-12/schema"),
        Draft::Draft202012
    );
    assert_eq!(of("http://example.com/unknown"), Draft::Draft7);
}

#[test]
fn each_draft_checks_its_own_meta_schema() {
    // Draft 4's exclusiveMaximum is a boolean; from draft 6 on, a number.
    let d4 = json!({"$schema": "http://json-schema.org/draft-04/schema#",
        "type": "number", "maximum": 5, "exclusiveMaximum": true});
    assert!(JsonSchema::parse(&d4.to_string(), &[]).is_ok());
    let d7 = json!({"type": "number", "exclusiveMaximum": true});
    assert!(reason(&d7.to_string(), &[]).contains("'#/exclusiveMaximum'"));
    for s in [
        "http://json-schema.org/draft-06/schema#",
        "https://json-schema.org/draft/2019-09/schema",
        "https://json-schema.org/draft/2020-12/schema",
    ] {
        let ok = json!({"$schema": s, "type": "object", "properties": {"a": {"type": "string"}}});
        assert!(JsonSchema::parse(&ok.to_string(), &[]).is_ok(), "{s}");
        let bad = json!({"$schema": s, "properties": {"a": {"type": 7}}});
        assert!(
            reason(&bad.to_string(), &[]).contains("'#/properties/a/type'"),
            "{s}"
        );
    }
}

#[test]
fn invalid_input_names_the_problem_and_its_pointer() {
    let r = reason(
        r#"{"type":"object","properties":{"a":{"type":"strin"}}}"#,
        &[],
    );
    assert!(r.contains("\"strin\""), "{r}");
    assert!(r.ends_with("at '#/properties/a/type'"), "{r}");
    let r = reason(r#"{"properties":{"a":{"minLength":-1}}}"#, &[]);
    assert!(r.contains("'#/properties/a/minLength'"), "{r}");
    assert!(reason("{nope", &[]).starts_with("Invalid JSON"));
    assert!(reason("[1]", &[]).contains("object or a boolean"));
    let r = reason(r##"{"properties":{"a":{"$ref":"#/definitions/x"}}}"##, &[]);
    assert!(
        r.contains("'#/definitions/x'") && r.contains("'#/properties/a'"),
        "{r}"
    );
}

#[test]
fn boolean_schemas_parse() {
    assert_eq!(JsonSchema::parse("true", &[]).unwrap().canonical(), "true");
    assert!(compatible(json!(false), json!(true)));
}

// ---- texts ----

#[test]
fn canonical_text_is_compact_with_key_order_and_exact_numbers() {
    let s = JsonSchema::parse(
        "{ \"type\" : \"object\",\n \"properties\": {\"b\": {\"maximum\": 1.50}, \"a\": {\"minimum\": 1e2}},\"type\":\"object\" }",
        &[],
    )
    .unwrap();
    assert_eq!(
        s.canonical(),
        r#"{"type":"object","properties":{"b":{"maximum":1.50},"a":{"minimum":1E+2}}}"#
    );
    assert_eq!(
        s.normalized(),
        r#"{"properties":{"a":{"minimum":1E+2},"b":{"maximum":1.50}},"type":"object"}"#
    );
}

#[test]
fn numbers_print_as_java_big_decimals() {
    for (lit, want) in [
        ("0", "0"),
        ("-0", "0"),
        ("12", "12"),
        ("-12", "-12"),
        ("1.0", "1.0"),
        ("0.000001", "0.000001"),
        ("0.0000001", "1E-7"),
        ("1e2", "1E+2"),
        ("1.5E3", "1.5E+3"),
        ("-2.50e-1", "-0.250"),
        (
            "123456789012345678901234567890",
            "123456789012345678901234567890",
        ),
    ] {
        assert_eq!(jackson_number(lit).as_deref(), Some(want), "{lit}");
    }
}

#[test]
fn strings_are_escaped_as_jackson_escapes_them() {
    let s = JsonSchema::parse(r#"{"description":"tab\t, é, \u0001, \/"}"#, &[]).unwrap();
    assert_eq!(s.canonical(), "{\"description\":\"tab\\t, é, \\u0001, /\"}");
}

// ---- references ----

fn address() -> Dependency {
    Dependency {
        name: "address.json".to_owned(),
        schema: json!({"type": "object",
            "properties": {"street": {"type": "string"}, "zip": {"$ref": "#/definitions/zip"}},
            "definitions": {"zip": {"type": "string", "maxLength": 5}}})
        .to_string(),
    }
}

#[test]
fn refs_resolve_by_reference_name_and_into_definitions() {
    let text = json!({"type": "object", "properties": {
        "home": {"$ref": "address.json"},
        "zip": {"$ref": "./address.json#/definitions/zip"}}})
    .to_string();
    assert!(JsonSchema::parse(&text, &[address()]).is_ok());
    let r = reason(&text, &[]);
    assert!(
        r.contains("address.json") && r.contains("'#/properties/home'"),
        "{r}"
    );
}

#[test]
fn refs_resolve_against_the_schema_id() {
    let dep = Dependency {
        name: "https://example.com/schemas/address.json".to_owned(),
        schema: json!({"type": "string"}).to_string(),
    };
    let text = json!({"$id": "https://example.com/schemas/customer.json",
        "properties": {"a": {"$ref": "address.json"}}})
    .to_string();
    assert!(JsonSchema::parse(&text, &[dep]).is_ok());
}

#[test]
fn changes_inside_a_referenced_schema_are_seen() {
    let dep = |max: u64| Dependency {
        name: "zip.json".to_owned(),
        schema: json!({"type": "string", "maxLength": max}).to_string(),
    };
    let text = json!({"properties": {"zip": {"$ref": "zip.json"}}}).to_string();
    let old = JsonSchema::parse(&text, &[dep(10)]).unwrap();
    let new = JsonSchema::parse(&text, &[dep(5)]).unwrap();
    let problems = new.read_problems(&old);
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].message("new", "old"),
        "{errorType:\"MAX_LENGTH_DECREASED\", description:\"The value at path '#/properties/zip/maxLength' in the new schema is less than its value in the old schema\"}"
    );
}

#[test]
fn recursive_schemas_parse_and_compare() {
    let tree = |extra: Value| {
        json!({"$defs": {"node": {"type": "object", "properties": {
            "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
            "label": extra}}},
            "$ref": "#/$defs/node"})
    };
    let a = tree(json!({"type": "string"}));
    let b = tree(json!({"type": "number"}));
    assert!(compatible(a.clone(), a.clone()));
    assert!(!compatible(a, b));
}

// ---- compatibility rules ----

#[test]
fn annotations_change_compatibly() {
    check(
        json!({"title": "a"}),
        json!({"title": "b"}),
        &["TITLE_CHANGED #/"],
        true,
    );
    check(
        json!({"$id": "a"}),
        json!({"$id": "b"}),
        &["ID_CHANGED #/"],
        true,
    );
    check(
        json!({"description": "a"}),
        json!({"description": "b"}),
        &["DESCRIPTION_CHANGED #/"],
        true,
    );
    check(
        json!({"type": "string", "default": "a"}),
        json!({"type": "string", "default": "b"}),
        &["DEFAULT_CHANGED #/"],
        true,
    );
}

#[test]
fn type_changes() {
    check(
        json!({"type": "object"}),
        json!({"type": "array"}),
        &["TYPE_CHANGED #/"],
        false,
    );
    check(json!({"type": "string"}), json!({}), &[], true);
    check(
        json!({"type": "number"}),
        json!({"type": "integer"}),
        &["TYPE_NARROWED #/"],
        false,
    );
    check(
        json!({"type": "integer"}),
        json!({"type": "number"}),
        &["TYPE_EXTENDED #/"],
        true,
    );
    check(
        json!({"type": ["object"]}),
        json!({"type": ["object", "array"]}),
        &["SUM_TYPE_EXTENDED #/"],
        true,
    );
}

#[test]
fn string_bounds() {
    let s = |k: &str, v: Value| json!({"type": "string", k: v});
    check(
        s("minLength", json!(1)),
        s("minLength", json!(2)),
        &["MIN_LENGTH_INCREASED #/minLength"],
        false,
    );
    check(
        s("minLength", json!(2)),
        s("minLength", json!(1)),
        &["MIN_LENGTH_DECREASED #/minLength"],
        true,
    );
    check(
        s("maxLength", json!(2)),
        s("maxLength", json!(3)),
        &["MAX_LENGTH_INCREASED #/maxLength"],
        true,
    );
    check(
        s("maxLength", json!(3)),
        s("maxLength", json!(2)),
        &["MAX_LENGTH_DECREASED #/maxLength"],
        false,
    );
    check(
        json!({"type": "string"}),
        s("maxLength", json!(2)),
        &["MAX_LENGTH_ADDED #/maxLength"],
        false,
    );
    check(
        s("pattern", json!("a")),
        json!({"type": "string"}),
        &["PATTERN_REMOVED #/pattern"],
        true,
    );
    check(
        s("pattern", json!("a")),
        s("pattern", json!("b")),
        &["PATTERN_CHANGED #/pattern"],
        false,
    );
}

#[test]
fn numeric_bounds() {
    let n = |k: &str, v: Value| json!({"type": "number", k: v});
    check(
        n("maximum", json!(5)),
        n("maximum", json!(6)),
        &["MAXIMUM_INCREASED #/maximum"],
        true,
    );
    check(
        n("maximum", json!(6)),
        n("maximum", json!(5)),
        &["MAXIMUM_DECREASED #/maximum"],
        false,
    );
    check(
        n("minimum", json!(5)),
        n("minimum", json!(6)),
        &["MINIMUM_INCREASED #/minimum"],
        false,
    );
    check(
        n("minimum", json!(6)),
        json!({"type": "number"}),
        &["MINIMUM_REMOVED #/minimum"],
        true,
    );
    check(
        n("exclusiveMinimum", json!(1)),
        n("exclusiveMinimum", json!(0)),
        &["EXCLUSIVE_MINIMUM_DECREASED #/exclusiveMinimum"],
        true,
    );
    check(
        n("exclusiveMaximum", json!(1)),
        n("exclusiveMaximum", json!(2)),
        &["EXCLUSIVE_MAXIMUM_INCREASED #/exclusiveMaximum"],
        true,
    );
    check(
        n("multipleOf", json!(10)),
        n("multipleOf", json!(5)),
        &["MULTIPLE_OF_REDUCED #/multipleOf"],
        true,
    );
    check(
        n("multipleOf", json!(5)),
        n("multipleOf", json!(10)),
        &["MULTIPLE_OF_EXPANDED #/multipleOf"],
        false,
    );
    check(
        n("multipleOf", json!(5)),
        n("multipleOf", json!(7)),
        &["MULTIPLE_OF_CHANGED #/multipleOf"],
        false,
    );
}

#[test]
fn enums_and_consts() {
    let e = |v: Value| json!({"enum": v});
    check(
        e(json!(["a"])),
        e(json!(["a", "b"])),
        &["ENUM_ARRAY_EXTENDED #/enum"],
        true,
    );
    check(
        e(json!(["a", "b"])),
        e(json!(["a"])),
        &["ENUM_ARRAY_NARROWED #/enum"],
        false,
    );
    check(
        e(json!(["a"])),
        e(json!(["b"])),
        &["ENUM_ARRAY_CHANGED #/enum"],
        false,
    );
    check(
        json!({"properties": {"c": {"const": 1}}}),
        json!({"properties": {"c": {"const": 2}}}),
        &["ENUM_ARRAY_CHANGED #/properties/c/const"],
        false,
    );
    // A type beside an enum is an allOf of both; dropping the enum narrows it.
    check(
        json!({"type": "string", "enum": ["red"]}),
        json!({"type": "string"}),
        &["PRODUCT_TYPE_NARROWED #/"],
        true,
    );
}

#[test]
fn properties_under_open_and_closed_content_models() {
    let closed = |props: Value| json!({"type": "object", "properties": props, "additionalProperties": false});
    let open = |props: Value| json!({"type": "object", "properties": props});
    let a = json!({"a": {"type": "string"}});
    let ab = json!({"a": {"type": "string"}, "b": {"type": "string"}});
    check(
        open(a.clone()),
        open(ab.clone()),
        &["OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"],
        false,
    );
    check(
        open(ab.clone()),
        open(a.clone()),
        &["PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL #/properties/b"],
        true,
    );
    check(
        closed(a.clone()),
        closed(ab.clone()),
        &["OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b"],
        true,
    );
    check(
        closed(ab.clone()),
        closed(a.clone()),
        &["PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b"],
        false,
    );
    check(
        open(a.clone()),
        open(json!({"a": {"type": "string"}, "b": {}})),
        &["PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"],
        true,
    );
    check(
        closed(json!({"a": {"type": "string"}, "b": false})),
        closed(a.clone()),
        &["PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b"],
        true,
    );
    let mut required = closed(ab.clone());
    required["required"] = json!(["b"]);
    check(
        closed(a),
        required,
        &["REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b"],
        false,
    );
}

#[test]
fn partially_open_content_models() {
    let with = |props: Value, extra: Value| json!({"type": "object", "properties": props, "additionalProperties": extra});
    check(
        with(json!({}), json!({"type": "string"})),
        with(json!({"b": {"type": "string"}}), json!({"type": "string"})),
        &["PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/b"],
        true,
    );
    check(
        with(json!({}), json!({"type": "string"})),
        with(json!({"b": {"type": "number"}}), json!({"type": "string"})),
        &[
            "TYPE_CHANGED #/properties/b",
            "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/b",
        ],
        false,
    );
    let pattern = json!({"type": "object", "properties": {"I_1": {"type": "integer"}},
        "patternProperties": {"^I_": {"type": "number"}}, "additionalProperties": false});
    let without = json!({"type": "object",
        "patternProperties": {"^I_": {"type": "number"}}, "additionalProperties": false});
    check(
        pattern,
        without,
        &["PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/I_1"],
        true,
    );
}

#[test]
fn required_and_dependencies() {
    let o = |req: Value| json!({"properties": {"a": {"type": "string"}}, "required": req});
    check(
        o(json!(["a"])),
        o(json!([])),
        &["REQUIRED_ATTRIBUTE_REMOVED #/required/a"],
        true,
    );
    check(
        o(json!([])),
        o(json!(["a"])),
        &["REQUIRED_ATTRIBUTE_ADDED #/required/a"],
        false,
    );
    let d = |deps: Value| json!({"properties": {"a": {}, "b": {}}, "dependencies": deps});
    check(
        d(json!({"a": ["b"]})),
        d(json!({})),
        &["DEPENDENCY_ARRAY_REMOVED #/dependencies/a"],
        true,
    );
    check(
        d(json!({})),
        d(json!({"a": ["b"]})),
        &["DEPENDENCY_ARRAY_ADDED #/dependencies/a"],
        false,
    );
    check(
        d(json!({"a": {"type": "object"}})),
        d(json!({"a": {"type": "array"}})),
        &["TYPE_CHANGED #/dependencies/a"],
        false,
    );
}

#[test]
fn additional_properties() {
    let ap = |v: Value| json!({"type": "object", "additionalProperties": v});
    check(
        ap(json!(false)),
        ap(json!(true)),
        &["ADDITIONAL_PROPERTIES_ADDED #/additionalProperties"],
        true,
    );
    check(
        ap(json!(true)),
        ap(json!(false)),
        &["ADDITIONAL_PROPERTIES_REMOVED #/additionalProperties"],
        false,
    );
    check(
        json!({"type": "object"}),
        ap(json!({"type": "string"})),
        &["ADDITIONAL_PROPERTIES_NARROWED #/additionalProperties"],
        false,
    );
    check(
        ap(json!({"type": "string"})),
        ap(json!({"type": "number"})),
        &["TYPE_CHANGED #/additionalProperties"],
        false,
    );
    let props = |n: u64| json!({"type": "object", "maxProperties": n});
    check(
        props(2),
        props(1),
        &["MAX_PROPERTIES_DECREASED #/maxProperties"],
        false,
    );
}

#[test]
fn arrays() {
    check(
        json!({"type": "array"}),
        json!({"type": "array", "items": {"type": "string"}}),
        &["SCHEMA_ADDED #/items"],
        false,
    );
    check(
        json!({"type": "array", "items": {"type": "string"}}),
        json!({"type": "array"}),
        &["SCHEMA_REMOVED #/items"],
        true,
    );
    let tuple = |items: Value, extra: Value| json!({"type": "array", "items": items, "additionalItems": extra});
    check(
        tuple(json!([{"type": "string"}]), json!(false)),
        tuple(
            json!([{"type": "string"}, {"type": "number"}]),
            json!(false),
        ),
        &["ITEM_ADDED_TO_CLOSED_CONTENT_MODEL #/items/1"],
        true,
    );
    check(
        tuple(
            json!([{"type": "string"}, {"type": "number"}]),
            json!(false),
        ),
        tuple(json!([{"type": "string"}]), json!(false)),
        &["ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL #/items/1"],
        false,
    );
    check(
        json!({"additionalItems": true}),
        json!({"additionalItems": false}),
        &["ADDITIONAL_ITEMS_REMOVED #/additionalItems"],
        false,
    );
    let n = |k: &str, v: u64| json!({"type": "array", k: v});
    check(
        n("maxItems", 3),
        n("maxItems", 2),
        &["MAX_ITEMS_DECREASED #/maxItems"],
        false,
    );
    check(
        n("minItems", 3),
        n("minItems", 2),
        &["MIN_ITEMS_DECREASED #/minItems"],
        true,
    );
    check(
        json!({"type": "array", "uniqueItems": true}),
        json!({"type": "array"}),
        &["UNIQUE_ITEMS_REMOVED #/uniqueItems"],
        true,
    );
    check(
        json!({"type": "array"}),
        json!({"type": "array", "uniqueItems": true}),
        &["UNIQUE_ITEMS_ADDED #/uniqueItems"],
        false,
    );
}

#[test]
fn combined_schemas() {
    let p = |v: Value| json!({"type": "object", "properties": {"p": v}});
    let s = json!({"type": "string"});
    let n = json!({"type": "number"});
    check(
        p(json!({"oneOf": [s]})),
        p(json!({"oneOf": [n, s]})),
        &["SUM_TYPE_EXTENDED #/properties/p"],
        true,
    );
    check(
        p(json!({"oneOf": [n, s]})),
        p(json!({"oneOf": [s]})),
        &["SUM_TYPE_NARROWED #/properties/p"],
        false,
    );
    check(
        p(json!({"allOf": [s]})),
        p(json!({"allOf": [{"enum": ["x"]}, s]})),
        &["PRODUCT_TYPE_EXTENDED #/properties/p"],
        false,
    );
    check(
        p(json!({"allOf": [n, s]})),
        p(json!({"anyOf": [s]})),
        &[
            "COMBINED_TYPE_EXTENDED #/properties/p",
            "PRODUCT_TYPE_NARROWED #/properties/p",
        ],
        true,
    );
    check(
        p(json!({"anyOf": [n, s]})),
        p(json!({"oneOf": [s]})),
        &["COMBINED_TYPE_CHANGED #/properties/p"],
        false,
    );
    check(
        p(s.clone()),
        p(json!({"anyOf": [n, s]})),
        &["SUM_TYPE_EXTENDED #/properties/p"],
        true,
    );
    check(
        p(s.clone()),
        p(json!({"allOf": [n, s]})),
        &["TYPE_CHANGED #/properties/p"],
        false,
    );
    check(
        json!({"allOf": [s, {"enum": ["a"]}]}),
        json!({"allOf": [s, {"enum": ["b"]}]}),
        &["COMBINED_TYPE_SUBSCHEMAS_CHANGED #/"],
        false,
    );
    // Equal subschemas count once.
    check(
        p(json!({"allOf": [s, s]})),
        p(json!({"allOf": [s]})),
        &[],
        true,
    );
}

#[test]
fn not_schemas() {
    check(
        json!({"not": {"type": "number"}}),
        json!({"not": {"type": "integer"}}),
        &["NOT_TYPE_NARROWED #/not"],
        true,
    );
    check(
        json!({"not": {"type": "integer"}}),
        json!({"not": {"type": "number"}}),
        &["NOT_TYPE_EXTENDED #/not"],
        false,
    );
}

#[test]
fn moving_to_and_from_a_ref_is_no_change() {
    let plain = json!({"type": "string"});
    let via_ref = json!({"$ref": "#/definitions/s", "definitions": {"s": {"type": "string"}}});
    assert!(changes(plain.clone(), via_ref.clone()).is_empty());
    assert!(changes(via_ref, plain).is_empty());
}

#[test]
fn messages_follow_confluents_format_and_roles() {
    let old = parse(json!({"type": "object"}));
    let new = parse(json!({"type": "array"}));
    let p = new.read_problems(&old);
    assert_eq!(
        p[0].message("new", "old"),
        "{errorType:\"TYPE_CHANGED\", description:\"A type at path '#/' is different between the new schema and the old schema\"}"
    );
    assert_eq!(p[0].path, "#/");
}

#[test]
fn nested_combinators_stay_fast() {
    // 12 levels of anyOf with 4 branches each: exponential if pairs were
    // not remembered (4^12 paths), instant when they are.
    let mut s = json!({"type": "string"});
    for i in 0..12 {
        s = json!({"anyOf": [s.clone(), {"type": "number", "minimum": i}, {"type": "boolean"}, s]});
    }
    let a = parse(s.clone());
    let start = std::time::Instant::now();
    assert!(a.read_problems(&a).is_empty());
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_check_over_budget_says_so() {
    // 60 x 60 anyOf branches: 3,600 pairs, over a budget of 1,000.
    let branches = |offset: u64| -> Value {
        Value::Array(
            (0..60)
                .map(|i| json!({"type": "string", "maxLength": i + offset}))
                .collect(),
        )
    };
    let old = parse(json!({"anyOf": branches(0)}));
    let new = parse(json!({"anyOf": branches(100_000)}));
    let problems = new.read_problems_within(&old, 1000);
    let last = problems.last().unwrap();
    assert_eq!(last.error_type, crate::ErrorType::CheckLimit);
    assert!(last.message("new", "old").contains("too large to compare"));
}

#[test]
fn combinators_nested_through_refs_stay_fast() {
    // 14 levels, 4 branches each, every level a definition the next one
    // references: 4^14 paths to the leaf, a few hundred pairs of nodes.
    let schema = |max: u64| {
        let mut defs = serde_json::Map::new();
        defs.insert("l0".to_owned(), json!({"type": "string", "maxLength": max}));
        for l in 1..=14 {
            let below = json!({"$ref": format!("#/definitions/l{}", l - 1)});
            defs.insert(
                format!("l{l}"),
                json!({"anyOf": [below, {"type": "object", "properties": {"a": below}},
                    {"type": "array", "items": below},
                    {"type": "object", "properties": {"b": below}, "required": ["b"]}]}),
            );
        }
        json!({"definitions": defs, "$ref": "#/definitions/l14"})
    };
    let start = std::time::Instant::now();
    assert!(
        parse(schema(20))
            .read_problems(&parse(schema(10)))
            .is_empty()
    );
    let narrowed = parse(schema(5)).read_problems(&parse(schema(10)));
    assert!(!narrowed.is_empty());
    assert!(narrowed.len() <= 100);
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn a_repeated_key_keeps_its_place_and_takes_the_last_value() {
    let s = JsonSchema::parse(r#"{"type":"string","title":"a","type":"integer"}"#, &[]).unwrap();
    assert_eq!(s.canonical(), r#"{"type":"integer","title":"a"}"#);
    // The same in an object large enough to be indexed.
    let mut text = String::from("{");
    for i in 0..20 {
        text.push_str(&format!("\"k{i:02}\":{i},"));
    }
    text.push_str("\"k03\":\"last\"}");
    let s = JsonSchema::parse(&text, &[]).unwrap();
    let v: Value = serde_json::from_str(s.canonical()).unwrap();
    assert_eq!(v["k03"], "last");
    assert!(
        s.canonical()
            .starts_with(r#"{"k00":0,"k01":1,"k02":2,"k03":"last","k04":4"#)
    );
}

// ---- 2019-09 and 2020-12 keywords ----
//
// Confluent loads these drafts with json-sKema and translates the result
// to everit's model (`SchemaTranslator`); drafts 4 to 7 go through
// everit's own loader, which knows none of these keywords. Cases marked
// "Confluent's example" are from its `diff-schema-examples-2020-12.json`;
// the others follow from its `ObjectSchemaDiff` / `ArraySchemaDiff` and
// `COMPATIBLE_CHANGES`.

const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";
const DRAFT_2019_09: &str = "https://json-schema.org/draft/2019-09/schema";

/// `schema` declared as 2020-12.
fn modern(schema: Value) -> Value {
    with_draft(DRAFT_2020_12, schema)
}

fn with_draft(draft: &str, mut schema: Value) -> Value {
    if let Value::Object(m) = &mut schema {
        m.insert("$schema".into(), json!(draft));
    }
    schema
}

/// Exactly these changes (in any order), and the verdict.
fn exact(original: Value, update: Value, expected: &[&str], is_compatible: bool) {
    let mut got = changes(original.clone(), update.clone());
    got.sort();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        compatible(original, update),
        is_compatible,
        "changes: {got:?}"
    );
}

#[test]
fn unevaluated_properties_changes() {
    let u = |v: Value| modern(json!({"type": "object", "unevaluatedProperties": v}));
    let plain = modern(json!({"type": "object"}));
    let s = json!({"type": "string"});
    let ev = "#/unevaluatedProperties";
    exact(
        plain.clone(),
        u(json!(false)),
        &[&format!("UNEVALUATED_PROPERTIES_REMOVED {ev}")],
        false,
    );
    exact(
        u(json!(false)),
        plain.clone(),
        &[&format!("UNEVALUATED_PROPERTIES_ADDED {ev}")],
        true,
    );
    exact(
        plain.clone(),
        u(s.clone()),
        &[&format!("UNEVALUATED_PROPERTIES_NARROWED {ev}")],
        false,
    );
    exact(
        u(s.clone()),
        plain.clone(),
        &[&format!("UNEVALUATED_PROPERTIES_EXTENDED {ev}")],
        true,
    );
    exact(
        u(json!(false)),
        u(json!(true)),
        &[&format!("UNEVALUATED_PROPERTIES_ADDED {ev}")],
        true,
    );
    exact(
        u(json!(true)),
        u(s.clone()),
        &[&format!("UNEVALUATED_PROPERTIES_NARROWED {ev}")],
        false,
    );
    exact(
        u(s.clone()),
        u(json!({})),
        &[&format!("UNEVALUATED_PROPERTIES_EXTENDED {ev}")],
        true,
    );
    exact(
        u(s.clone()),
        u(json!({"type": "number"})),
        &[&format!("TYPE_CHANGED {ev}")],
        false,
    );
    // From `true` to absent widens nothing in fact, but Confluent calls it extended.
    exact(
        u(json!(true)),
        plain,
        &[&format!("UNEVALUATED_PROPERTIES_EXTENDED {ev}")],
        true,
    );
}

#[test]
fn unevaluated_properties_close_and_partially_open_objects() {
    let obj = |props: Value, extra: Value| {
        let mut o = json!({"type": "object", "properties": props});
        if let (Value::Object(m), Value::Object(e)) = (&mut o, extra) {
            m.extend(e);
        }
        modern(o)
    };
    let ab = json!({"a": {"type": "string"}, "b": {"type": "string"}});
    let a = json!({"a": {"type": "string"}});
    // `unevaluatedProperties: false` closes the object.
    let closed = json!({"unevaluatedProperties": false});
    exact(
        obj(a.clone(), closed.clone()),
        obj(ab.clone(), closed.clone()),
        &["OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b"],
        true,
    );
    exact(
        obj(ab.clone(), closed.clone()),
        obj(a.clone(), closed.clone()),
        &["PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b"],
        false,
    );
    // Even beside `additionalProperties: true`: the model cannot tell
    // `true` from absent, so only `unevaluatedProperties` decides.
    let both = json!({"additionalProperties": true, "unevaluatedProperties": false});
    exact(
        obj(ab.clone(), both.clone()),
        obj(a.clone(), both),
        &["PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b"],
        false,
    );
    // `true` and `{}` leave it open.
    for open in [json!(true), json!({})] {
        let m = json!({"unevaluatedProperties": open});
        exact(
            obj(ab.clone(), m.clone()),
            obj(a.clone(), m.clone()),
            &["PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL #/properties/b"],
            true,
        );
        exact(
            obj(a.clone(), m.clone()),
            obj(ab.clone(), m),
            &["OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"],
            false,
        );
    }
    // A schema makes it partially open.
    let strings = json!({"unevaluatedProperties": {"type": "string"}});
    exact(
        obj(ab.clone(), strings.clone()),
        obj(a.clone(), strings.clone()),
        &["PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/b"],
        true,
    );
    exact(
        obj(a.clone(), strings.clone()),
        obj(
            json!({"a": {"type": "string"}, "b": {"type": "number"}}),
            strings.clone(),
        ),
        &[
            "TYPE_CHANGED #/properties/b",
            "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/b",
            "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b",
        ],
        false,
    );
    // A schema of `additionalProperties` comes first.
    exact(
        obj(
            json!({"a": {"type": "string"}, "b": {"type": "number"}}),
            json!({"additionalProperties": false}),
        ),
        obj(
            a.clone(),
            json!({"additionalProperties": {"type": "number"}, "unevaluatedProperties": {"type": "string"}}),
        ),
        &[
            "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/b",
            "ADDITIONAL_PROPERTIES_ADDED #/additionalProperties",
            "UNEVALUATED_PROPERTIES_NARROWED #/unevaluatedProperties",
        ],
        false,
    );
    // 2019-09 is read the same way.
    let d19 = |props: Value| {
        with_draft(
            DRAFT_2019_09,
            json!({"type": "object", "properties": props, "unevaluatedProperties": false}),
        )
    };
    exact(
        d19(ab.clone()),
        d19(a.clone()),
        &["PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b"],
        false,
    );
    // Draft 7 does not know the keyword: the object stays open.
    let d7 = |props: Value| json!({"type": "object", "properties": props, "unevaluatedProperties": false});
    exact(
        d7(ab),
        d7(a),
        &["PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL #/properties/b"],
        true,
    );
    exact(
        json!({"type": "object"}),
        json!({"type": "object", "unevaluatedProperties": false}),
        &[],
        true,
    );
}

#[test]
fn unevaluated_items() {
    let u = |v: Value| modern(json!({"type": "array", "unevaluatedItems": v}));
    let plain = modern(json!({"type": "array"}));
    let ev = "#/unevaluatedItems";
    exact(
        plain.clone(),
        u(json!(false)),
        &[&format!("UNEVALUATED_ITEMS_REMOVED {ev}")],
        false,
    );
    exact(
        u(json!(false)),
        plain.clone(),
        &[&format!("UNEVALUATED_ITEMS_ADDED {ev}")],
        true,
    );
    exact(
        plain.clone(),
        u(json!({"type": "string"})),
        &[&format!("UNEVALUATED_ITEMS_NARROWED {ev}")],
        false,
    );
    exact(
        u(json!({"type": "string"})),
        plain,
        &[&format!("UNEVALUATED_ITEMS_EXTENDED {ev}")],
        true,
    );
    exact(
        u(json!({"type": "string"})),
        u(json!({"type": "number"})),
        &[&format!("TYPE_CHANGED {ev}")],
        false,
    );
    // Confluent's examples: `unevaluatedItems` makes a tuple partially open.
    let t = |prefix: Value| {
        modern(
            json!({"type": "array", "prefixItems": prefix, "unevaluatedItems": {"type": "string"}}),
        )
    };
    let sn = json!([{"type": "string"}, {"type": "number"}]);
    exact(
        t(sn.clone()),
        t(json!([{"type": "string"}, {"type": "number"}, {"type": "string"}])),
        &["ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/items/2"],
        true,
    );
    exact(
        t(sn.clone()),
        t(json!([{"type": "string"}, {"type": "number"}, {"type": "number"}])),
        &[
            "TYPE_CHANGED #/items/2",
            "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/items/2",
        ],
        false,
    );
    exact(
        t(json!([{"type": "string"}, {"type": "number"}, {"type": "string"}])),
        t(sn.clone()),
        &["ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/items/2"],
        true,
    );
    exact(
        t(json!([{"type": "string"}, {"type": "number"}, {"type": "number"}])),
        t(sn.clone()),
        &[
            "TYPE_CHANGED #/items/2",
            "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/items/2",
        ],
        false,
    );
    // `unevaluatedItems: false` closes it.
    let closed = |prefix: Value| {
        modern(json!({"type": "array", "prefixItems": prefix, "unevaluatedItems": false}))
    };
    exact(
        closed(sn.clone()),
        closed(json!([{"type": "string"}])),
        &["ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL #/items/1"],
        false,
    );
    // Draft 7 knows neither keyword.
    exact(
        json!({"type": "array"}),
        json!({"type": "array", "unevaluatedItems": false, "prefixItems": [{"type": "string"}]}),
        &[],
        true,
    );
}

#[test]
fn prefix_items_and_items_in_2020_12() {
    // Confluent's examples.
    exact(
        modern(json!({"items": true})),
        modern(json!({"items": false})),
        &["ADDITIONAL_ITEMS_REMOVED #/additionalItems"],
        false,
    );
    exact(
        modern(json!({"type": "array"})),
        modern(json!({"type": "array", "items": {"type": "string"}})),
        &["SCHEMA_ADDED #/items"],
        false,
    );
    let t = |prefix: Value, items: Value| {
        modern(json!({"type": "array", "prefixItems": prefix, "items": items}))
    };
    let s = json!([{"type": "string"}]);
    let sn = json!([{"type": "string"}, {"type": "number"}]);
    let snb = json!([{"type": "string"}, {"type": "number"}, {"type": "boolean"}]);
    exact(
        t(sn.clone(), json!(false)),
        t(snb.clone(), json!(true)),
        &[
            "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL #/items/2",
            "ADDITIONAL_ITEMS_ADDED #/additionalItems",
        ],
        true,
    );
    exact(
        t(snb, json!(false)),
        t(sn.clone(), json!(true)),
        &[
            "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL #/items/2",
            "ADDITIONAL_ITEMS_ADDED #/additionalItems",
        ],
        true,
    );
    exact(
        t(sn.clone(), json!(false)),
        t(s.clone(), json!({"type": "number"})),
        &[
            "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/items/1",
            "ADDITIONAL_ITEMS_ADDED #/additionalItems",
        ],
        true,
    );
    exact(
        t(s.clone(), json!({"type": "number"})),
        t(sn.clone(), json!(true)),
        &[
            "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/items/1",
            "ADDITIONAL_ITEMS_EXTENDED #/additionalItems",
        ],
        true,
    );
    exact(
        modern(json!({"type": "array", "prefixItems": sn})),
        modern(json!({"type": "array"})),
        &[
            "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL #/items/0",
            "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL #/items/1",
        ],
        true,
    );
    // `items: true` builds nothing, so adding it is no change (draft 7
    // reads it as an all-items schema, and adding one is not compatible).
    exact(
        modern(json!({"type": "array"})),
        modern(json!({"type": "array", "items": true})),
        &[],
        true,
    );
    exact(
        json!({"type": "array"}),
        json!({"type": "array", "items": true}),
        &["SCHEMA_ADDED #/items"],
        false,
    );
    // `additionalItems` is not a 2020-12 keyword.
    exact(
        modern(json!({"type": "array", "prefixItems": s.clone(), "additionalItems": false})),
        modern(json!({"type": "array", "prefixItems": s})),
        &[],
        true,
    );
}

#[test]
fn contains_bounds() {
    let c = |extra: Value| {
        let mut o = json!({"type": "array", "contains": {"type": "string"}});
        if let (Value::Object(m), Value::Object(e)) = (&mut o, extra) {
            m.extend(e);
        }
        modern(o)
    };
    // json-sKema gives `contains` a `minContains` of 1 unless told.
    exact(
        c(json!({})),
        c(json!({"minContains": 2})),
        &["MIN_CONTAINS_INCREASED #/minContains"],
        false,
    );
    exact(
        c(json!({"minContains": 2})),
        c(json!({})),
        &["MIN_CONTAINS_DECREASED #/minContains"],
        false,
    );
    exact(c(json!({})), c(json!({"minContains": 1})), &[], true);
    exact(
        c(json!({})),
        c(json!({"maxContains": 3})),
        &["MAX_CONTAINS_ADDED #/maxContains"],
        false,
    );
    exact(
        c(json!({"maxContains": 3})),
        c(json!({"maxContains": 4})),
        &["MAX_CONTAINS_INCREASED #/maxContains"],
        false,
    );
    exact(
        c(json!({"maxContains": 3})),
        c(json!({})),
        &["MAX_CONTAINS_REMOVED #/maxContains"],
        false,
    );
    // Dropping `contains` drops its bounds: Confluent counts none of the
    // `*_CONTAINS_*` changes as compatible.
    exact(
        c(json!({})),
        modern(json!({"type": "array"})),
        &["MIN_CONTAINS_REMOVED #/minContains"],
        false,
    );
    exact(
        modern(json!({"type": "array"})),
        c(json!({})),
        &["MIN_CONTAINS_ADDED #/minContains"],
        false,
    );
    // Without `contains` the bounds are not read.
    exact(
        modern(json!({"type": "array"})),
        modern(json!({"type": "array", "minContains": 2, "maxContains": 3})),
        &[],
        true,
    );
    // Draft 7 reads them as they stand (everit keeps unknown keywords).
    let d7 = |n: u64| json!({"type": "array", "minContains": n});
    exact(
        d7(1),
        d7(2),
        &["MIN_CONTAINS_INCREASED #/minContains"],
        false,
    );
    exact(
        json!({"type": "array", "maxContains": 2}),
        json!({"type": "array", "maxContains": 1}),
        &["MAX_CONTAINS_DECREASED #/maxContains"],
        false,
    );
}

#[test]
fn dependent_required_and_dependent_schemas() {
    let props = json!({"foo": {"type": "number"}, "bar": {"type": "string"}});
    let dr = |deps: Value| modern(json!({"properties": props, "dependentRequired": deps}));
    // Confluent's example.
    exact(
        dr(json!({"foo": ["bar"]})),
        dr(json!({"bar": ["foo"]})),
        &[
            "DEPENDENCY_ARRAY_ADDED #/dependencies/bar",
            "DEPENDENCY_ARRAY_REMOVED #/dependencies/foo",
        ],
        false,
    );
    exact(
        dr(json!({"foo": ["bar"]})),
        dr(json!({"foo": ["bar", "baz"]})),
        &["DEPENDENCY_ARRAY_EXTENDED #/dependencies/foo"],
        false,
    );
    exact(
        dr(json!({"foo": ["bar", "baz"]})),
        dr(json!({"foo": ["bar"]})),
        &["DEPENDENCY_ARRAY_NARROWED #/dependencies/foo"],
        true,
    );
    let ds = |deps: Value| modern(json!({"dependentSchemas": deps}));
    // Confluent's examples.
    exact(
        ds(json!({"foo": {"type": "string"}, "bar": {"type": "string"}})),
        ds(json!({"foo": {"type": "string"}})),
        &["DEPENDENCY_SCHEMA_REMOVED #/dependencies/bar"],
        true,
    );
    exact(
        ds(json!({"foo": {"type": "string"}})),
        ds(json!({"foo": {"type": "number"}})),
        &["TYPE_CHANGED #/dependencies/foo"],
        false,
    );
    exact(
        ds(json!({"foo": {"type": "string"}})),
        ds(json!({"bar": {"type": "string"}})),
        &[
            "DEPENDENCY_SCHEMA_ADDED #/dependencies/bar",
            "DEPENDENCY_SCHEMA_REMOVED #/dependencies/foo",
        ],
        false,
    );
    // Each loader reads only its drafts' keyword.
    exact(
        json!({"type": "object"}),
        json!({"type": "object", "dependentRequired": {"a": ["b"]}}),
        &[],
        true,
    );
    exact(
        modern(json!({"type": "object"})),
        modern(json!({"type": "object", "dependencies": {"a": ["b"]}})),
        &[],
        true,
    );
}

#[test]
fn empty_properties_imply_no_object_in_2020_12() {
    // Confluent's examples: `properties: {}` builds nothing, so these
    // compare an object with the empty schema.
    exact(
        modern(json!({"properties": {}, "maxProperties": 1})),
        modern(json!({"properties": {}})),
        &[],
        true,
    );
    exact(
        modern(json!({"properties": {}, "additionalProperties": false})),
        modern(json!({"properties": {}})),
        &[],
        true,
    );
    exact(
        modern(json!({"type": "string"})),
        modern(json!({"properties": {}})),
        &[],
        true,
    );
    // Draft 7 reads it as an object.
    exact(
        json!({"type": "string"}),
        json!({"properties": {}}),
        &["TYPE_CHANGED #/"],
        false,
    );
}

mod tags {
    use crate::tags::{EntityKind, SchemaEntity, SchemaTags};
    use crate::{FormatError, Limits, SchemaType, parse};

    fn tags(entries: &[(&str, EntityKind, &[&str])]) -> SchemaTags {
        entries
            .iter()
            .map(|(p, k, t)| {
                (
                    SchemaEntity::new(*p, *k),
                    t.iter().map(|s| (*s).to_owned()).collect(),
                )
            })
            .collect()
    }

    fn canonical(text: &str) -> String {
        parse(SchemaType::Json, text, &[])
            .unwrap()
            .canonical()
            .to_owned()
    }

    fn tag(text: &str, add: &SchemaTags, remove: &SchemaTags) -> Result<String, FormatError> {
        parse(SchemaType::Json, text, &[])
            .unwrap()
            .with_tags(add, remove, &[], &Limits::default())
    }

    const SAMPLE: &str = r#"{
      "$schema": "http://json-schema.org/draft-07/schema#",
      "title": "Sample", "type": "object",
      "properties": {
        "list": {"type": "array", "items": {"type": "object", "title": "Item",
          "properties": {"a": {"type": "string"}, "b": {"type": "number"}}}},
        "both": {"allOf": [
          {"type": "string"},
          {"type": "object", "properties": {"c": {"type": "boolean"}, "d": {"type": "number"}}}]},
        "neither": {"not": {"type": "object", "properties": {"e": {"type": "string"}}}},
        "colour": {"enum": ["red", "green"]}
      }}"#;

    const TAGGED: &str = r#"{
      "$schema": "http://json-schema.org/draft-07/schema#",
      "title": "Sample", "type": "object",
      "properties": {
        "list": {"type": "array", "items": {"type": "object", "title": "Item",
          "properties": {"a": {"type": "string", "confluent:tags": ["PII"]}, "b": {"type": "number"}},
          "confluent:tags": ["record"]}},
        "both": {"allOf": [
          {"type": "string"},
          {"type": "object", "properties": {"c": {"type": "boolean"},
            "d": {"type": "number", "confluent:tags": ["PII"]}},
           "confluent:tags": ["record"]}]},
        "neither": {"not": {"type": "object",
          "properties": {"e": {"type": "string", "confluent:tags": ["PII"]}},
          "confluent:tags": ["record"]}},
        "colour": {"enum": ["red", "green"], "confluent:tags": ["PII"]}
      }}"#;

    fn sample_tags() -> SchemaTags {
        tags(&[
            ("object.list.array.object.a", EntityKind::Field, &["PII"]),
            ("object.both.allof.1.object.d", EntityKind::Field, &["PII"]),
            ("object.neither.not.object.e", EntityKind::Field, &["PII"]),
            ("object.colour", EntityKind::Field, &["PII"]),
            ("object.list.array.object", EntityKind::Record, &["record"]),
            (
                "object.both.allof.1.object",
                EntityKind::Record,
                &["record"],
            ),
            ("object.neither.not.object", EntityKind::Record, &["record"]),
        ])
    }

    #[test]
    fn type_prefixed_paths_find_their_schemas_and_removal_restores() {
        // allOf's subschemas sort by everit class (alphabetical): OBJECT
        // comes before STRING, so the object is index 0.
        let add = tags(&[("object.both.allof.0.object.d", EntityKind::Field, &["PII"])]);
        let text = tag(SAMPLE, &add, &vec![]).unwrap();
        assert!(
            text.contains(r#""d":{"type":"number","confluent:tags":["PII"]}"#),
            "{text}"
        );

        let fixed: SchemaTags = sample_tags()
            .into_iter()
            .map(|(e, t)| {
                (
                    SchemaEntity::new(e.path.replace("allof.1", "allof.0"), e.kind),
                    t,
                )
            })
            .collect();
        let text = tag(SAMPLE, &fixed, &vec![]).unwrap();
        assert_eq!(text, canonical(TAGGED));
        assert_eq!(tag(&text, &vec![], &fixed).unwrap(), canonical(SAMPLE));
    }

    #[test]
    fn conditional_and_type_lists_skip_their_index() {
        let schema = r#"{"else":{"properties":{"zip":{"pattern":"[A-Z]"}}},
          "if":{"properties":{"country":{"const":"US"}}},
          "properties":{"country":{"enum":["US","CA"]}},
          "then":{"properties":{"zip":{"pattern":"[0-9]"}}},"type":"object"}"#;
        let add = tags(&[
            (
                "allof.0.conditional.else.object.zip",
                EntityKind::Field,
                &["T"],
            ),
            ("allof.1.object.country", EntityKind::Field, &["T"]),
            ("allof.1.object", EntityKind::Record, &["R"]),
        ]);
        let text = tag(schema, &add, &vec![]).unwrap();
        assert_eq!(
            text,
            r#"{"else":{"properties":{"zip":{"pattern":"[A-Z]","confluent:tags":["T"]}}},"if":{"properties":{"country":{"const":"US"}}},"properties":{"country":{"enum":["US","CA"],"confluent:tags":["T"]}},"then":{"properties":{"zip":{"pattern":"[0-9]"}}},"type":"object","confluent:tags":["R"]}"#
        );
        let tagged = parse(SchemaType::Json, &text, &[])
            .unwrap()
            .tagged_entities();
        assert_eq!(
            tagged,
            tags(&[
                (
                    "allof.0.conditional.else.object.zip",
                    EntityKind::Field,
                    &["T"]
                ),
                ("allof.1.object.country", EntityKind::Field, &["T"]),
            ])
        );

        let nullable = r#"{"type":["null","object"],"properties":{"p":{"type":"string"}}}"#;
        let add = tags(&[("anyof.1.object.p", EntityKind::Field, &["X", "Y"])]);
        let text = tag(nullable, &add, &vec![]).unwrap();
        assert!(text.contains(r#""p":{"type":"string","confluent:tags":["X","Y"]}"#));
        let tagged = parse(SchemaType::Json, &text, &[])
            .unwrap()
            .tagged_entities();
        assert_eq!(
            tagged,
            tags(&[("anyof.1.object.p", EntityKind::Field, &["X", "Y"])])
        );
    }

    #[test]
    fn dotted_names_and_definitions() {
        let schema = r##"{"type":"object","properties":{"x":{"$ref":"#/definitions/A.B"}},
          "definitions":{"A.B":{"type":"object","properties":{"my.field":{"type":"string"}}}}}"##;
        let add = tags(&[
            (
                "object.definitions.A.B.object.my.field",
                EntityKind::Field,
                &["T"],
            ),
            ("object.definitions.A.B.object", EntityKind::Record, &["R"]),
        ]);
        let text = tag(schema, &add, &vec![]).unwrap();
        assert!(
            text.contains(
                r#""my.field":{"type":"string","confluent:tags":["T"]}},"confluent:tags":["R"]}"#
            ),
            "{text}"
        );
        let tagged = parse(SchemaType::Json, &text, &[])
            .unwrap()
            .tagged_entities();
        assert_eq!(
            tagged,
            tags(&[
                ("object.definitions.A.B.object", EntityKind::Record, &["R"]),
                (
                    "object.definitions.A.B.object.my.field",
                    EntityKind::Field,
                    &["T"]
                ),
            ])
        );
    }

    #[test]
    fn properties_list_in_java_hash_map_order() {
        // "b" hashes to bucket 2, "a" to 1, "aa" (3104) to 0: a Java
        // HashMap iterates aa, a, b whatever the text order.
        let schema = r#"{"type":"object","properties":{
          "b":{"type":"string","confluent:tags":["B"]},
          "a":{"type":"string","confluent:tags":["A"]},
          "aa":{"type":"string","confluent:tags":["AA"]}},"confluent:tags":["R"]}"#;
        let tagged = parse(SchemaType::Json, schema, &[])
            .unwrap()
            .tagged_entities();
        let paths: Vec<&str> = tagged.iter().map(|(e, _)| e.path.as_str()).collect();
        assert_eq!(paths, ["object", "object.aa", "object.a", "object.b"]);
    }

    #[test]
    fn refusals_answer_confluents_texts() {
        let add = tags(&[("object.nothing", EntityKind::Field, &["T"])]);
        assert_eq!(
            tag(SAMPLE, &add, &vec![]).unwrap_err().to_string(),
            "java.lang.IllegalArgumentException: No matching path 'object.nothing' found in the schema"
        );
        let add = tags(&[("object.both.allof.x.object", EntityKind::Record, &["T"])]);
        assert_eq!(
            tag(SAMPLE, &add, &vec![]).unwrap_err().to_string(),
            "java.lang.NumberFormatException: For input string: \"x\""
        );
        let add = tags(&[("object.both.allof.7.object", EntityKind::Record, &["T"])]);
        assert!(tag(SAMPLE, &add, &vec![]).is_err());
    }
}
