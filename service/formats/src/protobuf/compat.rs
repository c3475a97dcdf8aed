//! Confluent's Protobuf compatibility rules: a diff of the original (the
//! writer) against the update (the reader) into Confluent's change types,
//! some of which break compatibility. Fields are matched by number across
//! the whole message (oneof members included), messages and enums by name,
//! and a message-typed field whose type comes from another file compares
//! that type too.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto,
};

use super::parse::Compiled;
use super::print::scalar_name;

/// Confluent's `Difference.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeType {
    PackageChanged,
    MessageAdded,
    MessageRemoved,
    MessageMoved,
    EnumAdded,
    EnumRemoved,
    EnumConstAdded,
    EnumConstChanged,
    EnumConstRemoved,
    FieldAdded,
    FieldRemoved,
    FieldNameChanged,
    FieldKindChanged,
    FieldScalarKindChanged,
    FieldNamedTypeChanged,
    FieldNumericLabelChanged,
    FieldStringOrBytesLabelChanged,
    RequiredFieldAdded,
    RequiredFieldRemoved,
    OneofAdded,
    OneofRemoved,
    OneofFieldAdded,
    OneofFieldRemoved,
    OneofFieldMovedToTopLevel,
    MultipleFieldsMovedToOneof,
    FieldMovedToExistingOneof,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        use ChangeType::*;
        match self {
            PackageChanged => "PACKAGE_CHANGED",
            MessageAdded => "MESSAGE_ADDED",
            MessageRemoved => "MESSAGE_REMOVED",
            MessageMoved => "MESSAGE_MOVED",
            EnumAdded => "ENUM_ADDED",
            EnumRemoved => "ENUM_REMOVED",
            EnumConstAdded => "ENUM_CONST_ADDED",
            EnumConstChanged => "ENUM_CONST_CHANGED",
            EnumConstRemoved => "ENUM_CONST_REMOVED",
            FieldAdded => "FIELD_ADDED",
            FieldRemoved => "FIELD_REMOVED",
            FieldNameChanged => "FIELD_NAME_CHANGED",
            FieldKindChanged => "FIELD_KIND_CHANGED",
            FieldScalarKindChanged => "FIELD_SCALAR_KIND_CHANGED",
            FieldNamedTypeChanged => "FIELD_NAMED_TYPE_CHANGED",
            FieldNumericLabelChanged => "FIELD_NUMERIC_LABEL_CHANGED",
            FieldStringOrBytesLabelChanged => "FIELD_STRING_OR_BYTES_LABEL_CHANGED",
            RequiredFieldAdded => "REQUIRED_FIELD_ADDED",
            RequiredFieldRemoved => "REQUIRED_FIELD_REMOVED",
            OneofAdded => "ONEOF_ADDED",
            OneofRemoved => "ONEOF_REMOVED",
            OneofFieldAdded => "ONEOF_FIELD_ADDED",
            OneofFieldRemoved => "ONEOF_FIELD_REMOVED",
            OneofFieldMovedToTopLevel => "ONEOF_FIELD_MOVED_TO_TOP_LEVEL",
            MultipleFieldsMovedToOneof => "MULTIPLE_FIELDS_MOVED_TO_ONEOF",
            FieldMovedToExistingOneof => "FIELD_MOVED_TO_EXISTING_ONEOF",
        }
    }

    /// Whether Confluent lets this change through.
    pub fn is_compatible(self) -> bool {
        use ChangeType::*;
        matches!(
            self,
            MessageAdded
                | MessageMoved
                | EnumAdded
                | EnumRemoved
                | EnumConstAdded
                | EnumConstChanged
                | EnumConstRemoved
                | FieldAdded
                | FieldRemoved
                | FieldNameChanged
                | FieldStringOrBytesLabelChanged
                | OneofAdded
                | OneofRemoved
                | OneofFieldAdded
                | OneofFieldMovedToTopLevel
        )
    }

    /// Confluent's description, the reader's and writer's roles named.
    pub fn description(self, path: &str, reader: &str, writer: &str) -> String {
        use ChangeType::*;
        match self {
            PackageChanged => format!(
                "The package at '{path}' in the {reader} schema does not match the package in the {writer} schema"
            ),
            MessageRemoved => format!(
                "The {reader} schema is missing a MESSAGE type at path '{path}' in the {writer} schema"
            ),
            FieldKindChanged => format!(
                "The type of a field at path '{path}' in the {reader} schema does not match the {writer} schema"
            ),
            FieldScalarKindChanged => format!(
                "The kind of a SCALAR field at path '{path}' in the {reader} schema does not match its kind in the {writer} schema"
            ),
            FieldNamedTypeChanged => format!(
                "The type of a MESSAGE field at path '{path}' in the {reader} schema does not match its type in the {writer} schema"
            ),
            FieldNumericLabelChanged => format!(
                "The label for a NUMERIC field at path '{path}' in the {reader} schema does not match its label in the {writer} schema"
            ),
            RequiredFieldAdded => format!(
                "A required field  at path '{path}' in the {reader} schema is missing in the {writer} schema"
            ),
            RequiredFieldRemoved => format!(
                "The {reader} schema is missing a required field at path: '{path}' in the {writer} schema"
            ),
            OneofFieldRemoved => format!(
                "The {reader} schema is missing a oneof field at path '{path}' in the {writer} schema"
            ),
            MultipleFieldsMovedToOneof => format!(
                "Multiple fields in the oneof at path '{path}' in the {reader} schema are outside a oneof in the {writer} schema"
            ),
            FieldMovedToExistingOneof => format!(
                "A field in the oneof at path '{path}' in the {reader} schema is outside an existing oneof in the {writer} schema"
            ),
            _ => String::new(),
        }
    }
}

