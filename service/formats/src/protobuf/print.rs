//! The .proto text Confluent's registry stores and returns: its printer's
//! layout (syntax, package, imports, options, messages then enums, extends,
//! services; fields, then oneofs, then nested types), its option and
//! indentation rules, and with `normalize` its normalized form (sorted
//! imports, options, fields, oneofs and enum values; type names fully
//! qualified).

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto,
    ServiceDescriptorProto, UninterpretedOption,
};

/// Field numbers run up to this; Confluent prints `max` for it in ranges.
const MAX_TAG: i32 = 536_870_911;

pub(crate) struct Printer {
    /// Labels and options come as written (text) or from descriptor fields.
    pub(crate) from_text: bool,
    pub(crate) proto2_declared: bool,
    /// The file is proto2 (labels of descriptor fields are then written).
    pub(crate) proto2: bool,
    pub(crate) normalize: bool,
    /// Map fields as Confluent prints a descriptor's: `repeated` fields of
    /// their entry message, which is printed too (`option map_entry`).
    /// Otherwise (and always when normalizing) `map<K, V>`.
    pub(crate) entries_as_messages: bool,
    /// Print a `json_name` even when it is protoc's default one.
    pub(crate) default_json_names: bool,
}

/// An option as Confluent's printer holds it.
struct Opt {
    name: String,
    value: OptValue,
}

enum OptValue {
    /// Printed quoted and escaped.
    Str(String),
    /// Booleans, numbers, enum names: printed as they are.
    Raw(String),
    /// A message value `{ key: value, ... }`.
    Map(Vec<(String, MapValue)>),
}

/// A value inside an aggregate option (also what schema tags rewrite).
#[derive(Debug, Clone)]
pub(crate) enum MapValue {
    Str(String),
    Raw(String),
    Map(Vec<(String, MapValue)>),
    List(Vec<MapValue>),
}

