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