impl fmt::Display for ChangeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference: its type and Confluent's JSON-pointer-like path
/// (`#/Message/3`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub change: ChangeType,
    pub path: String,
}

/// Where a type was declared: the schema itself, or an import (by path and
/// text, so that two schemas importing the very same file skip comparing
/// it, as Confluent skips the same subject and version).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin<'a> {
    Main,
    Import(&'a str, Option<&'a str>),
}

#[derive(Clone, Copy)]
enum Declared<'a> {
    Message(&'a DescriptorProto),
    Enum,
}

#[derive(Clone, Copy)]
struct TypeInfo<'a> {
    package: &'a str,
    origin: Origin<'a>,
    declared: Declared<'a>,
}

type Index<'a> = HashMap<String, TypeInfo<'a>>;

fn index_file<'a>(index: &mut Index<'a>, file: &'a FileDescriptorProto, origin: Origin<'a>) {
    fn messages<'a>(
        index: &mut Index<'a>,
        prefix: &str,
        package: &'a str,
        origin: Origin<'a>,
        list: &'a [DescriptorProto],
        enums: &'a [EnumDescriptorProto],
    ) {
        for m in list {
            let name = join(prefix, m.name());
            messages(index, &name, package, origin, &m.nested_type, &m.enum_type);
            index.insert(
                name,
                TypeInfo {
                    package,
                    origin,
                    declared: Declared::Message(m),
                },
            );
        }
        for e in enums {
            index.insert(
                join(prefix, e.name()),
                TypeInfo {
                    package,
                    origin,
                    declared: Declared::Enum,
                },
            );
        }
    }
    let package = file.package();
    messages(
        index,
        package,
        package,
        origin,
        &file.message_type,
        &file.enum_type,
    );
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn build_index(schema: &Compiled) -> Index<'_> {
    let mut index = HashMap::new();
    for f in &schema.imports {
        let text = schema.import_texts.get(f.name()).map(String::as_str);
        index_file(&mut index, f, Origin::Import(f.name(), text));
    }
    index_file(&mut index, &schema.file, Origin::Main);
    index
}

fn is_map_entry(m: &DescriptorProto) -> bool {
    m.options.as_ref().is_some_and(|o| o.map_entry())
}

