//! What Confluent's registry accepts that protoc would not: it parses with
//! Square's wire parser and never builds a descriptor when it registers a
//! schema (`validate()` only normalizes it), so
//!
//! - options are never interpreted: a custom option whose extension nobody
//!   defines, or a plain option descriptor.proto does not know, is kept as
//!   written and accepted;
//! - imports are never opened: a type name resolves against every file its
//!   references bring (whatever name they are given) and every file the
//!   registry bundles, and an import matching none of them is skipped.
//!
//! protox wants all of that to resolve, so a schema it refuses is compiled
//! a second time, rewritten here: options it cannot interpret dropped (they
//! have no effect on a compiled descriptor this crate uses), imports it
//! cannot open dropped, and every reference and bundled file imported. What
//! still fails names a type that resolves nowhere, which Confluent refuses
//! too ("Could not resolve type").

use std::collections::{HashMap, HashSet};

use prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto,
    UninterpretedOption,
};
use protox::prost_reflect::DescriptorPool;

use super::wellknown;

/// The plain option names descriptor.proto declares, by options message.
pub(crate) struct KnownOptions {
    file: HashSet<String>,
    message: HashSet<String>,
    field: HashSet<String>,
    oneof: HashSet<String>,
    enumeration: HashSet<String>,
    value: HashSet<String>,
    service: HashSet<String>,
    method: HashSet<String>,
    range: HashSet<String>,
}

impl KnownOptions {
    pub(crate) fn new() -> Self {
        let pool = DescriptorPool::global();
        let names = |message: &str| -> HashSet<String> {
            pool.get_message_by_name(message)
                .map(|m| m.fields().map(|f| f.name().to_owned()).collect())
                .unwrap_or_default()
        };
        Self {
            file: names("google.protobuf.FileOptions"),
            message: names("google.protobuf.MessageOptions"),
            field: names("google.protobuf.FieldOptions"),
            oneof: names("google.protobuf.OneofOptions"),
            enumeration: names("google.protobuf.EnumOptions"),
            value: names("google.protobuf.EnumValueOptions"),
            service: names("google.protobuf.ServiceOptions"),
            method: names("google.protobuf.MethodOptions"),
            range: names("google.protobuf.ExtensionRangeOptions"),
        }
    }
}

/// Keeps the options protox interprets without any definition: those whose
/// first name part is a field of the options message itself.
fn keep_plain(options: &mut Vec<UninterpretedOption>, known: &HashSet<String>) {
    options.retain(|o| {
        o.name
            .first()
            .is_some_and(|part| !part.is_extension && known.contains(&part.name_part))
    });
}

fn field_options(field: &mut FieldDescriptorProto, known: &KnownOptions) {
    if let Some(o) = field.options.as_mut() {
        keep_plain(&mut o.uninterpreted_option, &known.field);
    }
}

fn enum_options(e: &mut EnumDescriptorProto, known: &KnownOptions) {
    if let Some(o) = e.options.as_mut() {
        keep_plain(&mut o.uninterpreted_option, &known.enumeration);
    }
    for v in &mut e.value {
        if let Some(o) = v.options.as_mut() {
            keep_plain(&mut o.uninterpreted_option, &known.value);
        }
    }
}

/// `file` without the options protox could not interpret unaided, without
/// recursing.
fn strip_options(file: &mut FileDescriptorProto, known: &KnownOptions) {
    if let Some(o) = file.options.as_mut() {
        keep_plain(&mut o.uninterpreted_option, &known.file);
    }
    for f in &mut file.extension {
        field_options(f, known);
    }
    for e in &mut file.enum_type {
        enum_options(e, known);
    }
    for s in &mut file.service {
        if let Some(o) = s.options.as_mut() {
            keep_plain(&mut o.uninterpreted_option, &known.service);
        }
        for m in &mut s.method {
            if let Some(o) = m.options.as_mut() {
                keep_plain(&mut o.uninterpreted_option, &known.method);
            }
        }
    }
    let mut stack: Vec<&mut DescriptorProto> = file.message_type.iter_mut().collect();
    while let Some(m) = stack.pop() {
        let DescriptorProto {
            options,
            field,
            extension,
            oneof_decl,
            enum_type,
            extension_range,
            nested_type,
            ..
        } = m;
        if let Some(o) = options.as_mut() {
            keep_plain(&mut o.uninterpreted_option, &known.message);
        }
        for f in field.iter_mut().chain(extension.iter_mut()) {
            field_options(f, known);
        }
        for oneof in oneof_decl.iter_mut() {
            if let Some(o) = oneof.options.as_mut() {
                keep_plain(&mut o.uninterpreted_option, &known.oneof);
            }
        }
        for e in enum_type.iter_mut() {
            enum_options(e, known);
        }
        for r in extension_range.iter_mut() {
            if let Some(o) = r.options.as_mut() {
                keep_plain(&mut o.uninterpreted_option, &known.range);
            }
        }
        stack.extend(nested_type.iter_mut());
    }
}

/// `file`'s imports: the written ones `importable` knows (public and weak
/// ones staying so), then `extra` ones, each once and never itself.
fn rewrite_imports<'a>(
    file: &mut FileDescriptorProto,
    importable: impl Fn(&str) -> bool,
    extra: impl IntoIterator<Item = &'a str>,
) {
    let own = file.name().to_owned();
    let mut seen: HashSet<String> = HashSet::new();
    let mut dependency = Vec::new();
    let mut public = Vec::new();
    let mut weak = Vec::new();
    for (i, name) in file.dependency.iter().enumerate() {
        if name == &own || !importable(name) || !seen.insert(name.clone()) {
            continue;
        }
        let index = i32::try_from(dependency.len()).unwrap_or(i32::MAX);
        let old = i32::try_from(i).unwrap_or(i32::MAX);
        if file.public_dependency.contains(&old) {
            public.push(index);
        }
        if file.weak_dependency.contains(&old) {
            weak.push(index);
        }
        dependency.push(name.clone());
    }
    for name in extra {
        if name != own && seen.insert(name.to_owned()) {
            dependency.push(name.to_owned());
        }
    }
    file.dependency = dependency;
    file.public_dependency = public;
    file.weak_dependency = weak;
}

