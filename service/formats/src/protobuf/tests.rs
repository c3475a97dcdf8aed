#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::{ParsedSchema, SchemaType, parse as parse_any};

fn schema(text: &str) -> ProtobufSchema {
    ProtobufSchema::parse(text, &[]).unwrap()
}

fn with_deps(text: &str, deps: &[(&str, &str)]) -> ProtobufSchema {
    let deps: Vec<Dependency> = deps
        .iter()
        .map(|(n, s)| Dependency {
            name: (*n).to_owned(),
            schema: (*s).to_owned(),
        })
        .collect();
    ProtobufSchema::parse(text, &deps).unwrap()
}

/// Confluent's differences from `original` to `update` as `TYPE #/path`.
fn diff(original: &str, update: &str) -> Vec<String> {
    diff_schemas(&schema(original), &schema(update))
}

fn diff_schemas(original: &ProtobufSchema, update: &ProtobufSchema) -> Vec<String> {
    let mut out: Vec<String> = update
        .differences(original)
        .into_iter()
        .map(|d| format!("{} {}", d.change, d.path))
        .collect();
    out.sort();
    out
}

fn compatible(original: &str, update: &str) -> bool {
    schema(update).read_problems(&schema(original)).is_empty()
}

const P3: &str = "syntax = \"proto3\";\n";

fn p3(body: &str) -> String {
    format!("{P3}{body}")
}

// ---- printing ----

#[test]
fn prints_confluents_layout() {
    let s = schema(
        "syntax = \"proto3\";\npackage foo;\nimport \"google/protobuf/timestamp.proto\";\noption java_package = \"a.b\";\nmessage M {\n    enum E { A = 0; }\n    message N { string s = 1; }\n    N n = 2; int32 i = 1 [deprecated = true];\n    oneof o { string x = 3; int64 y = 4; }\n    reserved 5, 7 to 9;\n    reserved \"old\";\n    map<string, N> m = 10;\n    optional string opt = 11;\n    google.protobuf.Timestamp t = 12;\n}\nenum Top { T = 0; }\nmessage Empty {}\nservice S { rpc Get (M) returns (stream M.N); }\n",
    );
    assert_eq!(
        s.canonical(),
        "syntax = \"proto3\";\npackage foo;\n\nimport \"google/protobuf/timestamp.proto\";\n\noption java_package = \"a.b\";\n\nmessage M {\n  reserved 5, 7 to 9;\n  reserved \"old\";\n\n  N n = 2;\n  int32 i = 1 [deprecated = true];\n  map<string, N> m = 10;\n  optional string opt = 11;\n  google.protobuf.Timestamp t = 12;\n\n  oneof o {\n    string x = 3;\n    int64 y = 4;\n  }\n\n  message N {\n    string s = 1;\n  }\n  enum E {\n    A = 0;\n  }\n}\nmessage Empty {}\nenum Top {\n  T = 0;\n}\n\nservice S {\n  rpc Get (M) returns (stream M.N);\n}\n"
    );
}

#[test]
fn reformatted_input_prints_the_same() {
    let a = schema("syntax=\"proto3\";message A{string s=1;int32 n=2;}");
    let b = schema(
        "// a comment\nsyntax = \"proto3\";\n\nmessage A {\n  string s = 1; // the name\n\n  int32 n = 2;\n}\n",
    );
    assert_eq!(a.canonical(), b.canonical());
    assert_eq!(
        a.canonical(),
        "syntax = \"proto3\";\n\nmessage A {\n  string s = 1;\n  int32 n = 2;\n}\n"
    );
}

#[test]
fn proto2_labels_and_defaults_are_kept() {
    let s = schema(
        "syntax = \"proto2\";\nmessage A {\n  required string s = 1 [default = \"x\\\"y\"];\n  optional int32 n = 2 [default = 7, json_name = \"num\"];\n  extensions 100 to max;\n}\n",
    );
    assert_eq!(
        s.canonical(),
        "syntax = \"proto2\";\n\nmessage A {\n  required string s = 1 [default = \"x\\\"y\"];\n  optional int32 n = 2 [\n    default = 7,\n    json_name = \"num\"\n  ];\n\n  extensions 100 to max;\n}\n"
    );
}

#[test]
fn option_values_of_message_type_print_as_maps() {
    let s = schema(
        "syntax = \"proto3\";\nimport \"confluent/meta.proto\";\nmessage A {\n  string s = 1 [(confluent.field_meta) = { doc: \"d\", tags: [\"PII\"] }];\n}\n",
    );
    assert!(
        s.canonical().contains(
            "string s = 1 [(confluent.field_meta) = {\n    doc: \"d\",\n    tags: [\n      \"PII\"\n    ]\n  }];"
        ),
        "{}",
        s.canonical()
    );
}

