//! Confluent's normalized form: the printer's sorted layout over the schema
//! with every type name replaced by its fully qualified one (`.pkg.Msg`).

use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorProto};

/// `source` with the type names of `resolved`, its compiled twin (protox
/// compiles the same declarations in the same order).
pub(crate) fn qualified(
    source: &FileDescriptorProto,
    resolved: &FileDescriptorProto,
) -> FileDescriptorProto {
    let mut out = source.clone();
    fields(&mut out.extension, &resolved.extension);
    messages(&mut out.message_type, &resolved.message_type);
    for (s, r) in out.service.iter_mut().zip(&resolved.service) {
        for (sm, rm) in s.method.iter_mut().zip(&r.method) {
            sm.input_type.clone_from(&rm.input_type);
            sm.output_type.clone_from(&rm.output_type);
        }
    }
    out
}

fn messages(source: &mut [DescriptorProto], resolved: &[DescriptorProto]) {
    for (s, r) in source.iter_mut().zip(resolved) {
        fields(&mut s.field, &r.field);
        fields(&mut s.extension, &r.extension);
        messages(&mut s.nested_type, &r.nested_type);
    }
}

fn fields(source: &mut [FieldDescriptorProto], resolved: &[FieldDescriptorProto]) {
    for (s, r) in source.iter_mut().zip(resolved) {
        if s.type_name.is_some() {
            s.type_name.clone_from(&r.type_name);
            s.r#type = r.r#type;
        }
        if s.extendee.is_some() {
            s.extendee.clone_from(&r.extendee);
        }
    }
}

/// `compiled` with a JSON name only where `source` has one (protox fills
/// in protoc's default for every field; Confluent writes none it was not
/// given).
pub(crate) fn written_json_names(
    compiled: &FileDescriptorProto,
    source: &FileDescriptorProto,
) -> FileDescriptorProto {
    fn fields(out: &mut [FieldDescriptorProto], source: &[FieldDescriptorProto]) {
        for (o, s) in out.iter_mut().zip(source) {
            if s.json_name.is_none() {
                o.json_name = None;
            }
        }
    }
    fn messages(out: &mut [DescriptorProto], source: &[DescriptorProto]) {
        for (o, s) in out.iter_mut().zip(source) {
            if o.options.as_ref().is_some_and(|opts| opts.map_entry()) {
                // Map entries are made up, by Confluent without JSON names.
                o.field.iter_mut().for_each(|f| f.json_name = None);
                continue;
            }
            fields(&mut o.field, &s.field);
            fields(&mut o.extension, &s.extension);
            messages(&mut o.nested_type, &s.nested_type);
        }
    }
    let mut out = compiled.clone();
    fields(&mut out.extension, &source.extension);
    messages(&mut out.message_type, &source.message_type);
    out
}