/// Confluent's `appendIndented`: every line two spaces in (Java's split
/// drops trailing empty lines, keeps inner ones).
fn indented(out: &mut String, text: &str) {
    let mut lines: Vec<&str> = text.split('\n').collect();
    while lines.len() > 1 && lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for line in lines {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
}

/// Confluent's `escapeChars`.
pub(crate) fn escape(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        match c {
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn scalar_name(t: Type) -> &'static str {
    match t {
        Type::Double => "double",
        Type::Float => "float",
        Type::Int64 => "int64",
        Type::Uint64 => "uint64",
        Type::Int32 => "int32",
        Type::Fixed64 => "fixed64",
        Type::Fixed32 => "fixed32",
        Type::Bool => "bool",
        Type::String => "string",
        Type::Group => "group",
        Type::Message => "message",
        Type::Bytes => "bytes",
        Type::Uint32 => "uint32",
        Type::Enum => "enum",
        Type::Sfixed32 => "sfixed32",
        Type::Sfixed64 => "sfixed64",
        Type::Sint32 => "sint32",
        Type::Sint64 => "sint64",
    }
}

/// The type as written: a scalar keyword or a type name.
fn type_text(field: &FieldDescriptorProto) -> String {
    match &field.type_name {
        Some(name) if !name.is_empty() => name.clone(),
        _ => scalar_name(field.r#type()).to_owned(),
    }
}

/// protoc's default JSON name: underscores dropped, the next letter upper.
pub(crate) fn default_json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The map entry type a field refers to, among `message`'s nested types.
pub(crate) fn map_entry<'m>(
    message: &'m DescriptorProto,
    field: &FieldDescriptorProto,
) -> Option<&'m DescriptorProto> {
    if field.label() != Label::Repeated {
        return None;
    }
    let name = field.type_name.as_deref()?;
    let last = name.rsplit('.').next()?;
    message
        .nested_type
        .iter()
        .find(|n| n.name() == last && n.options.as_ref().is_some_and(|o| o.map_entry()))
}

fn is_map_entry(message: &DescriptorProto) -> bool {
    message.options.as_ref().is_some_and(|o| o.map_entry())
}

// ---- options ----

fn uninterpreted(options: &[UninterpretedOption]) -> Vec<Opt> {
    options
        .iter()
        .map(|o| {
            let mut name = String::new();
            for (i, part) in o.name.iter().enumerate() {
                if i > 0 {
                    name.push('.');
                }
                // Confluent parenthesizes only the first part.
                if part.is_extension && i == 0 {
                    name.push('(');
                    name.push_str(&part.name_part);
                    name.push(')');
                } else {
                    name.push_str(&part.name_part);
                }
            }
            let value = if let Some(s) = &o.string_value {
                OptValue::Str(String::from_utf8_lossy(s).into_owned())
            } else if let Some(i) = &o.identifier_value {
                OptValue::Raw(i.clone())
            } else if let Some(n) = o.positive_int_value {
                OptValue::Raw(n.to_string())
            } else if let Some(n) = o.negative_int_value {
                OptValue::Raw(n.to_string())
            } else if let Some(d) = o.double_value {
                OptValue::Raw(d.to_string())
            } else if let Some(a) = &o.aggregate_value {
                match parse_aggregate(a) {
                    Some(entries) => OptValue::Map(entries),
                    None => OptValue::Raw(format!("{{ {a} }}")),
                }
            } else {
                OptValue::Raw(String::new())
            };
            Opt { name, value }
        })
        .collect()
}

fn string_opt(out: &mut Vec<Opt>, name: &str, value: Option<&String>) {
    if let Some(v) = value {
        out.push(Opt {
            name: name.to_owned(),
            value: OptValue::Str(v.clone()),
        });
    }
}

fn raw_opt(out: &mut Vec<Opt>, name: &str, value: Option<String>) {
    if let Some(v) = value {
        out.push(Opt {
            name: name.to_owned(),
            value: OptValue::Raw(v),
        });
    }
}

#[allow(deprecated)] // java_generate_equals_and_hash is still printed
fn file_options(file: &FileDescriptorProto, from_text: bool) -> Vec<Opt> {
    let Some(o) = &file.options else {
        return vec![];
    };
    if from_text {
        return uninterpreted(&o.uninterpreted_option);
    }
    let b = |v: Option<bool>| v.map(|b| b.to_string());
    let mut out = Vec::new();
    string_opt(&mut out, "java_package", o.java_package.as_ref());
    string_opt(
        &mut out,
        "java_outer_classname",
        o.java_outer_classname.as_ref(),
    );
    raw_opt(&mut out, "java_multiple_files", b(o.java_multiple_files));
    raw_opt(
        &mut out,
        "java_generate_equals_and_hash",
        b(o.java_generate_equals_and_hash),
    );
    raw_opt(
        &mut out,
        "java_string_check_utf8",
        b(o.java_string_check_utf8),
    );
    raw_opt(
        &mut out,
        "optimize_for",
        o.optimize_for
            .map(|_| o.optimize_for().as_str_name().to_owned()),
    );
    string_opt(&mut out, "go_package", o.go_package.as_ref());
    raw_opt(&mut out, "cc_generic_services", b(o.cc_generic_services));
    raw_opt(
        &mut out,
        "java_generic_services",
        b(o.java_generic_services),
    );
    raw_opt(&mut out, "py_generic_services", b(o.py_generic_services));
    raw_opt(&mut out, "deprecated", b(o.deprecated));
    raw_opt(&mut out, "cc_enable_arenas", b(o.cc_enable_arenas));
    string_opt(&mut out, "objc_class_prefix", o.objc_class_prefix.as_ref());
    string_opt(&mut out, "csharp_namespace", o.csharp_namespace.as_ref());
    string_opt(&mut out, "swift_prefix", o.swift_prefix.as_ref());
    string_opt(&mut out, "php_class_prefix", o.php_class_prefix.as_ref());
    string_opt(&mut out, "php_namespace", o.php_namespace.as_ref());
    string_opt(
        &mut out,
        "php_metadata_namespace",
        o.php_metadata_namespace.as_ref(),
    );
    string_opt(&mut out, "ruby_package", o.ruby_package.as_ref());
    out.extend(uninterpreted(&o.uninterpreted_option));
    out
}

fn message_options(m: &DescriptorProto, from_text: bool) -> Vec<Opt> {
    // Confluent's order for a descriptor: no_standard_descriptor_accessor,
    // deprecated, map_entry, then custom options.
    let Some(o) = &m.options else {
        return vec![];
    };
    if from_text {
        return uninterpreted(&o.uninterpreted_option);
    }
    let mut out = Vec::new();
    raw_opt(
        &mut out,
        "no_standard_descriptor_accessor",
        o.no_standard_descriptor_accessor.map(|b| b.to_string()),
    );
    raw_opt(&mut out, "deprecated", o.deprecated.map(|b| b.to_string()));
    raw_opt(&mut out, "map_entry", o.map_entry.map(|b| b.to_string()));
    out.extend(uninterpreted(&o.uninterpreted_option));
    out
}

fn field_options(f: &FieldDescriptorProto, from_text: bool, default_json_names: bool) -> Vec<Opt> {
    let mut out = Vec::new();
    if let Some(o) = &f.options {
        if from_text {
            out = uninterpreted(&o.uninterpreted_option);
        } else {
            raw_opt(
                &mut out,
                "ctype",
                o.ctype.map(|_| o.ctype().as_str_name().to_owned()),
            );
            raw_opt(&mut out, "packed", o.packed.map(|b| b.to_string()));
            raw_opt(
                &mut out,
                "jstype",
                o.jstype.map(|_| o.jstype().as_str_name().to_owned()),
            );
            raw_opt(&mut out, "deprecated", o.deprecated.map(|b| b.to_string()));
            out.extend(uninterpreted(&o.uninterpreted_option));
        }
    }
    if let Some(default) = &f.default_value {
        let value = match f.r#type() {
            Type::String if f.type_name.as_deref().is_none_or(str::is_empty) => {
                OptValue::Str(default.clone())
            }
            _ => OptValue::Raw(default.clone()),
        };
        out.push(Opt {
            name: "default".to_owned(),
            value,
        });
    }
    if let Some(json) = &f.json_name
        && (default_json_names || *json != default_json_name(f.name()))
    {
        out.push(Opt {
            name: "json_name".to_owned(),
            value: OptValue::Str(json.clone()),
        });
    }
    out
}

