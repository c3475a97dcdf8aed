//! Parsing and import resolution with protox: no protoc binary.
//!
//! A schema is kept twice: as written (protox-parse's unresolved descriptor,
//! whose type names, labels and options are what the user typed, which is
//! what Confluent prints back) and compiled (protox's resolved descriptor,
//! which compatibility and `format=serialized` use).

use std::collections::HashMap;

use base64::Engine;
use miette::Diagnostic;
use prost::Message;
use prost_types::{FileDescriptorProto, FileDescriptorSet};
use protox::file::{File, FileResolver, GoogleFileResolver};

use super::lenient::{self, Lenient};
use super::{precheck, wellknown};
use crate::limits::{Limits, line_column};
use crate::{Dependency, FormatError, SchemaType};

/// The name the schema itself has among its imports.
const MAIN: &str = "schema.proto";

/// A schema parsed and compiled against its imports.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    /// As written (text) or as submitted (descriptor).
    pub(crate) source: FileDescriptorProto,
    /// Whether `source` came from .proto text (else from a descriptor).
    pub(crate) from_text: bool,
    /// Whether the text declared `syntax = "proto2"` (protox-parse leaves
    /// proto2 unset either way; Confluent prints it back only if written).
    pub(crate) proto2_declared: bool,
    /// The schema resolved: full type names, interpreted options.
    pub(crate) file: FileDescriptorProto,
    /// Every file it imports, transitively, resolved.
    pub(crate) imports: Vec<FileDescriptorProto>,
    /// Import path to the text it was given as (references and bundled
    /// files), to tell whether two schemas import the very same file.
    pub(crate) import_texts: HashMap<String, String>,
}

fn invalid(reason: impl Into<String>) -> FormatError {
    FormatError::Invalid {
        schema_type: SchemaType::Protobuf,
        reason: reason.into(),
    }
}

/// `file:line:column: reason`, from a diagnostic whose first label points
/// into `text`.
fn located(file: &str, text: Option<&str>, error: &dyn Diagnostic, reason: String) -> String {
    let offset = error
        .labels()
        .and_then(|mut labels| labels.next())
        .map(|l| l.offset());
    match (offset, text) {
        (Some(offset), Some(text)) => {
            let (line, column) = line_column(text, offset);
            format!("{file}:{line}:{column}: {reason}")
        }
        _ => format!("{file}: {reason}"),
    }
}

struct Resolver {
    main_name: String,
    main: File,
    dependencies: HashMap<String, String>,
    google: GoogleFileResolver,
    /// Set for the second compile, of what protox refused as written.
    lenient: Option<Lenient>,
}

/// Whether an import names a file there is: a reference, a bundled file or
/// one of protox's `google/protobuf` files.
fn importable(
    dependencies: &HashMap<String, String>,
    google: &GoogleFileResolver,
    name: &str,
) -> bool {
    dependencies.contains_key(name)
        || wellknown::bundled(name).is_some()
        || google.open_file(name).is_ok()
}

/// A reference's text: .proto source, or a base64 descriptor.
fn dependency_file(name: &str, text: &str) -> Result<File, protox::Error> {
    match File::from_source(name, text) {
        Ok(file) => Ok(file),
        Err(e) => decode_descriptor(text)
            .map(|mut fd| {
                fd.name = Some(name.to_owned());
                File::from_file_descriptor_proto(fd)
            })
            .ok_or(e),
    }
}

impl FileResolver for Resolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if name == self.main_name {
            return Ok(self.main.clone());
        }
        if let Some(text) = self.dependencies.get(name) {
            let file = dependency_file(name, text)?;
            return Ok(match &self.lenient {
                Some(lenient) => File::from_file_descriptor_proto(
                    lenient.dependency(file.file_descriptor_proto().clone(), |n| {
                        importable(&self.dependencies, &self.google, n)
                    }),
                ),
                None => file,
            });
        }
        if let Some(text) = wellknown::bundled(name) {
            return File::from_source(name, text);
        }
        self.google.open_file(name)
    }
}

/// Compiles `resolver`'s main file: it, and every file it imports.
fn run(
    main_name: &str,
    resolver: Resolver,
) -> Result<(FileDescriptorProto, Vec<FileDescriptorProto>), protox::Error> {
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true);
    compiler.open_file(main_name)?;
    let FileDescriptorSet { file: files } = compiler.file_descriptor_set();
    let mut compiled = None;
    let mut imports = Vec::new();
    for f in files {
        if f.name() == main_name {
            compiled = Some(f);
        } else {
            imports.push(f);
        }
    }
    match compiled {
        Some(file) => Ok((file, imports)),
        None => Err(protox::Error::new(std::io::Error::other(
            "the schema did not compile",
        ))),
    }
}

