//! The heavy work of a request's rules: parsing schemas and comparing
//! them, done on the compute pool, outside every lock, and remembered.
//!
//! The rules are plain functions of the state, so that a write can build
//! its records again on a newer state. When a rule needs a parse or a
//! comparison not done yet, [`Work`] notes it and answers `None`; the rule
//! answers `None` in turn, and the caller, with no lock held, has the pool
//! do everything noted ([`Work::run`]) and runs the rules again, which now
//! find it done. A request's work shares one deadline, however many rounds
//! it takes.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use scute_formats::{Dependency, Incompatibility, Limits, ParsedSchema, SchemaType};
use scute_storage::record::SchemaReference;

use crate::compute::Compute;
use crate::error::Error;
use crate::state::{SchemaContent, State};

/// How deep references may nest (a reference's references, and so on).
const MAX_REFERENCE_DEPTH: usize = 64;

/// A schema text and the exact stored contents of what it references:
/// everything its parse depends on.
#[derive(Clone)]
struct Source {
    schema_type: SchemaType,
    text: String,
    /// Reference name and the content it resolved to, dependencies first.
    dependencies: Vec<(String, Arc<SchemaContent>)>,
    output: Output,
}

/// The text wanted of a parsed schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// As stored: Confluent's canonical text.
    Canonical,
    /// `normalize=true`.
    Normalized,
    /// `format=resolved`: referenced AVRO types written in full.
    Resolved,
    /// `format=serialized`: a base64 FileDescriptorProto (PROTOBUF).
    Serialized,
}

impl Source {
    fn same(&self, other: &Source) -> bool {
        self.schema_type == other.schema_type
            && self.output == other.output
            && self.dependencies.len() == other.dependencies.len()
            && self
                .dependencies
                .iter()
                .zip(&other.dependencies)
                .all(|((a, x), (b, y))| a == b && Arc::ptr_eq(x, y))
            && self.text == other.text
    }
}

/// A parsed schema and the text asked for ([`Output`]).
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) schema: ParsedSchema,
    pub(crate) text: String,
}

/// Which ways a new schema is checked against a stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Directions {
    /// The new schema reads data written with the stored one.
    pub(crate) backward: bool,
    /// The stored schema reads data written with the new one.
    pub(crate) forward: bool,
}

/// The problems found each way.
#[derive(Debug)]
pub(crate) struct Problems {
    pub(crate) backward: Vec<Incompatibility>,
    pub(crate) forward: Vec<Incompatibility>,
}

struct Comparison {
    new: Arc<Parsed>,
    stored: Arc<SchemaContent>,
    stored_source: Source,
    directions: Directions,
}

/// One request's heavy work: what was done, what is wanted.
pub(crate) struct Work {
    compute: Compute,
    limits: Limits,
    deadline: Instant,
    parses: Vec<(Source, Result<Arc<Parsed>, String>)>,
    comparisons: Vec<(Comparison, Result<Arc<Problems>, String>)>,
    wanted_parses: Vec<Source>,
    wanted_comparisons: Vec<Comparison>,
}

impl Work {
    pub(crate) fn new(compute: &Compute, limits: Limits) -> Self {
        Self {
            deadline: compute.deadline(),
            compute: compute.clone(),
            limits,
            parses: Vec::new(),
            comparisons: Vec::new(),
            wanted_parses: Vec::new(),
            wanted_comparisons: Vec::new(),
        }
    }

    /// Whether a round left work to do.
    pub(crate) fn pending(&self) -> bool {
        !self.wanted_parses.is_empty() || !self.wanted_comparisons.is_empty()
    }

    /// The parse of `text`, its references resolved in `state` from the
    /// context of `parent` (a subject, or a context's `:.ctx:`), or `None`
    /// (noted) when not done yet. A schema that does not parse is
    /// [`Error::InvalidSchema`] with the format's reason.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn parse(
        &mut self,
        state: &State,
        parent: &str,
        schema_type: SchemaType,
        text: &str,
        references: &[SchemaReference],
        output: Output,
    ) -> Result<Option<Arc<Parsed>>, Error> {
        let source = Source {
            schema_type,
            text: text.to_owned(),
            dependencies: dependencies(state, parent, references)?,
            output,
        };
        self.parsed(source)
            .map(|r| r.map_err(Error::InvalidSchema))
            .transpose()
    }

    fn parsed(&mut self, source: Source) -> Option<Result<Arc<Parsed>, String>> {
        if let Some((_, done)) = self.parses.iter().find(|(s, _)| s.same(&source)) {
            return Some(done.clone());
        }
        if !self.wanted_parses.iter().any(|s| s.same(&source)) {
            self.wanted_parses.push(source);
        }
        None
    }

    /// The problems between `new` and the stored `content`, each way asked,
    /// or `None` (noted) when not compared yet. A stored schema that no
    /// longer parses is an `Err` with the reason.
    pub(crate) fn problems(
        &mut self,
        state: &State,
        parent: &str,
        new: &Arc<Parsed>,
        content: &Arc<SchemaContent>,
        directions: Directions,
    ) -> Result<Option<Result<Arc<Problems>, String>>, Error> {
        let done = self.comparisons.iter().find(|(c, _)| {
            Arc::ptr_eq(&c.new, new)
                && Arc::ptr_eq(&c.stored, content)
                && c.directions == directions
        });
        if let Some((_, result)) = done {
            return Ok(Some(result.clone()));
        }
        let wanted = self.wanted_comparisons.iter().any(|c| {
            Arc::ptr_eq(&c.new, new)
                && Arc::ptr_eq(&c.stored, content)
                && c.directions == directions
        });
        if !wanted {
            let schema_type: SchemaType = content
                .schema_type
                .parse()
                .map_err(|_| Error::InvalidSchemaType(content.schema_type.clone()))?;
            self.wanted_comparisons.push(Comparison {
                new: new.clone(),
                stored: content.clone(),
                stored_source: Source {
                    schema_type,
                    text: content.text()?.into_owned(),
                    dependencies: dependencies(state, parent, &content.references)?,
                    output: Output::Canonical,
                },
                directions,
            });
        }
        Ok(None)
    }

    /// Does every parse and comparison noted, on the compute pool.
    pub(crate) async fn run(&mut self) -> Result<(), Error> {
        let parses = std::mem::take(&mut self.wanted_parses);
        let comparisons = std::mem::take(&mut self.wanted_comparisons);
        let limits = self.limits;
        let what = describe(&parses, &comparisons);
        let jobs: Vec<(Source, Vec<Dependency>)> = parses
            .into_iter()
            .map(|s| {
                let deps = texts(&s.dependencies)?;
                Ok((s, deps))
            })
            .collect::<Result<_, Error>>()?;
        let checks: Vec<(Comparison, Vec<Dependency>)> = comparisons
            .into_iter()
            .map(|c| {
                let deps = texts(&c.stored_source.dependencies)?;
                Ok((c, deps))
            })
            .collect::<Result<_, Error>>()?;
        let (parsed, compared) = self
            .compute
            .run(&what, self.deadline, move || {
                let parsed: Vec<(Source, Result<Arc<Parsed>, String>)> = jobs
                    .into_iter()
                    .map(|(source, deps)| {
                        let result = parse_now(&source, &deps, &limits).map(Arc::new);
                        (source, result)
                    })
                    .collect();
                let compared: Vec<(Comparison, Result<Arc<Problems>, String>)> = checks
                    .into_iter()
                    .map(|(c, deps)| {
                        let result = compare_now(&c, &deps, &limits).map(Arc::new);
                        (c, result)
                    })
                    .collect();
                (parsed, compared)
            })
            .await?;
        self.parses.extend(parsed);
        self.comparisons.extend(compared);
        Ok(())
    }
}