fn enum_options(e: &EnumDescriptorProto, from_text: bool) -> Vec<Opt> {
    let Some(o) = &e.options else {
        return vec![];
    };
    if from_text {
        return uninterpreted(&o.uninterpreted_option);
    }
    let mut out = Vec::new();
    raw_opt(
        &mut out,
        "allow_alias",
        o.allow_alias.map(|b| b.to_string()),
    );
    raw_opt(&mut out, "deprecated", o.deprecated.map(|b| b.to_string()));
    out.extend(uninterpreted(&o.uninterpreted_option));
    out
}

/// A text-format message value, as protox-parse hands it over (tokens
/// separated by spaces): `key : value` pairs, nested `{}`, lists `[]`.
/// Repeated keys become a list, as Confluent's parser makes them.
pub(crate) fn parse_aggregate(text: &str) -> Option<Vec<(String, MapValue)>> {
    let tokens = tokenize(text)?;
    let mut pos = 0;
    let entries = parse_entries(&tokens, &mut pos)?;
    (pos == tokens.len()).then_some(entries)
}

fn tokenize(text: &str) -> Option<Vec<String>> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '\'' {
            let quote = c;
            let mut s = String::new();
            s.push(chars.next()?);
            loop {
                let c = chars.next()?;
                s.push(c);
                if c == '\\' {
                    s.push(chars.next()?);
                } else if c == quote {
                    break;
                }
            }
            tokens.push(s);
        } else if "{}[]:,;<>".contains(c) {
            tokens.push(c.to_string());
            chars.next();
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || "{}[]:,;<>\"'".contains(c) {
                    break;
                }
                s.push(c);
                chars.next();
            }
            tokens.push(s);
        }
    }
    Some(tokens)
}

