//! OAuth 2 / OIDC bearer tokens: JWTs the identity provider signed,
//! checked against its JWKS (a file, or an https URL), which is re-read
//! now and then so that a key rotation needs no restart.
//!
//! Only asymmetric algorithms are accepted, and which ones is decided by
//! the key a token names, never by the token: a token cannot choose `none`,
//! nor HMAC with a public key as the shared secret.

use std::convert::Infallible;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED, ED25519, ParsedPublicKey,
    VerificationAlgorithm,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::watch::Watched;
use crate::{Principal, SecurityError, Source};

/// Longer tokens are refused before any decoding: real ones are a few KiB,
/// and the bound caps the work one request can cause.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// A JWKS holds a handful of keys; anything larger is a misconfigured or
/// hostile server, and is not read into memory.
pub const MAX_JWKS_LEN: usize = 1024 * 1024;
/// Clock skew forgiven on `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// How often the JWKS is re-read, so rotated keys are picked up.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(300);

/// A JWKS fetch that takes longer is abandoned (and retried next time).
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// A token naming an unknown key refetches the JWKS at most this often,
/// so a flood of made-up `kid`s cannot hammer the identity provider.
const KID_REFETCH_EVERY: Duration = Duration::from_secs(30);
/// A larger leeway would accept tokens long expired.
const MAX_LEEWAY: Duration = Duration::from_secs(3600);
/// Re-reading a URL more often would only load the identity provider.
const MIN_URL_REFRESH: Duration = Duration::from_secs(1);
/// Reasons quote at most this much of what a caller sent.
const SHOWN_LEN: usize = 80;

const RSA_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];
/// Every algorithm a token may use; HMAC is absent on purpose.
const ALLOWED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Where the identity provider's public keys are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A JWKS file, polled for change.
    File(PathBuf),
    /// The provider's `jwks_uri`, fetched again every refresh.
    Url(String),
}

impl JwksSource {
    /// One setting names either: an `http://` or `https://` prefix means a
    /// URL, anything else a file path.
    pub fn parse(s: &str) -> Self {
        if starts_with_ignore_case(s, "https://") || starts_with_ignore_case(s, "http://") {
            Self::Url(s.to_owned())
        } else {
            Self::File(PathBuf::from(s))
        }
    }
}

impl FromStr for JwksSource {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(s))
    }
}

impl fmt::Display for JwksSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Url(url) => f.write_str(url),
        }
    }
}

/// What a bearer token must satisfy, and where its keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSettings {
    pub jwks: JwksSource,
    /// The `iss` a token must carry, exactly.
    pub issuer: String,
    /// A token's `aud` must name at least one of these.
    pub audiences: Vec<String>,
    /// The claim naming the principal, a string (default `sub`).
    pub principal_claim: String,
    /// A dotted path to a list of role names, e.g. `realm_access.roles`;
    /// a top-level claim of that exact name (`https://x.example/roles`)
    /// is looked up first. Missing means no roles.
    pub roles_claim: Option<String>,
    /// Clock skew forgiven on `exp` and `nbf` (default 30 s).
    pub leeway: Duration,
    /// How often the JWKS is re-read (default 5 min).
    pub refresh: Duration,
    /// Allow a plain `http://` JWKS URL. For tests only: whoever can alter
    /// an unencrypted response can swap in their own keys.
    pub allow_insecure_url: bool,
}

impl TokenSettings {
    /// Settings with the defaults: principal from `sub`, no roles, 30 s
    /// leeway, JWKS re-read every 5 minutes, https only.
    pub fn new(jwks: JwksSource, issuer: impl Into<String>, audiences: Vec<String>) -> Self {
        Self {
            jwks,
            issuer: issuer.into(),
            audiences,
            principal_claim: "sub".to_owned(),
            roles_claim: None,
            leeway: DEFAULT_LEEWAY,
            refresh: DEFAULT_REFRESH,
            allow_insecure_url: false,
        }
    }

    /// Settings that would refuse every token, or accept too much, are a
    /// start-up error rather than a stream of refusals.
    fn validate(&self) -> Result<(), SecurityError> {
        let bad = |why: &str| Err(SecurityError::Jwks(format!("bearer token settings: {why}")));
        if self.issuer.is_empty() {
            return bad("no issuer is set");
        }
        if self.audiences.is_empty() || self.audiences.iter().any(String::is_empty) {
            return bad("no audience is set (or one is empty)");
        }
        if self.principal_claim.is_empty() {
            return bad("the principal claim is empty");
        }
        if self.roles_claim.as_deref().is_some_and(str::is_empty) {
            return bad("the roles claim is empty");
        }
        if self.leeway > MAX_LEEWAY {
            return bad("a leeway over an hour would accept long-expired tokens");
        }
        Ok(())
    }
}

/// One usable key of the JWKS and the algorithms it may verify.
struct VerifyKey {
    kid: Option<String>,
    algorithms: Vec<Algorithm>,
    key: DecodingKey,
}

/// The usable signing keys of one JWKS.
struct KeySet {
    keys: Vec<VerifyKey>,
}

