//! Which draft a schema is written in, and its check against that draft's
//! meta-schema.
//!
//! Confluent picks the draft from `$schema` and falls back to draft 7 when
//! it is absent or names no draft it knows (`JsonSchema.rawSchema`). The
//! meta-schemas are the ones built into the `jsonschema` crate: no `$ref` is
//! ever fetched (the crate is built without its HTTP and file resolvers).

use serde_json::Value;

/// A JSON Schema draft Confluent knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draft {
    Draft4,
    Draft6,
    Draft7,
    Draft201909,
    Draft202012,
}

impl Draft {
    /// The draft `schema` declares with `$schema`, draft 7 by default.
    pub fn of(schema: &Value) -> Draft {
        let Some(url) = schema.get("$schema").and_then(Value::as_str) else {
            return Draft::Draft7;
        };
        let url = url.trim_end_matches('#');
        let url = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .unwrap_or(url);
        match url {
            "json-schema.org/draft-04/schema" => Draft::Draft4,
            "json-schema.org/draft-06/schema" => Draft::Draft6,
            "json-schema.org/draft-07/schema" => Draft::Draft7,
            "json-schema.org/draft/2019-09/schema" => Draft::Draft201909,
            "json-schema.org/draft/2020-12/schema" => Draft::Draft202012,
            _ => Draft::Draft7,
        }
    }

    /// 2019-09 and 2020-12, which Confluent loads with json-sKema and
    /// translates to everit's model, rather than with everit's own loader.
    pub(crate) fn is_modern(self) -> bool {
        matches!(self, Draft::Draft201909 | Draft::Draft202012)
    }

    /// The keyword holding a schema's id: `id` before draft 6.
    pub(crate) fn id_keyword(self) -> &'static str {
        if self == Draft::Draft4 { "id" } else { "$id" }
    }
}

/// Checks `schema` against its draft's meta-schema; the error names the
/// first problem and where it is, as a JSON pointer into the schema.
pub(crate) fn check_meta(schema: &Value, draft: Draft) -> Result<(), String> {
    let result = match draft {
        Draft::Draft4 => jsonschema::draft4::meta::validate(schema),
        Draft::Draft6 => jsonschema::draft6::meta::validate(schema),
        Draft::Draft7 => jsonschema::draft7::meta::validate(schema),
        Draft::Draft201909 => jsonschema::draft201909::meta::validate(schema),
        Draft::Draft202012 => jsonschema::draft202012::meta::validate(schema),
    };
    result.map_err(|e| {
        let at = e.instance_path().as_str();
        format!("{e} at {}", pointer_label(at))
    })
}

/// `#` for the root, `#/a/b` below it: the same form as compatibility paths.
pub(crate) fn pointer_label(pointer: &str) -> String {
    format!("'#{pointer}'")
}