/// A quoted token's text: protobuf's escapes (protox-parse writes bytes
/// outside printable ASCII as `\xHH`), read as UTF-8.
fn unquote(token: &str) -> String {
    let inner = &token[1..token.len().saturating_sub(1).max(1)];
    let mut out: Vec<u8> = Vec::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    let mut utf8 = [0u8; 4];
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            continue;
        }
        let Some(e) = chars.next() else { break };
        let byte = match e {
            'n' => b'\n',
            't' => b'\t',
            'r' => b'\r',
            'a' => 0x07,
            'b' => 0x08,
            'f' => 0x0c,
            'v' => 0x0b,
            'x' | 'X' => {
                let mut value = 0u32;
                let mut digits = 0;
                while digits < 2
                    && let Some(d) = chars.peek().and_then(|d| d.to_digit(16))
                {
                    value = value * 16 + d;
                    digits += 1;
                    chars.next();
                }
                if digits == 0 {
                    out.push(b'x');
                    continue;
                }
                value as u8
            }
            '0'..='7' => {
                let mut value = e.to_digit(8).unwrap_or(0);
                let mut digits = 1;
                while digits < 3
                    && let Some(d) = chars.peek().and_then(|d| d.to_digit(8))
                {
                    value = value * 8 + d;
                    digits += 1;
                    chars.next();
                }
                (value & 0xff) as u8
            }
            other => {
                out.extend_from_slice(other.encode_utf8(&mut utf8).as_bytes());
                continue;
            }
        };
        out.push(byte);
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_entries(tokens: &[String], pos: &mut usize) -> Option<Vec<(String, MapValue)>> {
    let mut entries: Vec<(String, MapValue)> = Vec::new();
    while *pos < tokens.len() && tokens[*pos] != "}" && tokens[*pos] != ">" {
        let mut key = tokens[*pos].clone();
        *pos += 1;
        if key == "[" {
            key = String::from("[");
            while *pos < tokens.len() && tokens[*pos] != "]" {
                key.push_str(&tokens[*pos]);
                *pos += 1;
            }
            key.push(']');
            *pos += 1;
        }
        if tokens.get(*pos).is_some_and(|t| t == ":") {
            *pos += 1;
        }
        let value = parse_value(tokens, pos)?;
        if tokens.get(*pos).is_some_and(|t| t == "," || t == ";") {
            *pos += 1;
        }
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, MapValue::List(items))) => items.push(value),
            Some((_, existing)) => {
                let first = std::mem::replace(existing, MapValue::List(vec![]));
                *existing = MapValue::List(vec![first, value]);
            }
            None => entries.push((key, value)),
        }
    }
    Some(entries)
}

fn parse_value(tokens: &[String], pos: &mut usize) -> Option<MapValue> {
    let token = tokens.get(*pos)?.clone();
    *pos += 1;
    match token.as_str() {
        "{" | "<" => {
            let entries = parse_entries(tokens, pos)?;
            *pos += 1;
            Some(MapValue::Map(entries))
        }
        "[" => {
            let mut items = Vec::new();
            while tokens.get(*pos).is_some_and(|t| t != "]") {
                items.push(parse_value(tokens, pos)?);
                if tokens.get(*pos).is_some_and(|t| t == ",") {
                    *pos += 1;
                }
            }
            *pos += 1;
            Some(MapValue::List(items))
        }
        t if t.starts_with('"') || t.starts_with('\'') => {
            let mut s = unquote(t);
            // Adjacent string literals concatenate.
            while tokens
                .get(*pos)
                .is_some_and(|t| t.starts_with('"') || t.starts_with('\''))
            {
                s.push_str(&unquote(&tokens[*pos]));
                *pos += 1;
            }
            Some(MapValue::Str(s))
        }
        "-" => {
            let next = tokens.get(*pos)?.clone();
            *pos += 1;
            Some(MapValue::Raw(format!("-{next}")))
        }
        t => Some(MapValue::Raw(t.to_owned())),
    }
}