impl KeySet {
    /// Keys that cannot verify tokens (encryption keys, HMAC secrets,
    /// unsupported curves) are skipped; a set left with none is an error.
    fn parse(bytes: &[u8]) -> Result<Self, String> {
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let Some(entries) = doc.get("keys").and_then(Value::as_array) else {
            return Err("not a JWKS: no \"keys\" array".to_owned());
        };
        let mut keys = Vec::with_capacity(entries.len());
        let mut skipped = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            match VerifyKey::from_jwk(entry) {
                Ok(key) => keys.push(key),
                Err(why) => {
                    let name = match entry.get("kid").and_then(Value::as_str) {
                        Some(kid) => format!("{:?}", shown(kid)),
                        None => format!("#{index}"),
                    };
                    tracing::debug!(key = %name, why, "JWKS key skipped");
                    skipped.push(format!("key {name}: {why}"));
                }
            }
        }
        if keys.is_empty() {
            return Err(if skipped.is_empty() {
                "no keys".to_owned()
            } else {
                format!("no usable signing key ({})", skipped.join("; "))
            });
        }
        Ok(Self { keys })
    }

    fn kids(&self) -> Vec<&str> {
        self.keys
            .iter()
            .map(|k| k.kid.as_deref().unwrap_or("(no kid)"))
            .collect()
    }
}

impl VerifyKey {
    fn from_jwk(jwk: &Value) -> Result<Self, String> {
        if !jwk.is_object() {
            return Err("not a JSON object".to_owned());
        }
        let text = |name: &str| -> Result<Option<&str>, String> {
            match jwk.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(format!("{name} is not a string")),
            }
        };
        let required = |name: &str| -> Result<&str, String> {
            text(name)?.ok_or_else(|| format!("no {name}"))
        };
        let kty = required("kty")?;
        if let Some(usage) = text("use")?
            && usage != "sig"
        {
            return Err(format!("meant for use {usage:?}, not signatures"));
        }
        if let Some(ops) = jwk.get("key_ops")
            && !ops
                .as_array()
                .is_some_and(|ops| ops.iter().any(|op| op == "verify"))
        {
            return Err("its key_ops do not include verify".to_owned());
        }
        let kid = text("kid")?.map(str::to_owned);
        let alg = text("alg")?;

        let (fitting, key): (&[Algorithm], DecodingKey) = match kty {
            "RSA" => {
                let n = base64url(required("n")?, "n")?;
                let e = base64url(required("e")?, "e")?;
                let bits = significant_bits(&n);
                if !(2048..=8192).contains(&bits) {
                    return Err(format!(
                        "an RSA modulus of {bits} bits (2048 to 8192 are accepted)"
                    ));
                }
                if significant_bits(&e) == 0 {
                    return Err("an RSA exponent of zero".to_owned());
                }
                (RSA_ALGORITHMS, DecodingKey::from_rsa_raw_components(&n, &e))
            }
            "EC" => {
                let (fitting, check, len): (&[Algorithm], &'static dyn VerificationAlgorithm, _) =
                    match required("crv")? {
                        "P-256" => (&[Algorithm::ES256], &ECDSA_P256_SHA256_FIXED, 32),
                        "P-384" => (&[Algorithm::ES384], &ECDSA_P384_SHA384_FIXED, 48),
                        other => return Err(format!("curve {:?} is not supported", shown(other))),
                    };
                let (x_text, y_text) = (required("x")?, required("y")?);
                let (x, y) = (base64url(x_text, "x")?, base64url(y_text, "y")?);
                if x.len() != len || y.len() != len {
                    return Err(format!("x and y must be {len} bytes each"));
                }
                let mut point = Vec::with_capacity(1 + 2 * len);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                ParsedPublicKey::new(check, &point)
                    .map_err(|e| format!("not a point on the curve: {e}"))?;
                let key = DecodingKey::from_ec_components(x_text, y_text)
                    .map_err(|e| format!("unusable EC key: {e}"))?;
                (fitting, key)
            }
            "OKP" => {
                let crv = required("crv")?;
                if crv != "Ed25519" {
                    return Err(format!("curve {:?} is not supported", shown(crv)));
                }
                let x_text = required("x")?;
                let x = base64url(x_text, "x")?;
                ParsedPublicKey::new(&ED25519, &x)
                    .map_err(|e| format!("not an Ed25519 public key: {e}"))?;
                let key = DecodingKey::from_ed_components(x_text)
                    .map_err(|e| format!("unusable Ed25519 key: {e}"))?;
                (&[Algorithm::EdDSA], key)
            }
            "oct" => {
                return Err(
                    "a symmetric (HMAC) key: never trusted, since verifying with it would \
                     let anyone holding it sign tokens"
                        .to_owned(),
                );
            }
            other => return Err(format!("key type {:?} is not supported", shown(other))),
        };

        // A key that names its algorithm verifies that one only.
        let algorithms = match alg {
            None => fitting.to_vec(),
            Some(alg) => match alg.parse::<Algorithm>() {
                Ok(alg) if fitting.contains(&alg) => vec![alg],
                _ => {
                    return Err(format!(
                        "alg {:?} is not allowed for a {kty} key",
                        shown(alg)
                    ));
                }
            },
        };
        Ok(Self {
            kid,
            algorithms,
            key,
        })
    }
}

/// Where the keys in use come from.
enum Keys {
    File(Arc<Watched<KeySet>>),
    Url(Arc<UrlKeys>),
}

impl Keys {
    fn current(&self) -> Arc<KeySet> {
        match self {
            Self::File(watched) => watched.get(),
            Self::Url(url) => url.current(),
        }
    }
}

/// A JWKS fetched from the identity provider, and the keys last fetched.
struct UrlKeys {
    url: String,
    client: reqwest::Client,
    current: RwLock<Arc<KeySet>>,
}