/// "parsing a PROTOBUF schema", "checking compatibility of a JSON schema".
fn describe(parses: &[Source], comparisons: &[Comparison]) -> String {
    let of = |t: SchemaType| match t {
        SchemaType::Avro => "an AVRO",
        SchemaType::Protobuf => "a PROTOBUF",
        SchemaType::Json => "a JSON",
    };
    match (parses.first(), comparisons.first()) {
        (_, Some(c)) => format!(
            "checking the compatibility of {} schema",
            of(c.stored_source.schema_type)
        ),
        (Some(p), None) => format!("parsing {} schema", of(p.schema_type)),
        (None, None) => "nothing".to_owned(),
    }
}

pub(crate) fn texts(
    dependencies: &[(String, Arc<SchemaContent>)],
) -> Result<Vec<Dependency>, Error> {
    dependencies
        .iter()
        .map(|(name, content)| {
            Ok(Dependency {
                name: name.clone(),
                schema: content.text()?.into_owned(),
            })
        })
        .collect()
}

fn parse_now(source: &Source, deps: &[Dependency], limits: &Limits) -> Result<Parsed, String> {
    let schema = scute_formats::parse_with(source.schema_type, &source.text, deps, limits)
        .map_err(|e| e.to_string())?;
    let text = match source.output {
        Output::Canonical => schema.canonical().to_owned(),
        Output::Normalized => schema
            .normalized_text(deps, limits)
            .map_err(|e| e.to_string())?,
        Output::Resolved => schema.resolved(),
        Output::Serialized => schema
            .serialized()
            .unwrap_or_else(|| schema.canonical().to_owned()),
    };
    Ok(Parsed { schema, text })
}

fn compare_now(c: &Comparison, deps: &[Dependency], limits: &Limits) -> Result<Problems, String> {
    let stored = parse_now(&c.stored_source, deps, limits)?;
    let new = &c.new.schema;
    Ok(Problems {
        backward: if c.directions.backward {
            new.read_problems(&stored.schema)
        } else {
            Vec::new()
        },
        forward: if c.directions.forward {
            stored.schema.read_problems(new)
        } else {
            Vec::new()
        },
    })
}

/// Every schema the references of a schema in `parent`'s context name,
/// transitively, dependencies first, each once (by reference name). A
/// reference without a context names a subject of its referrer's context.
pub(crate) fn dependencies(
    state: &State,
    parent: &str,
    references: &[SchemaReference],
) -> Result<Vec<(String, Arc<SchemaContent>)>, Error> {
    fn visit(
        state: &State,
        parent: &str,
        r: &SchemaReference,
        seen: &mut BTreeSet<String>,
        out: &mut Vec<(String, Arc<SchemaContent>)>,
        depth: usize,
    ) -> Result<(), Error> {
        if depth > MAX_REFERENCE_DEPTH {
            return Err(Error::ReferencesTooDeep {
                name: r.name.clone(),
                limit: MAX_REFERENCE_DEPTH,
            });
        }
        if !seen.insert(r.name.clone()) {
            return Ok(());
        }
        let subject = crate::context::qualify_with_parent(parent, &r.subject);
        let entry = state
            .versions(&subject)
            .and_then(|vs| vs.get(&r.version))
            .ok_or_else(|| Error::ReferencedVersionNotFound {
                name: r.name.clone(),
                subject: r.subject.clone(),
                version: r.version,
            })?;
        for inner in &entry.content.references {
            visit(state, &subject, inner, seen, out, depth + 1)?;
        }
        out.push((r.name.clone(), entry.content.clone()));
        Ok(())
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for r in references {
        visit(state, parent, r, &mut seen, &mut out, 0)?;
    }
    Ok(out)
}
