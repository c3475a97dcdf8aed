//! What the client flags say about reaching a registry: its URL, the
//! credentials to send and the TLS files, read and checked before any
//! connection is made, so a typo fails at once and the same way over both
//! transports.

use std::error::Error;
use std::fmt;
use std::io::Read;
use std::path::Path;

use reqwest::Url;
use scute_security::rustls;
use scute_security::rustls::pki_types::pem::PemObject;
use scute_security::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{CliError, ClientArgs};

/// Far beyond any certificate bundle; keeps a wrong path from being read whole.
const MAX_PEM_BYTES: u64 = 4 << 20;

/// Credentials sent with every call.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Auth {
    /// HTTP Basic (over gRPC too, as an `authorization` header).
    Basic {
        user: String,
        password: Option<String>,
    },
    Bearer(String),
}

/// Secrets stay out of debug output.
impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Basic { user, .. } => write!(f, "Basic({user:?}, ..)"),
            Self::Bearer(_) => f.write_str("Bearer(..)"),
        }
    }
}

/// The PEM the TLS flags name, read and checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    /// Trusted instead of the system's roots.
    pub(crate) ca_pem: Option<Vec<u8>>,
    /// A client certificate chain and its key.
    pub(crate) identity: Option<(Vec<u8>, Vec<u8>)>,
}

/// A registry and how to talk to it.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The registry's URL without credentials: they travel in a header,
    /// not in every request's URL or in error messages.
    pub(crate) url: Url,
    pub(crate) auth: Option<Auth>,
    pub(crate) tls: TlsFiles,
}

impl Target {
    /// The target the flags (and their environment variables) name.
    pub(crate) fn from_args(args: &ClientArgs) -> Result<Self, CliError> {
        Self::resolve(args, std::env::var("SCUTE_PASSWORD").ok())
    }

    /// `password_env` is SCUTE_PASSWORD's value, passed in for tests.
    fn resolve(args: &ClientArgs, password_env: Option<String>) -> Result<Self, CliError> {
        let registry = &args.registry;
        let mut url = Url::parse(registry)
            .map_err(|e| CliError::Usage(format!("--registry {registry:?}: {e}")))?;
        let secure = match url.scheme() {
            "https" | "grpcs" => true,
            "http" | "grpc" => false,
            other => {
                return Err(CliError::Usage(format!(
                    "--registry {registry:?}: unknown scheme {other:?} (http, https, grpc or grpcs)"
                )));
            }
        };
        let in_url = super::credentials(&url);
        let _ = url.set_username("");
        let _ = url.set_password(None);

        // An empty variable (`SCUTE_TOKEN=`) is an unset one.
        let given = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
        let (user, token) = (given(&args.user), given(&args.token));
        let auth = match (in_url, &user, &token) {
            (_, Some(_), Some(_)) => {
                return Err(CliError::Usage(
                    "both --user (or SCUTE_USER) and --token (or SCUTE_TOKEN) are given: \
                     a request carries one kind of credentials"
                        .into(),
                ));
            }
            (Some(_), Some(_), None) | (Some(_), None, Some(_)) => {
                return Err(CliError::Usage(format!(
                    "--registry {url} holds credentials, and --{} gives others: give one",
                    if user.is_some() { "user" } else { "token" }
                )));
            }
            (Some((user, password)), None, None) => Some(Auth::Basic { user, password }),
            (None, Some(user), None) => Some(basic(user, password_env)?),
            (None, None, Some(token)) => Some(Auth::Bearer(bearer(token)?)),
            (None, None, None) => None,
        };

        let tls = TlsFiles {
            ca_pem: args.ca_cert.as_deref().map(read_ca).transpose()?,
            identity: match (&args.client_cert, &args.client_key) {
                (Some(cert), Some(key)) => Some(read_identity(cert, key)?),
                (None, None) => None,
                _ => {
                    return Err(CliError::Usage(
                        "--client-cert and --client-key go together".into(),
                    ));
                }
            },
        };
        if !secure && (tls.ca_pem.is_some() || tls.identity.is_some()) {
            let flag = if tls.ca_pem.is_some() {
                "--ca-cert"
            } else {
                "--client-cert"
            };
            return Err(CliError::Usage(format!(
                "{flag} is for https:// and grpcs:// registries, and --registry {url} is plain text"
            )));
        }
        Ok(Self { url, auth, tls })
    }
}

