//! Authentication: from what a request carried (its `authorization`
//! header, the certificate its connection presented) to a [`Principal`].
//!
//! Passwords are hashed with deliberately slow functions (scrypt costs tens
//! of milliseconds and 16 MiB), so verdicts are cached: a valid password
//! checked once is not hashed again for [`POSITIVE_TTL`], and a wrong one is
//! refused from the cache for [`NEGATIVE_TTL`]. The cache is keyed by a
//! digest of the header with a key drawn at start, so it holds no password,
//! and it is emptied whenever the user file changes. Hashing runs on
//! blocking threads, at most one per core at once, with a bounded queue:
//! a flood of wrong passwords is refused as busy once the queue is full,
//! and callers whose verdict is cached never wait behind it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use tokio::sync::Semaphore;

use crate::token::TokenVerifier;
use crate::users::UserFile;
use crate::watch::Watched;
use crate::{Principal, SecurityError, Source};

/// How long a verified password is trusted without hashing it again.
pub const POSITIVE_TTL: Duration = Duration::from_secs(300);
/// How long a refused one is refused without hashing it again.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(30);
/// Verdicts kept of each kind; past it, the oldest half goes.
const CACHE_ENTRIES: usize = 10_000;
/// The longest `authorization` header looked at.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// How callers may prove who they are.
#[derive(Debug, Default, Clone)]
pub struct Methods {
    /// HTTP Basic against the user file's users.
    pub users: Option<Arc<Watched<UserFile>>>,
    /// Bearer tokens.
    pub tokens: Option<Arc<TokenVerifier>>,
    /// A client certificate the listener verified names the principal.
    pub certificates: bool,
}

impl Methods {
    /// Whether any method is on (authentication is required then).
    pub fn any(&self) -> bool {
        self.users.is_some() || self.tokens.is_some() || self.certificates
    }

    /// The `WWW-Authenticate` challenge a refusal carries: Basic while the
    /// user file has users (or nothing else is on), Bearer otherwise.
    pub fn challenge(&self) -> &'static str {
        let has_users = self
            .users
            .as_ref()
            .is_some_and(|u| u.get().user_count() > 0);
        if has_users || (self.users.is_some() && self.tokens.is_none()) {
            r#"Basic realm="Scute", charset="UTF-8""#
        } else {
            r#"Bearer realm="Scute""#
        }
    }
}

/// A verdict kept in the cache.
#[derive(Debug, Clone)]
struct Verdict {
    principal: Option<Principal>,
    until: Instant,
}

/// Verdicts on credentials, valid and refused kept apart so that a flood
/// of wrong ones never pushes out the right ones.
#[derive(Debug, Default)]
struct Cache {
    generation: u64,
    valid: HashMap<[u8; 32], Verdict>,
    refused: HashMap<[u8; 32], Verdict>,
}

impl Cache {
    fn get(&mut self, generation: u64, key: &[u8; 32]) -> Option<Option<Principal>> {
        if generation != self.generation {
            self.valid.clear();
            self.refused.clear();
            self.generation = generation;
            return None;
        }
        let now = Instant::now();
        let verdict = self.valid.get(key).or_else(|| self.refused.get(key))?;
        (verdict.until > now).then(|| verdict.principal.clone())
    }

    fn put(&mut self, generation: u64, key: [u8; 32], principal: Option<Principal>) {
        if generation != self.generation {
            return;
        }
        let (map, ttl) = match principal {
            Some(_) => (&mut self.valid, POSITIVE_TTL),
            None => (&mut self.refused, NEGATIVE_TTL),
        };
        if map.len() >= CACHE_ENTRIES {
            let now = Instant::now();
            map.retain(|_, v| v.until > now);
            if map.len() >= CACHE_ENTRIES {
                // Still full of live entries: drop about half, oldest first.
                let mut untils: Vec<Instant> = map.values().map(|v| v.until).collect();
                let middle = untils.len() / 2;
                let (_, cut, _) = untils.select_nth_unstable(middle);
                let cut = *cut;
                map.retain(|_, v| v.until > cut);
            }
        }
        map.insert(
            key,
            Verdict {
                principal,
                until: Instant::now() + ttl,
            },
        );
    }
}

