use super::*;
use crate::{ErrorType, ParsedSchema};

fn avro(text: &str) -> AvroSchema {
    match AvroSchema::parse(text, &[]) {
        Ok(s) => s,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn dep(name: &str, schema: &str) -> Dependency {
    Dependency {
        name: name.to_owned(),
        schema: schema.to_owned(),
    }
}

#[test]
fn canonical_text_matches_java_schema_to_string() {
    let cases: &[(&str, &str)] = &[
        (r#""string""#, r#""string""#),
        (r#"{"type":"string"}"#, r#""string""#),
        (
            r#"{ "type" : "int" , "custom" : [1, 2.50] }"#,
            r#"{"type":"int","custom":[1,2.5]}"#,
        ),
        (
            r#"{"type":"long","logicalType":"timestamp-millis"}"#,
            r#"{"type":"long","logicalType":"timestamp-millis"}"#,
        ),
        (
            r#"{"type":"bytes","scale":2,"precision":10,"logicalType":"decimal"}"#,
            r#"{"type":"bytes","scale":2,"precision":10,"logicalType":"decimal"}"#,
        ),
        (
            r#"{"type":"record","name":"a.b.R","fields":[]}"#,
            r#"{"type":"record","name":"R","namespace":"a.b","fields":[]}"#,
        ),
        // nested named types: full on first use, short name in the same
        // namespace, full name from another one
        (
            r#"{"type":"record","name":"R","namespace":"a.b","fields":[
                {"name":"x","type":{"type":"record","name":"S","fields":[]}},
                {"name":"y","type":"S"},
                {"name":"e","type":{"type":"enum","name":"c.E","symbols":["A"]}},
                {"name":"e2","type":"c.E"},
                {"name":"f","type":{"type":"fixed","name":"F","namespace":"","size":4}},
                {"name":"g","type":{"type":"record","name":"G","namespace":"c","fields":[
                    {"name":"s","type":"a.b.S"},{"name":"e","type":"E"}]}}
            ]}"#,
            concat!(
                r#"{"type":"record","name":"R","namespace":"a.b","fields":["#,
                r#"{"name":"x","type":{"type":"record","name":"S","fields":[]}},"#,
                r#"{"name":"y","type":"S"},"#,
                r#"{"name":"e","type":{"type":"enum","name":"E","namespace":"c","symbols":["A"]}},"#,
                r#"{"name":"e2","type":"c.E"},"#,
                r#"{"name":"f","type":{"type":"fixed","name":"F","namespace":"","size":4}},"#,
                r#"{"name":"g","type":{"type":"record","name":"G","namespace":"c","fields":["#,
                r#"{"name":"s","type":"a.b.S"},{"name":"e","type":"E"}]}}]}"#
            ),
        ),
        // Java's key order for records and fields, custom properties kept
        (
            r#"{"fields":[{"x":1,"order":"descending","aliases":["b"],"doc":"d","default":1,"type":"int","name":"a"}],
                "custom":true,"aliases":["Old"],"name":"R","doc":"rd","type":"record"}"#,
            r#"{"type":"record","name":"R","doc":"rd","fields":[{"name":"a","type":"int","doc":"d","default":1,"order":"descending","aliases":["b"],"x":1}],"custom":true,"aliases":["Old"]}"#,
        ),
        (
            r#"{"type":"record","name":"R","namespace":"n","aliases":["n.Old","other.Older"],"fields":[{"name":"a","type":"int","order":"ascending"}]}"#,
            r#"{"type":"record","name":"R","namespace":"n","fields":[{"name":"a","type":"int"}],"aliases":["Old","other.Older"]}"#,
        ),
        (
            r#"{"p":"q","default":"A","symbols":["A","B"],"doc":"x","name":"E","type":"enum"}"#,
            r#"{"type":"enum","name":"E","doc":"x","symbols":["A","B"],"default":"A","p":"q"}"#,
        ),
        (
            r#"{"type":"fixed","name":"D","size":8,"logicalType":"decimal","precision":5,"scale":2}"#,
            r#"{"type":"fixed","name":"D","size":8,"logicalType":"decimal","precision":5,"scale":2}"#,
        ),
        (
            r#"{"type":"array","items":{"type":"map","values":["null","long"],"m":1},"a":"b"}"#,
            r#"{"type":"array","items":{"type":"map","values":["null","long"],"m":1},"a":"b"}"#,
        ),
        // defaults are written as parsed, textual float defaults as numbers
        (
            r#"{"type":"record","name":"R","fields":[
                {"name":"u","type":["null","string"],"default":null},
                {"name":"b","type":"bytes","default":"\u00ff\u0001"},
                {"name":"d","type":"double","default":1},
                {"name":"d2","type":"double","default":1.50},
                {"name":"d3","type":"float","default":"2.5"},
                {"name":"big","type":"double","default":1e10},
                {"name":"r","type":{"type":"record","name":"In","fields":[{"name":"z","type":"int"}]},"default":{"z":1}},
                {"name":"s","type":{"type":"array","items":"string"},"default":["a"]}
            ]}"#,
            concat!(
                r#"{"type":"record","name":"R","fields":["#,
                r#"{"name":"u","type":["null","string"],"default":null},"#,
                "{\"name\":\"b\",\"type\":\"bytes\",\"default\":\"\u{ff}\\u0001\"},",
                r#"{"name":"d","type":"double","default":1},"#,
                r#"{"name":"d2","type":"double","default":1.5},"#,
                r#"{"name":"d3","type":"float","default":2.5},"#,
                r#"{"name":"big","type":"double","default":1.0E10},"#,
                r#"{"name":"r","type":{"type":"record","name":"In","fields":[{"name":"z","type":"int"}]},"default":{"z":1}},"#,
                r#"{"name":"s","type":{"type":"array","items":"string"},"default":["a"]}]}"#
            ),
        ),
        (
            r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#,
            r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#,
        ),
        (
            r#"[{"type":"enum","name":"E","symbols":["A"]},{"type":"array","items":"E"},"string"]"#,
            r#"[{"type":"enum","name":"E","symbols":["A"]},{"type":"array","items":"E"},"string"]"#,
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(avro(input).canonical(), *expected, "input: {input}");
    }
}