impl UrlKeys {
    /// Checks the URL and builds the client; fetches nothing yet.
    fn new(url: &str, allow_insecure: bool) -> Result<Self, SecurityError> {
        let bad = |why: String| SecurityError::Jwks(format!("{url}: {why}"));
        let parsed = reqwest::Url::parse(url).map_err(|e| bad(format!("not a URL: {e}")))?;
        match parsed.scheme() {
            "https" => {}
            "http" if allow_insecure => {
                tracing::warn!(url, "the JWKS is fetched over plain http: for tests only");
            }
            "http" => {
                return Err(bad(
                    "refusing a plain-http JWKS URL: whoever can alter the response could \
                     substitute their own keys and sign any token; use https (allowing \
                     http is for tests only)"
                        .to_owned(),
                ));
            }
            other => return Err(bad(format!("the scheme {other:?} is not http(s)"))),
        }
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .https_only(!allow_insecure)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| bad(format!("cannot build an HTTP client: {}", chain(&e))))?;
        Ok(Self {
            url: url.to_owned(),
            client,
            current: RwLock::new(Arc::new(KeySet { keys: Vec::new() })),
        })
    }

    fn current(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace(&self, keys: KeySet) {
        let keys = Arc::new(keys);
        match self.current.write() {
            Ok(mut current) => *current = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
    }

    /// Fetches and parses the JWKS, reading at most [`MAX_JWKS_LEN`].
    async fn fetch(&self) -> Result<KeySet, String> {
        let mut response = self
            .client
            .get(&self.url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("cannot fetch: {}", chain(&e)))?;
        if !response.status().is_success() {
            return Err(format!("the server answered {}", response.status()));
        }
        let too_large = || format!("the answer is larger than {MAX_JWKS_LEN} bytes");
        if response
            .content_length()
            .is_some_and(|len| len > MAX_JWKS_LEN as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("cannot read the answer: {}", chain(&e)))?
        {
            if body.len() + chunk.len() > MAX_JWKS_LEN {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        KeySet::parse(&body)
    }

    /// Fetches again; a failure keeps the keys in use.
    async fn refresh(&self, why: &'static str) {
        match self.fetch().await {
            Ok(keys) => {
                let before = self.current();
                if before.kids() == keys.kids() {
                    tracing::debug!(url = %self.url, why, "JWKS refreshed, unchanged");
                } else {
                    tracing::info!(url = %self.url, why, kids = ?keys.kids(), "JWKS reloaded");
                }
                self.replace(keys);
            }
            Err(error) => {
                tracing::warn!(
                    url = %self.url, why, error,
                    "cannot refresh the JWKS; keeping the keys in use"
                );
            }
        }
    }
}

/// Checks bearer tokens against the identity provider's keys, which a
/// background task keeps fresh for as long as the verifier lives.
pub struct TokenVerifier {
    source: JwksSource,
    keys: Keys,
    /// One validation per allowed algorithm, built once.
    validations: Vec<(Algorithm, Validation)>,
    principal_claim: String,
    roles_claim: Option<String>,
    /// Where a refetch for an unknown `kid` runs: `verify` is synchronous.
    runtime: tokio::runtime::Handle,
    last_kid_refetch: Mutex<Option<Instant>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("jwks", &self.source)
            .field("kids", &self.keys.current().kids())
            .field("principal_claim", &self.principal_claim)
            .field("roles_claim", &self.roles_claim)
            .finish_non_exhaustive()
    }
}

impl Drop for TokenVerifier {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl TokenVerifier {
    /// Loads the JWKS now (unreadable, or without a usable signing key, is
    /// a start-up error) and re-reads it every `refresh` in a task of the
    /// current runtime; a failed re-read keeps the keys in use.
    pub async fn start(settings: TokenSettings) -> Result<Arc<Self>, SecurityError> {
        settings.validate()?;
        // Decoding uses jsonwebtoken's process-wide provider; this crate
        // builds it with aws-lc-rs only, so make that explicit. An error
        // means one is installed already, which is as good.
        let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
            &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
        );
        let (keys, task) = match &settings.jwks {
            JwksSource::File(path) => {
                let path = path.clone();
                let watched = tokio::task::spawn_blocking(move || {
                    let read = path.clone();
                    Watched::load("the JWKS file", vec![path], move || read_jwks_file(&read))
                })
                .await
                .map_err(|e| SecurityError::Jwks(format!("loading the JWKS file: {e}")))??;
                let task = watched.spawn(settings.refresh);
                (Keys::File(watched), task)
            }
            JwksSource::Url(url) => {
                let fetcher = Arc::new(UrlKeys::new(url, settings.allow_insecure_url)?);
                let keys = fetcher
                    .fetch()
                    .await
                    .map_err(|why| SecurityError::Jwks(format!("{url}: {why}")))?;
                fetcher.replace(keys);
                let every = settings.refresh.max(MIN_URL_REFRESH);
                let task = {
                    let fetcher = fetcher.clone();
                    tokio::spawn(async move {
                        let mut tick = tokio::time::interval(every);
                        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                        tick.tick().await;
                        loop {
                            tick.tick().await;
                            fetcher.refresh("periodic").await;
                        }
                    })
                };
                (Keys::Url(fetcher), task)
            }
        };
        let leeway = settings.leeway.as_secs();
        let validations = ALLOWED
            .iter()
            .map(|&alg| {
                let mut validation = Validation::new(alg);
                validation.leeway = leeway;
                validation.validate_exp = true;
                validation.validate_nbf = true;
                validation.set_required_spec_claims(&["exp", "iss", "aud"]);
                validation.set_issuer(&[&settings.issuer]);
                validation.set_audience(&settings.audiences);
                (alg, validation)
            })
            .collect();
        let verifier = Self {
            source: settings.jwks.clone(),
            keys,
            validations,
            principal_claim: settings.principal_claim,
            roles_claim: settings.roles_claim,
            runtime: tokio::runtime::Handle::current(),
            last_kid_refetch: Mutex::new(None),
            tasks: vec![task],
        };
        tracing::info!(
            jwks = %verifier.source,
            kids = ?verifier.keys.current().kids(),
            "bearer tokens: JWKS loaded"
        );
        Ok(Arc::new(verifier))
    }

    /// Who the token says the caller is, if a key of the JWKS signed it and
    /// its claims hold. Every refusal is `Unauthenticated` with a reason
    /// for the log.
    pub fn verify(&self, token: &str) -> Result<Principal, SecurityError> {
        self.check(token)
            .map_err(|why| SecurityError::Unauthenticated(format!("bearer token refused: {why}")))
    }

    fn check(&self, token: &str) -> Result<Principal, String> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(format!("longer than {MAX_TOKEN_LEN} bytes"));
        }
        let (alg, kid) = read_header(token)?;
        let set = self.keys.current();
        let candidates: Vec<&VerifyKey> = match &kid {
            Some(kid) => {
                let named: Vec<&VerifyKey> = set
                    .keys
                    .iter()
                    .filter(|k| k.kid.as_deref() == Some(kid.as_str()))
                    .collect();
                if named.is_empty() {
                    self.refetch_soon();
                    return Err(format!("unknown kid {:?}", shown(kid)));
                }
                let fitting: Vec<&VerifyKey> = named
                    .into_iter()
                    .filter(|k| k.algorithms.contains(&alg))
                    .collect();
                if fitting.is_empty() {
                    return Err(format!(
                        "algorithm {alg:?} not allowed for the key {:?}",
                        shown(kid)
                    ));
                }
                fitting
            }
            None => {
                let fitting: Vec<&VerifyKey> = set
                    .keys
                    .iter()
                    .filter(|k| k.algorithms.contains(&alg))
                    .collect();
                if fitting.is_empty() {
                    return Err(format!(
                        "algorithm {alg:?} not allowed: no key of the JWKS uses it"
                    ));
                }
                fitting
            }
        };
        let validation = self
            .validations
            .iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, v)| v)
            .ok_or_else(|| format!("algorithm {alg:?} not allowed"))?;

        let mut claims = None;
        for key in candidates {
            match jsonwebtoken::decode::<Value>(token, &key.key, validation) {
                Ok(data) => {
                    claims = Some(data.claims);
                    break;
                }
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => {}
                // The signature held (it is checked first): the claims did not.
                Err(e) => return Err(describe(&e, token)),
            }
        }
        let Some(claims) = claims else {
            return Err("bad signature".to_owned());
        };

        let name = match claim(&claims, &self.principal_claim) {
            None | Some(Value::Null) => {
                return Err(format!("claim {:?} missing", self.principal_claim));
            }
            Some(Value::String(name)) if !name.is_empty() => name.clone(),
            Some(_) => {
                return Err(format!(
                    "claim {:?} is not a non-empty string",
                    self.principal_claim
                ));
            }
        };
        let roles = match &self.roles_claim {
            None => Vec::new(),
            Some(path) => roles(claim(&claims, path))
                .ok_or_else(|| format!("claim {path:?} is not a list of strings"))?,
        };
        Ok(Principal::new(name, Source::Bearer).with_roles(roles))
    }

    /// A token named a key not in the set: perhaps the provider rotated.
    /// Re-read the JWKS in the background, at most every 30 seconds.
    fn refetch_soon(&self) {
        let Ok(mut last) = self.last_kid_refetch.lock() else {
            return;
        };
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < KID_REFETCH_EVERY) {
            return;
        }
        *last = Some(now);
        drop(last);
        match &self.keys {
            Keys::Url(fetcher) => {
                let fetcher = fetcher.clone();
                self.runtime.spawn(async move {
                    fetcher.refresh("a token named an unknown kid").await;
                });
            }
            Keys::File(watched) => {
                let watched = watched.clone();
                self.runtime.spawn_blocking(move || watched.check());
            }
        }
    }
}