/// A base64 FileDescriptorProto, as Confluent accepts in place of text.
pub(crate) fn decode_descriptor(text: &str) -> Option<FileDescriptorProto> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.contains(char::is_whitespace) {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(trimmed)
        .ok()?;
    let mut fd = FileDescriptorProto::decode(bytes.as_slice()).ok()?;
    // Empty is proto2, as in descriptor.proto; protox takes only unset.
    if fd.syntax.as_deref() == Some("") {
        fd.syntax = None;
    }
    (!fd.message_type.is_empty() || !fd.enum_type.is_empty() || fd.name.is_some()).then_some(fd)
}

/// Whether `text` declares `syntax = "proto2"` before anything else.
fn declares_proto2(text: &str) -> bool {
    let compact: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<String>()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    compact.contains("syntax=\"proto2\";") || compact.contains("syntax='proto2';")
}

/// [`precheck::check`] of one file, worded with its name.
fn check_text(name: &str, text: &str, limits: &Limits) -> Result<(), FormatError> {
    precheck::check(text, limits.max_depth).map_err(|problem| invalid(format!("{name}{problem}")))
}

/// The first name of a descriptor that no .proto file could hold (protoc's
/// identifiers: a letter or `_`, then letters, digits and `_`; a package is
/// such names joined by dots), without recursing.
fn bad_name(file: &FileDescriptorProto) -> Option<&str> {
    fn identifier(name: &str) -> bool {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    }
    let package = file.package();
    if !package.is_empty() && !package.split('.').all(identifier) {
        return Some(package);
    }
    let mut names: Vec<&str> = Vec::new();
    let mut messages: Vec<&prost_types::DescriptorProto> = file.message_type.iter().collect();
    let mut enums: Vec<&prost_types::EnumDescriptorProto> = file.enum_type.iter().collect();
    while let Some(m) = messages.pop() {
        names.push(m.name());
        names.extend(m.field.iter().chain(&m.extension).map(|f| f.name()));
        names.extend(m.oneof_decl.iter().map(|o| o.name()));
        messages.extend(&m.nested_type);
        enums.extend(&m.enum_type);
    }
    for e in enums {
        names.push(e.name());
        names.extend(e.value.iter().map(|v| v.name()));
    }
    for service in &file.service {
        names.push(service.name());
        names.extend(service.method.iter().map(|m| m.name()));
    }
    names.extend(file.extension.iter().map(|f| f.name()));
    names.into_iter().find(|n| !identifier(n))
}

/// How deep a descriptor's messages nest, without recursing.
fn descriptor_depth(file: &FileDescriptorProto) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&prost_types::DescriptorProto, usize)> =
        file.message_type.iter().map(|m| (m, 1)).collect();
    while let Some((message, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        stack.extend(message.nested_type.iter().map(|m| (m, depth + 1)));
    }
    deepest
}

fn check_descriptor(
    name: &str,
    file: &FileDescriptorProto,
    limits: &Limits,
) -> Result<(), FormatError> {
    // prost-reflect, under protox, indexes past its files when it reports
    // any other syntax: refused here, with the reason.
    if let Some(syntax) = file
        .syntax
        .as_deref()
        .filter(|s| !matches!(*s, "proto2" | "proto3"))
    {
        return Err(invalid(format!(
            "{name}: unknown syntax '{syntax}' (a descriptor's syntax is proto2 or proto3)"
        )));
    }
    if let Some(bad) = bad_name(file) {
        return Err(invalid(format!(
            "{name}: '{}' is not a valid name in a .proto file",
            bad.escape_debug()
        )));
    }
    let depth = descriptor_depth(file);
    if depth > limits.max_depth {
        return Err(invalid(format!(
            "{name}: the descriptor nests messages {depth} deep, deeper than {} levels (the limit is --max-schema-depth)",
            limits.max_depth
        )));
    }
    Ok(())
}