#[test]
fn references_are_written_by_name_and_inlined_when_resolved() {
    let deps = [
        dep(
            "inner",
            r#"{"type":"enum","name":"Color","namespace":"x","symbols":["RED"]}"#,
        ),
        dep(
            "dep",
            r#"{"type":"record","name":"Dep","namespace":"x","fields":[{"name":"c","type":"Color"}]}"#,
        ),
    ];
    let main = r#"{"type":"record","name":"Main","namespace":"x","fields":[{"name":"d","type":"Dep"},{"name":"o","type":{"type":"record","name":"y.Other","fields":[{"name":"d","type":"x.Dep"}]}}]}"#;
    let parsed = match crate::parse(SchemaType::Avro, main, &deps) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(parsed.schema_type(), SchemaType::Avro);
    assert_eq!(
        parsed.canonical(),
        r#"{"type":"record","name":"Main","namespace":"x","fields":[{"name":"d","type":"Dep"},{"name":"o","type":{"type":"record","name":"Other","namespace":"y","fields":[{"name":"d","type":"x.Dep"}]}}]}"#
    );
    assert_eq!(
        parsed.resolved(),
        r#"{"type":"record","name":"Main","namespace":"x","fields":[{"name":"d","type":{"type":"record","name":"Dep","fields":[{"name":"c","type":{"type":"enum","name":"Color","symbols":["RED"]}}]}},{"name":"o","type":{"type":"record","name":"Other","namespace":"y","fields":[{"name":"d","type":"x.Dep"}]}}]}"#
    );
    // without the dependency the name is undefined
    assert!(crate::parse(SchemaType::Avro, main, &[]).is_err());
}

