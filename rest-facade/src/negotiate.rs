//! Content negotiation as Confluent's Jersey resources declare it
//! (`client/.../rest/Versions.java`): every resource consumes the three JSON
//! media types plus `application/octet-stream`, and produces the three JSON
//! types with server weights 1.0, 0.9 and 0.5.

use http::{
    HeaderMap,
    header::{ACCEPT, CONTENT_TYPE},
};

use crate::error::RestError;

/// The preferred media type, and the answer to a missing or wildcard Accept.
pub(crate) const V1_JSON: &str = "application/vnd.schemaregistry.v1+json";
pub(crate) const DEFAULT_JSON: &str = "application/vnd.schemaregistry+json";
pub(crate) const JSON: &str = "application/json";
const OCTET_STREAM: &str = "application/octet-stream";

/// What the server produces, with Confluent's `qs` weights.
const PRODUCES: [(&str, f32); 3] = [(V1_JSON, 1.0), (DEFAULT_JSON, 0.9), (JSON, 0.5)];
/// What the server consumes.
const CONSUMES: [&str; 4] = [V1_JSON, DEFAULT_JSON, JSON, OCTET_STREAM];

/// Checks the request's Content-Type and picks the response type: the
/// routes (`dispatch.rs`) refuse an unsupported request body type (415) or
/// an Accept the server cannot satisfy (406) before the handler runs, and
/// stamp the chosen type on whatever the handler answers. Only matched
/// routes negotiate, so an unknown path is a 404 first, as in JAX-RS,
/// where matching the path precedes media types.
pub(crate) fn choose(headers: &HeaderMap) -> Result<&'static str, RestError> {
    if let Some(content_type) = headers.get(CONTENT_TYPE) {
        let supported = content_type
            .to_str()
            .map(content_type_supported)
            .unwrap_or(false);
        if !supported {
            return Err(RestError::unsupported_media_type());
        }
    }
    // One Accept header is the usual case: read in place, not joined.
    let mut values = headers.get_all(ACCEPT).iter();
    let chosen = match (values.next(), values.next()) {
        (None, _) => Some(V1_JSON),
        (Some(one), None) => response_type(one.to_str().map_err(|_| RestError::not_acceptable())?),
        (Some(_), Some(_)) => {
            let mut accept = String::new();
            for value in headers.get_all(ACCEPT) {
                let value = value.to_str().map_err(|_| RestError::not_acceptable())?;
                if !accept.is_empty() {
                    accept.push(',');
                }
                accept.push_str(value);
            }
            response_type(&accept)
        }
    };
    chosen.ok_or_else(RestError::not_acceptable)
}

/// A missing (or empty) Content-Type is fine: bodyless requests have none,
/// and Confluent's clients always send one of the supported types.
fn content_type_supported(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.is_empty() || CONSUMES.iter().any(|t| t.eq_ignore_ascii_case(essence))
}

/// One media range of an Accept header.
struct MediaRange<'a> {
    kind: &'a str,
    subtype: &'a str,
    q: f32,
}

/// The ranges, parsed as they are read (no list is built: a lookup's
/// Accept has one to three).
fn parse_accept(accept: &str) -> impl Iterator<Item = MediaRange<'_>> + Clone {
    accept.split(',').filter_map(|item| {
        let mut parts = item.split(';');
        // Jersey reads a lone `*`, and `*/` with any subtype, as `*/*`.
        let (kind, subtype) = match parts.next()?.trim() {
            "*" => ("*", "*"),
            range => match range.split_once('/')? {
                ("*", _) => ("*", "*"),
                pair => pair,
            },
        };
        let mut q = 1.0_f32;
        for param in parts {
            if let Some((name, value)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                q = value.trim().parse::<f32>().unwrap_or(1.0).clamp(0.0, 1.0);
            }
        }
        Some(MediaRange {
            kind: kind.trim(),
            subtype: subtype.trim(),
            q,
        })
    })
}

/// Picks the produced type with the best client q × server weight. For each
/// produced type the client's most specific matching range supplies q
/// (`type/subtype` over `type/*` over `*/*`). Ties go to the heavier server
/// type. `None` means nothing acceptable (406).
fn response_type(accept: &str) -> Option<&'static str> {
    if accept.trim().is_empty() {
        return Some(V1_JSON);
    }
    // The common Accept, exactly.
    if accept.eq_ignore_ascii_case(V1_JSON) {
        return Some(V1_JSON);
    }
    let ranges = parse_accept(accept);
    let mut best: Option<(&'static str, f32)> = None;
    for (candidate, weight) in PRODUCES {
        let (kind, subtype) = candidate.split_once('/')?;
        let mut matched: Option<(u8, f32)> = None;
        for range in ranges.clone() {
            let specificity = if range.kind.eq_ignore_ascii_case(kind)
                && range.subtype.eq_ignore_ascii_case(subtype)
            {
                2
            } else if range.kind.eq_ignore_ascii_case(kind) && range.subtype == "*" {
                1
            } else if range.kind == "*" && range.subtype == "*" {
                0
            } else {
                continue;
            };
            matched = match matched {
                Some((s, q)) if s > specificity || (s == specificity && q >= range.q) => {
                    Some((s, q))
                }
                _ => Some((specificity, range.q)),
            };
        }
        if let Some((_, q)) = matched {
            let score = q * weight;
            if score > 0.0 && best.is_none_or(|(_, b)| score > b) {
                best = Some((candidate, score));
            }
        }
    }
    best.map(|(candidate, _)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_picks_by_q_times_weight() {
        assert_eq!(response_type(""), Some(V1_JSON));
        assert_eq!(response_type("*/*"), Some(V1_JSON));
        assert_eq!(response_type("application/*"), Some(V1_JSON));
        assert_eq!(response_type("application/json"), Some(JSON));
        assert_eq!(
            response_type("application/vnd.schemaregistry+json"),
            Some(DEFAULT_JSON)
        );
        // 0.9 × 0.5 = 0.45 beats 0.4 × 1.0
        assert_eq!(
            response_type("application/json;q=0.9, application/vnd.schemaregistry.v1+json;q=0.4"),
            Some(JSON)
        );
        // 1.0 × 0.5 loses to 0.6 × 1.0
        assert_eq!(
            response_type("application/json, application/vnd.schemaregistry.v1+json;q=0.6"),
            Some(V1_JSON)
        );
        // a specific q=0 excludes a type a wildcard would allow
        assert_eq!(
            response_type("*/*, application/vnd.schemaregistry.v1+json;q=0"),
            Some(DEFAULT_JSON)
        );
        assert_eq!(response_type("text/html"), None);
        assert_eq!(response_type("application/json;q=0"), None);
        assert_eq!(response_type("garbage"), None);
        // Jersey's readings of a wildcard type.
        assert_eq!(response_type("*"), Some(V1_JSON));
        assert_eq!(response_type("*/anything"), Some(V1_JSON));
        assert_eq!(response_type("*; q=0.4, application/json"), Some(JSON));
    }

    #[test]
    fn content_types() {
        assert!(content_type_supported("application/json; charset=UTF-8"));
        assert!(content_type_supported(
            "Application/VND.schemaregistry.v1+json"
        ));
        assert!(content_type_supported("application/octet-stream"));
        assert!(!content_type_supported("text/plain"));
        assert!(!content_type_supported("application/x-www-form-urlencoded"));
    }
}