/// `--user NAME[:PASSWORD]`; without a password, SCUTE_PASSWORD's.
fn basic(text: &str, password_env: Option<String>) -> Result<Auth, CliError> {
    let (user, password) = match text.split_once(':') {
        Some((user, password)) => (user, password.to_owned()),
        None => match password_env {
            Some(password) => (text, password),
            None => {
                return Err(CliError::Usage(format!(
                    "--user {text:?} has no password: give NAME:PASSWORD, or set SCUTE_PASSWORD"
                )));
            }
        },
    };
    if user.is_empty() {
        return Err(CliError::Usage(
            "--user: the user name is empty (expected NAME[:PASSWORD])".into(),
        ));
    }
    Ok(Auth::Basic {
        user: user.to_owned(),
        password: Some(password),
    })
}

/// A token as a header may carry it; never echoed, it is a secret.
fn bearer(token: &str) -> Result<String, CliError> {
    let token = token.trim();
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CliError::Usage(
            "--token: a bearer token is printable ASCII without spaces".into(),
        ));
    }
    Ok(token.to_owned())
}

fn read_pem(flag: &str, path: &Path) -> Result<Vec<u8>, CliError> {
    let cannot = |reason: String| CliError::Usage(format!("{flag} {}: {reason}", path.display()));
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PEM_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| cannot(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(cannot(format!(
            "larger than {} MiB: not a PEM file",
            MAX_PEM_BYTES >> 20
        )));
    }
    Ok(bytes)
}

/// Reads a PEM file of one or more certificates.
fn read_certificates(flag: &str, path: &Path) -> Result<Vec<u8>, CliError> {
    let pem = read_pem(flag, path)?;
    let mut count = 0;
    for certificate in CertificateDer::pem_slice_iter(&pem) {
        certificate
            .map_err(|e| CliError::Usage(format!("{flag} {}: not PEM: {e}", path.display())))?;
        count += 1;
    }
    if count == 0 {
        return Err(CliError::Usage(format!(
            "{flag} {}: no certificate in it (expected PEM \"BEGIN CERTIFICATE\" blocks)",
            path.display()
        )));
    }
    Ok(pem)
}

fn read_ca(path: &Path) -> Result<Vec<u8>, CliError> {
    read_certificates("--ca-cert", path)
}

fn read_identity(cert: &Path, key: &Path) -> Result<(Vec<u8>, Vec<u8>), CliError> {
    let cert_pem = read_certificates("--client-cert", cert)?;
    let key_pem = read_pem("--client-key", key)?;
    PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        CliError::Usage(format!(
            "--client-key {}: no private key in it (expected PEM PKCS#8, PKCS#1 or SEC1: {e})",
            key.display()
        ))
    })?;
    Ok((cert_pem, key_pem))
}

