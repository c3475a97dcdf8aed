//! The route template a request matched, handed back with its response,
//! so whoever serves the router can count requests by route without a
//! label per subject or id.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// The template of the route that answered (`/subjects/{subject}/versions`),
/// in the response's extensions; absent when no route matched.
#[derive(Debug, Clone)]
pub struct Route(pub MatchedPath);

impl Route {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Middleware (a `route_layer`) that hands the matched route back as [`Route`].
pub async fn mark(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(Route(route));
    }
    response
}
