//! The security flags, and what the servers make of them: TLS settings for
//! both listeners, the guard that authenticates every request, the policy
//! the API decides with, and the audit log. Files named here are polled and
//! reloaded while the server runs (certificates, the user file, a JWKS
//! file); a reload that fails keeps what was in use.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use scute_security::SecurityError;
use scute_security::authenticate::{Authenticator, Hashing, Methods};
use scute_security::rustls::ServerConfig;
use scute_security::tls::{ClientAuth, TlsSettings};
use scute_security::token::{JwksSource, TokenSettings, TokenVerifier};
use scute_security::users::UserFile;
use scute_security::watch::Watched;
use tokio::task::JoinHandle;

use crate::access::Policy;
use crate::audit::Audit;
use crate::compute::{Compute, ComputeConfig};
use crate::server::guard::Guard;

/// TLS, authentication, authorization and audit (all off by default).
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Security")]
pub struct SecurityConfig {
    /// TLS on both listeners: the certificate chain (PEM).
    #[arg(long, env = "SCUTE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "SCUTE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// CAs (PEM) whose client certificates are accepted (mutual TLS).
    #[arg(long, env = "SCUTE_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Whether clients must present a certificate: none, optional or
    /// required (the last two need --tls-client-ca).
    #[arg(long, env = "SCUTE_TLS_CLIENT_AUTH", default_value = "none", value_parser = parse_client_auth)]
    pub tls_client_auth: ClientAuthArg,
    /// Karapace's user file: users for HTTP Basic, and the permissions
    /// every authenticated caller is held to. Turns authentication on.
    #[arg(long, env = "SCUTE_AUTH_FILE")]
    pub auth_file: Option<PathBuf>,
    /// Accept OAuth 2 / OIDC bearer tokens signed by a key of this JWKS
    /// (an https:// URL or a file). Turns authentication on.
    #[arg(long, env = "SCUTE_OIDC_JWKS", requires_all = ["oidc_issuer", "oidc_audience"])]
    pub oidc_jwks: Option<String>,
    /// The issuer (`iss`) tokens must name.
    #[arg(long, env = "SCUTE_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// An audience (`aud`) tokens may name; repeatable (comma-separated in
    /// the environment).
    #[arg(long, env = "SCUTE_OIDC_AUDIENCE", value_delimiter = ',')]
    pub oidc_audience: Vec<String>,
    /// The claim naming the principal.
    #[arg(long, env = "SCUTE_OIDC_PRINCIPAL_CLAIM", default_value = "sub")]
    pub oidc_principal_claim: String,
    /// The claim holding the principal's roles, a dotted path such as
    /// `realm_access.roles`; the user file's `role` permissions match them.
    #[arg(long, env = "SCUTE_OIDC_ROLES_CLAIM")]
    pub oidc_roles_claim: Option<String>,
    /// Allow an http:// JWKS URL (tests only: anyone on the path could
    /// swap the keys).
    #[arg(long, env = "SCUTE_OIDC_ALLOW_INSECURE_JWKS")]
    pub oidc_allow_insecure_jwks: bool,
    /// Take a verified client certificate's subject (its CN, else its DN)
    /// as the principal. Turns authentication on; needs --tls-client-ca.
    #[arg(
        long,
        env = "SCUTE_AUTH_CLIENT_CERTIFICATES",
        requires = "tls_client_ca"
    )]
    pub auth_client_certificates: bool,
    /// A path served without credentials (`/`, a health or metrics path,
    /// `/grpc.health.v1.Health/Check`); repeatable.
    #[arg(
        long = "auth-open-path",
        env = "SCUTE_AUTH_OPEN_PATHS",
        value_delimiter = ','
    )]
    pub auth_open_paths: Vec<String>,
    /// Write one JSON line per write and per refused request to `stderr`
    /// or to this file (appended to).
    #[arg(long, env = "SCUTE_AUDIT_LOG")]
    pub audit_log: Option<String>,
    /// How often files named above are looked at for changes, in
    /// milliseconds.
    #[arg(long, env = "SCUTE_SECURITY_RELOAD_MS", default_value_t = 5_000)]
    pub security_reload_ms: u64,
}

/// `--tls-client-auth`, as clap holds it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientAuthArg(pub ClientAuth);

fn parse_client_auth(text: &str) -> Result<ClientAuthArg, String> {
    text.parse()
        .map(ClientAuthArg)
        .map_err(|e: scute_security::SecurityError| e.to_string())
}

/// Password checks waiting for a thread, per thread; beyond, a request
/// needing one is answered 503 at once.
const HASH_QUEUE_PER_THREAD: usize = 16;