#[test]
fn invalid_schemas_carry_the_parser_reason() {
    for text in [
        "not json",
        r#"{"type":"record","name":"R"}"#,
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"Nope"}]}"#,
        r#"{"type":"enum","name":"E","symbols":["A","A"]}"#,
        r#"["null","null"]"#,
        r#"{"type":"fixed","name":"F"}"#,
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]}"#,
        r#""nope""#,
    ] {
        match crate::parse(SchemaType::Avro, text, &[]) {
            Ok(_) => panic!("accepted {text}"),
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with("Invalid schema of type AVRO, details: ") && msg.len() > 40,
                    "{msg}"
                );
            }
        }
    }
}

#[test]
fn a_field_default_that_does_not_fit_stops_no_other_check() {
    // Defaults are not checked (Avro Java does not, for stored schemas), but
    // the names and types after such a default still are.
    let bad_default = r#"{"type":"record","name":"R","fields":[
        {"name":"m","type":{"type":"map","values":"int"},"default":"x"},
        {"name":"w%en","type":"long"}]}"#;
    let err = crate::parse(SchemaType::Avro, bad_default, &[]).unwrap_err();
    assert!(err.to_string().contains("Invalid field name w%en"), "{err}");
    let fine = bad_default.replace("w%en", "when");
    assert!(crate::parse(SchemaType::Avro, &fine, &[]).is_ok());
}

#[test]
fn schema_type_names() {
    assert_eq!("AVRO".parse::<SchemaType>(), Ok(SchemaType::Avro));
    assert_eq!("PROTOBUF".parse::<SchemaType>(), Ok(SchemaType::Protobuf));
    assert_eq!("JSON".parse::<SchemaType>(), Ok(SchemaType::Json));
    assert!("avro".parse::<SchemaType>().is_err());
    assert_eq!(SchemaType::Protobuf.to_string(), "PROTOBUF");
    assert_eq!(
        "xml".parse::<SchemaType>().map_err(|e| e.to_string()),
        Err("Invalid schema type xml".to_owned())
    );
}

#[test]
fn normalized_form() {
    let cases: &[(&str, &str)] = &[
        (r#"{"type":"string"}"#, r#""string""#),
        (
            r#"{"type":"record","namespace":"a","name":"R","doc":"","aliases":["Z","B"],
                "fields":[{"name":"f","type":"int","b":1,"a":{"y":1,"x":2},"aliases":["q","p"],"default":1}]}"#,
            r#"{"type":"record","name":"R","namespace":"a","fields":[{"name":"f","type":"int","default":1,"aliases":["p","q"],"a":{"x":2,"y":1},"b":1}],"aliases":["B","Z"]}"#,
        ),
        // Kafka Connect decimals: the logical properties come first
        (
            r#"{"type":"bytes","scale":2,"precision":64,"connect.version":1,"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}"#,
            r#"{"type":"bytes","logicalType":"decimal","precision":64,"scale":2,"connect.name":"org.apache.kafka.connect.data.Decimal","connect.version":1}"#,
        ),
        // defaults re-encoded from their typed value
        (
            r#"{"type":"record","name":"R","fields":[{"name":"d","type":"double","default":1},{"name":"m","type":{"type":"map","values":"int"},"default":{"b":1,"a":2}}]}"#,
            r#"{"type":"record","name":"R","fields":[{"name":"d","type":"double","default":1.0},{"name":"m","type":{"type":"map","values":"int"},"default":{"a":2,"b":1}}]}"#,
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(avro(input).normalized(), *expected, "input: {input}");
    }
}

#[test]
fn normalized_keeps_references_by_name() {
    let deps = [dep(
        "dep",
        r#"{"type":"record","name":"Dep","namespace":"x","fields":[]}"#,
    )];
    let main =
        r#"{"type":"record","name":"Main","namespace":"x","fields":[{"name":"d","type":"Dep"}]}"#;
    let s = match AvroSchema::parse(main, &deps) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        s.normalized(),
        r#"{"type":"record","name":"Main","namespace":"x","fields":[{"name":"d","type":"Dep"}]}"#
    );
}

