//! The facade's routes: a path template table, each template with its
//! methods and handlers. Matching the path, choosing the handler, decoding
//! the path parameters, negotiating the media type and marking the route
//! happen in one step here, with one boxed future per request (the
//! handler's): axum's router, with its route layers and the clones of
//! boxed services it makes per request, cost about 3 µs of a 14 µs lookup.
//!
//! What the answers keep from the router this replaced: an unknown path is
//! a 404 and a known path with another method a 405 (with `Allow`), both
//! before any media type is looked at; `GET` routes answer `HEAD` without
//! the body; the response's `Content-Length` is set when its size is known.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::HttpBody as _;
use axum::extract::Request;
use axum::handler::Handler;
use axum::response::{IntoResponse, Response};
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::{Method, StatusCode};
use percent_encoding::percent_decode_str;

use crate::error::RestError;
use crate::route::Route;
use crate::{AppState, negotiate};

/// A handler's answer, as axum's function handlers give it.
type Answering = Pin<Box<dyn Future<Output = Response> + Send>>;

/// A handler with its extractors, erased.
type Endpoint = Box<dyn Fn(Request, AppState) -> Answering + Send + Sync>;

/// The methods of one path template.
pub(crate) struct Methods {
    handlers: Vec<(Method, Endpoint)>,
}

impl Methods {
    fn new() -> Self {
        Self {
            handlers: Vec::new(),
        }
    }

    fn on<H, T>(mut self, method: Method, handler: H) -> Self
    where
        H: Handler<T, AppState, Future = Answering>,
        T: 'static,
    {
        self.handlers.push((
            method,
            Box::new(move |request, state| handler.clone().call(request, state)),
        ));
        self
    }

    pub(crate) fn get<H, T>(self, handler: H) -> Self
    where
        H: Handler<T, AppState, Future = Answering>,
        T: 'static,
    {
        self.on(Method::GET, handler)
    }

    pub(crate) fn post<H, T>(self, handler: H) -> Self
    where
        H: Handler<T, AppState, Future = Answering>,
        T: 'static,
    {
        self.on(Method::POST, handler)
    }

    pub(crate) fn put<H, T>(self, handler: H) -> Self
    where
        H: Handler<T, AppState, Future = Answering>,
        T: 'static,
    {
        self.on(Method::PUT, handler)
    }

    pub(crate) fn delete<H, T>(self, handler: H) -> Self
    where
        H: Handler<T, AppState, Future = Answering>,
        T: 'static,
    {
        self.on(Method::DELETE, handler)
    }

    /// The handler of `method`; `GET`'s answers `HEAD`.
    fn handler(&self, method: &Method) -> Option<&Endpoint> {
        let find = |wanted: &Method| {
            self.handlers
                .iter()
                .find(|(m, _)| m == wanted)
                .map(|(_, handler)| handler)
        };
        find(method).or_else(|| {
            (method == Method::HEAD)
                .then(|| find(&Method::GET))
                .flatten()
        })
    }