/// A field's type as Confluent's rules see it.
#[derive(Clone, PartialEq)]
enum FieldType {
    Scalar(&'static str),
    Named(String),
    Map(Box<FieldType>, Box<FieldType>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    Map,
    Message,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ScalarKind {
    GeneralNumber,
    SignedNumber,
    StringOrBytes,
    Fixed32,
    Fixed64,
    Float,
    Double,
    Other,
}

/// The label as written in source: proto3 fields without one, oneof
/// members and map fields have none.
fn written_label(f: &FieldDescriptorProto, proto2: bool) -> Option<Label> {
    if f.oneof_index.is_some() && !f.proto3_optional() {
        return None;
    }
    match f.label() {
        Label::Optional if !proto2 && !f.proto3_optional() => None,
        label => Some(label),
    }
}

/// How many messages one check may compare. Message-typed fields from other
/// files compare their types afresh at each use, as Confluent's diff does, so
/// a chain of files whose messages each use the next twice costs 2^n: past
/// this many, the check answers incompatible and says it stopped.
pub(crate) const MAX_MESSAGE_COMPARISONS: usize = 200_000;

/// What one check may still do, shared by its nested comparisons.
struct Budget {
    left: Cell<usize>,
    exhausted: Cell<bool>,
}

impl Budget {
    /// Takes one comparison, or says the check must stop (budget spent or
    /// the caller's deadline passed).
    fn take(&self) -> bool {
        if self.exhausted.get() || self.left.get() == 0 || crate::limits::expired() {
            self.exhausted.set(true);
            return false;
        }
        self.left.set(self.left.get() - 1);
        true
    }
}

struct Context<'a> {
    budget: &'a Budget,
    original: &'a Index<'a>,
    update: &'a Index<'a>,
    original_proto2: bool,
    update_proto2: bool,
    path: Vec<String>,
    /// Originals being compared, so recursive types end.
    entered: HashSet<String>,
    diffs: Vec<Difference>,
}

impl<'a> Context<'a> {
    fn add(&mut self, change: ChangeType) {
        self.diffs.push(Difference {
            change,
            path: format!("#/{}", self.path.join("/")),
        });
    }

    fn add_at(&mut self, parts: &[&str], change: ChangeType) {
        let n = self.path.len();
        self.path.extend(parts.iter().map(|p| (*p).to_owned()));
        self.add(change);
        self.path.truncate(n);
    }

    fn field_type(&self, f: &FieldDescriptorProto, original: bool) -> FieldType {
        match f.r#type() {
            Type::Message | Type::Group | Type::Enum => {
                let name = f.type_name().trim_start_matches('.').to_owned();
                let index = if original { self.original } else { self.update };
                if let Some(TypeInfo {
                    declared: Declared::Message(m),
                    ..
                }) = index.get(&name)
                    && is_map_entry(m)
                {
                    let part = |n: i32| {
                        m.field
                            .iter()
                            .find(|f| f.number() == n)
                            .map(|f| self.field_type(f, original))
                            .unwrap_or(FieldType::Scalar("bytes"))
                    };
                    return FieldType::Map(Box::new(part(1)), Box::new(part(2)));
                }
                FieldType::Named(name)
            }
            t => FieldType::Scalar(scalar_name(t)),
        }
    }

    fn lookup(&self, name: &str, original: bool) -> Option<&TypeInfo<'a>> {
        if original {
            self.original.get(name)
        } else {
            self.update.get(name)
        }
    }

    fn kind(&self, t: &FieldType, original: bool) -> Kind {
        match t {
            FieldType::Scalar(_) => Kind::Scalar,
            FieldType::Map(..) => Kind::Map,
            FieldType::Named(n) => match self.lookup(n, original) {
                Some(TypeInfo {
                    declared: Declared::Enum,
                    ..
                }) => Kind::Scalar,
                _ => Kind::Message,
            },
        }
    }

    fn scalar_kind(&self, t: &FieldType, original: bool) -> ScalarKind {
        match t {
            FieldType::Named(n) => match self.lookup(n, original) {
                Some(TypeInfo {
                    declared: Declared::Enum,
                    ..
                }) => ScalarKind::GeneralNumber,
                _ => ScalarKind::Other,
            },
            FieldType::Scalar(s) => match *s {
                "int32" | "int64" | "uint32" | "uint64" | "bool" => ScalarKind::GeneralNumber,
                "sint32" | "sint64" => ScalarKind::SignedNumber,
                "string" | "bytes" => ScalarKind::StringOrBytes,
                "fixed32" | "sfixed32" => ScalarKind::Fixed32,
                "fixed64" | "sfixed64" => ScalarKind::Fixed64,
                "float" => ScalarKind::Float,
                "double" => ScalarKind::Double,
                _ => ScalarKind::Other,
            },
            FieldType::Map(..) => ScalarKind::Other,
        }
    }