/// The JWKS file, read up to [`MAX_JWKS_LEN`].
fn read_jwks_file(path: &Path) -> Result<KeySet, SecurityError> {
    let bad = |why: String| SecurityError::Jwks(format!("{}: {why}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| bad(format!("cannot open: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_JWKS_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(format!("cannot read: {e}")))?;
    if bytes.len() > MAX_JWKS_LEN {
        return Err(bad(format!("larger than {MAX_JWKS_LEN} bytes")));
    }
    KeySet::parse(&bytes).map_err(bad)
}

/// The header's algorithm (an allowed one) and `kid`, read before any key
/// is chosen so the refusal can say what was wrong.
fn read_header(token: &str) -> Result<(Algorithm, Option<String>), String> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(if token.split('.').count() == 5 {
            "malformed: an encrypted token (JWE), which is not supported".to_owned()
        } else {
            "malformed: not three dot-separated parts".to_owned()
        });
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| "malformed: the header is not base64url".to_owned())?;
    let header: Value = serde_json::from_slice(&bytes)
        .map_err(|_| "malformed: the header is not JSON".to_owned())?;
    let Some(header) = header.as_object() else {
        return Err("malformed: the header is not a JSON object".to_owned());
    };
    let Some(alg) = header.get("alg").and_then(Value::as_str) else {
        return Err("malformed: the header names no alg".to_owned());
    };
    let alg = match alg.parse::<Algorithm>() {
        Ok(parsed) if ALLOWED.contains(&parsed) => parsed,
        _ => return Err(format!("algorithm {:?} not allowed", shown(alg))),
    };
    if header.contains_key("crit") {
        return Err("critical header extensions (crit) are not supported".to_owned());
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err("malformed: the kid is not a string".to_owned()),
    };
    Ok((alg, kid))
}