#[test]
fn normalized_form_sorts_and_qualifies() {
    let s = schema(
        "syntax = \"proto3\";\npackage p;\noption java_package = \"x\";\noption go_package = \"a\";\nmessage A {\n  B b = 3;\n  int32 a = 1;\n  map<string, B> m = 2;\n  oneof o { string z = 9; string y = 8; }\n  message B { int32 q = 1; }\n  enum E { X = 0; Z = 2; Y = 1; }\n}\n",
    );
    assert_eq!(
        s.normalized(),
        "syntax = \"proto3\";\npackage p;\n\noption go_package = \"a\";\noption java_package = \"x\";\n\nmessage A {\n  int32 a = 1;\n  map<string, .p.A.B> m = 2;\n  .p.A.B b = 3;\n\n  oneof o {\n    string y = 8;\n    string z = 9;\n  }\n\n  message B {\n    int32 q = 1;\n  }\n  enum E {\n    X = 0;\n    Y = 1;\n    Z = 2;\n  }\n}\n"
    );
    // Differently qualified spellings normalize alike.
    let t = schema(
        "syntax = \"proto3\";\npackage p;\noption go_package = \"a\";\noption java_package = \"x\";\nmessage A {\n  int32 a = 1;\n  map<string, p.A.B> m = 2;\n  .p.A.B b = 3;\n  oneof o { string y = 8; string z = 9; }\n  message B { int32 q = 1; }\n  enum E { X = 0; Y = 1; Z = 2; }\n}\n",
    );
    assert_ne!(s.canonical(), t.canonical());
    assert_eq!(s.normalized(), t.normalized());
}

#[test]
fn serialized_form_reads_back_as_the_same_schema() {
    let s = schema(&p3(
        "package p;\nimport \"google/protobuf/timestamp.proto\";\nmessage A {\n  google.protobuf.Timestamp t = 1;\n  map<string, int64> c = 2;\n  optional string o = 3;\n}\n",
    ));
    let back = ProtobufSchema::parse(&s.serialized(), &[]).unwrap();
    assert_eq!(
        back.canonical(),
        "syntax = \"proto3\";\npackage p;\n\nimport \"google/protobuf/timestamp.proto\";\n\nmessage A {\n  .google.protobuf.Timestamp t = 1;\n  repeated .p.A.CEntry c = 2;\n  optional string o = 3;\n\n  message CEntry {\n    option map_entry = true;\n  \n    string key = 1;\n    int64 value = 2;\n  }\n}\n"
    );
    assert_eq!(back.normalized(), s.normalized());
    assert!(back.differences(&s).is_empty());
}