    /// `Allow` of a 405: the methods in the order given, `GET` with its
    /// `HEAD`.
    fn allow(&self) -> HeaderValue {
        let mut names = Vec::new();
        for (method, _) in &self.handlers {
            names.push(method.as_str());
            if method == Method::GET {
                names.push("HEAD");
            }
        }
        HeaderValue::from_str(&names.join(",")).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// `GET` only.
pub(crate) fn get<H, T>(handler: H) -> Methods
where
    H: Handler<T, AppState, Future = Answering>,
    T: 'static,
{
    Methods::new().get(handler)
}

/// `POST` only.
pub(crate) fn post<H, T>(handler: H) -> Methods
where
    H: Handler<T, AppState, Future = Answering>,
    T: 'static,
{
    Methods::new().post(handler)
}

/// `DELETE` only.
pub(crate) fn delete<H, T>(handler: H) -> Methods
where
    H: Handler<T, AppState, Future = Answering>,
    T: 'static,
{
    Methods::new().delete(handler)
}

/// One path template's entry.
struct Resource {
    template: &'static str,
    /// The template's `{name}`s, in order: the names its matches carry.
    names: Vec<&'static str>,
    methods: Methods,
    allow: HeaderValue,
    /// Whether the request's media types are checked and the answer's
    /// chosen (every JSON resource; not `/openapi.yaml`).
    negotiated: bool,
}

/// The table being built.
pub(crate) struct Table {
    paths: matchit::Router<usize>,
    resources: Vec<Resource>,
}

impl Table {
    pub(crate) fn new() -> Self {
        Self {
            paths: matchit::Router::new(),
            resources: Vec::new(),
        }
    }

    /// A JSON resource: media types negotiated as Confluent's are.
    pub(crate) fn route(self, template: &'static str, methods: Methods) -> Self {
        self.add(template, methods, true)
    }

    /// A resource whose answer is not JSON, outside the negotiation.
    pub(crate) fn route_unnegotiated(self, template: &'static str, methods: Methods) -> Self {
        self.add(template, methods, false)
    }

    fn add(mut self, template: &'static str, methods: Methods, negotiated: bool) -> Self {
        // The templates are this crate's constants: a bad or repeated one
        // is a bug that every test run meets at once.
        #[allow(clippy::expect_used)]
        self.paths
            .insert(template, self.resources.len())
            .expect("the facade's path templates are valid and distinct");
        let names = template
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let allow = methods.allow();
        self.resources.push(Resource {
            template,
            names,
            methods,
            allow,
            negotiated,
        });
        self
    }

    pub(crate) fn with_state(self, state: AppState) -> Routes {
        Routes(Arc::new((self, state)))
    }
}

/// The path parameters of the matched template, percent-decoded; `None`
/// when one is not UTF-8 once decoded (no subject can have such a name).
#[derive(Clone)]
pub(crate) struct PathParams(pub(crate) Option<Vec<(&'static str, String)>>);

/// The facade's routes as a service.
#[derive(Clone)]
pub struct Routes(Arc<(Table, AppState)>);

impl tower::Service<Request> for Routes {
    type Response = Response;
    type Error = Infallible;
    type Future = Dispatched;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Dispatched {
        let (table, state) = &*self.0;
        let head = request.method() == Method::HEAD;
        let now = |response| Dispatched::now(response, head);
        let Some((resource, params)) = table
            .paths
            .at(request.uri().path())
            .ok()
            .and_then(|matched| Some((table.resources.get(*matched.value)?, matched.params)))
        else {
            return now(RestError::not_found().into_response());
        };
        let Some(handler) = resource.methods.handler(request.method()) else {
            let mut response = RestError::method_not_allowed().into_response();
            response.headers_mut().insert(ALLOW, resource.allow.clone());
            return now(response);
        };
        let route = Route::from_template(resource.template);
        let content_type = if resource.negotiated {
            match negotiate::choose(request.headers()) {
                Ok(chosen) => Some(chosen),
                Err(e) => {
                    let mut response = e.into_response();
                    response.extensions_mut().insert(route);
                    return now(response);
                }
            }
        } else {
            None
        };
        let params = decode(&resource.names, &params);
        request.extensions_mut().insert(params);
        Dispatched {
            answering: handler(request, state.clone()),
            then: Some(Then {
                content_type,
                route: Some(route),
                head,
            }),
        }
    }
}

/// Decodes the matched parameters, named by the template's own
/// (`'static`) names, which matchit gives back in the same order.
fn decode(names: &[&'static str], params: &matchit::Params<'_, '_>) -> PathParams {
    let mut decoded = Vec::with_capacity(names.len());
    for (&name, (_, value)) in names.iter().zip(params.iter()) {
        match percent_decode_str(value).decode_utf8() {
            Ok(value) => decoded.push((name, value.into_owned())),
            Err(_) => return PathParams(None),
        }
    }
    PathParams(Some(decoded))
}

/// What is done to a handler's answer.
struct Then {
    content_type: Option<&'static str>,
    route: Option<Route>,
    head: bool,
}

impl Then {
    fn apply(self, response: &mut Response) {
        if let Some(chosen) = self.content_type
            && response.status() != StatusCode::NO_CONTENT
        {
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(chosen));
        }
        if let Some(route) = self.route {
            response.extensions_mut().insert(route);
        }
        if !response.headers().contains_key(CONTENT_LENGTH)
            && let Some(size) = response.body().size_hint().exact()
        {
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(size));
        }
        if self.head {
            *response.body_mut() = axum::body::Body::empty();
        }
    }
}

/// The answer of [`Routes`]: the handler's, or one given at once (a ready
/// future: refusals are rare enough to box), touched up.
pub struct Dispatched {
    answering: Answering,
    then: Option<Then>,
}

impl Dispatched {
    fn now(response: Response, head: bool) -> Self {
        Self {
            answering: Box::pin(std::future::ready(response)),
            then: Some(Then {
                content_type: None,
                route: None,
                head,
            }),
        }
    }
}

impl Future for Dispatched {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut response = std::task::ready!(self.answering.as_mut().poll(cx));
        if let Some(then) = self.then.take() {
            then.apply(&mut response);
        }
        Poll::Ready(Ok(response))
    }
}