impl Printer {
    fn option_text(&self, opt: &Opt) -> String {
        let mut s = opt.name.clone();
        match &opt.value {
            OptValue::Str(v) => {
                s.push_str(" = \"");
                s.push_str(&escape(v));
                s.push('"');
            }
            OptValue::Raw(v) => {
                s.push_str(" = ");
                s.push_str(v);
            }
            OptValue::Map(entries) => {
                s.push_str(" = {\n");
                self.option_map(&mut s, entries);
                s.push('}');
            }
        }
        s
    }

    fn option_map(&self, out: &mut String, entries: &[(String, MapValue)]) {
        let mut order: Vec<&(String, MapValue)> = entries.iter().collect();
        if self.normalize {
            order.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let last = order.len().saturating_sub(1);
        for (i, (key, value)) in order.into_iter().enumerate() {
            let end = if i != last { "," } else { "" };
            indented(out, &format!("{key}: {}{end}", self.map_value(value)));
        }
    }

    fn map_value(&self, value: &MapValue) -> String {
        match value {
            MapValue::Str(s) => format!("\"{}\"", escape(s)),
            MapValue::Raw(r) => r.clone(),
            MapValue::Map(entries) => {
                let mut s = String::from("{\n");
                self.option_map(&mut s, entries);
                s.push('}');
                s
            }
            MapValue::List(items) => {
                let mut s = String::from("[\n");
                let last = items.len().saturating_sub(1);
                for (i, item) in items.iter().enumerate() {
                    let end = if i != last { "," } else { "" };
                    indented(&mut s, &format!("{}{end}", self.map_value(item)));
                }
                s.push(']');
                s
            }
        }
    }

    fn sorted(&self, mut options: Vec<Opt>) -> Vec<Opt> {
        if self.normalize {
            options.sort_by(|a, b| option_sort_name(&a.name).cmp(option_sort_name(&b.name)));
        }
        options
    }

    fn option_statements(&self, out: &mut String, options: Vec<Opt>, indent: bool) {
        for opt in self.sorted(options) {
            let line = format!("option {};\n", self.option_text(&opt));
            if indent {
                indented(out, &line);
            } else {
                out.push_str(&line);
            }
        }
    }

    fn inline_options(&self, out: &mut String, options: Vec<Opt>) {
        let options = self.sorted(options);
        if options.len() == 1 {
            out.push('[');
            out.push_str(&self.option_text(&options[0]));
            out.push(']');
            return;
        }
        out.push_str("[\n");
        let count = options.len();
        for (i, opt) in options.iter().enumerate() {
            let end = if i + 1 < count { "," } else { "" };
            indented(out, &format!("{}{end}", self.option_text(opt)));
        }
        out.push(']');
    }

    // ---- file ----

    pub(crate) fn file(&self, file: &FileDescriptorProto) -> String {
        let mut out = String::new();
        match file.syntax.as_deref() {
            Some(s) if !s.is_empty() => {
                out.push_str("syntax = \"");
                out.push_str(s);
                out.push_str("\";\n");
            }
            _ if self.proto2_declared => {
                out.push_str("syntax = \"proto2\";\n");
            }
            _ => {}
        }
        if let Some(p) = file.package.as_deref().filter(|p| !p.is_empty()) {
            out.push_str("package ");
            out.push_str(p);
            out.push_str(";\n");
        }
        if !file.dependency.is_empty() {
            out.push('\n');
            let mut plain = Vec::new();
            let mut public = Vec::new();
            for (i, d) in file.dependency.iter().enumerate() {
                if file.public_dependency.contains(&(i as i32)) {
                    public.push(d.as_str());
                } else {
                    plain.push(d.as_str());
                }
            }
            if self.normalize {
                plain.sort_unstable();
                plain.dedup();
                public.sort_unstable();
                public.dedup();
            }
            for d in plain {
                out.push_str(&format!("import \"{d}\";\n"));
            }
            for d in public {
                out.push_str(&format!("import public \"{d}\";\n"));
            }
        }
        let options = file_options(file, self.from_text);
        if !options.is_empty() {
            out.push('\n');
            self.option_statements(&mut out, options, false);
        }
        if !file.message_type.is_empty() || !file.enum_type.is_empty() {
            out.push('\n');
            for m in &file.message_type {
                out.push_str(&self.message(m));
            }
            for e in &file.enum_type {
                out.push_str(&self.enumeration(e));
            }
        }
        if !file.extension.is_empty() {
            out.push('\n');
            out.push_str(&self.extends(&file.extension));
        }
        if !file.service.is_empty() {
            out.push('\n');
            for s in &file.service {
                out.push_str(&self.service(s));
            }
        }
        out
    }

    /// Top-level `extend` blocks, one per run of fields extending the same
    /// type.
    fn extends(&self, fields: &[FieldDescriptorProto]) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < fields.len() {
            let extendee = fields[i].extendee();
            let mut block = format!("extend {extendee} {{\n");
            while i < fields.len() && fields[i].extendee() == extendee {
                indented(&mut block, &self.field(&fields[i], None, false));
                i += 1;
            }
            block.push_str("}\n");
            out.push_str(&block);
        }
        out
    }