/// A password check to run off the request threads.
pub type HashJob = Box<dyn FnOnce() -> bool + Send>;

/// Where password checks run: the server hands in a pool of its own (a
/// few threads at a lower priority, with a bounded queue), so that hashing
/// competes with neither lookups nor schema work. `Err` when the pool
/// cannot take the job (`SecurityError::Busy` to refuse the request).
pub type Hashing = Arc<
    dyn Fn(HashJob) -> Pin<Box<dyn Future<Output = Result<bool, SecurityError>> + Send>>
        + Send
        + Sync,
>;

/// Counts of what the authenticator did, for the benchmark and metrics.
#[derive(Debug, Default)]
pub struct Counters {
    pub hashed: AtomicUsize,
    pub cached: AtomicUsize,
    pub busy: AtomicUsize,
}

/// Turns credentials into principals.
pub struct Authenticator {
    methods: Methods,
    /// The key of the cache's digests, drawn at start.
    key: aws_lc_rs::hmac::Key,
    cache: Mutex<Cache>,
    hashing: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    /// A pool of the server's for hashing; tokio's blocking threads when
    /// none is given.
    pool: Option<Hashing>,
    pub counters: Counters,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("methods", &self.methods)
            .field("pool", &self.pool.is_some())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Hashing on at most `threads` threads at once, with `queue` more
    /// waiting; beyond, a request needing a hash is refused as busy.
    pub fn new(methods: Methods, threads: usize, queue: usize) -> Result<Self, SecurityError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| {
            SecurityError::Busy(format!("no randomness for the credential cache: {e}"))
        })?;
        Ok(Self {
            methods,
            key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret),
            cache: Mutex::new(Cache::default()),
            hashing: Arc::new(Semaphore::new(threads.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting: queue,
            pool: None,
            counters: Counters::default(),
        })
    }

    /// Runs password checks on `pool` instead of tokio's blocking threads.
    pub fn with_hashing(mut self, pool: Hashing) -> Self {
        self.pool = Some(pool);
        self
    }

    pub fn methods(&self) -> &Methods {
        &self.methods
    }

    /// The principal of a request: from its `authorization` header if it
    /// has one, else from its connection's verified certificate.
    pub async fn authenticate(
        &self,
        authorization: Option<&[u8]>,
        certificate: Option<&str>,
    ) -> Result<Principal, SecurityError> {
        let Some(header) = authorization else {
            return match certificate {
                Some(name) if self.methods.certificates => {
                    Ok(Principal::new(name, Source::Certificate))
                }
                _ => Err(SecurityError::Unauthenticated("no credentials".into())),
            };
        };
        if header.len() > MAX_HEADER_BYTES {
            return Err(SecurityError::Unauthenticated(
                "an authorization header over 16 KiB".into(),
            ));
        }
        let (scheme, value) = split_scheme(header).ok_or_else(|| {
            SecurityError::Unauthenticated("a malformed authorization header".into())
        })?;
        if scheme.eq_ignore_ascii_case("basic")
            && let Some(users) = &self.methods.users
        {
            return self.basic(users, value).await;
        }
        if scheme.eq_ignore_ascii_case("bearer")
            && let Some(tokens) = &self.methods.tokens
        {
            return tokens.verify(value);
        }
        Err(SecurityError::Unauthenticated(format!(
            "the {scheme} scheme is not accepted here"
        )))
    }

    async fn basic(
        &self,
        users: &Arc<Watched<UserFile>>,
        value: &str,
    ) -> Result<Principal, SecurityError> {
        let generation = users.generation();
        let key: [u8; 32] = {
            let tag = aws_lc_rs::hmac::sign(&self.key, value.as_bytes());
            let mut key = [0u8; 32];
            key.copy_from_slice(tag.as_ref());
            key
        };
        if let Some(verdict) = self.cached(generation, &key) {
            self.counters.cached.fetch_add(1, Ordering::Relaxed);
            return verdict
                .ok_or_else(|| SecurityError::Unauthenticated("a wrong password (cached)".into()));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                SecurityError::Unauthenticated(
                    "Basic credentials that are not base64 of UTF-8".into(),
                )
            })?;
        let (name, password) = decoded.split_once(':').ok_or_else(|| {
            SecurityError::Unauthenticated("Basic credentials without a colon".into())
        })?;
        let file = users.get();
        let Some(hash) = file.user(name).cloned() else {
            self.remember(generation, key, None);
            return Err(SecurityError::Unauthenticated(format!("no user {name:?}")));
        };
        let principal = Principal::new(name, Source::Basic);
        let password = password.to_owned();
        let valid = self.hash(move || hash.verify(&password)).await?;
        self.counters.hashed.fetch_add(1, Ordering::Relaxed);
        if valid {
            self.remember(generation, key, Some(principal.clone()));
            Ok(principal)
        } else {
            self.remember(generation, key, None);
            Err(SecurityError::Unauthenticated(format!(
                "a wrong password for {name:?}"
            )))
        }
    }

    fn cached(&self, generation: u64, key: &[u8; 32]) -> Option<Option<Principal>> {
        self.cache.lock().ok()?.get(generation, key)
    }

    fn remember(&self, generation: u64, key: [u8; 32], principal: Option<Principal>) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.put(generation, key, principal);
        }
    }

    /// Runs a password hash on a blocking thread, waiting for a turn in
    /// the bounded queue.
    async fn hash(
        &self,
        verify: impl FnOnce() -> bool + Send + 'static,
    ) -> Result<bool, SecurityError> {
        if let Some(pool) = &self.pool {
            let checked = pool(Box::new(verify)).await;
            if matches!(checked, Err(SecurityError::Busy(_))) {
                self.counters.busy.fetch_add(1, Ordering::Relaxed);
            }
            return checked;
        }
        let waiting = self.waiting.fetch_add(1, Ordering::AcqRel);
        let _leave = Leave(&self.waiting);
        if waiting >= self.max_waiting {
            self.counters.busy.fetch_add(1, Ordering::Relaxed);
            return Err(SecurityError::Busy(
                "Scute is checking too many passwords at once; retry shortly".into(),
            ));
        }
        let permit = self
            .hashing
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| SecurityError::Busy("the password checker stopped".into()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            verify()
        })
        .await
        .map_err(|e| SecurityError::Busy(format!("checking a password failed: {e}")))
    }
}