/// The rewriting of the schema and its references for the second compile.
pub(crate) struct Lenient {
    known: KnownOptions,
    /// Reference names in the order given (the registry lists a file's own
    /// references before it).
    order: Vec<String>,
}

impl Lenient {
    pub(crate) fn new(order: Vec<String>) -> Self {
        Self {
            known: KnownOptions::new(),
            order,
        }
    }

    /// The schema itself: it sees every reference and bundled file.
    pub(crate) fn main(
        &self,
        mut file: FileDescriptorProto,
        importable: impl Fn(&str) -> bool,
    ) -> FileDescriptorProto {
        strip_options(&mut file, &self.known);
        let extra = self.order.iter().map(String::as_str).chain(wellknown::ALL);
        rewrite_imports(&mut file, importable, extra);
        file
    }

    /// A reference: it sees the references listed before it and the
    /// bundled files (none later, which could close an import cycle).
    pub(crate) fn dependency(
        &self,
        mut file: FileDescriptorProto,
        importable: impl Fn(&str) -> bool,
    ) -> FileDescriptorProto {
        strip_options(&mut file, &self.known);
        let own = file.name().to_owned();
        let position = self.order.iter().position(|n| *n == own);
        let before = self.order[..position.unwrap_or(0)]
            .iter()
            .map(String::as_str);
        let bundled = wellknown::ALL
            .into_iter()
            .filter(|n| !self.order.iter().any(|o| o == n));
        rewrite_imports(&mut file, importable, before.chain(bundled));
        file
    }
}

/// The compiled schema's imports cut back to what it was written with (the
/// ones that exist) and the files its type names actually come from, as a
/// descriptor of it should list them.
pub(crate) fn trim_imports(
    file: &mut FileDescriptorProto,
    written: &[String],
    imports: &[FileDescriptorProto],
) {
    let by_name: HashMap<&str, &FileDescriptorProto> =
        imports.iter().map(|f| (f.name(), f)).collect();
    // Where each type is defined.
    let mut home: HashMap<String, &str> = HashMap::new();
    for f in imports {
        let package = f.package();
        let mut stack: Vec<(String, &DescriptorProto)> = f
            .message_type
            .iter()
            .map(|m| (join(package, m.name()), m))
            .collect();
        for e in &f.enum_type {
            home.insert(join(package, e.name()), f.name());
        }
        while let Some((name, m)) = stack.pop() {
            for e in &m.enum_type {
                home.insert(join(&name, e.name()), f.name());
            }
            stack.extend(m.nested_type.iter().map(|n| (join(&name, n.name()), n)));
            home.insert(name, f.name());
        }
    }
    // What the written imports already make visible (public imports pass
    // their files on).
    let kept: Vec<String> = file
        .dependency
        .iter()
        .filter(|d| written.contains(d))
        .cloned()
        .collect();
    let mut visible: HashSet<&str> = HashSet::new();
    let mut work: Vec<&str> = kept.iter().map(String::as_str).collect();
    while let Some(name) = work.pop() {
        if !visible.insert(name) {
            continue;
        }
        if let Some(f) = by_name.get(name) {
            for &i in &f.public_dependency {
                if let Some(d) = usize::try_from(i).ok().and_then(|i| f.dependency.get(i)) {
                    work.push(d.as_str());
                }
            }
        }
    }
    let mut dependency = kept.clone();
    for name in referenced(file) {
        let Some(&origin) = home.get(name.trim_start_matches('.')) else {
            continue;
        };
        if !visible.contains(origin) && !dependency.iter().any(|d| d == origin) {
            dependency.push(origin.to_owned());
        }
    }
    let index_of = |name: &str| {
        dependency
            .iter()
            .position(|d| d == name)
            .and_then(|i| i32::try_from(i).ok())
    };
    let flagged = |indices: &[i32]| -> Vec<i32> {
        indices
            .iter()
            .filter_map(|&i| usize::try_from(i).ok().and_then(|i| file.dependency.get(i)))
            .filter_map(|name| index_of(name))
            .collect()
    };
    let public = flagged(&file.public_dependency);
    let weak = flagged(&file.weak_dependency);
    file.dependency = dependency;
    file.public_dependency = public;
    file.weak_dependency = weak;
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Every type name `file` refers to: field types, extendees, method types.
fn referenced(file: &FileDescriptorProto) -> Vec<String> {
    let mut out = Vec::new();
    let fields = |fields: &[FieldDescriptorProto], out: &mut Vec<String>| {
        for f in fields {
            out.extend(f.type_name.iter().cloned());
            out.extend(f.extendee.iter().cloned());
        }
    };
    fields(&file.extension, &mut out);
    let mut stack: Vec<&DescriptorProto> = file.message_type.iter().collect();
    while let Some(m) = stack.pop() {
        fields(&m.field, &mut out);
        fields(&m.extension, &mut out);
        stack.extend(&m.nested_type);
    }
    for s in &file.service {
        for m in &s.method {
            out.extend(m.input_type.iter().cloned());
            out.extend(m.output_type.iter().cloned());
        }
    }
    out
}