    fn service(&self, service: &ServiceDescriptorProto) -> String {
        let mut out = format!("service {} {{", service.name());
        let options = match &service.options {
            Some(o) if self.from_text => uninterpreted(&o.uninterpreted_option),
            Some(o) => {
                let mut v = Vec::new();
                raw_opt(&mut v, "deprecated", o.deprecated.map(|b| b.to_string()));
                v
            }
            None => vec![],
        };
        if !options.is_empty() {
            out.push('\n');
            self.option_statements(&mut out, options, true);
        }
        if !service.method.is_empty() {
            out.push('\n');
            for m in &service.method {
                let mut rpc = format!("rpc {} (", m.name());
                if m.client_streaming() {
                    rpc.push_str("stream ");
                }
                rpc.push_str(m.input_type());
                rpc.push_str(") returns (");
                if m.server_streaming() {
                    rpc.push_str("stream ");
                }
                rpc.push_str(m.output_type());
                rpc.push(')');
                let options = match &m.options {
                    Some(o) if self.from_text => uninterpreted(&o.uninterpreted_option),
                    Some(o) => {
                        let mut v = Vec::new();
                        raw_opt(&mut v, "deprecated", o.deprecated.map(|b| b.to_string()));
                        raw_opt(
                            &mut v,
                            "idempotency_level",
                            o.idempotency_level
                                .map(|_| o.idempotency_level().as_str_name().to_owned()),
                        );
                        v
                    }
                    None => vec![],
                };
                if !options.is_empty() {
                    rpc.push_str(" {\n");
                    self.option_statements(&mut rpc, options, true);
                    rpc.push('}');
                }
                rpc.push_str(";\n");
                indented(&mut out, &rpc);
            }
        }
        out.push_str("}\n");
        out
    }

    // ---- messages ----