/// Leaves the queue when dropped.
struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// `Basic abc` as ("Basic", "abc").
fn split_scheme(header: &[u8]) -> Option<(&str, &str)> {
    let text = std::str::from_utf8(header).ok()?.trim();
    let (scheme, value) = text.split_once(' ')?;
    Some((scheme, value.trim()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::password::Algorithm;

    fn users(dir: &std::path::Path, algorithm: Algorithm) -> Arc<Watched<UserFile>> {
        let path = dir.join("users.json");
        let alice = crate::users::entry("alice", algorithm, "secret", Some("salt"));
        crate::users::add_user(&path, alice).unwrap();
        Watched::load("the user file", vec![path.clone()], move || {
            UserFile::read(&path)
        })
        .unwrap()
    }

    fn basic(user: &str, password: &str) -> Vec<u8> {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {encoded}").into_bytes()
    }

    #[tokio::test]
    async fn basic_credentials_are_checked_once_then_cached() {
        let dir = tempfile::tempdir().unwrap();
        let methods = Methods {
            users: Some(users(dir.path(), Algorithm::Sha256)),
            ..Methods::default()
        };
        let auth = Authenticator::new(methods, 1, 4).unwrap();
        let good = basic("alice", "secret");
        let principal = auth.authenticate(Some(&good), None).await.unwrap();
        assert_eq!(
            (&*principal.name, principal.source),
            ("alice", Source::Basic)
        );
        auth.authenticate(Some(&good), None).await.unwrap();
        assert_eq!(auth.counters.hashed.load(Ordering::Relaxed), 1);
        assert_eq!(auth.counters.cached.load(Ordering::Relaxed), 1);
        let bad = basic("alice", "wrong");
        for _ in 0..3 {
            let e = auth.authenticate(Some(&bad), None).await.unwrap_err();
            assert!(matches!(e, SecurityError::Unauthenticated(_)), "{e}");
        }
        assert_eq!(
            auth.counters.hashed.load(Ordering::Relaxed),
            2,
            "a wrong password is hashed once"
        );
        for header in [
            &b"Basic !!!"[..],
            b"Basic",
            b"Digest x",
            &basic("bob", "secret"),
        ] {
            assert!(auth.authenticate(Some(header), None).await.is_err());
        }
        assert!(auth.authenticate(None, None).await.is_err());
        assert!(
            auth.authenticate(None, Some("alice")).await.is_err(),
            "certificates are off"
        );
    }

    #[tokio::test]
    async fn a_changed_user_file_empties_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let file = users(dir.path(), Algorithm::Sha1);
        let methods = Methods {
            users: Some(file.clone()),
            ..Methods::default()
        };
        let auth = Authenticator::new(methods, 1, 4).unwrap();
        let good = basic("alice", "secret");
        auth.authenticate(Some(&good), None).await.unwrap();
        let path = dir.path().join("users.json");
        let changed = crate::users::entry("alice", Algorithm::Sha1, "new", Some("salt"));
        crate::users::add_user(&path, changed).unwrap();
        assert!(file.check());
        assert!(
            auth.authenticate(Some(&good), None).await.is_err(),
            "the old password is gone"
        );
        auth.authenticate(Some(&basic("alice", "new")), None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn certificates_name_the_principal_when_on() {
        let methods = Methods {
            certificates: true,
            ..Methods::default()
        };
        let auth = Authenticator::new(methods, 1, 4).unwrap();
        let p = auth.authenticate(None, Some("alice")).await.unwrap();
        assert_eq!((&*p.name, p.source), ("alice", Source::Certificate));
        assert!(
            auth.authenticate(Some(b"Basic YTpi"), Some("alice"))
                .await
                .is_err(),
            "a header is not ignored"
        );
    }

    #[tokio::test]
    async fn a_pool_of_the_servers_runs_the_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let methods = Methods {
            users: Some(users(dir.path(), Algorithm::Sha256)),
            ..Methods::default()
        };
        let ran = Arc::new(AtomicUsize::new(0));
        let counted = ran.clone();
        let pool: Hashing = Arc::new(move |job| {
            counted.fetch_add(1, Ordering::Relaxed);
            Box::pin(async move { Ok(job()) })
        });
        let auth = Authenticator::new(methods, 1, 4)
            .unwrap()
            .with_hashing(pool);
        auth.authenticate(Some(&basic("alice", "secret")), None)
            .await
            .unwrap();
        assert!(
            auth.authenticate(Some(&basic("alice", "nope")), None)
                .await
                .is_err()
        );
        assert_eq!(ran.load(Ordering::Relaxed), 2);
        let busy: Hashing =
            Arc::new(|_| Box::pin(async { Err(SecurityError::Busy("full".into())) }));
        let methods = Methods {
            users: Some(users(dir.path(), Algorithm::Sha256)),
            ..Methods::default()
        };
        let auth = Authenticator::new(methods, 1, 4)
            .unwrap()
            .with_hashing(busy);
        let e = auth
            .authenticate(Some(&basic("alice", "secret")), None)
            .await
            .unwrap_err();
        assert!(matches!(e, SecurityError::Busy(_)));
        assert_eq!(auth.counters.busy.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_full_queue_is_busy_not_slow() {
        let dir = tempfile::tempdir().unwrap();
        let methods = Methods {
            users: Some(users(dir.path(), Algorithm::Sha512)),
            ..Methods::default()
        };
        let auth = Arc::new(Authenticator::new(methods, 1, 0).unwrap());
        let e = auth
            .authenticate(Some(&basic("alice", "x")), None)
            .await
            .unwrap_err();
        assert!(matches!(e, SecurityError::Busy(_)), "{e}");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let mut cache = Cache::default();
        for i in 0..(CACHE_ENTRIES + 10) {
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&(i as u64).to_le_bytes());
            cache.put(0, key, None);
        }
        assert!(cache.refused.len() <= CACHE_ENTRIES);
        cache.put(0, [9; 32], Some(Principal::new("a", Source::Basic)));
        assert_eq!(cache.get(0, &[9; 32]).unwrap().unwrap().name.as_ref(), "a");
        assert!(
            cache.get(1, &[9; 32]).is_none(),
            "a new generation starts empty"
        );
    }
}
