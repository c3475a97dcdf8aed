//! The route template a request matched, handed back with its response,
//! so whoever serves the routes can count requests by route without a
//! label per subject or id.

use axum::extract::MatchedPath;

/// The template of the route that answered (`/subjects/{subject}/versions`),
/// in the response's extensions (put there by the facade's routes,
/// `dispatch.rs`, or by the `mark_route` layer on an axum router); absent
/// when no route matched.
#[derive(Debug, Clone)]
pub struct Route(Template);

#[derive(Debug, Clone)]
enum Template {
    Static(&'static str),
    Matched(MatchedPath),
}

impl Route {
    pub(crate) fn from_template(template: &'static str) -> Self {
        Self(Template::Static(template))
    }

    pub(crate) fn from_matched(matched: MatchedPath) -> Self {
        Self(Template::Matched(matched))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Template::Static(template) => template,
            Template::Matched(matched) => matched.as_str(),
        }
    }
}
