//! The facade's middleware as plain tower services: taking the context
//! prefix off, and marking the route of an axum router (the operator's
//! paths; the facade's own routes mark theirs, `dispatch.rs`). Each
//! answers at once or hands the request on and touches up the response,
//! with no boxed future and no clone of the service it wraps per request
//! (what `axum::middleware::from_fn` costs: about 2 µs of a 15 µs lookup).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::{MatchedPath, Request};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use crate::context_path;
use crate::route::Route;

/// What a layer does to the response of the service it wraps.
enum Then {
    Nothing,
    /// The route that answered, for whoever counts requests.
    Mark(Option<MatchedPath>),
}

impl Then {
    fn apply(self, response: &mut Response) {
        match self {
            Self::Nothing => {}
            Self::Mark(route) => {
                if let Some(route) = route {
                    response.extensions_mut().insert(Route::from_matched(route));
                }
            }
        }
    }
}

/// The answer of one of these layers: given at once, or the wrapped
/// service's, touched up.
pub struct Answer<F> {
    state: State<F>,
}

enum State<F> {
    Now(Option<Response>),
    Inner(F, Option<Then>),
}

impl<F> Answer<F> {
    fn now(response: Response) -> Self {
        Self {
            state: State::Now(Some(response)),
        }
    }

    fn inner(future: F, then: Then) -> Self {
        Self {
            state: State::Inner(future, Some(then)),
        }
    }
}

/// The wrapped futures are `Unpin` (axum's and the facade's routes box the
/// handler's), so no pinning projection is needed.
impl<F> Future for Answer<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.state {
            State::Now(response) => Poll::Ready(Ok(response.take().unwrap_or_default())),
            State::Inner(future, then) => match Pin::new(future).poll(cx) {
                Poll::Ready(Ok(mut response)) => {
                    if let Some(then) = then.take() {
                        then.apply(&mut response);
                    }
                    Poll::Ready(Ok(response))
                }
                Poll::Ready(Err(never)) => match never {},
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// Which of the facade's jobs a [`Facade`] service does.
#[derive(Debug, Clone, Copy)]
enum Job {
    StripContext,
    Mark,
}

/// One of the facade's jobs around `inner`.
#[derive(Debug, Clone)]
pub struct Facade<S> {
    inner: S,
    job: Job,
}

impl<S> Service<Request> for Facade<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let then = match self.job {
            Job::StripContext => match context_path::rewrite(request.uri()) {
                Ok(Some(uri)) => {
                    *request.uri_mut() = uri;
                    Then::Nothing
                }
                Ok(None) => Then::Nothing,
                Err(e) => return Answer::now(e.into_response()),
            },
            Job::Mark => Then::Mark(request.extensions().get::<MatchedPath>().cloned()),
        };
        Answer::inner(self.inner.call(request), then)
    }
}

/// A [`Layer`] making [`Facade`] services.
#[derive(Debug, Clone, Copy)]
pub struct FacadeLayer(Job);

impl FacadeLayer {
    /// Takes the `/contexts/{context}` prefix off before routing (see
    /// `context_path`); wrap the router with it.
    pub(crate) fn strip_context() -> Self {
        Self(Job::StripContext)
    }

    /// Hands the matched route back in the response as [`Route`] (a
    /// `route_layer`), for counting requests by route.
    pub fn mark_route() -> Self {
        Self(Job::Mark)
    }
}

impl<S> Layer<S> for FacadeLayer {
    type Service = Facade<S>;

    fn layer(&self, inner: S) -> Facade<S> {
        Facade { inner, job: self.0 }
    }
}