/// (reader, writer, expected messages of a backward check)
fn check_table(cases: &[(&str, &str, &[&str])]) {
    for (reader, writer, expected) in cases {
        let r = ParsedSchema::Avro(avro(reader));
        let w = ParsedSchema::Avro(avro(writer));
        let got: Vec<String> = r
            .read_problems(&w)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(got, *expected, "reader {reader} writer {writer}");
    }
}

const R_INT: &str = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#;

#[test]
fn compatible_pairs() {
    check_table(&[
        (R_INT, R_INT, &[]),
        // promotions
        (r#""long""#, r#""int""#, &[]),
        (r#""float""#, r#""long""#, &[]),
        (r#""double""#, r#""float""#, &[]),
        (r#""string""#, r#""bytes""#, &[]),
        (r#""bytes""#, r#""string""#, &[]),
        // added field with default, removed field
        (
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":["null","string"],"default":null}]}"#,
            R_INT,
            &[],
        ),
        (
            R_INT,
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}"#,
            &[],
        ),
        // field renamed with an alias, record renamed with an alias
        (
            r#"{"type":"record","name":"R","fields":[{"name":"z","type":"int","aliases":["a"]}]}"#,
            R_INT,
            &[],
        ),
        (
            r#"{"type":"record","name":"New","aliases":["R"],"fields":[{"name":"a","type":"int"}]}"#,
            R_INT,
            &[],
        ),
        // namespaces are not compared, only unqualified names
        (
            r#"{"type":"record","name":"x.R","fields":[{"name":"a","type":"int"}]}"#,
            R_INT,
            &[],
        ),
        // enum symbols missing but the reader has a default
        (
            r#"{"type":"enum","name":"E","symbols":["A","U"],"default":"U"}"#,
            r#"{"type":"enum","name":"E","symbols":["A","B"]}"#,
            &[],
        ),
        // unions
        (r#"["null","string"]"#, r#""string""#, &[]),
        (r#"["null","long"]"#, r#"["int","null"]"#, &[]),
        (r#""string""#, r#"["string"]"#, &[]),
        // recursion terminates
        (
            r#"{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]},{"name":"v","type":"long"}]}"#,
            r#"{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]},{"name":"v","type":"int"}]}"#,
            &[],
        ),
        (
            r#"{"type":"array","items":{"type":"map","values":"double"}}"#,
            r#"{"type":"array","items":{"type":"map","values":"int"}}"#,
            &[],
        ),
    ]);
}

#[test]
fn incompatible_pairs_with_confluent_messages() {
    check_table(&[
        (
            r#"{"type":"record","name":"R","fields":[{"name":"f1","type":"int"},{"name":"f2","type":"string"}]}"#,
            r#"{"type":"record","name":"R","fields":[{"name":"f1","type":"int"}]}"#,
            &[
                "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'f2' at path '/fields/1' in the new schema has no default value and is missing in the old schema', additionalInfo:'f2'}",
            ],
        ),
        (
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}"#,
            R_INT,
            &[
                "{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/0/type') of a field in the new schema does not match with the old schema', additionalInfo:'reader type: STRING not compatible with writer type: INT'}",
            ],
        ),
        (
            r#""int""#,
            r#""long""#,
            &[
                "{errorType:'TYPE_MISMATCH', description:'The type (path '/') of a field in the new schema does not match with the old schema', additionalInfo:'reader type: INT not compatible with writer type: LONG'}",
            ],
        ),
        (
            r#"{"type":"record","name":"Other","fields":[{"name":"a","type":"int"}]}"#,
            R_INT,
            &[
                "{errorType:'NAME_MISMATCH', description:'The name of the schema has changed (path '/name')', additionalInfo:'expected: R'}",
            ],
        ),
        (
            r#"{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}]}"#,
            r#"{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["C","A","B"]}}]}"#,
            &[
                "{errorType:'MISSING_ENUM_SYMBOLS', description:'The new schema is missing enum symbols '[B, C]' at path '/fields/0/type/symbols' in the old schema', additionalInfo:'[B, C]'}",
            ],
        ),
        (
            r#"{"type":"fixed","name":"F","size":4}"#,
            r#"{"type":"fixed","name":"G","size":8}"#,
            &[
                "{errorType:'NAME_MISMATCH', description:'The name of the schema has changed (path '/name')', additionalInfo:'expected: G'}",
                "{errorType:'FIXED_SIZE_MISMATCH', description:'The size of FIXED type field at path '/size' in the new schema does not match with the old schema', additionalInfo:'expected: 8, found: 4'}",
            ],
        ),
        (
            r#"{"type":"record","name":"R","fields":[{"name":"u","type":["null","string"]}]}"#,
            r#"{"type":"record","name":"R","fields":[{"name":"u","type":["null","string","int"]}]}"#,
            &[
                "{errorType:'MISSING_UNION_BRANCH', description:'The new schema is missing a type inside a union field at path '/fields/0/type/2' in the old schema', additionalInfo:'reader union lacking writer type: INT'}",
            ],
        ),
        (
            r#"["null","int"]"#,
            r#""string""#,
            &[
                "{errorType:'MISSING_UNION_BRANCH', description:'The new schema is missing a type inside a union field at path '/' in the old schema', additionalInfo:'reader union lacking writer type: STRING'}",
            ],
        ),
        (
            r#""string""#,
            r#"["null","string"]"#,
            &[
                "{errorType:'TYPE_MISMATCH', description:'The type (path '/0') of a field in the new schema does not match with the old schema', additionalInfo:'reader type: STRING not compatible with writer type: NULL'}",
            ],
        ),
        (
            r#"{"type":"array","items":"int"}"#,
            r#"{"type":"array","items":"long"}"#,
            &[
                "{errorType:'TYPE_MISMATCH', description:'The type (path '/items') of a field in the new schema does not match with the old schema', additionalInfo:'reader type: INT not compatible with writer type: LONG'}",
            ],
        ),
        (
            r#"{"type":"map","values":"boolean"}"#,
            r#"{"type":"map","values":"null"}"#,
            &[
                "{errorType:'TYPE_MISMATCH', description:'The type (path '/values') of a field in the new schema does not match with the old schema', additionalInfo:'reader type: BOOLEAN not compatible with writer type: NULL'}",
            ],
        ),
        // every problem is reported, in field order
        (
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"bytes"},{"name":"b","type":"int"},{"name":"c","type":"int"}]}"#,
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#,
            &[
                "{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/0/type') of a field in the new schema does not match with the old schema', additionalInfo:'reader type: BYTES not compatible with writer type: INT'}",
                "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'b' at path '/fields/1' in the new schema has no default value and is missing in the old schema', additionalInfo:'b'}",
                "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'c' at path '/fields/2' in the new schema has no default value and is missing in the old schema', additionalInfo:'c'}",
            ],
        ),
        // a reader enum field with an enum default but no field default is
        // checked against the writer record, as Avro Java does
        (
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"e","type":{"type":"enum","name":"E","symbols":["A"],"default":"A"}}]}"#,
            R_INT,
            &[
                "{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/1/type') of a field in the new schema does not match with the old schema', additionalInfo:'reader type: ENUM not compatible with writer type: RECORD'}",
            ],
        ),
        // problems inside recursive types are found once
        (
            r#"{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]},{"name":"v","type":"int"}]}"#,
            r#"{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]},{"name":"v","type":"long"}]}"#,
            &[
                "{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/1/type') of a field in the new schema does not match with the old schema', additionalInfo:'reader type: INT not compatible with writer type: LONG'}",
            ],
        ),
        // an alias is qualified with the schema's own namespace
        (
            r#"{"type":"record","name":"n.New","aliases":["R"],"fields":[{"name":"a","type":"int"}]}"#,
            R_INT,
            &[
                "{errorType:'NAME_MISMATCH', description:'The name of the schema has changed (path '/name')', additionalInfo:'expected: R'}",
            ],
        ),
    ]);
}