pub(crate) fn compile(
    text: &str,
    dependencies: &[Dependency],
    limits: &Limits,
) -> Result<Compiled, FormatError> {
    let main_name = if dependencies.iter().any(|d| d.name == MAIN) {
        "schema~.proto".to_owned()
    } else {
        MAIN.to_owned()
    };
    check_text(&main_name, text, limits)?;
    for d in dependencies {
        check_text(&d.name, &d.schema, limits)?;
        if let Some(fd) = decode_descriptor(&d.schema) {
            check_descriptor(&d.name, &fd, limits)?;
        }
    }
    let (source, from_text, main) = match protox_parse::parse(&main_name, text) {
        Ok(source) => {
            let main = File::from_source(&main_name, text)
                .map_err(|e| invalid(located(&main_name, Some(text), &e, e.to_string())))?;
            (source, true, main)
        }
        Err(parse_error) => match decode_descriptor(text) {
            Some(mut fd) => {
                check_descriptor(&main_name, &fd, limits)?;
                fd.name = Some(main_name.clone());
                fd.source_code_info = None;
                (fd.clone(), false, File::from_file_descriptor_proto(fd))
            }
            None => {
                return Err(invalid(located(
                    &main_name,
                    Some(text),
                    &parse_error,
                    parse_error.to_string(),
                )));
            }
        },
    };
    let texts: HashMap<String, String> = dependencies
        .iter()
        .map(|d| (d.name.clone(), d.schema.clone()))
        .collect();
    let resolver = Resolver {
        main_name: main_name.clone(),
        main,
        dependencies: texts.clone(),
        google: GoogleFileResolver::new(),
        lenient: None,
    };
    let (file, imports) = match run(&main_name, resolver) {
        Ok(compiled) => compiled,
        Err(strict) => match compile_leniently(&main_name, &source, dependencies, &texts) {
            Ok(compiled) => compiled,
            Err(lenient) => {
                // An import that is not there is no fault of the schema's
                // (Confluent skips it): the fault is what the second
                // compile found.
                let e = if strict.is_file_not_found() {
                    lenient
                } else {
                    strict
                };
                let file = e.file().unwrap_or(&main_name).to_owned();
                let file_text = if file == main_name {
                    from_text.then_some(text)
                } else {
                    texts
                        .get(&file)
                        .map(String::as_str)
                        .or_else(|| wellknown::bundled(&file))
                };
                let mut reason = e.to_string();
                if e.is_file_not_found() {
                    reason.push_str(
                        " (an import must be named by a schema reference or be one of the files Confluent bundles)",
                    );
                }
                return Err(invalid(located(&file, file_text, &e, reason)));
            }
        },
    };
    let mut import_texts = texts;
    for f in &imports {
        if let Some(text) = wellknown::bundled(f.name()) {
            import_texts
                .entry(f.name().to_owned())
                .or_insert_with(|| text.to_owned());
        } else if wellknown::is_google_protobuf(f.name()) {
            import_texts
                .entry(f.name().to_owned())
                .or_insert_with(|| f.name().to_owned());
        }
    }
    Ok(Compiled {
        proto2_declared: from_text && declares_proto2(text),
        source,
        from_text,
        file,
        imports,
        import_texts,
    })
}

/// The second compile, of a schema protox refused as written, as
/// Confluent's registry reads it (see [`super::lenient`]).
fn compile_leniently(
    main_name: &str,
    source: &FileDescriptorProto,
    dependencies: &[Dependency],
    texts: &HashMap<String, String>,
) -> Result<(FileDescriptorProto, Vec<FileDescriptorProto>), protox::Error> {
    let google = GoogleFileResolver::new();
    let lenient = Lenient::new(dependencies.iter().map(|d| d.name.clone()).collect());
    let written: Vec<String> = source
        .dependency
        .iter()
        .filter(|d| importable(texts, &google, d))
        .cloned()
        .collect();
    let mut main = source.clone();
    main.name = Some(main_name.to_owned());
    let main = lenient.main(main, |n| importable(texts, &google, n));
    let resolver = Resolver {
        main_name: main_name.to_owned(),
        main: File::from_file_descriptor_proto(main),
        dependencies: texts.clone(),
        google,
        lenient: Some(lenient),
    };
    let (mut file, imports) = run(main_name, resolver)?;
    lenient::trim_imports(&mut file, &written, &imports);
    Ok((file, imports))
}

/// The schema a FileDescriptorSet carries: its last file (protoc lists
/// dependencies first), as .proto text. The other files are its imports,
/// which the registry resolves through references or bundled files like any
/// other import. The text is what the same file written by hand with fully
/// qualified type names reads as: maps as `map<K, V>`, JSON names only
/// where they differ from protoc's default, so that the descriptors and the
/// text get the same id.
pub fn schema_from_descriptor_set(bytes: &[u8], limits: &Limits) -> Result<String, FormatError> {
    let set = FileDescriptorSet::decode(bytes)
        .map_err(|e| invalid(format!("Invalid file_descriptor_set: {e}")))?;
    let last = set
        .file
        .into_iter()
        .next_back()
        .ok_or_else(|| invalid("Invalid file_descriptor_set: it holds no file"))?;
    check_descriptor(last.name(), &last, limits)?;
    let syntax = last.syntax.as_deref().unwrap_or("");
    let printer = super::print::Printer {
        from_text: false,
        proto2_declared: syntax == "proto2",
        proto2: syntax.is_empty() || syntax == "proto2",
        normalize: false,
        entries_as_messages: false,
        default_json_names: false,
    };
    Ok(printer.file(&last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_from_one() {
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("ab", 0), (1, 1));
    }

    #[test]
    fn nesting_beyond_the_limit_is_refused_with_where() {
        let deep = "message M { ".repeat(20) + &"}".repeat(20);
        let err = compile(&deep, &[], &Limits { max_depth: 10 })
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("deeper than 10 levels at line 1, column 131"),
            "{err}"
        );
        assert!(compile(&deep, &[], &Limits { max_depth: 20 }).is_ok());
    }

    #[test]
    fn proto2_declaration_is_seen_through_spacing() {
        assert!(declares_proto2("syntax   =  \"proto2\" ;\nmessage A {}"));
        assert!(!declares_proto2("syntax = \"proto3\";"));
    }
}