/// The rustls error somewhere in `error`'s causes. An `io::Error`'s
/// `source()` skips the error it wraps, which is where TLS streams put
/// theirs, so that one is looked into as well.
fn rustls_error<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// What a TLS failure in `error` means for the person at the terminal,
/// when it is one: the transport's text alone ("UnknownIssuer") does not
/// say which flag fixes it.
pub(crate) fn tls_failure(error: &(dyn Error + 'static)) -> Option<String> {
    use rustls::{AlertDescription as Alert, CertificateError as Cert, Error as E};
    let Some(tls) = rustls_error(error) else {
        return tls_failure_in_text(&super::chain(error));
    };
    let meaning = match tls {
        E::InvalidCertificate(Cert::UnknownIssuer) => UNKNOWN_ISSUER,
        E::InvalidCertificate(Cert::NotValidForName | Cert::NotValidForNameContext { .. }) => {
            "the registry's certificate is not for the host name in --registry"
        }
        E::InvalidCertificate(
            Cert::Expired
            | Cert::ExpiredContext { .. }
            | Cert::NotValidYet
            | Cert::NotValidYetContext { .. },
        ) => "the registry's certificate is expired or not valid yet",
        E::InvalidCertificate(_) => "the registry's certificate is not acceptable",
        E::AlertReceived(Alert::CertificateRequired) => CERTIFICATE_REQUIRED,
        E::AlertReceived(
            Alert::BadCertificate
            | Alert::UnknownCA
            | Alert::UnsupportedCertificate
            | Alert::CertificateUnknown
            | Alert::CertificateExpired
            | Alert::CertificateRevoked
            | Alert::AccessDenied,
        ) => CERTIFICATE_REFUSED,
        E::InconsistentKeys(_) => "--client-key is not the key of --client-cert",
        E::InvalidMessage(_) => {
            "the other end does not speak TLS (a plain http:// or grpc:// registry?)"
        }
        _ => "the handshake failed",
    };
    Some(format!("{TLS_PROBLEM}: {meaning}: {tls}"))
}

const TLS_PROBLEM: &str = "TLS certificate problem";
const UNKNOWN_ISSUER: &str = "the registry's certificate is not signed by a CA this client \
                              trusts (pass --ca-cert with the CA that signed it)";
const CERTIFICATE_REQUIRED: &str =
    "the registry asks for a client certificate (pass --client-cert and --client-key)";
const CERTIFICATE_REFUSED: &str = "the registry refused the client certificate";

/// The same from rustls's words, for errors that kept only those: HTTP/2
/// keeps an I/O error's text, not the error (as in a gRPC call that fails
/// on the alert a server sends after the handshake).
fn tls_failure_in_text(text: &str) -> Option<String> {
    let after = |marker: &str| {
        let rest = &text[text.find(marker)? + marker.len()..];
        let end = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        Some(&rest[..end])
    };
    let meaning = if let Some(alert) = after("received fatal alert: ") {
        let meaning = match alert {
            "CertificateRequired" => CERTIFICATE_REQUIRED,
            "BadCertificate"
            | "UnknownCA"
            | "UnsupportedCertificate"
            | "CertificateUnknown"
            | "CertificateExpired"
            | "CertificateRevoked"
            | "AccessDenied" => CERTIFICATE_REFUSED,
            _ => "the handshake failed",
        };
        format!("{meaning}: received fatal alert: {alert}")
    } else if let Some(problem) = after("invalid peer certificate: ") {
        let meaning = match problem {
            "UnknownIssuer" => UNKNOWN_ISSUER,
            _ => "the registry's certificate is not acceptable",
        };
        format!("{meaning}: invalid peer certificate: {problem}")
    } else {
        return None;
    };
    Some(format!("{TLS_PROBLEM}: {meaning}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::cli::Output;

    fn args(registry: &str) -> ClientArgs {
        ClientArgs {
            registry: registry.into(),
            output: Output::Text,
            ca_cert: None,
            client_cert: None,
            client_key: None,
            user: None,
            token: None,
        }
    }

    fn usage(result: Result<Target, CliError>) -> String {
        match result {
            Err(CliError::Usage(message)) => message,
            other => panic!("not a usage error: {other:?}"),
        }
    }

    #[test]
    fn credentials_come_from_the_url_or_the_flags_but_not_both() {
        let target = Target::resolve(&args("https://u:p%40ss@example.com/r/"), None).unwrap();
        assert_eq!(target.url.as_str(), "https://example.com/r/");
        assert_eq!(
            target.auth,
            Some(Auth::Basic {
                user: "u".into(),
                password: Some("p@ss".into())
            })
        );

        let mut with_user = args("grpc://h:1");
        with_user.user = Some("alice:pa:ss".into());
        let target = Target::resolve(&with_user, Some("ignored".into())).unwrap();
        assert_eq!(
            target.auth,
            Some(Auth::Basic {
                user: "alice".into(),
                password: Some("pa:ss".into())
            })
        );
        // No password after the name: SCUTE_PASSWORD's, else an error.
        with_user.user = Some("alice".into());
        let target = Target::resolve(&with_user, Some("env".into())).unwrap();
        assert!(matches!(target.auth, Some(Auth::Basic { password: Some(p), .. }) if p == "env"));
        assert!(usage(Target::resolve(&with_user, None)).contains("SCUTE_PASSWORD"));
        with_user.user = Some(":pw".into());
        assert!(usage(Target::resolve(&with_user, None)).contains("user name is empty"));

        let mut with_token = args("http://h");
        with_token.token = Some(" eyJ.abc.def\n".into());
        let target = Target::resolve(&with_token, None).unwrap();
        assert_eq!(target.auth, Some(Auth::Bearer("eyJ.abc.def".into())));
        assert_eq!(format!("{:?}", target.auth), "Some(Bearer(..))");
        with_token.token = Some("two words".into());
        let message = usage(Target::resolve(&with_token, None));
        assert!(!message.contains("two words"), "a secret is not echoed");

        with_token.user = Some("a:b".into());
        with_token.token = Some("t".into());
        assert!(usage(Target::resolve(&with_token, None)).contains("one kind of credentials"));
        with_token.token = Some(String::new());
        assert!(Target::resolve(&with_token, None).is_ok(), "empty is unset");
        let mut twice = args("http://a:b@h");
        twice.user = Some("c:d".into());
        assert!(usage(Target::resolve(&twice, None)).contains("holds credentials"));
        assert!(usage(Target::resolve(&args("ftp://h"), None)).contains("unknown scheme"));
    }

    #[test]
    fn tls_files_are_read_and_checked_first() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let generated = fake_pem();
        std::fs::write(&cert, generated.0).unwrap();
        std::fs::write(&key, generated.1).unwrap();

        let mut secure = args("grpcs://localhost:1");
        secure.ca_cert = Some(cert.clone());
        secure.client_cert = Some(cert.clone());
        secure.client_key = Some(key.clone());
        let target = Target::resolve(&secure, None).unwrap();
        assert!(target.tls.ca_pem.is_some() && target.tls.identity.is_some());

        // Plain-text registries take no TLS files: a forgotten "s" shows.
        let mut plain = secure.clone();
        plain.registry = "http://localhost:1".into();
        assert!(usage(Target::resolve(&plain, None)).contains("plain text"));

        let mut wrong = secure.clone();
        wrong.ca_cert = Some(key.clone());
        assert!(usage(Target::resolve(&wrong, None)).contains("no certificate in it"));
        let mut wrong = secure.clone();
        wrong.client_key = Some(cert.clone());
        assert!(usage(Target::resolve(&wrong, None)).contains("no private key in it"));
        let mut missing = secure.clone();
        missing.ca_cert = Some(dir.path().join("nope.pem"));
        let message = usage(Target::resolve(&missing, None));
        assert!(
            message.starts_with("--ca-cert ") && message.contains("cannot read"),
            "{message}"
        );
        let mut half = secure;
        half.client_key = None;
        assert!(usage(Target::resolve(&half, None)).contains("go together"));
    }

    /// A certificate and a key in PEM: their content is not checked here,
    /// only that each file holds what its flag needs.
    fn fake_pem() -> (String, String) {
        let block =
            |label: &str| format!("-----BEGIN {label}-----\nMIIBAAAA\n-----END {label}-----\n");
        (block("CERTIFICATE"), block("PRIVATE KEY"))
    }

    #[test]
    fn tls_failures_name_the_flag_that_fixes_them() {
        let wrapped = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let message = tls_failure(&wrapped).unwrap();
        assert!(
            message.starts_with("TLS certificate problem: "),
            "{message}"
        );
        assert!(message.contains("--ca-cert"), "{message}");
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired);
        assert!(tls_failure(&alert).unwrap().contains("--client-cert"));
        let other = std::io::Error::other("connection refused");
        assert_eq!(tls_failure(&other), None);
        // Only the words left, as a gRPC call's HTTP/2 error keeps them.
        let words =
            std::io::Error::other("transport error: received fatal alert: CertificateRequired");
        let message = tls_failure(&words).unwrap();
        assert!(message.contains("--client-cert"), "{message}");
        assert!(
            message.ends_with("received fatal alert: CertificateRequired"),
            "{message}"
        );
        let words = std::io::Error::other("invalid peer certificate: UnknownIssuer");
        assert!(tls_failure(&words).unwrap().contains("--ca-cert"));
        let mismatch = rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch);
        assert!(
            tls_failure(&mismatch)
                .unwrap()
                .contains("not the key of --client-cert")
        );
    }
}