    fn compare_types(
        &mut self,
        original_label: Option<Label>,
        update_label: Option<Label>,
        original: &FieldType,
        update: &FieldType,
    ) {
        let original_kind = self.kind(original, true);
        let update_kind = self.kind(update, false);
        if original_kind != update_kind {
            self.add(ChangeType::FieldKindChanged);
            return;
        }
        match original_kind {
            Kind::Scalar => {
                let ok = self.scalar_kind(original, true);
                let uk = self.scalar_kind(update, false);
                if ok != uk {
                    self.add(ChangeType::FieldScalarKindChanged);
                } else if let (Some(ol), Some(ul)) = (original_label, update_label)
                    && ol != ul
                {
                    match ok {
                        ScalarKind::StringOrBytes => {
                            self.add(ChangeType::FieldStringOrBytesLabelChanged)
                        }
                        ScalarKind::Other => {}
                        _ => self.add(ChangeType::FieldNumericLabelChanged),
                    }
                }
            }
            Kind::Message => {
                if let (FieldType::Named(o), FieldType::Named(u)) = (original, update) {
                    self.compare_message_types(o, u);
                }
            }
            Kind::Map => {
                if let (FieldType::Map(ok, ov), FieldType::Map(uk, uv)) = (original, update) {
                    self.compare_types(None, None, ok, uk);
                    self.compare_types(None, None, ov, uv);
                }
            }
        }
    }

    fn compare_message_types(&mut self, original: &str, update: &str) {
        let (Some(ot), Some(ut)) = (
            self.lookup(original, true).copied(),
            self.lookup(update, false).copied(),
        ) else {
            if original != update {
                self.add(ChangeType::FieldNamedTypeChanged);
            }
            return;
        };
        let original_local = local_name(original, ot.package);
        let update_local = local_name(update, ut.package);
        if original_local != update_local {
            self.add(ChangeType::FieldNamedTypeChanged);
            return;
        }
        let same_file = match (ot.origin, ut.origin) {
            (Origin::Main, Origin::Main) => true,
            (Origin::Import(a, at), Origin::Import(b, bt)) => a == b && at.is_some() && at == bt,
            _ => false,
        };
        if same_file {
            return;
        }
        let (Declared::Message(om), Declared::Message(um)) = (ot.declared, ut.declared) else {
            return;
        };
        let mut sub = Context {
            budget: self.budget,
            original: self.original,
            update: self.update,
            original_proto2: self.original_proto2,
            update_proto2: self.update_proto2,
            path: original_local.split('.').map(str::to_owned).collect(),
            entered: self.entered.clone(),
            diffs: Vec::new(),
        };
        sub.compare_message(om, original, um, update);
        let incompatible = sub.diffs.iter().any(|d| !d.change.is_compatible());
        self.diffs.append(&mut sub.diffs);
        if incompatible {
            self.add(ChangeType::FieldNamedTypeChanged);
        }
    }

    fn compare_field(&mut self, of: &FieldDescriptorProto, uf: &FieldDescriptorProto) {
        if of.name() != uf.name() {
            self.add(ChangeType::FieldNameChanged);
        }
        let ol = written_label(of, self.original_proto2);
        let ul = written_label(uf, self.update_proto2);
        let ot = self.field_type(of, true);
        let ut = self.field_type(uf, false);
        self.compare_types(ol, ul, &ot, &ut);
    }

    fn compare_message(
        &mut self,
        original: &'a DescriptorProto,
        original_full: &str,
        update: &'a DescriptorProto,
        update_full: &str,
    ) {
        if !self.budget.take() {
            return;
        }
        if self.entered.insert(original_full.to_owned()) {
            self.compare_fields(original, update);
            self.entered.remove(original_full);
        }
        self.compare_types_in(
            (&original.nested_type, &original.enum_type, original_full),
            (&update.nested_type, &update.enum_type, update_full),
        );
    }