    fn message(&self, m: &DescriptorProto) -> String {
        let mut out = format!("message {} {{", m.name());
        let reserved = self.reserved(m);
        if !reserved.is_empty() {
            out.push('\n');
            for r in reserved {
                indented(&mut out, &r);
            }
        }
        let options = message_options(m, self.from_text);
        if !options.is_empty() {
            out.push('\n');
            self.option_statements(&mut out, options, true);
        }
        let real_oneof = |f: &FieldDescriptorProto| f.oneof_index.is_some() && !f.proto3_optional();
        let mut fields: Vec<&FieldDescriptorProto> =
            m.field.iter().filter(|f| !real_oneof(f)).collect();
        if !fields.is_empty() {
            out.push('\n');
            if self.normalize {
                fields.sort_by_key(|f| f.number());
            }
            for f in fields {
                indented(&mut out, &self.field(f, Some(m), false));
            }
        }
        let mut oneofs: Vec<(usize, Vec<&FieldDescriptorProto>)> = m
            .oneof_decl
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let members = m
                    .field
                    .iter()
                    .filter(|f| real_oneof(f) && f.oneof_index == Some(i as i32))
                    .collect::<Vec<_>>();
                (i, members)
            })
            .filter(|(i, members)| {
                // Synthetic oneofs of proto3 `optional` fields are not
                // written; empty ones Confluent drops when normalizing.
                let synthetic = m
                    .field
                    .iter()
                    .any(|f| f.proto3_optional() && f.oneof_index == Some(*i as i32));
                !synthetic && (!self.normalize || !members.is_empty())
            })
            .collect();
        if !oneofs.is_empty() {
            out.push('\n');
            if self.normalize {
                for (_, members) in &mut oneofs {
                    members.sort_by_key(|f| f.number());
                }
                oneofs.sort_by_key(|(_, members)| members.first().map(|f| f.number()));
            }
            for (i, members) in oneofs {
                let decl = &m.oneof_decl[i];
                let mut text = format!("oneof {} {{", decl.name());
                let options = match &decl.options {
                    Some(o) => uninterpreted(&o.uninterpreted_option),
                    None => vec![],
                };
                if !options.is_empty() {
                    text.push('\n');
                    self.option_statements(&mut text, options, true);
                }
                if !members.is_empty() {
                    text.push('\n');
                    for f in members {
                        indented(&mut text, &self.field(f, Some(m), true));
                    }
                }
                text.push_str("}\n");
                indented(&mut out, &text);
            }
        }
        if !m.extension_range.is_empty() {
            out.push('\n');
            for r in &m.extension_range {
                // Exclusive in a descriptor; one from a stranger may hold anything.
                let end = r.end().saturating_sub(1);
                let text = if r.start() == end {
                    format!("extensions {};\n", r.start())
                } else if end >= MAX_TAG {
                    format!("extensions {} to max;\n", r.start())
                } else {
                    format!("extensions {} to {end};\n", r.start())
                };
                indented(&mut out, &text);
            }
        }
        let keep_entries = self.entries_as_messages && !self.normalize;
        let nested: Vec<&DescriptorProto> = m
            .nested_type
            .iter()
            .filter(|n| keep_entries || !is_map_entry(n))
            .collect();
        if !nested.is_empty() || !m.enum_type.is_empty() {
            out.push('\n');
            for n in nested {
                indented(&mut out, &self.message(n));
            }
            for e in &m.enum_type {
                indented(&mut out, &self.enumeration(e));
            }
        }
        out.push_str("}\n");
        out
    }

    fn reserved(&self, m: &DescriptorProto) -> Vec<String> {
        let range = |start: i32, end: i32| {
            let last = end.saturating_sub(1);
            if last == start {
                start.to_string()
            } else {
                format!("{start} to {last}")
            }
        };
        if self.normalize {
            let mut items: Vec<(i32, String)> = m
                .reserved_range
                .iter()
                .map(|r| (r.start(), range(r.start(), r.end())))
                .chain(
                    m.reserved_name
                        .iter()
                        .map(|n| (i32::MAX, format!("\"{n}\""))),
                )
                .collect();
            items.sort();
            return items
                .into_iter()
                .map(|(_, v)| format!("reserved {v};\n"))
                .collect();
        }
        if !self.from_text {
            // Confluent makes one statement of each range and name of a
            // descriptor.
            return m
                .reserved_range
                .iter()
                .map(|r| format!("reserved {};\n", range(r.start(), r.end())))
                .chain(
                    m.reserved_name
                        .iter()
                        .map(|n| format!("reserved \"{n}\";\n")),
                )
                .collect();
        }
        let mut out = Vec::new();
        if !m.reserved_range.is_empty() {
            let values: Vec<String> = m
                .reserved_range
                .iter()
                .map(|r| range(r.start(), r.end()))
                .collect();
            out.push(format!("reserved {};\n", values.join(", ")));
        }
        if !m.reserved_name.is_empty() {
            let values: Vec<String> = m.reserved_name.iter().map(|n| format!("\"{n}\"")).collect();
            out.push(format!("reserved {};\n", values.join(", ")));
        }
        out
    }

    /// The label Confluent prints, which is the label written: proto3
    /// fields carry `optional` only when declared so (`proto3_optional`),
    /// proto2 fields always carry theirs, oneof members never.
    fn label(&self, f: &FieldDescriptorProto, in_oneof: bool) -> Option<&'static str> {
        if in_oneof {
            return None;
        }
        match f.label() {
            Label::Repeated => Some("repeated"),
            Label::Required => Some("required"),
            Label::Optional if f.proto3_optional() || self.proto2 => Some("optional"),
            Label::Optional => None,
        }
    }

    fn field(
        &self,
        f: &FieldDescriptorProto,
        owner: Option<&DescriptorProto>,
        in_oneof: bool,
    ) -> String {
        let mut out = String::new();
        let entry = owner
            .filter(|_| self.normalize || !self.entries_as_messages)
            .and_then(|m| map_entry(m, f));
        match entry {
            Some(entry) => {
                let key = entry.field.iter().find(|f| f.number() == 1);
                let value = entry.field.iter().find(|f| f.number() == 2);
                out.push_str(&format!(
                    "map<{}, {}>",
                    key.map(type_text).unwrap_or_default(),
                    value.map(type_text).unwrap_or_default()
                ));
            }
            None => {
                if let Some(label) = self.label(f, in_oneof) {
                    out.push_str(label);
                    out.push(' ');
                }
                out.push_str(&type_text(f));
            }
        }
        out.push(' ');
        out.push_str(f.name());
        out.push_str(" = ");
        out.push_str(&f.number().to_string());
        let options = field_options(f, self.from_text, self.default_json_names);
        if !options.is_empty() {
            out.push(' ');
            self.inline_options(&mut out, options);
        }
        out.push_str(";\n");
        out
    }

    fn enumeration(&self, e: &EnumDescriptorProto) -> String {
        let mut out = format!("enum {} {{", e.name());
        let options = enum_options(e, self.from_text);
        if !options.is_empty() || !e.value.is_empty() {
            out.push('\n');
        }
        self.option_statements(&mut out, options, true);
        let mut values: Vec<_> = e.value.iter().collect();
        if self.normalize {
            values.sort_by(|a, b| (a.number(), a.name()).cmp(&(b.number(), b.name())));
        }
        for v in values {
            let mut line = format!("{} = {}", v.name(), v.number());
            let options = match &v.options {
                Some(o) if self.from_text => uninterpreted(&o.uninterpreted_option),
                Some(o) => {
                    let mut opts = Vec::new();
                    raw_opt(&mut opts, "deprecated", o.deprecated.map(|b| b.to_string()));
                    opts.extend(uninterpreted(&o.uninterpreted_option));
                    opts
                }
                None => vec![],
            };
            if !options.is_empty() {
                line.push(' ');
                self.inline_options(&mut line, options);
            }
            line.push_str(";\n");
            indented(&mut out, &line);
        }
        out.push_str("}\n");
        out
    }
}