/// Why jsonwebtoken refused a token whose header was fine. Past the
/// signature, the claims are the provider's own, so quoting them helps.
fn describe(error: &jsonwebtoken::errors::Error, token: &str) -> String {
    let payload = || -> Option<Value> {
        let part = token.split('.').nth(1)?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
    };
    let quoting = |what: &str, name: &str| -> String {
        match payload().and_then(|p| p.get(name).map(|v| shown(&v.to_string()))) {
            Some(value) => format!("{what} {value}"),
            None => what.to_owned(),
        }
    };
    match error.kind() {
        ErrorKind::ExpiredSignature => {
            let ago = payload()
                .and_then(|p| p.get("exp").and_then(Value::as_u64))
                .map(|exp| jsonwebtoken::get_current_timestamp().saturating_sub(exp));
            match ago {
                Some(ago) => format!("expired {ago} s ago"),
                None => "expired".to_owned(),
            }
        }
        ErrorKind::ImmatureSignature => "not valid yet (nbf is in the future)".to_owned(),
        ErrorKind::InvalidIssuer => quoting("wrong issuer", "iss"),
        ErrorKind::InvalidAudience => quoting("wrong audience", "aud"),
        ErrorKind::InvalidSignature => "bad signature".to_owned(),
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::MissingAlgorithm => "algorithm not allowed".to_owned(),
        ErrorKind::MissingRequiredClaim(name) => format!("claim {name:?} missing"),
        ErrorKind::InvalidClaimFormat(name) => format!("malformed: claim {name:?}"),
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_) => "malformed".to_owned(),
        _ => format!("refused ({error})"),
    }
}

/// A claim by its exact top-level name, else by a dotted path into nested
/// objects (`resource_access.scute.roles`).
fn claim<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(path) {
        return Some(value);
    }
    let mut value = claims;
    for part in path.split('.') {
        value = value.get(part)?;
    }
    Some(value)
}

/// Role names from the roles claim: missing (or null) is none, one string
/// is one role, anything but a list of strings is refused.
fn roles(value: Option<&Value>) -> Option<Vec<String>> {
    match value {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::String(role)) => Some(vec![role.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect(),
        Some(_) => None,
    }
}

fn base64url(text: &str, name: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| format!("{name} is not base64url"))
}