    fn compare_fields(&mut self, original: &'a DescriptorProto, update: &'a DescriptorProto) {
        let (o_by_tag, o_oneof_of, o_oneofs) = collect(original);
        let (u_by_tag, u_oneof_of, u_oneofs) = collect(update);

        let completely_deleted: HashSet<&str> = o_oneofs
            .iter()
            .filter(|(name, _)| !u_oneofs.contains_key(*name))
            .filter(|(_, tags)| tags.iter().all(|t| !u_by_tag.contains_key(t)))
            .map(|(name, _)| *name)
            .collect();

        for decl in &update.oneof_decl {
            let Some(tags) = u_oneofs.get(decl.name()) else {
                continue;
            };
            let mut groups: BTreeSet<String> = BTreeSet::new();
            let mut moved_in = 0;
            for tag in tags {
                if let Some(o) = o_oneof_of.get(tag) {
                    groups.insert(format!("oneof:{o}"));
                } else if o_by_tag.contains_key(tag) {
                    groups.insert(format!("field:{tag}"));
                    moved_in += 1;
                }
            }
            if groups.len() > 1 {
                let change = if moved_in > 1 {
                    ChangeType::MultipleFieldsMovedToOneof
                } else {
                    ChangeType::FieldMovedToExistingOneof
                };
                self.add_at(&[decl.name()], change);
            }
        }

        let all_oneofs: BTreeSet<&str> = o_oneofs.keys().chain(u_oneofs.keys()).copied().collect();
        for name in all_oneofs {
            if !u_oneofs.contains_key(name) {
                self.add_at(&[name], ChangeType::OneofRemoved);
            } else if !o_oneofs.contains_key(name) {
                self.add_at(&[name], ChangeType::OneofAdded);
            }
        }

        let all_tags: BTreeSet<i32> = o_by_tag.keys().chain(u_by_tag.keys()).copied().collect();
        for tag in all_tags {
            let tag_text = tag.to_string();
            let o_oneof = o_oneof_of.get(&tag).copied();
            let u_oneof = u_oneof_of.get(&tag).copied();
            match (o_by_tag.get(&tag), u_by_tag.get(&tag)) {
                (Some(of), None) => match o_oneof {
                    Some(oneof) => {
                        if !completely_deleted.contains(oneof) {
                            self.add_at(&[oneof, &tag_text], ChangeType::OneofFieldRemoved);
                        }
                    }
                    None => {
                        let change = if of.label() == Label::Required {
                            ChangeType::RequiredFieldRemoved
                        } else {
                            ChangeType::FieldRemoved
                        };
                        self.add_at(&[&tag_text], change);
                    }
                },
                (None, Some(uf)) => match u_oneof {
                    Some(oneof) => self.add_at(&[oneof, &tag_text], ChangeType::OneofFieldAdded),
                    None => {
                        let change = if uf.label() == Label::Required {
                            ChangeType::RequiredFieldAdded
                        } else {
                            ChangeType::FieldAdded
                        };
                        self.add_at(&[&tag_text], change);
                    }
                },
                (Some(of), Some(uf)) => {
                    if o_oneof.is_some() && u_oneof.is_none() {
                        self.add_at(&[&tag_text], ChangeType::OneofFieldMovedToTopLevel);
                    }
                    let n = self.path.len();
                    if let Some(oneof) = u_oneof {
                        self.path.push(oneof.to_owned());
                    }
                    self.path.push(tag_text);
                    self.compare_field(of, uf);
                    self.path.truncate(n);
                }
                (None, None) => {}
            }
        }
    }

