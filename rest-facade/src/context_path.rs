//! The `/contexts/{context}/...` prefix: every route of the API, within a
//! context. As Confluent's pre-matching filter does, the prefix is taken
//! off before routing and the context moves into the subjects the path
//! names (`/contexts/.ctx/subjects/s/versions` is
//! `/subjects/:.ctx:s/versions`), into the context-level config and mode
//! (`/contexts/.ctx/config` is `/config/:.ctx:`), and into the query of the
//! listings (`subjectPrefix`) and id lookups (`subject`).

use http::Uri;
use percent_encoding::percent_decode_str;

use crate::error::RestError;

/// The request's URI without its context prefix, or `None` when it has none
/// (`/contexts` and `/contexts/{context}` are routes of their own). The
/// `strip_context` layer (`layer.rs`) applies it before routing.
pub(crate) fn rewrite(uri: &Uri) -> Result<Option<Uri>, RestError> {
    let Some(rest) = uri.path().strip_prefix("/contexts/") else {
        return Ok(None);
    };
    let Some((raw, tail)) = rest.split_once('/') else {
        return Ok(None);
    };
    if tail.is_empty() {
        return Ok(None);
    }
    let decoded = percent_decode_str(raw).decode_utf8_lossy();
    let qualified = qualified_context(&decoded)?;
    let segments: Vec<&str> = tail.split('/').collect();
    let mut path = String::with_capacity(uri.path().len());
    for (i, segment) in segments.iter().enumerate() {
        path.push('/');
        let names_subject = i > 0
            && (matches!(segments[i - 1], "subjects" | "deks")
                || (i == 1 && matches!(segments[0], "config" | "mode")));
        if names_subject {
            let subject = percent_decode_str(segment).decode_utf8_lossy();
            if !subject.starts_with(":.") && !subject.starts_with(":*:") {
                path.push_str(&qualified);
            }
        }
        path.push_str(segment);
    }
    // The root config and mode, within a context, are the context's own.
    if matches!(segments.as_slice(), ["config" | "mode"]) && !qualified.is_empty() {
        path.push('/');
        path.push_str(&qualified);
    }
    let query = match segments.as_slice() {
        ["schemas", "ids", ..] if !qualified.is_empty() => {
            Some(qualify_param(uri.query(), "subject", &qualified))
        }
        ["schemas"] | ["subjects"] => Some(qualify_param(uri.query(), "subjectPrefix", &qualified)),
        _ => uri.query().map(str::to_owned),
    };
    let path_and_query = match query {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path,
    };
    Uri::builder()
        .path_and_query(path_and_query)
        .build()
        .map(Some)
        .map_err(|_| RestError::not_found())
}

/// A context from a URL as the subjects name it: `:.ctx:`, or nothing for
/// the default context. Confluent refuses a name with a colon inside.
fn qualified_context(raw: &str) -> Result<String, RestError> {
    let trimmed = raw.strip_prefix(':').unwrap_or(raw);
    let trimmed = trimmed.strip_suffix(':').unwrap_or(trimmed);
    if trimmed.contains(':') {
        return Err(RestError::bad_request(
            "Context name cannot contain a colon",
        ));
    }
    Ok(match trimmed {
        "" | "." => String::new(),
        dotted if dotted.starts_with('.') => format!(":{dotted}:"),
        plain => format!(":.{plain}:"),
    })
}

/// The query with the context put in front of each value of `name` not
/// qualified already, and `name` added (as the bare context) if absent.
fn qualify_param(query: Option<&str>, name: &str, qualified: &str) -> String {
    let mut seen = false;
    let mut parts: Vec<String> = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            if key != name {
                return part.to_owned();
            }
            seen = true;
            let decoded = percent_decode_str(value).decode_utf8_lossy();
            if decoded.starts_with(":.") || decoded.starts_with(":*:") {
                part.to_owned()
            } else {
                format!("{key}={qualified}{value}")
            }
        })
        .collect();
    if !seen {
        parts.push(format!("{name}={qualified}"));
    }
    parts.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(uri: &str) -> Option<String> {
        rewrite(&uri.parse().unwrap())
            .unwrap()
            .map(|u| u.to_string())
    }

    #[test]
    fn the_prefix_moves_into_subjects_settings_and_queries() {
        let cases = [
            (
                "/contexts/.ctx/subjects/foo/versions",
                "/subjects/:.ctx:foo/versions",
            ),
            ("/contexts/ctx/config/foo", "/config/:.ctx:foo"),
            ("/contexts/.ctx/config", "/config/:.ctx:"),
            ("/contexts/.ctx/mode", "/mode/:.ctx:"),
            (
                "/contexts/.ctx/compatibility/subjects/foo/versions/latest",
                "/compatibility/subjects/:.ctx:foo/versions/latest",
            ),
            ("/contexts/:.:/subjects/x/versions", "/subjects/x/versions"),
            (
                "/contexts/.a/subjects/:.b:x/versions",
                "/subjects/:.b:x/versions",
            ),
            ("/contexts/.ctx/subjects", "/subjects?subjectPrefix=:.ctx:"),
            ("/contexts/./subjects", "/subjects?subjectPrefix="),
            (
                "/contexts/.ctx/subjects?subjectPrefix=t&deleted=true",
                "/subjects?subjectPrefix=:.ctx:t&deleted=true",
            ),
            (
                "/contexts/.ctx/schemas/ids/1",
                "/schemas/ids/1?subject=:.ctx:",
            ),
            (
                "/contexts/.ctx/schemas/ids/1/versions?subject=s",
                "/schemas/ids/1/versions?subject=:.ctx:s",
            ),
            ("/contexts/.ctx/schemas", "/schemas?subjectPrefix=:.ctx:"),
        ];
        for (from, to) in cases {
            assert_eq!(rewritten(from).as_deref(), Some(to), "{from}");
        }
        assert_eq!(rewritten("/contexts"), None);
        assert_eq!(rewritten("/contexts/.ctx"), None);
        assert_eq!(rewritten("/subjects"), None);
    }

    #[test]
    fn a_colon_inside_a_context_is_refused() {
        let err = rewrite(&"/contexts/a:b/subjects".parse().unwrap()).unwrap_err();
        assert_eq!(err.error_code(), 400);
        assert_eq!(err.message(), "Context name cannot contain a colon");
    }
}