/// A pool of its own for password hashes: niced threads like the compute
/// pool's, so a flood of wrong passwords slows password checks, not
/// lookups or schema work, and a bounded queue.
fn hashing_pool(threads: usize) -> Result<Hashing, String> {
    let config = ComputeConfig {
        threads,
        queue: HASH_QUEUE_PER_THREAD * threads,
        deadline: Duration::from_secs(10),
    };
    let pool = Compute::start_named(config, "scute-hash")
        .map_err(|e| format!("cannot start the password-checking threads: {e}"))?;
    Ok(Arc::new(move |job| {
        let pool = pool.clone();
        Box::pin(async move {
            pool.run("checking a password", pool.deadline(), job)
                .await
                .map_err(|e| match e {
                    crate::Error::Overloaded(_) => SecurityError::Busy(format!(
                        "Scute is checking {} passwords already; retry shortly",
                        HASH_QUEUE_PER_THREAD * threads
                    )),
                    other => SecurityError::Busy(other.to_string()),
                })
        })
    }))
}

/// What the servers run with.
#[derive(Debug, Default)]
pub(crate) struct Security {
    pub(crate) rest_tls: Option<Arc<Watched<ServerConfig>>>,
    pub(crate) grpc_tls: Option<Arc<Watched<ServerConfig>>>,
    pub(crate) guard: Option<Arc<Guard>>,
    pub(crate) policy: Policy,
    pub(crate) audit: Arc<Audit>,
    /// The tasks polling files; stopped with the server.
    reloads: Reloads,
}

/// Tasks that poll files, stopped when dropped.
#[derive(Debug, Default)]
struct Reloads(Vec<JoinHandle<()>>);

impl Reloads {
    fn push(&mut self, task: JoinHandle<()>) {
        self.0.push(task);
    }
}

impl Drop for Reloads {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl Security {
    /// Reads every file the flags name; any problem is a start-up error.
    /// `hash_threads` bounds the password hashing done at once.
    pub(crate) async fn start(
        config: &SecurityConfig,
        hash_threads: usize,
    ) -> Result<Self, String> {
        let every = Duration::from_millis(config.security_reload_ms.max(100));
        let mut security = Self {
            audit: Arc::new(match &config.audit_log {
                Some(target) => Audit::open(target)
                    .map_err(|e| format!("cannot open the audit log {target}: {e}"))?,
                None => Audit::off(),
            }),
            ..Self::default()
        };
        if let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) {
            let settings = TlsSettings {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: config.tls_client_ca.clone(),
                client_auth: config.tls_client_auth.0,
            };
            let rest = scute_security::tls::watch(settings.clone(), vec![b"http/1.1".to_vec()])
                .map_err(|e| e.to_string())?;
            let grpc = scute_security::tls::watch(settings, vec![b"h2".to_vec()])
                .map_err(|e| e.to_string())?;
            security.reloads.push(rest.spawn(every));
            security.reloads.push(grpc.spawn(every));
            security.rest_tls = Some(rest);
            security.grpc_tls = Some(grpc);
        }
        if config.auth_client_certificates
            && !matches!(
                config.tls_client_auth.0,
                ClientAuth::Optional | ClientAuth::Required
            )
        {
            return Err(
                "--auth-client-certificates needs --tls-client-auth optional or required".into(),
            );
        }
        let mut methods = Methods {
            certificates: config.auth_client_certificates,
            ..Methods::default()
        };
        if let Some(path) = &config.auth_file {
            let read = path.clone();
            let file = Watched::load("the user file", vec![path.clone()], move || {
                UserFile::read(&read)
            })
            .map_err(|e| e.to_string())?;
            let loaded = file.get();
            tracing::info!(file = %path.display(), users = loaded.user_count(), permissions = loaded.acl.len(), "authentication and permissions from the user file");
            security.reloads.push(file.spawn(every));
            // Basic is on even while the file has no users: one added
            // later can log in without a restart.
            methods.users = Some(file.clone());
            if loaded.user_count() == 0
                && config.oidc_jwks.is_none()
                && !config.auth_client_certificates
            {
                tracing::warn!(file = %path.display(), "the user file has no users and no other way to authenticate is on: every request is refused until one is added");
            }
            security.policy = Policy::Permissions(file);
        }
        if let Some(jwks) = &config.oidc_jwks {
            let mut settings = TokenSettings::new(
                JwksSource::parse(jwks),
                config.oidc_issuer.clone().unwrap_or_default(),
                config.oidc_audience.clone(),
            );
            settings.principal_claim = config.oidc_principal_claim.clone();
            settings.roles_claim = config.oidc_roles_claim.clone();
            settings.allow_insecure_url = config.oidc_allow_insecure_jwks;
            // A file is cheap to look at: as often as the other files. A
            // URL is the identity provider's: every 5 minutes.
            if matches!(settings.jwks, JwksSource::File(_)) {
                settings.refresh = every;
            }
            methods.tokens = Some(
                TokenVerifier::start(settings)
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
        if methods.any() {
            if matches!(security.policy, Policy::Open) {
                tracing::warn!(
                    "authentication is on without --auth-file: every authenticated caller may do anything"
                );
                security.policy = Policy::Authenticated;
            }
            let authenticator = Authenticator::new(methods, hash_threads, 64 * hash_threads)
                .map_err(|e| e.to_string())?
                .with_hashing(hashing_pool(hash_threads)?);
            security.guard = Some(Arc::new(Guard {
                authenticator,
                open_paths: config.auth_open_paths.clone(),
                audit: security.audit.clone(),
            }));
        }
        Ok(security)
    }
}