#[test]
fn forward_messages_swap_the_roles() {
    let old = ParsedSchema::Avro(avro(R_INT));
    let new = ParsedSchema::Avro(avro(r#"{"type":"record","name":"R","fields":[]}"#));
    let problems = old.read_problems(&new);
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].error_type,
        ErrorType::ReaderFieldMissingDefaultValue
    );
    assert_eq!(
        problems[0].message("old", "new"),
        "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'a' at path '/fields/0' in the old schema has no default value and is missing in the new schema', additionalInfo:'a'}"
    );
}

#[test]
fn many_small_schemas_parse_quickly() {
    let start = std::time::Instant::now();
    for i in 0..2000 {
        let text = format!(
            r#"{{"type":"record","name":"R{i}","namespace":"com.example","fields":[{{"name":"id","type":"long"}},{{"name":"name","type":["null","string"],"default":null}}]}}"#
        );
        let s = avro(&text);
        assert!(s.canonical().contains(&format!("R{i}")));
    }
    // debug build; generous bound, catches accidental quadratic work
    assert!(start.elapsed().as_secs() < 10);
}

#[test]
fn new_schemas_must_have_defaults_that_fit_their_types() {
    let invalid = |text: &str| match avro(text).validate_defaults() {
        Err(FormatError::Invalid { reason, .. }) => reason,
        other => panic!("{text}: {other:?}"),
    };
    let record = |fields: &str| format!(r#"{{"type":"record","name":"r","fields":[{fields}]}}"#);
    assert_eq!(
        invalid(&record(r#"{"name":"s","type":"string","default":null}"#)),
        r#"Invalid default for field s: null not a "string""#
    );
    assert_eq!(
        invalid(&record(r#"{"name":"i","type":"int","default":2147483648}"#)),
        r#"Invalid default for field i: 2147483648 not a "int""#
    );
    // A nested record's fields are met before the outer field's default.
    assert_eq!(
        invalid(&record(
            r#"{"name":"n","type":{"type":"record","name":"in","fields":[{"name":"b","type":"boolean","default":1}]},"default":3}"#
        )),
        r#"Invalid default for field b: 1 not a "boolean""#
    );
    assert_eq!(
        invalid(&record(
            r#"{"name":"a","type":{"type":"array","items":"long"},"default":[1,"x"]}"#
        )),
        r#"Invalid default for field a: [1,"x"] not a {"type":"array","items":"long"}"#
    );
    let valid = [
        r#"{"name":"u","type":["null","string"],"default":"any branch"}"#,
        r#"{"name":"d","type":"double","default":"1.5"}"#,
        r#"{"name":"f","type":"float","default":1}"#,
        r#"{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]},"default":"A"}"#,
        r#"{"name":"m","type":{"type":"map","values":"int"},"default":{"a":1}}"#,
        r#"{"name":"r","type":{"type":"record","name":"R","fields":[{"name":"x","type":"int","default":0}]},"default":{}}"#,
    ];
    for field in valid {
        let text = record(field);
        assert!(avro(&text).validate_defaults().is_ok(), "{text}");
    }
    // Parsing alone does not check them: stored schemas are taken as they are.
    assert!(
        AvroSchema::parse(
            &record(r#"{"name":"s","type":"string","default":null}"#),
            &[]
        )
        .is_ok()
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

    fn tag(text: &str, add: &SchemaTags, remove: &SchemaTags) -> Result<String, FormatError> {
        parse(SchemaType::Avro, text, &[])
            .unwrap()
            .with_tags(add, remove, &[], &Limits::default())
    }

    const PLAIN: &str =
        r#"{"type":"record","name":"myrecord","fields":[{"name":"f1","type":"string"}]}"#;

    /// A request may carry a great many tags, and a stored schema too:
    /// merging, adding and reading them back stays linear.
    #[test]
    fn a_hundred_thousand_tags_on_one_record() {
        let many: Vec<String> = (0..100_000).map(|i| format!("T{i}")).collect();
        let add = vec![
            (
                SchemaEntity::new("myrecord", EntityKind::Record),
                many.clone(),
            ),
            (
                SchemaEntity::new(".myrecord", EntityKind::Record),
                many.clone(),
            ),
        ];
        let text = tag(PLAIN, &add, &Vec::new()).unwrap();
        let listed = parse(SchemaType::Avro, &text, &[])
            .unwrap()
            .tagged_entities();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].1, many);
        let remove = vec![(SchemaEntity::new("myrecord", EntityKind::Record), many)];
        assert_eq!(tag(&text, &Vec::new(), &remove).unwrap(), PLAIN);
    }

    #[test]
    fn record_and_field_tags_go_after_the_standard_attributes() {
        let add = tags(&[("myrecord", EntityKind::Record, &["TAG1"])]);
        let text = tag(PLAIN, &add, &vec![]).unwrap();
        assert_eq!(
            text,
            r#"{"type":"record","name":"myrecord","fields":[{"name":"f1","type":"string"}],"confluent:tags":["TAG1"]}"#
        );
        let add = tags(&[
            ("myrecord", EntityKind::Record, &["TAG1", "TAG2"]),
            ("myrecord.f1", EntityKind::Field, &["TAG2"]),
        ]);
        let text = tag(PLAIN, &add, &vec![]).unwrap();
        assert_eq!(
            text,
            r#"{"type":"record","name":"myrecord","fields":[{"name":"f1","type":"string","confluent:tags":["TAG2"]}],"confluent:tags":["TAG1","TAG2"]}"#
        );
        let tagged = parse(SchemaType::Avro, &text, &[])
            .unwrap()
            .tagged_entities();
        assert_eq!(
            tagged,
            tags(&[
                ("myrecord", EntityKind::Record, &["TAG1", "TAG2"]),
                ("myrecord.f1", EntityKind::Field, &["TAG2"]),
            ])
        );
        // Removing TAG2 keeps TAG1; removing the last tag drops the key.
        let remove = tags(&[("myrecord", EntityKind::Record, &["TAG2"])]);
        let text2 = tag(&text, &vec![], &remove).unwrap();
        assert!(
            text2.ends_with(r#"}],"confluent:tags":["TAG1"]}"#),
            "{text2}"
        );
        let remove = tags(&[
            ("myrecord", EntityKind::Record, &["TAG1", "TAG2"]),
            ("myrecord.f1", EntityKind::Field, &["TAG2"]),
        ]);
        assert_eq!(tag(&text, &vec![], &remove).unwrap(), PLAIN);
    }

    const NESTED: &str = r#"{
      "type": "record", "name": "sampleRecord", "namespace": "com.example.mynamespace",
      "fields": [
        {"name": "my_field1", "type": {"type": "record", "name": "nestedRecordWithoutNamespace",
          "fields": [{"name": "nested_field1", "type": "string"}]}},
        {"name": "my_field2", "type": ["null", {"type": "record", "name": "nestedRecordWithNamespace",
          "namespace": "com.example.mynamespace.nested",
          "fields": [{"name": "nested_field2", "type": "double", "default": 0,
                      "confluent:tags": ["PRIVATE"]}]}]},
        {"name": "my_field3", "type": {"type": "map", "values": {"type": "record",
          "name": "recordMapValue", "namespace": "",
          "fields": [{"name": "v", "type": "int"}]}}}
      ]}"#;

    #[test]
    fn nested_records_by_namespace_and_existing_tags_first() {
        let original = parse(SchemaType::Avro, NESTED, &[])
            .unwrap()
            .canonical()
            .to_owned();
        let add = tags(&[
            (
                "com.example.mynamespace.sampleRecord",
                EntityKind::Record,
                &["PII"],
            ),
            (
                "com.example.mynamespace.nestedRecordWithoutNamespace.nested_field1",
                EntityKind::Field,
                &["PII"],
            ),
            (
                "com.example.mynamespace.nested.nestedRecordWithNamespace.nested_field2",
                EntityKind::Field,
                &["PII"],
            ),
            ("recordMapValue", EntityKind::Record, &["PII"]),
        ]);
        let text = tag(&original, &add, &vec![]).unwrap();
        assert!(
            text.contains(
                r#"{"name":"nested_field2","type":"double","default":0,"confluent:tags":["PRIVATE","PII"]}"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"{"name":"nested_field1","type":"string","confluent:tags":["PII"]}"#),
            "{text}"
        );
        let tagged = parse(SchemaType::Avro, &text, &[])
            .unwrap()
            .tagged_entities();
        let paths: Vec<(&str, EntityKind)> = tagged
            .iter()
            .map(|(e, _)| (e.path.as_str(), e.kind))
            .collect();
        assert_eq!(
            paths,
            [
                ("com.example.mynamespace.sampleRecord", EntityKind::Record),
                (
                    "com.example.mynamespace.nestedRecordWithoutNamespace.nested_field1",
                    EntityKind::Field
                ),
                (
                    "com.example.mynamespace.nested.nestedRecordWithNamespace.nested_field2",
                    EntityKind::Field
                ),
                ("recordMapValue", EntityKind::Record),
            ]
        );
        assert_eq!(tagged[2].1, ["PRIVATE", "PII"]);
        // Removing what was added gives back the original text exactly.
        assert_eq!(tag(&text, &vec![], &add).unwrap(), original);
        // Other spellings of the same entities find them too.
        let back = tag(
            &text,
            &vec![],
            &tags(&[
                (
                    "com.example.mynamespace.sampleRecord",
                    EntityKind::Record,
                    &["PII"],
                ),
                (
                    "nestedRecordWithoutNamespace.nested_field1",
                    EntityKind::Field,
                    &["PII"],
                ),
                (
                    ".nestedRecordWithNamespace.nested_field2",
                    EntityKind::Field,
                    &["PII"],
                ),
                ("recordMapValue", EntityKind::Record, &["PII"]),
            ]),
        )
        .unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn equal_entities_merge_and_a_leading_dot_means_any_namespace() {
        let add = tags(&[
            ("myrecord.f1", EntityKind::Field, &["TAG1"]),
            (".myrecord.f1", EntityKind::Field, &["TAG2"]),
        ]);
        let text = tag(PLAIN, &add, &vec![]).unwrap();
        assert!(
            text.contains(r#""confluent:tags":["TAG1","TAG2"]"#),
            "{text}"
        );
    }

    #[test]
    fn unknown_paths_answer_confluents_text() {
        let add = tags(&[("does.not.exist", EntityKind::Field, &["T"])]);
        let err = tag(PLAIN, &add, &vec![]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "java.lang.IllegalArgumentException: No matching path 'does.not.exist' found in the schema"
        );
        // The namespace must match when one is given.
        let add = tags(&[("other.myrecord", EntityKind::Record, &["T"])]);
        assert!(tag(PLAIN, &add, &vec![]).is_err());
        // A field path needs a record name.
        let add = tags(&[("f1", EntityKind::Field, &["T"])]);
        assert_eq!(
            tag(PLAIN, &add, &vec![]).unwrap_err().to_string(),
            "java.lang.IllegalArgumentException: 0 > -1"
        );
    }
}