/// The bit length of a big-endian unsigned integer.
fn significant_bits(bytes: &[u8]) -> usize {
    match bytes.iter().position(|&b| b != 0) {
        None => 0,
        Some(first) => (bytes.len() - first) * 8 - bytes[first].leading_zeros() as usize,
    }
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// At most [`SHOWN_LEN`] characters of caller-chosen text, for a log line.
fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_LEN) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// An error and its causes on one line: reqwest's own message omits them.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RSA_PSS_SHA256, RsaKeyPair};
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    const ISSUER: &str = "https://idp.example/realms/scute";

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    /// An ECDSA P-256 signing key, as an identity provider holds it.
    struct EcKey {
        kid: String,
        pkcs8: Vec<u8>,
        x: String,
        y: String,
    }

    impl EcKey {
        fn new(kid: &str) -> Self {
            let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
            let raw = pair.public_key_raw();
            assert_eq!((raw.len(), raw[0]), (65, 0x04), "an uncompressed point");
            Self {
                kid: kid.to_owned(),
                pkcs8: pair.serialize_der(),
                x: b64(&raw[1..33]),
                y: b64(&raw[33..]),
            }
        }

        fn jwk(&self) -> Value {
            json!({
                "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256",
                "kid": self.kid, "x": self.x, "y": self.y,
            })
        }

        fn sign(&self, claims: &Value) -> String {
            self.sign_as(Some(&self.kid), claims)
        }

        fn sign_as(&self, kid: Option<&str>, claims: &Value) -> String {
            let mut header = Header::new(Algorithm::ES256);
            header.kid = kid.map(str::to_owned);
            jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&self.pkcs8)).unwrap()
        }
    }

    fn claims() -> Value {
        json!({
            "iss": ISSUER,
            "aud": ["account", "scute"],
            "sub": "alice",
            "preferred_username": "alice@example.com",
            "exp": now() + 300,
            "iat": now(),
            "realm_access": { "roles": ["reader", "writer"] },
            "resource_access": { "scute": { "roles": ["schema-admin"] } },
        })
    }

    fn with(mut claims: Value, name: &str, value: Value) -> Value {
        claims[name] = value;
        claims
    }

    fn without(mut claims: Value, name: &str) -> Value {
        claims.as_object_mut().unwrap().remove(name);
        claims
    }

    fn write_jwks(path: &Path, keys: &[Value]) {
        std::fs::write(path, json!({ "keys": keys }).to_string()).unwrap();
    }

    fn settings(jwks: JwksSource) -> TokenSettings {
        let mut settings = TokenSettings::new(jwks, ISSUER, vec!["scute".to_owned()]);
        settings.roles_claim = Some("realm_access.roles".to_owned());
        settings
    }

    /// A verifier reading a JWKS file that holds `keys`.
    async fn file_verifier(
        keys: &[Value],
        tune: impl FnOnce(&mut TokenSettings),
    ) -> (tempfile::TempDir, PathBuf, Arc<TokenVerifier>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        write_jwks(&path, keys);
        let mut settings = settings(JwksSource::File(path.clone()));
        tune(&mut settings);
        let verifier = TokenVerifier::start(settings).await.unwrap();
        (dir, path, verifier)
    }

    fn refusal(result: Result<Principal, SecurityError>) -> String {
        match result {
            Err(SecurityError::Unauthenticated(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn assert_refused(verifier: &TokenVerifier, token: &str, says: &str) {
        let why = refusal(verifier.verify(token));
        assert!(why.contains(says), "{why:?} should say {says:?}");
    }

    /// A token put together by hand, for headers no honest library writes.
    fn forge(header: &Value, claims: &Value, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes()),
            b64(signature)
        )
    }

    #[test]
    fn a_jwks_source_is_a_url_or_a_file() {
        assert_eq!(
            JwksSource::parse("https://idp/certs"),
            JwksSource::Url("https://idp/certs".to_owned())
        );
        assert_eq!(
            "HTTP://idp/certs".parse::<JwksSource>().unwrap(),
            JwksSource::Url("HTTP://idp/certs".to_owned())
        );
        assert_eq!(
            JwksSource::parse("/etc/scute/jwks.json"),
            JwksSource::File(PathBuf::from("/etc/scute/jwks.json"))
        );
        assert_eq!(
            JwksSource::parse("https"),
            JwksSource::File(PathBuf::from("https"))
        );
    }

    #[tokio::test]
    async fn a_good_token_names_the_principal_and_its_roles() {
        let key = EcKey::new("k1");
        let (_dir, _path, verifier) = file_verifier(&[key.jwk()], |_| {}).await;
        let principal = verifier.verify(&key.sign(&claims())).unwrap();
        assert_eq!(&*principal.name, "alice");
        assert_eq!(&*principal.roles, ["reader", "writer"]);
        assert_eq!(principal.source, Source::Bearer);

        // No kid: the keys whose algorithm fits are tried.
        let principal = verifier.verify(&key.sign_as(None, &claims())).unwrap();
        assert_eq!(&*principal.name, "alice");

        // A single audience string; no roles claim means no roles.
        let token = key.sign(&without(
            with(claims(), "aud", json!("scute")),
            "realm_access",
        ));
        assert!(verifier.verify(&token).unwrap().roles.is_empty());

        // Expired, but within the leeway.
        let token = key.sign(&with(claims(), "exp", json!(now() - 10)));
        assert!(verifier.verify(&token).is_ok());
    }

    #[tokio::test]
    async fn the_principal_and_roles_claims_are_configurable() {
        let key = EcKey::new("k1");
        let (_dir, _path, verifier) = file_verifier(&[key.jwk()], |s| {
            s.principal_claim = "preferred_username".to_owned();
            s.roles_claim = Some("resource_access.scute.roles".to_owned());
        })
        .await;
        let principal = verifier.verify(&key.sign(&claims())).unwrap();
        assert_eq!(&*principal.name, "alice@example.com");
        assert_eq!(&*principal.roles, ["schema-admin"]);

        // A namespaced claim whose name holds dots is found by that name.
        let (_dir, _path, verifier) = file_verifier(&[key.jwk()], |s| {
            s.roles_claim = Some("https://scute.example/roles".to_owned());
        })
        .await;
        let token = key.sign(&with(
            claims(),
            "https://scute.example/roles",
            json!(["ops"]),
        ));
        assert_eq!(&*verifier.verify(&token).unwrap().roles, ["ops"]);
    }

    #[tokio::test]
    async fn tokens_are_refused_with_a_reason() {
        let key = EcKey::new("k1");
        let (_dir, _path, verifier) = file_verifier(&[key.jwk()], |_| {}).await;
        let v = &*verifier;

        let expired = key.sign(&with(claims(), "exp", json!(now() - 120)));
        assert_refused(v, &expired, "expired");
        let early = key.sign(&with(claims(), "nbf", json!(now() + 600)));
        assert_refused(v, &early, "not valid yet");
        let elsewhere = key.sign(&with(claims(), "iss", json!("https://evil.example")));
        assert_refused(v, &elsewhere, "wrong issuer \"https://evil.example\"");
        let other_app = key.sign(&with(claims(), "aud", json!(["account", "billing"])));
        assert_refused(v, &other_app, "wrong audience");

        for required in ["exp", "iss", "aud"] {
            let token = key.sign(&without(claims(), required));
            assert_refused(v, &token, &format!("claim \"{required}\" missing"));
        }
        assert_refused(
            v,
            &key.sign(&without(claims(), "sub")),
            "claim \"sub\" missing",
        );
        assert_refused(
            v,
            &key.sign(&with(claims(), "sub", json!(42))),
            "not a non-empty string",
        );
        let odd_roles = with(claims(), "realm_access", json!({ "roles": [1, 2] }));
        assert_refused(v, &key.sign(&odd_roles), "not a list of strings");

        // Tampered: a signature bit flipped; claims changed under a signature.
        let good = key.sign(&claims());
        let (signed, signature) = good.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[10] ^= 1;
        assert_refused(v, &format!("{signed}.{}", b64(&bytes)), "bad signature");
        let (header, _) = signed.split_once('.').unwrap();
        let mallory = b64(with(claims(), "sub", json!("mallory"))
            .to_string()
            .as_bytes());
        assert_refused(
            v,
            &format!("{header}.{mallory}.{signature}"),
            "bad signature",
        );
        // Signed by a key the JWKS does not hold, under its kid.
        let impostor = EcKey::new("k1");
        assert_refused(v, &impostor.sign(&claims()), "bad signature");

        assert_refused(v, &EcKey::new("k9").sign(&claims()), "unknown kid \"k9\"");

        // alg none, with and without a signature.
        let none = json!({ "alg": "none", "kid": "k1" });
        assert_refused(
            v,
            &forge(&none, &claims(), b""),
            "algorithm \"none\" not allowed",
        );
        assert_refused(
            v,
            &forge(&none, &claims(), b"x"),
            "algorithm \"none\" not allowed",
        );

        // HS256 keyed with the public key, the classic confusion attack.
        let public = format!("{}{}", key.x, key.y);
        for secret in [public.as_bytes(), key.jwk().to_string().as_bytes()] {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("k1".to_owned());
            let token = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(secret))
                .unwrap();
            assert_refused(v, &token, "algorithm \"HS256\" not allowed");
        }
        // An allowed algorithm, but not the one this key is for.
        let es384 = json!({ "alg": "ES384", "kid": "k1" });
        assert_refused(
            v,
            &forge(&es384, &claims(), &[0; 96]),
            "not allowed for the key",
        );
        let rs256 = json!({ "alg": "RS256" });
        assert_refused(
            v,
            &forge(&rs256, &claims(), &[0; 256]),
            "no key of the JWKS",
        );
        let crit = json!({ "alg": "ES256", "kid": "k1", "crit": ["exp"] });
        assert_refused(v, &forge(&crit, &claims(), &[0; 64]), "crit");

        for garbage in [
            "",
            "garbage",
            "a.b.c",
            "..",
            "a.b.c.d.e",
            "eyJhbGciOiJFUzI1NiJ9",
            "eyJhbGciOiJFUzI1NiJ9.%%%.###",
            "ünïcødé.ü.ü",
            "bnVsbA.e30.AA",
        ] {
            assert_refused(v, garbage, "malformed");
        }
        let header = b64(json!({ "alg": "ES256", "kid": "k1" })
            .to_string()
            .as_bytes());
        // The signature is checked before the payload is even decoded.
        assert_refused(v, &format!("{header}.!!!.AAAA"), "bad signature");
        assert_refused(v, &format!("{header}.e30.!!!"), "malformed");

        let long = format!("{}.{}.AA", header, "A".repeat(MAX_TOKEN_LEN));
        assert_refused(v, &long, "longer than 16384 bytes");
    }

    #[tokio::test]
    async fn no_mutation_of_a_good_token_panics_or_changes_who_it_names() {
        let key = EcKey::new("k1");
        let (_dir, _path, verifier) = file_verifier(&[key.jwk()], |_| {}).await;
        let good = key.sign(&claims());
        let chars: Vec<char> = good.chars().collect();
        for at in 0..chars.len() {
            for replacement in ['A', 'z', '.', '_', '=', 'é', '\0'] {
                let mut mutated = chars.clone();
                mutated[at] = replacement;
                let mutated: String = mutated.into_iter().collect();
                match verifier.verify(&mutated) {
                    Ok(principal) => assert_eq!(&*principal.name, "alice", "{mutated}"),
                    Err(SecurityError::Unauthenticated(_)) => {}
                    Err(other) => panic!("{other:?}"),
                }
            }
            let truncated: String = chars[..at].iter().collect();
            assert!(verifier.verify(&truncated).is_err());
        }
    }

    #[tokio::test]
    async fn rsa_and_ed25519_keys_verify_their_algorithms() {
        let rng = SystemRandom::new();
        let rsa = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let public = aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(rsa.public_key());
        let rsa_jwk = json!({ "kty": "RSA", "n": b64(&public.n), "e": b64(&public.e) });
        let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let ed_jwk = json!({
            "kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": b64(ed.public_key_raw()),
        });
        let (_dir, _path, verifier) = file_verifier(&[rsa_jwk, ed_jwk], |_| {}).await;

        for (alg, padding) in [("RS256", &RSA_PKCS1_SHA256), ("PS256", &RSA_PSS_SHA256)] {
            let header = b64(json!({ "alg": alg }).to_string().as_bytes());
            let body = b64(claims().to_string().as_bytes());
            let signed = format!("{header}.{body}");
            let mut signature = vec![0; rsa.public_modulus_len()];
            rsa.sign(padding, &rng, signed.as_bytes(), &mut signature)
                .unwrap();
            let token = format!("{signed}.{}", b64(&signature));
            assert_eq!(&*verifier.verify(&token).unwrap().name, "alice", "{alg}");
        }

        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("ed".to_owned());
        let key = EncodingKey::from_ed_der(ed.serialized_der());
        let token = jsonwebtoken::encode(&header, &claims(), &key).unwrap();
        assert_eq!(&*verifier.verify(&token).unwrap().name, "alice");
    }

    #[tokio::test]
    async fn keys_that_cannot_verify_are_skipped_and_none_is_a_start_up_error() {
        let key = EcKey::new("k1");
        let hmac = json!({ "kty": "oct", "kid": "h", "k": b64(b"secret") });
        let encryption = with(EcKey::new("enc").jwk(), "use", json!("enc"));
        let p521 = json!({ "kty": "EC", "crv": "P-521", "kid": "p", "x": "AA", "y": "AA" });
        let off_curve = json!({
            "kty": "EC", "crv": "P-256", "kid": "off", "x": b64(&[1; 32]), "y": b64(&[2; 32]),
        });
        let weak = json!({ "kty": "RSA", "kid": "weak", "n": b64(&[0xff; 128]), "e": "AQAB" });
        let keys = [hmac, encryption, p521, off_curve, weak];

        let mut all = keys.to_vec();
        all.push(key.jwk());
        let (_dir, _path, verifier) = file_verifier(&all, |_| {}).await;
        assert_eq!(verifier.keys.current().kids(), ["k1"]);
        assert!(verifier.verify(&key.sign(&claims())).is_ok());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        write_jwks(&path, &keys);
        let error = TokenVerifier::start(settings(JwksSource::File(path.clone())))
            .await
            .unwrap_err()
            .to_string();
        for says in [
            "no usable signing key",
            "HMAC",
            "\"enc\"",
            "P-521",
            "curve",
            "1024 bits",
        ] {
            assert!(error.contains(says), "{error:?} should say {says:?}");
        }

        std::fs::write(&path, "{}").unwrap();
        let error = TokenVerifier::start(settings(JwksSource::File(path.clone())))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("no \"keys\""), "{error}");
        let missing = dir.path().join("missing.json");
        let error = TokenVerifier::start(settings(JwksSource::File(missing)))
            .await
            .unwrap_err();
        assert!(matches!(&error, SecurityError::Jwks(why) if why.contains("cannot open")));

        let mut no_audience = settings(JwksSource::File(path));
        no_audience.audiences.clear();
        let error = TokenVerifier::start(no_audience).await.unwrap_err();
        assert!(error.to_string().contains("no audience"), "{error}");
    }

    #[tokio::test]
    async fn the_jwks_file_is_reloaded_when_it_changes() {
        let old = EcKey::new("k1");
        let new = EcKey::new("k2");
        let (_dir, path, verifier) = file_verifier(&[old.jwk()], |_| {}).await;
        let Keys::File(watched) = &verifier.keys else {
            panic!("a file source");
        };
        assert!(verifier.verify(&old.sign(&claims())).is_ok());
        assert_refused(&verifier, &new.sign(&claims()), "unknown kid");

        write_jwks(&path, &[new.jwk()]);
        watched.check();
        assert!(verifier.verify(&new.sign(&claims())).is_ok());
        assert_refused(&verifier, &old.sign(&claims()), "unknown kid");

        // A broken file keeps the keys in use.
        std::fs::write(&path, "{ not json").unwrap();
        assert!(!watched.check());
        assert!(verifier.verify(&new.sign(&claims())).is_ok());
    }

    /// An HTTP/1.1 server answering every request with `body`, counting them.
    async fn serve(body: Arc<Mutex<String>>, length: bool) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/certs", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let body = body.lock().unwrap().clone();
                let hits = counted.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    hits.fetch_add(1, Ordering::SeqCst);
                    let length = if length {
                        format!("Content-Length: {}\r\n", body.len())
                    } else {
                        String::new()
                    };
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}Connection: close\r\n\r\n"
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(body.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        (url, hits)
    }

    fn jwks(keys: &[Value]) -> String {
        json!({ "keys": keys }).to_string()
    }

    #[tokio::test]
    async fn a_url_jwks_is_fetched_and_refetched_for_an_unknown_kid_at_most_every_30_s() {
        let old = EcKey::new("k1");
        let new = EcKey::new("k2");
        let body = Arc::new(Mutex::new(jwks(&[old.jwk()])));
        let (url, hits) = serve(body.clone(), true).await;

        let refused = TokenVerifier::start(settings(JwksSource::Url(url.clone())))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("plain-http") && refused.contains("https"),
            "{refused}"
        );
        assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing fetched over http");

        let mut settings = settings(JwksSource::Url(url));
        settings.allow_insecure_url = true;
        let verifier = TokenVerifier::start(settings).await.unwrap();
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert!(verifier.verify(&old.sign(&claims())).is_ok());

        // The provider rotates: the first token with the new kid is refused
        // and sets off one refetch, after which the new key is known.
        *body.lock().unwrap() = jwks(&[old.jwk(), new.jwk()]);
        assert_refused(&verifier, &new.sign(&claims()), "unknown kid \"k2\"");
        let deadline = Instant::now() + Duration::from_secs(10);
        while verifier.verify(&new.sign(&claims())).is_err() {
            assert!(Instant::now() < deadline, "the new key was never fetched");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(hits.load(Ordering::SeqCst), 2);

        // More unknown kids within 30 s fetch nothing.
        for kid in ["k3", "k4", "k5"] {
            assert_refused(&verifier, &EcKey::new(kid).sign(&claims()), "unknown kid");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(hits.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_url_jwks_that_cannot_be_fetched_is_a_start_up_error() {
        let oversized = format!(
            "{{\"keys\": [], \"pad\": \"{}\"}}",
            "x".repeat(MAX_JWKS_LEN)
        );
        for length in [true, false] {
            let (url, _) = serve(Arc::new(Mutex::new(oversized.clone())), length).await;
            let mut settings = settings(JwksSource::Url(url));
            settings.allow_insecure_url = true;
            let error = TokenVerifier::start(settings).await.unwrap_err();
            assert!(error.to_string().contains("larger than"), "{error}");
        }

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = format!("http://{}/certs", listener.local_addr().unwrap());
        drop(listener);
        let mut settings = settings(JwksSource::Url(closed));
        settings.allow_insecure_url = true;
        let error = TokenVerifier::start(settings).await.unwrap_err();
        assert!(error.to_string().contains("cannot fetch"), "{error}");

        let error = TokenVerifier::start(super::tests::settings(JwksSource::Url(
            "ftp://idp/certs".to_owned(),
        )))
        .await
        .unwrap_err();
        assert!(error.to_string().contains("not http(s)"), "{error}");
    }
}