/// Options sort (stably) by the name Confluent's parser gives them: of
/// `(a.b).c.d` only `a.b`, of a plain `a.b` all of it.
fn option_sort_name(name: &str) -> &str {
    match name.strip_prefix('(') {
        Some(rest) => rest.split(')').next().unwrap_or(rest),
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indenting_keeps_inner_blank_lines_and_drops_trailing_ones() {
        let mut out = String::new();
        indented(&mut out, "a\n\nb\n");
        assert_eq!(out, "  a\n  \n  b\n");
    }

    #[test]
    fn escapes_like_confluent() {
        assert_eq!(escape("a\"b'\\\n"), "a\\\"b\\'\\\\\\n");
    }

    #[test]
    fn aggregate_values_become_maps_with_lists_for_repeated_keys() {
        let p = Printer {
            from_text: true,
            proto2_declared: false,
            proto2: false,
            normalize: false,
            entries_as_messages: false,
            default_json_names: true,
        };
        let entries = parse_aggregate("doc : \"hi\" tags : \"a\" tags : \"b\"").unwrap();
        let opt = Opt {
            name: "(confluent.field_meta)".into(),
            value: OptValue::Map(entries),
        };
        assert_eq!(
            p.option_text(&opt),
            "(confluent.field_meta) = {\n  doc: \"hi\",\n  tags: [\n    \"a\",\n    \"b\"\n  ]\n}"
        );
    }

    #[test]
    fn default_json_names_are_lower_camel_case() {
        assert_eq!(default_json_name("foo_bar_baz"), "fooBarBaz");
    }
}