#[test]
fn a_descriptor_whose_names_no_file_could_hold_is_refused() {
    // A package name that is no identifier: the stored text would not read back.
    let file = prost_types::FileDescriptorProto {
        name: Some("x.proto".into()),
        package: Some("\nWatch.v1(0".into()),
        syntax: Some("proto3".into()),
        message_type: vec![prost_types::DescriptorProto {
            name: Some("A".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let text = base64::engine::general_purpose::STANDARD.encode(file.encode_to_vec());
    let err = ProtobufSchema::parse(&text, &[]).unwrap_err().to_string();
    assert!(
        err.contains(r"'\nWatch.v1(0' is not a valid name in a .proto file"),
        "{err}"
    );
    // Whitespace would print as a file that reads back as another text.
    let spaced = prost_types::FileDescriptorProto {
        package: Some("\nmessage\n".into()),
        ..file.clone()
    };
    let text = base64::engine::general_purpose::STANDARD.encode(spaced.encode_to_vec());
    assert!(ProtobufSchema::parse(&text, &[]).is_err());
    let field = prost_types::FileDescriptorProto {
        package: Some("ok.v1".into()),
        message_type: vec![prost_types::DescriptorProto {
            name: Some("A".into()),
            field: vec![prost_types::FieldDescriptorProto {
                name: Some("1st".into()),
                number: Some(1),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..file
    };
    let text = base64::engine::general_purpose::STANDARD.encode(field.encode_to_vec());
    let err = ProtobufSchema::parse(&text, &[]).unwrap_err().to_string();
    assert!(err.contains("'1st' is not a valid name"), "{err}");
}

#[test]
fn a_descriptor_of_an_unknown_syntax_is_refused() {
    let file = |syntax: &str| prost_types::FileDescriptorProto {
        name: Some("x.proto".into()),
        syntax: Some(syntax.into()),
        message_type: vec![prost_types::DescriptorProto {
            name: Some("A".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let encoded = |syntax: &str| {
        base64::engine::general_purpose::STANDARD.encode(file(syntax).encode_to_vec())
    };
    let err = ProtobufSchema::parse(&encoded("proto4"), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown syntax 'proto4'"), "{err}");
    let set = prost_types::FileDescriptorSet {
        file: vec![file("editions")],
    };
    let err = schema_from_descriptor_set(&set.encode_to_vec(), &Limits::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown syntax 'editions'"), "{err}");
    // Empty is proto2.
    let s = ProtobufSchema::parse(&encoded(""), &[]).unwrap();
    assert!(s.canonical().contains("message A"));
}

#[test]
fn descriptor_ranges_at_the_ends_of_i32_print_without_overflow() {
    let message = prost_types::DescriptorProto {
        name: Some("A".into()),
        extension_range: vec![prost_types::descriptor_proto::ExtensionRange {
            start: Some(i32::MIN),
            end: Some(i32::MIN),
            options: None,
        }],
        reserved_range: vec![prost_types::descriptor_proto::ReservedRange {
            start: Some(i32::MAX),
            end: Some(i32::MIN),
        }],
        ..Default::default()
    };
    let set = prost_types::FileDescriptorSet {
        file: vec![prost_types::FileDescriptorProto {
            name: Some("x.proto".into()),
            message_type: vec![message],
            ..Default::default()
        }],
    };
    let text = schema_from_descriptor_set(&set.encode_to_vec(), &Limits::default()).unwrap();
    assert!(text.contains("extensions -2147483648;"), "{text}");
    // Such ranges are no schema: the text is refused when parsed.
    assert!(ProtobufSchema::parse(&text, &[]).is_err());
}

// ---- parsing and imports ----

#[test]
fn invalid_text_names_line_and_column() {
    let err = ProtobufSchema::parse(&p3("message A {\n  int32 x = 1\n}\n"), &[]).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("schema.proto:4:1:"), "{text}");
    assert!(text.contains("expected ';'"), "{text}");
}

#[test]
fn unknown_types_and_imports_are_refused_with_their_place() {
    let err = ProtobufSchema::parse(&p3("message A {\n  Nope x = 1;\n}\n"), &[]).unwrap_err();
    assert!(err.to_string().contains("schema.proto:3:3:"), "{err}");
    // An import that is not there is skipped, as Confluent skips it; what
    // is refused is a type that then resolves nowhere.
    assert!(ProtobufSchema::parse(&p3("import \"other.proto\";\nmessage A {}\n"), &[]).is_ok());
    let err = ProtobufSchema::parse(
        &p3("import \"other.proto\";\nmessage A {\n  Nope x = 1;\n}\n"),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("schema.proto: name 'Nope' is not defined"),
        "{err}"
    );
}

#[test]
fn bundled_files_import_without_references() {
    for (path, ty) in [
        (
            "google/protobuf/timestamp.proto",
            "google.protobuf.Timestamp",
        ),
        (
            "google/protobuf/wrappers.proto",
            "google.protobuf.StringValue",
        ),
        ("google/type/money.proto", "google.type.Money"),
        ("google/type/datetime.proto", "google.type.DateTime"),
        ("google/type/phone_number.proto", "google.type.PhoneNumber"),
        ("confluent/type/decimal.proto", "confluent.type.Decimal"),
        ("confluent/meta.proto", "confluent.Meta"),
    ] {
        let text = p3(&format!(
            "import \"{path}\";\nmessage A {{\n  {ty} v = 1;\n}}\n"
        ));
        assert!(ProtobufSchema::parse(&text, &[]).is_ok(), "{path}");
    }
}

#[test]
fn references_resolve_transitively() {
    let base = p3("package base;\nmessage Id { string v = 1; }\n");
    let mid = p3("package mid;\nimport \"base.proto\";\nmessage Ref { base.Id id = 1; }\n");
    let top = p3("import \"mid.proto\";\nmessage Top { mid.Ref r = 1; }\n");
    // Without the transitive file, the middle one does not compile.
    assert!(
        ProtobufSchema::parse(
            &top,
            &[Dependency {
                name: "mid.proto".into(),
                schema: mid.clone()
            }]
        )
        .is_err()
    );
    let s = with_deps(&top, &[("base.proto", &base), ("mid.proto", &mid)]);
    assert!(s.canonical().contains("import \"mid.proto\";"));
}

#[test]
fn proto2_extensions_services_and_groups_parse() {
    let s = schema(
        "syntax = \"proto2\";\npackage e;\nmessage Base {\n  extensions 100 to 199;\n  optional group G = 1 { optional int32 a = 2; }\n}\nextend Base {\n  optional string note = 100;\n}\nservice S { rpc Do (Base) returns (Base); }\n",
    );
    assert!(
        s.canonical()
            .contains("extend Base {\n  optional string note = 100;\n}\n"),
        "{}",
        s.canonical()
    );
    assert!(s.canonical().contains("service S {"));
}

#[test]
fn a_descriptor_set_yields_its_last_file() {
    let s = schema(&p3("message A { string s = 1; }\n"));
    let file = FileDescriptorProtoBytes::from(&s);
    let set = prost_types::FileDescriptorSet { file: vec![file] };
    let text = schema_from_descriptor_set(&set.encode_to_vec(), &Limits::default()).unwrap();
    assert_eq!(
        ProtobufSchema::parse(&text, &[]).unwrap().canonical(),
        "syntax = \"proto3\";\n\nmessage A {\n  string s = 1;\n}\n"
    );
    assert!(schema_from_descriptor_set(b"\xff\xff", &Limits::default()).is_err());
}

struct FileDescriptorProtoBytes;

impl FileDescriptorProtoBytes {
    fn from(s: &ProtobufSchema) -> prost_types::FileDescriptorProto {
        s.compiled.file.clone()
    }
}

// ---- compatibility rules ----

#[test]
fn package_change_breaks() {
    assert_eq!(
        diff(
            &p3("package a;\nmessage M {}\n"),
            &p3("package b;\nmessage M {}\n")
        ),
        ["PACKAGE_CHANGED #/"]
    );
    assert!(!compatible(
        &p3("package a;\nmessage M {}\n"),
        &p3("package b;\nmessage M {}\n")
    ));
}

#[test]
fn fields_added_and_removed_are_compatible_unless_required() {
    let one = p3("message M { string a = 1; }");
    let two = p3("message M { string a = 1; int32 b = 2; }");
    assert_eq!(diff(&one, &two), ["FIELD_ADDED #/M/2"]);
    assert_eq!(diff(&two, &one), ["FIELD_REMOVED #/M/2"]);
    assert!(compatible(&one, &two) && compatible(&two, &one));
    let p2_one = "syntax = \"proto2\";\nmessage M { optional string a = 1; }";
    let p2_two = "syntax = \"proto2\";\nmessage M { optional string a = 1; required int32 b = 2; }";
    assert_eq!(diff(p2_one, p2_two), ["REQUIRED_FIELD_ADDED #/M/2"]);
    assert_eq!(diff(p2_two, p2_one), ["REQUIRED_FIELD_REMOVED #/M/2"]);
    assert!(!compatible(p2_one, p2_two) && !compatible(p2_two, p2_one));
}

#[test]
fn renaming_a_field_is_compatible() {
    let a = p3("message M { string a = 1; }");
    let b = p3("message M { string b = 1; }");
    assert_eq!(diff(&a, &b), ["FIELD_NAME_CHANGED #/M/1"]);
    assert!(compatible(&a, &b));
}

#[test]
fn scalar_kinds_group_wire_compatible_types() {
    let with = |t: &str| p3(&format!("message M {{ {t} f = 1; }}"));
    assert!(diff(&with("int32"), &with("int64")).is_empty());
    assert!(diff(&with("string"), &with("bytes")).is_empty());
    assert!(diff(&with("fixed32"), &with("sfixed32")).is_empty());
    assert_eq!(
        diff(&with("int32"), &with("sint32")),
        ["FIELD_SCALAR_KIND_CHANGED #/M/1"]
    );
    assert_eq!(
        diff(&with("float"), &with("double")),
        ["FIELD_SCALAR_KIND_CHANGED #/M/1"]
    );
    assert!(!compatible(&with("string"), &with("int32")));
    // An enum is a general number.
    let e = p3("message M { E f = 1; }\nenum E { Z = 0; }");
    assert_eq!(diff(&with("int32"), &e), ["ENUM_ADDED #/E"]);
}

#[test]
fn kind_changes_between_scalar_message_and_map_break() {
    let scalar = p3("message M { int32 f = 1; }");
    let message = p3("message M { N f = 1; }\nmessage N {}");
    let map = p3("message M { map<string, int32> f = 1; }");
    assert_eq!(
        diff(&scalar, &message),
        ["FIELD_KIND_CHANGED #/M/1", "MESSAGE_ADDED #/N"]
    );
    assert_eq!(
        diff(&message, &map),
        ["FIELD_KIND_CHANGED #/M/1", "MESSAGE_REMOVED #/N"]
    );
    assert!(!compatible(&scalar, &map));
}

#[test]
fn map_keys_and_values_compare_as_fields() {
    let a = p3("message M { map<string, int32> f = 1; }");
    let b = p3("message M { map<string, int64> f = 1; }");
    let c = p3("message M { map<string, string> f = 1; }");
    assert!(diff(&a, &b).is_empty());
    assert_eq!(diff(&a, &c), ["FIELD_SCALAR_KIND_CHANGED #/M/1"]);
}

#[test]
fn message_types_compare_by_local_name() {
    let a = p3("message M { N f = 1; }\nmessage N {}\nmessage O {}");
    let b = p3("message M { O f = 1; }\nmessage N {}\nmessage O {}");
    assert_eq!(diff(&a, &b), ["FIELD_NAMED_TYPE_CHANGED #/M/1"]);
    // Qualification does not matter.
    let c = p3("message M { .N f = 1; }\nmessage N {}\nmessage O {}");
    assert!(diff(&a, &c).is_empty());
}

#[test]
fn labels_matter_for_numbers_not_strings() {
    let with = |l: &str, t: &str| p3(&format!("message M {{ {l} {t} f = 1; }}"));
    assert_eq!(
        diff(&with("optional", "int32"), &with("repeated", "int32")),
        ["FIELD_NUMERIC_LABEL_CHANGED #/M/1"]
    );
    assert!(!compatible(
        &with("optional", "int32"),
        &with("repeated", "int32")
    ));
    assert_eq!(
        diff(&with("optional", "string"), &with("repeated", "string")),
        ["FIELD_STRING_OR_BYTES_LABEL_CHANGED #/M/1"]
    );
    assert!(compatible(
        &with("optional", "string"),
        &with("repeated", "string")
    ));
    // No label written: nothing to compare.
    assert!(diff(&with("", "int32"), &with("repeated", "int32")).is_empty());
}

#[test]
fn messages_and_enums_added_removed_moved() {
    let a = p3("message A {}\nmessage B {}\nenum E { Z = 0; }");
    let b = p3("message B {}\nmessage A {}\nmessage C {}");
    assert_eq!(
        diff(&a, &b),
        [
            "ENUM_REMOVED #/E",
            "MESSAGE_ADDED #/C",
            "MESSAGE_MOVED #/A",
            "MESSAGE_MOVED #/B"
        ]
    );
    assert!(compatible(&a, &b));
    assert_eq!(
        diff(&b, &a),
        [
            "ENUM_ADDED #/E",
            "MESSAGE_MOVED #/A",
            "MESSAGE_MOVED #/B",
            "MESSAGE_REMOVED #/C"
        ]
    );
    assert!(!compatible(&b, &a));
}

#[test]
fn nested_types_have_nested_paths() {
    let a = p3("message W { message T { string a = 1; } }");
    let b = p3("message W { message T { string a = 1; int32 b = 2; } }");
    assert_eq!(diff(&a, &b), ["FIELD_ADDED #/W/T/2"]);
}

#[test]
fn enum_constants() {
    let a = p3("enum E { A = 0; B = 1; }");
    let b = p3("enum E { A = 0; C = 1; D = 2; }");
    assert_eq!(
        diff(&a, &b),
        ["ENUM_CONST_ADDED #/E/2", "ENUM_CONST_CHANGED #/E/1"]
    );
    assert_eq!(
        diff(&b, &a),
        ["ENUM_CONST_CHANGED #/E/1", "ENUM_CONST_REMOVED #/E/2"]
    );
    assert!(compatible(&a, &b) && compatible(&b, &a));
}

#[test]
fn oneof_rules() {
    let flat = p3("message M { int32 a = 1; int32 b = 2; }");
    let one_in = p3("message M { oneof o { int32 a = 1; } int32 b = 2; }");
    let both_in = p3("message M { oneof o { int32 a = 1; int32 b = 2; } }");
    assert_eq!(diff(&flat, &one_in), ["ONEOF_ADDED #/M/o"]);
    assert!(compatible(&flat, &one_in));
    assert_eq!(
        diff(&flat, &both_in),
        ["MULTIPLE_FIELDS_MOVED_TO_ONEOF #/M/o", "ONEOF_ADDED #/M/o"]
    );
    assert!(!compatible(&flat, &both_in));
    assert_eq!(
        diff(&one_in, &both_in),
        ["FIELD_MOVED_TO_EXISTING_ONEOF #/M/o"]
    );
    assert_eq!(
        diff(&both_in, &one_in),
        ["ONEOF_FIELD_MOVED_TO_TOP_LEVEL #/M/2"]
    );
    assert!(compatible(&both_in, &one_in));

    let two = p3("message M { oneof o { int32 a = 1; int32 b = 2; } }");
    let three = p3("message M { oneof o { int32 a = 1; int32 b = 2; int32 c = 3; } }");
    assert_eq!(diff(&two, &three), ["ONEOF_FIELD_ADDED #/M/o/3"]);
    assert!(compatible(&two, &three));
    assert_eq!(diff(&three, &two), ["ONEOF_FIELD_REMOVED #/M/o/3"]);
    assert!(!compatible(&three, &two));

    // A whole oneof dropped is compatible; a renamed one keeps comparing
    // its members' types.
    let none = p3("message M {}");
    assert_eq!(diff(&two, &none), ["ONEOF_REMOVED #/M/o"]);
    assert!(compatible(&two, &none));
    let renamed = p3("message M { oneof r { int32 a = 1; string b = 2; } }");
    assert_eq!(
        diff(&two, &renamed),
        [
            "FIELD_SCALAR_KIND_CHANGED #/M/r/2",
            "ONEOF_ADDED #/M/r",
            "ONEOF_REMOVED #/M/o"
        ]
    );
}

#[test]
fn proto3_optional_is_not_a_oneof() {
    let a = p3("message M { optional int32 a = 1; }");
    let b = p3("message M { optional int32 a = 1; optional string b = 2; }");
    assert_eq!(diff(&a, &b), ["FIELD_ADDED #/M/2"]);
}

#[test]
fn imported_types_are_compared_when_they_come_from_different_files() {
    let dep1 = p3("package d;\nmessage H { int32 id = 1; }\n");
    let dep2 = p3("package d;\nmessage H { string id = 1; }\n");
    let dep3 = p3("package d2;\nmessage H { int32 id = 1; }\n");
    let main1 = p3("import \"h1.proto\";\nmessage T { d.H h = 1; }\n");
    let main2 = p3("import \"h2.proto\";\nmessage T { d.H h = 1; }\n");
    let main3 = p3("import \"h3.proto\";\nmessage T { d2.H h = 1; }\n");
    let a = with_deps(&main1, &[("h1.proto", &dep1)]);
    let b = with_deps(&main2, &[("h2.proto", &dep2)]);
    let c = with_deps(&main3, &[("h3.proto", &dep3)]);
    assert_eq!(
        diff_schemas(&a, &b),
        [
            "FIELD_NAMED_TYPE_CHANGED #/T/1",
            "FIELD_SCALAR_KIND_CHANGED #/H/1"
        ]
    );
    assert!(!b.read_problems(&a).is_empty());
    // Another package, the same local name and shape: compatible.
    assert!(diff_schemas(&a, &c).is_empty());
    // The very same imported file is not compared again.
    let same = with_deps(&main1, &[("h1.proto", &dep1)]);
    assert!(diff_schemas(&a, &same).is_empty());
}

#[test]
fn moving_a_message_into_an_import_removes_it_here() {
    let dep = p3("message H { int32 id = 1; }\n");
    let local = p3("message T { H h = 1; }\nmessage H { int32 id = 1; }\n");
    let imported = with_deps(
        &p3("import \"h.proto\";\nmessage T { H h = 1; }\n"),
        &[("h.proto", &dep)],
    );
    assert_eq!(
        diff_schemas(&schema(&local), &imported),
        ["MESSAGE_REMOVED #/H"]
    );
    assert_eq!(
        diff_schemas(&imported, &schema(&local)),
        ["MESSAGE_ADDED #/H"]
    );
}

#[test]
fn recursive_types_end() {
    let a = p3("message N { N next = 1; int32 v = 2; }");
    let b = p3("message N { N next = 1; int64 v = 2; }");
    assert!(diff(&a, &b).is_empty());
}

// ---- through the format-neutral API ----

#[test]
fn messages_are_confluents() {
    let old = parse_any(
        SchemaType::Protobuf,
        &p3("message M { string f = 1; }"),
        &[],
    )
    .unwrap();
    let new = parse_any(SchemaType::Protobuf, &p3("message M { int32 f = 1; }"), &[]).unwrap();
    let problems = new.read_problems(&old);
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].message("new", "old"),
        "{errorType:\"FIELD_SCALAR_KIND_CHANGED\", description:\"The kind of a SCALAR field at path '#/M/1' in the new schema does not match its kind in the old schema\"}"
    );
    let avro = parse_any(SchemaType::Avro, "\"string\"", &[]).unwrap();
    assert!(matches!(new, ParsedSchema::Protobuf(_)));
    assert_eq!(
        new.read_problems(&avro)[0].message("new", "old"),
        "Incompatible because of different schema type"
    );
    assert!(new.serialized().is_some() && avro.serialized().is_none());
}

#[test]
fn printed_text_reads_back_to_itself() {
    for text in [
        "syntax = \"proto3\";\npackage foo;\nimport \"google/protobuf/timestamp.proto\";\noption java_package = \"a.b\";\nmessage M {\n  enum E { A = 0; }\n  message N { string s = 1; }\n  N n = 2; int32 i = 1 [deprecated = true, json_name = \"eye\"];\n  oneof o { string x = 3; int64 y = 4; }\n  reserved 5, 7 to 9;\n  reserved \"old\";\n  map<string, N> m = 10;\n  optional string opt = 11;\n  google.protobuf.Timestamp t = 12;\n}\nservice S { rpc Get (M) returns (stream M.N) { option deprecated = true; } }\n",
        "syntax = \"proto2\";\nmessage A {\n  required string s = 1 [default = \"x\"];\n  optional int32 n = 2 [default = -7];\n  extensions 100 to max;\n}\nextend A { optional string note = 100; }\n",
        "syntax = \"proto3\";\nimport \"confluent/meta.proto\";\nmessage A {\n  option (confluent.message_meta).doc = \"m\";\n  string s = 1 [(confluent.field_meta) = { doc: \"d\", params: [{ key: \"k\", value: \"v\" }] }];\n}\n",
    ] {
        let once = schema(text);
        let twice = schema(once.canonical());
        assert_eq!(once.canonical(), twice.canonical());
        let normalized = schema(&once.normalized());
        assert_eq!(normalized.normalized(), once.normalized());
        assert!(twice.differences(&once).is_empty());
    }
}

#[test]
fn descriptors_print_as_confluent_prints_them_but_descriptor_sets_as_text() {
    // protoc (and protox) give every field a JSON name, and maps an entry
    // message: Confluent prints both back for a base64 descriptor.
    let s = schema(&p3(
        "package p;\nmessage A {\n  string my_name = 1;\n  map<string, int32> m = 2;\n}\n",
    ));
    let mut file = s.compiled.file.clone();
    file.source_code_info = None;
    let encoded = base64::engine::general_purpose::STANDARD.encode(file.encode_to_vec());
    assert_eq!(
        ProtobufSchema::parse(&encoded, &[]).unwrap().canonical(),
        "syntax = \"proto3\";\npackage p;\n\nmessage A {\n  string my_name = 1 [json_name = \"myName\"];\n  repeated .p.A.MEntry m = 2 [json_name = \"m\"];\n\n  message MEntry {\n    option map_entry = true;\n  \n    string key = 1 [json_name = \"key\"];\n    int32 value = 2 [json_name = \"value\"];\n  }\n}\n"
    );
    // The gRPC descriptor set reads as the text would.
    let set = prost_types::FileDescriptorSet { file: vec![file] };
    let text = schema_from_descriptor_set(&set.encode_to_vec(), &Limits::default()).unwrap();
    assert_eq!(
        text,
        "syntax = \"proto3\";\npackage p;\n\nmessage A {\n  string my_name = 1;\n  map<string, int32> m = 2;\n}\n"
    );
}

// ---- what Confluent accepts unresolved ----

/// Options no definition is given for, everywhere an option can stand.
const UNDEFINED_OPTIONS: &str = "syntax = \"proto3\";\npackage p;\noption (file_opt) = \"f\";\noption testBackslash = \"back\\\\slash\";\nmessage A {\n  option (msg_opt).a.b = 1;\n  option (com.custom.map).subject = 'user-value';\n  option (com.custom.map).compatibility_mode = FULL;\n  int32 x = 1 [(my_opt) = 1, deprecated = true];\n  oneof o {\n    option (my_option) = true;\n    string y = 2;\n  }\n  enum E {\n    option (enum_opt) = { a: 1 };\n    Z = 0 [(value_opt) = -1.5];\n  }\n}\nservice S {\n  option (svc) = true;\n  rpc M (A) returns (A) {\n    option (m) = \"x\";\n  }\n}\n";

#[test]
fn options_that_resolve_to_nothing_are_kept_as_written() {
    let s = schema(UNDEFINED_OPTIONS);
    assert_eq!(
        s.canonical(),
        "syntax = \"proto3\";\npackage p;\n\noption (file_opt) = \"f\";\noption testBackslash = \"back\\\\slash\";\n\nmessage A {\n  option (msg_opt).a.b = 1;\n  option (com.custom.map).subject = \"user-value\";\n  option (com.custom.map).compatibility_mode = FULL;\n\n  int32 x = 1 [\n    (my_opt) = 1,\n    deprecated = true\n  ];\n\n  oneof o {\n    option (my_option) = true;\n  \n    string y = 2;\n  }\n\n  enum E {\n    option (enum_opt) = {\n      a: 1\n    };\n    Z = 0 [(value_opt) = -1.5];\n  }\n}\n\nservice S {\n  option (svc) = true;\n\n  rpc M (A) returns (A) {\n    option (m) = \"x\";\n  };\n}\n"
    );
    // Normalized: sorted by the name before any sub-field, the same name
    // keeping its written order; nothing qualified.
    assert_eq!(
        s.normalized(),
        "syntax = \"proto3\";\npackage p;\n\noption (file_opt) = \"f\";\noption testBackslash = \"back\\\\slash\";\n\nmessage A {\n  option (com.custom.map).subject = \"user-value\";\n  option (com.custom.map).compatibility_mode = FULL;\n  option (msg_opt).a.b = 1;\n\n  int32 x = 1 [\n    deprecated = true,\n    (my_opt) = 1\n  ];\n\n  oneof o {\n    option (my_option) = true;\n  \n    string y = 2;\n  }\n\n  enum E {\n    option (enum_opt) = {\n      a: 1\n    };\n    Z = 0 [(value_opt) = -1.5];\n  }\n}\n\nservice S {\n  option (svc) = true;\n\n  rpc M (.p.A) returns (.p.A) {\n    option (m) = \"x\";\n  };\n}\n"
    );
    // The stored text reads back to itself, and the normalized one too.
    assert_eq!(schema(s.canonical()).canonical(), s.canonical());
    assert_eq!(schema(&s.normalized()).normalized(), s.normalized());
}

#[test]
fn confluents_own_unresolved_options_example_prints_as_it_does() {
    // Confluent's testComplexCustomOptions: neither the import nor the
    // `com.custom.map` extension is there.
    let s = schema(
        "syntax = \"proto3\";\n\nimport \"common/extensions.proto\";\nimport \"confluent/meta.proto\";\n\npackage com.custom.example.v0;\n\noption go_package = \"example/v0;example\";\noption java_multiple_files = true;\noption (com.custom.map).subject = 'user-value';\noption (com.custom.map).compatibility_mode = FULL;\noption (.confluent.file_meta).doc = \"file meta\";\nmessage User {\n  string first_name = 1;\n  string last_name = 2;\n}",
    );
    assert_eq!(
        s.canonical(),
        "syntax = \"proto3\";\npackage com.custom.example.v0;\n\nimport \"common/extensions.proto\";\nimport \"confluent/meta.proto\";\n\noption go_package = \"example/v0;example\";\noption java_multiple_files = true;\noption (com.custom.map).subject = \"user-value\";\noption (com.custom.map).compatibility_mode = FULL;\noption (.confluent.file_meta).doc = \"file meta\";\n\nmessage User {\n  string first_name = 1;\n  string last_name = 2;\n}\n"
    );
}

#[test]
fn options_take_no_part_in_compatibility() {
    let plain = p3("message A {\n  int32 x = 1;\n  oneof o {\n    string y = 2;\n  }\n}\n");
    let optioned = p3(
        "message A {\n  option (m) = 1;\n  int32 x = 1 [(f) = \"v\"];\n  oneof o {\n    option (my_option) = true;\n    string y = 2;\n  }\n}\n",
    );
    assert!(diff(&plain, &optioned).is_empty());
    assert!(diff(&optioned, &plain).is_empty());
    assert!(compatible(&plain, &optioned) && compatible(&optioned, &plain));
}

#[test]
fn options_that_resolve_still_print_and_bad_types_still_fail() {
    // A defined option beside undefined ones is kept as written too.
    let s = schema(&p3(
        "import \"confluent/meta.proto\";\nmessage A {\n  string s = 1 [(confluent.field_meta).doc = \"d\", (nope) = 2];\n}\n",
    ));
    assert!(
        s.canonical().contains(
            "string s = 1 [\n    (confluent.field_meta).doc = \"d\",\n    (nope) = 2\n  ];"
        ),
        "{}",
        s.canonical()
    );
    // Options are forgiven, types are not.
    let err = ProtobufSchema::parse(
        &p3("message A {\n  option (x) = 1;\n  Nope n = 1;\n}\n"),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("Nope"), "{err}");
}

#[test]
fn an_import_no_reference_is_named_for_is_skipped_and_types_come_from_every_reference() {
    let b = p3("message B {\n  string s = 1;\n}\n");
    let main = p3("import \"other.proto\";\nmessage A {\n  B b = 1;\n}\n");
    let s = with_deps(&main, &[("different_name.proto", &b)]);
    // Stored as written: the import is kept.
    assert_eq!(
        s.canonical(),
        "syntax = \"proto3\";\n\nimport \"other.proto\";\n\nmessage A {\n  B b = 1;\n}\n"
    );
    assert_eq!(
        s.normalized(),
        "syntax = \"proto3\";\n\nimport \"other.proto\";\n\nmessage A {\n  .B b = 1;\n}\n"
    );
    // The normalized text reads back against the same references.
    let back = with_deps(&s.normalized(), &[("different_name.proto", &b)]);
    assert_eq!(back.normalized(), s.normalized());
    // A descriptor of it imports the file its type comes from.
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.serialized())
        .unwrap();
    let file = prost_types::FileDescriptorProto::decode(bytes.as_slice()).unwrap();
    assert_eq!(file.dependency, ["different_name.proto"]);
    // Compared like any other import: a change of the referenced type is
    // seen, the very same file is not compared again.
    let b2 = p3("message B {\n  int32 s = 1;\n}\n");
    let s2 = with_deps(&main, &[("different_name.proto", &b2)]);
    assert_eq!(
        diff_schemas(&s, &s2),
        [
            "FIELD_NAMED_TYPE_CHANGED #/A/1",
            "FIELD_SCALAR_KIND_CHANGED #/B/1"
        ]
    );
    assert!(!s2.read_problems(&s).is_empty());
    let same = with_deps(&main, &[("different_name.proto", &b)]);
    assert!(diff_schemas(&s, &same).is_empty());
    // The type resolving nowhere is refused, as Confluent's "Could not
    // resolve type" is.
    let err = ProtobufSchema::parse(&main, &[]).unwrap_err().to_string();
    assert!(err.contains("name 'B' is not defined"), "{err}");
}

#[test]
fn bundled_files_and_references_lend_types_without_imports() {
    let s = schema(&p3("message A {\n  google.protobuf.Timestamp t = 1;\n}\n"));
    assert_eq!(
        s.normalized(),
        "syntax = \"proto3\";\n\nmessage A {\n  .google.protobuf.Timestamp t = 1;\n}\n"
    );
    // A reference that itself imports what is not there, and takes its
    // types from the references listed before it.
    let b = p3("package b;\nmessage B {\n  string s = 1;\n}\n");
    let mid = p3("package mid;\nimport \"nowhere.proto\";\nmessage Mid {\n  b.B b = 1;\n}\n");
    let top = with_deps(
        &p3("import \"mid.proto\";\nmessage A {\n  mid.Mid m = 1;\n}\n"),
        &[("b.proto", &b), ("mid.proto", &mid)],
    );
    assert!(top.normalized().contains(".mid.Mid m = 1;"));
}