    /// Messages and enums of one scope, matched by name.
    fn compare_types_in(
        &mut self,
        original: (&'a [DescriptorProto], &'a [EnumDescriptorProto], &str),
        update: (&'a [DescriptorProto], &'a [EnumDescriptorProto], &str),
    ) {
        let messages =
            |list: &'a [DescriptorProto]| -> BTreeMap<&'a str, (usize, &'a DescriptorProto)> {
                list.iter()
                    .filter(|m| !is_map_entry(m))
                    .enumerate()
                    .map(|(i, m)| (m.name(), (i, m)))
                    .collect()
            };
        let om = messages(original.0);
        let um = messages(update.0);
        let names: BTreeSet<&str> = om.keys().chain(um.keys()).copied().collect();
        for name in names {
            self.path.push(name.to_owned());
            match (om.get(name), um.get(name)) {
                (Some(_), None) => self.add(ChangeType::MessageRemoved),
                (None, Some(_)) => self.add(ChangeType::MessageAdded),
                (Some((oi, o)), Some((ui, u))) => {
                    self.compare_message(o, &join(original.2, name), u, &join(update.2, name));
                    if oi != ui {
                        self.add(ChangeType::MessageMoved);
                    }
                }
                (None, None) => {}
            }
            self.path.pop();
        }
        let enums =
            |list: &'a [EnumDescriptorProto]| -> BTreeMap<&'a str, &'a EnumDescriptorProto> {
                list.iter().map(|e| (e.name(), e)).collect()
            };
        let oe = enums(original.1);
        let ue = enums(update.1);
        let names: BTreeSet<&str> = oe.keys().chain(ue.keys()).copied().collect();
        for name in names {
            self.path.push(name.to_owned());
            match (oe.get(name), ue.get(name)) {
                (Some(_), None) => self.add(ChangeType::EnumRemoved),
                (None, Some(_)) => self.add(ChangeType::EnumAdded),
                (Some(o), Some(u)) => {
                    let ov: BTreeMap<i32, &str> =
                        o.value.iter().map(|v| (v.number(), v.name())).collect();
                    let uv: BTreeMap<i32, &str> =
                        u.value.iter().map(|v| (v.number(), v.name())).collect();
                    let numbers: BTreeSet<i32> = ov.keys().chain(uv.keys()).copied().collect();
                    for n in numbers {
                        let at = n.to_string();
                        match (ov.get(&n), uv.get(&n)) {
                            (Some(_), None) => self.add_at(&[&at], ChangeType::EnumConstRemoved),
                            (None, Some(_)) => self.add_at(&[&at], ChangeType::EnumConstAdded),
                            (Some(a), Some(b)) if a != b => {
                                self.add_at(&[&at], ChangeType::EnumConstChanged)
                            }
                            _ => {}
                        }
                    }
                }
                (None, None) => {}
            }
            self.path.pop();
        }
    }
}

fn local_name(full: &str, package: &str) -> String {
    if package.is_empty() {
        return full.to_owned();
    }
    match full.strip_prefix(package).and_then(|r| r.strip_prefix('.')) {
        Some(rest) => rest.to_owned(),
        None => full.to_owned(),
    }
}

type Collected<'a> = (
    BTreeMap<i32, &'a FieldDescriptorProto>,
    HashMap<i32, &'a str>,
    HashMap<&'a str, Vec<i32>>,
);

/// Fields by number, each number's real oneof, and each oneof's numbers.
fn collect(m: &DescriptorProto) -> Collected<'_> {
    let mut by_tag = BTreeMap::new();
    let mut oneof_of = HashMap::new();
    let mut oneofs: HashMap<&str, Vec<i32>> = HashMap::new();
    for f in &m.field {
        by_tag.insert(f.number(), f);
        if let Some(i) = f.oneof_index
            && !f.proto3_optional()
            && let Some(decl) = m.oneof_decl.get(i as usize)
        {
            oneof_of.insert(f.number(), decl.name());
            oneofs.entry(decl.name()).or_default().push(f.number());
        }
    }
    (by_tag, oneof_of, oneofs)
}

fn is_proto2(file: &FileDescriptorProto) -> bool {
    matches!(file.syntax.as_deref(), None | Some("") | Some("proto2"))
}

/// What a check found: the differences, and whether it stopped early.
pub(crate) struct Outcome {
    pub(crate) differences: Vec<Difference>,
    pub(crate) limit_hit: bool,
}

/// Every difference from `original` to `update`, in Confluent's terms,
/// comparing at most `max_messages` messages.
pub(crate) fn differences(original: &Compiled, update: &Compiled, max_messages: usize) -> Outcome {
    let oi = build_index(original);
    let ui = build_index(update);
    let budget = Budget {
        left: Cell::new(max_messages),
        exhausted: Cell::new(false),
    };
    let mut ctx = Context {
        budget: &budget,
        original: &oi,
        update: &ui,
        original_proto2: is_proto2(&original.file),
        update_proto2: is_proto2(&update.file),
        path: Vec::new(),
        entered: HashSet::new(),
        diffs: Vec::new(),
    };
    if original.file.package() != update.file.package() {
        ctx.add(ChangeType::PackageChanged);
    }
    ctx.compare_types_in(
        (
            &original.file.message_type,
            &original.file.enum_type,
            original.file.package(),
        ),
        (
            &update.file.message_type,
            &update.file.enum_type,
            update.file.package(),
        ),
    );
    Outcome {
        differences: ctx.diffs,
        limit_hit: budget.exhausted.get(),
    }
}
