//! TLS for the registry's listeners: a rustls server configuration built
//! from PEM files (with an optional client CA for mutual TLS), rebuilt when
//! the files change, and the name a verified client certificate gives its
//! holder.
//!
//! The crypto provider is aws-lc-rs, passed explicitly, so nothing depends
//! on a process-wide default being installed.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use x509_parser::asn1_rs::{Tag, ToDer};
use x509_parser::prelude::{AttributeTypeAndValue, FromDer, X509Certificate, X509Name};

use crate::SecurityError;
use crate::watch::Watched;

/// Whether a listener asks clients for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// No certificate is asked for; callers prove who they are otherwise.
    #[default]
    None,
    /// A certificate is asked for and, if sent, must chain to the client
    /// CA; a client without one still connects (and may use a password or
    /// token instead).
    Optional,
    /// A client without a certificate from the client CA cannot connect.
    Required,
}

impl ClientAuth {
    /// How settings spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Optional => "optional",
            Self::Required => "required",
        }
    }
}

impl fmt::Display for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ClientAuth {
    type Err = SecurityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "optional" => Ok(Self::Optional),
            "required" => Ok(Self::Required),
            _ => Err(SecurityError::Tls(format!(
                "client authentication is none, optional or required, not {s:?}"
            ))),
        }
    }
}

/// Where a listener's certificate, key and client CA are, and whether
/// clients must present a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// The certificate chain, PEM, leaf first.
    pub cert: PathBuf,
    /// The private key of the leaf, PEM: PKCS#8, PKCS#1 (RSA) or SEC1 (EC),
    /// unencrypted.
    pub key: PathBuf,
    /// The CAs client certificates must chain to, a PEM bundle. With
    /// [`ClientAuth::None`] it is not read: certificates are not asked for,
    /// so it has no effect.
    pub client_ca: Option<PathBuf>,
    /// Whether clients are asked for a certificate.
    pub client_auth: ClientAuth,
}

impl TlsSettings {
    /// Refuses asking for client certificates without a CA to check them
    /// against, so a start-up error says so rather than the first client.
    pub fn validate(&self) -> Result<(), SecurityError> {
        if self.client_auth != ClientAuth::None && self.client_ca.is_none() {
            return Err(SecurityError::Tls(format!(
                "client authentication {} needs a client CA file to check certificates against",
                self.client_auth
            )));
        }
        Ok(())
    }

    /// The files the configuration is built from: the CA only when it is used.
    fn files(&self) -> Vec<PathBuf> {
        let mut files = vec![self.cert.clone(), self.key.clone()];
        if let (Some(ca), true) = (&self.client_ca, self.client_auth != ClientAuth::None) {
            files.push(ca.clone());
        }
        files
    }
}

/// What a file holds, for messages, and how large it may be: a bound so a
/// mistaken path (a log, a device) is refused instead of read whole.
struct FileKind {
    what: &'static str,
    limit: u64,
}

const MIB: u64 = 1024 * 1024;
const CERT_FILE: FileKind = FileKind {
    what: "certificate file",
    limit: MIB,
};
const KEY_FILE: FileKind = FileKind {
    what: "private key file",
    limit: MIB,
};
/// A public CA bundle is about 200 KiB.
const CA_FILE: FileKind = FileKind {
    what: "client CA file",
    limit: 4 * MIB,
};

/// A rustls server configuration from the settings' files: the certificate
/// chain and its key (checked to match), the client CA when certificates
/// are asked for, TLS 1.2 and 1.3, and `alpn` as the protocols offered
/// (`[b"h2"]` for gRPC, which Go clients such as grpcurl require;
/// `[b"http/1.1"]` for REST). A client offering ALPN without one of these is
/// refused; one offering none is accepted.
pub fn server_config(
    settings: &TlsSettings,
    alpn: &[&[u8]],
) -> Result<ServerConfig, SecurityError> {
    settings.validate()?;
    let certs = read_certs(&settings.cert, &CERT_FILE)?;
    let key = read_key(&settings.key)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| SecurityError::Tls(format!("the TLS versions: {e}")))?;
    let builder = match (&settings.client_ca, settings.client_auth) {
        (Some(ca), ClientAuth::Optional | ClientAuth::Required) => {
            builder.with_client_cert_verifier(client_verifier(ca, settings.client_auth, provider)?)
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        let (cert, key) = (settings.cert.display(), settings.key.display());
        SecurityError::Tls(match e {
            rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => format!(
                "the private key file {key} does not hold the key of the first certificate in {cert}"
            ),
            e => format!("the certificate file {cert} and private key file {key}: {e}"),
        })
    })?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// A [`server_config`] rebuilt when the certificate, key or CA file
/// changes: connections accepted after the next [`Watched::check`] get the
/// new one; those already open go on. A change that does not load (a
/// half-written or mismatched pair) is logged and the old one kept.
pub fn watch(
    settings: TlsSettings,
    alpn: Vec<Vec<u8>>,
) -> Result<Arc<Watched<ServerConfig>>, SecurityError> {
    if settings.client_auth == ClientAuth::None
        && let Some(ca) = &settings.client_ca
    {
        tracing::warn!(
            client_ca = %ca.display(),
            "a client CA is set but client authentication is none: certificates are not asked for"
        );
    }
    let files = settings.files();
    Watched::load("the TLS certificate", files, move || {
        let alpn: Vec<&[u8]> = alpn.iter().map(Vec::as_slice).collect();
        server_config(&settings, &alpn)
    })
}

/// The name a verified client certificate gives its holder, for the
/// permissions' `username`: the subject's first Common Name, or, without a
/// usable one, the whole subject DN in RFC 4514 form (most specific RDN
/// first, `,` between RDNs, `+` within one, special characters escaped,
/// types without a short name as a dotted OID with a `#`-hex value), the
/// form Kafka's default SSL principal takes, e.g. `OU=ops,O=Acme,C=SE`. `None`
/// for an empty subject or a certificate that does not parse.
///
/// Only meaningful for a certificate the listener's verifier accepted.
pub fn certificate_principal(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(cert.as_ref()).ok()?;
    let subject = cert.subject();
    if let Some(cn) = subject.iter_common_name().next().and_then(attribute_text)
        && !cn.is_empty()
    {
        return Some(cn);
    }
    let dn = rfc4514(subject)?;
    (!dn.is_empty()).then_some(dn)
}

/// The [`certificate_principal`] of a connection's client certificate (the
/// leaf, first of the chain), `None` if the client sent none.
pub fn peer_principal(conn: &rustls::ServerConnection) -> Option<String> {
    certificate_principal(conn.peer_certificates()?.first()?)
}

fn client_verifier(
    ca: &Path,
    client_auth: ClientAuth,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, SecurityError> {
    let mut roots = RootCertStore::empty();
    for (i, cert) in read_certs(ca, &CA_FILE)?.into_iter().enumerate() {
        roots.add(cert).map_err(|e| {
            SecurityError::Tls(format!(
                "the client CA file {}: certificate {} is not a usable CA: {e}",
                ca.display(),
                i + 1
            ))
        })?;
    }
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
    let builder = match client_auth {
        ClientAuth::Optional => builder.allow_unauthenticated(),
        _ => builder,
    };
    builder
        .build()
        .map_err(|e| SecurityError::Tls(format!("the client CA file {}: {e}", ca.display())))
}

/// Every certificate in a PEM file; none is an error.
fn read_certs(path: &Path, kind: &FileKind) -> Result<Vec<CertificateDer<'static>>, SecurityError> {
    let bytes = read_bounded(path, kind)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad_pem(path, kind, &e))?;
    if certs.is_empty() {
        return Err(SecurityError::Tls(format!(
            "the {} {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            kind.what,
            path.display()
        )));
    }
    Ok(certs)
}

/// The first private key in a PEM file.
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, SecurityError> {
    let bytes = read_bounded(path, &KEY_FILE)?;
    match PrivateKeyDer::from_pem_slice(&bytes) {
        Ok(key) => Ok(key),
        Err(pem::Error::NoItemsFound) => {
            let encrypted = bytes
                .windows(b"ENCRYPTED PRIVATE KEY".len())
                .any(|w| w == b"ENCRYPTED PRIVATE KEY");
            Err(SecurityError::Tls(format!(
                "the private key file {} holds no {}PEM private key (PKCS#8, PKCS#1 or SEC1)",
                path.display(),
                if encrypted { "unencrypted " } else { "" },
            )))
        }
        Err(e) => Err(bad_pem(path, &KEY_FILE, &e)),
    }
}

/// Our own words for a PEM error: the library's could quote key material.
fn bad_pem(path: &Path, kind: &FileKind, e: &pem::Error) -> SecurityError {
    let why = match e {
        pem::Error::MissingSectionEnd { .. } => "a PEM section has no END line",
        pem::Error::IllegalSectionStart { .. } => "a PEM BEGIN line is malformed",
        pem::Error::Base64Decode(_) => "a PEM section is not valid base64",
        pem::Error::SectionTooLarge => "a PEM section is too large",
        _ => "it is not valid PEM",
    };
    SecurityError::Tls(format!("the {} {}: {why}", kind.what, path.display()))
}

fn read_bounded(path: &Path, kind: &FileKind) -> Result<Vec<u8>, SecurityError> {
    let unreadable = |e: std::io::Error| {
        SecurityError::Tls(format!(
            "the {} {} cannot be read: {e}",
            kind.what,
            path.display()
        ))
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(kind.limit + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > kind.limit {
        return Err(SecurityError::Tls(format!(
            "the {} {} is larger than {} MiB",
            kind.what,
            path.display(),
            kind.limit / MIB
        )));
    }
    Ok(bytes)
}

/// A subject DN in RFC 4514 form; `None` if an attribute cannot be encoded.
fn rfc4514(name: &X509Name<'_>) -> Option<String> {
    let rdns: Vec<_> = name.iter().collect();
    let mut out = String::new();
    for (i, rdn) in rdns.into_iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attribute) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = attribute.attr_type().to_id_string();
            let short = match oid.as_str() {
                "2.5.4.3" => Some("CN"),
                "2.5.4.7" => Some("L"),
                "2.5.4.8" => Some("ST"),
                "2.5.4.10" => Some("O"),
                "2.5.4.11" => Some("OU"),
                "2.5.4.6" => Some("C"),
                "2.5.4.9" => Some("STREET"),
                "0.9.2342.19200300.100.1.25" => Some("DC"),
                "0.9.2342.19200300.100.1.1" => Some("UID"),
                _ => None,
            };
            match (short, short.and_then(|_| attribute_text(attribute))) {
                (Some(short), Some(text)) => {
                    out.push_str(short);
                    out.push('=');
                    escape_into(&mut out, &text);
                }
                (short, _) => {
                    out.push_str(short.unwrap_or(&oid));
                    out.push_str("=#");
                    for byte in attribute.attr_value().to_der_vec().ok()? {
                        out.push_str(&format!("{byte:02X}"));
                    }
                }
            }
        }
    }
    Some(out)
}

/// An attribute's value as text, for the string types names use.
fn attribute_text(attribute: &AttributeTypeAndValue<'_>) -> Option<String> {
    let value = attribute.attr_value();
    let data = value.data;
    match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => std::str::from_utf8(data).ok().map(str::to_owned),
        Tag::BmpString if data.len() % 2 == 0 => char::decode_utf16(
            data.chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]])),
        )
        .collect::<Result<String, _>>()
        .ok(),
        Tag::UniversalString if data.len() % 4 == 0 => data
            .chunks_exact(4)
            .map(|quad| char::from_u32(u32::from_be_bytes([quad[0], quad[1], quad[2], quad[3]])))
            .collect(),
        _ => None,
    }
}

/// RFC 4514 section 2.4's escaping of an attribute value.
fn escape_into(out: &mut String, value: &str) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => out.push('\\'),
            ' ' | '#' if i == 0 => out.push('\\'),
            ' ' if i == last => out.push('\\'),
            '\0' => {
                out.push_str("\\00");
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    use rustls::ClientConfig;
    use rustls_pki_types::ServerName;
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    struct Ca {
        params: CertificateParams,
        key: KeyPair,
        pem: String,
        der: CertificateDer<'static>,
    }

    fn ca(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            der: cert.der().clone(),
            params,
            key,
        }
    }

    struct Leaf {
        pem: String,
        key_pem: String,
        der: CertificateDer<'static>,
        key_der: PrivateKeyDer<'static>,
    }

    fn leaf(ca: &Ca, mut params: CertificateParams, usage: ExtendedKeyUsagePurpose) -> Leaf {
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params
            .signed_by(&key, &Issuer::from_params(&ca.params, &ca.key))
            .unwrap();
        Leaf {
            pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
            key_der: PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        }
    }

    fn server_leaf(ca: &Ca) -> Leaf {
        let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        leaf(ca, params, ExtendedKeyUsagePurpose::ServerAuth)
    }

    fn client_leaf(ca: &Ca, cn: &str) -> Leaf {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Acme");
        params.distinguished_name.push(DnType::CommonName, cn);
        leaf(ca, params, ExtendedKeyUsagePurpose::ClientAuth)
    }

    /// A CA, the server's certificate and key, written to a temporary dir.
    struct Fixture {
        dir: tempfile::TempDir,
        ca: Ca,
        server: Leaf,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let ca = ca("Scute test CA");
            let server = server_leaf(&ca);
            std::fs::write(dir.path().join("ca.pem"), &ca.pem).unwrap();
            std::fs::write(dir.path().join("server.pem"), &server.pem).unwrap();
            std::fs::write(dir.path().join("server.key"), &server.key_pem).unwrap();
            Self { dir, ca, server }
        }

        fn path(&self, name: &str) -> PathBuf {
            self.dir.path().join(name)
        }

        fn settings(&self, client_auth: ClientAuth) -> TlsSettings {
            TlsSettings {
                cert: self.path("server.pem"),
                key: self.path("server.key"),
                client_ca: Some(self.path("ca.pem")),
                client_auth,
            }
        }
    }

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::aws_lc_rs::default_provider())
    }

    fn client_config(
        trusted: &Ca,
        identity: Option<&Leaf>,
        version: &'static rustls::SupportedProtocolVersion,
        alpn: &[&[u8]],
    ) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(trusted.der.clone()).unwrap();
        let builder = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots);
        let mut config = match identity {
            Some(leaf) => builder
                .with_client_auth_cert(vec![leaf.der.clone()], leaf.key_der.clone_key())
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }

    /// What each side of a handshake saw.
    struct Handshake {
        /// The server's verdict and the client's principal.
        server: Result<Option<String>, std::io::Error>,
        /// The leaf certificate the client received, and the ALPN protocol.
        client: Result<(CertificateDer<'static>, Option<Vec<u8>>), std::io::Error>,
    }

    async fn handshake(server: Arc<ServerConfig>, client: Arc<ClientConfig>) -> Handshake {
        let (server_io, client_io) = tokio::io::duplex(64 * 1024);
        let name = ServerName::try_from("localhost").unwrap();
        // Both streams live until both sides are done: a side that closes
        // early breaks the other's last writes (TLS 1.3 session tickets).
        let (server, client) = tokio::join!(
            TlsAcceptor::from(server).accept(server_io),
            TlsConnector::from(client).connect(name, client_io),
        );
        Handshake {
            server: server
                .as_ref()
                .map(|s| peer_principal(s.get_ref().1))
                .map_err(copy),
            client: client
                .as_ref()
                .map(|s| {
                    let conn = s.get_ref().1;
                    let leaf = conn.peer_certificates().unwrap()[0].clone().into_owned();
                    (leaf, conn.alpn_protocol().map(<[u8]>::to_vec))
                })
                .map_err(copy),
        }
    }

    /// Asserts the server refused the handshake, for the reason given.
    fn assert_refused(seen: Handshake, why: &str) {
        match seen.server {
            Ok(principal) => panic!("accepted, as {principal:?}"),
            Err(e) => assert!(e.to_string().contains(why), "{e}"),
        }
    }

    fn copy(e: &std::io::Error) -> std::io::Error {
        std::io::Error::new(e.kind(), e.to_string())
    }

    #[test]
    fn client_auth_parses_its_three_spellings() {
        assert_eq!("none".parse::<ClientAuth>().unwrap(), ClientAuth::None);
        assert_eq!(
            "Optional".parse::<ClientAuth>().unwrap(),
            ClientAuth::Optional
        );
        assert_eq!(
            " required ".parse::<ClientAuth>().unwrap(),
            ClientAuth::Required
        );
        let e = "yes".parse::<ClientAuth>().unwrap_err().to_string();
        assert!(
            e.contains("none, optional or required") && e.contains("\"yes\""),
            "{e}"
        );
        assert_eq!(ClientAuth::Required.to_string(), "required");
    }

    #[tokio::test]
    async fn required_client_certificate_names_the_caller() {
        let f = Fixture::new();
        let alice = client_leaf(&f.ca, "alice");
        let server = Arc::new(server_config(&f.settings(ClientAuth::Required), &[b"h2"]).unwrap());
        for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
            let client = client_config(&f.ca, Some(&alice), version, &[b"h2"]);
            let seen = handshake(server.clone(), client).await;
            assert_eq!(
                seen.server.unwrap().as_deref(),
                Some("alice"),
                "{version:?}"
            );
            let (leaf, alpn) = seen.client.unwrap();
            assert_eq!(leaf, f.server.der);
            assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
        }

        // No certificate: refused, whatever the client made of it (in TLS
        // 1.3 its side of the handshake ends before the server decides).
        let client = client_config(&f.ca, None, &rustls::version::TLS13, &[]);
        assert_refused(
            handshake(server.clone(), client).await,
            "peer sent no certificates",
        );
        let client = client_config(&f.ca, None, &rustls::version::TLS12, &[]);
        assert_refused(
            handshake(server.clone(), client).await,
            "peer sent no certificates",
        );

        // A certificate from another CA: refused.
        let other = ca("Another CA");
        let mallory = client_leaf(&other, "alice");
        let client = client_config(&f.ca, Some(&mallory), &rustls::version::TLS13, &[]);
        assert_refused(handshake(server.clone(), client).await, "UnknownIssuer");
    }

    #[tokio::test]
    async fn optional_client_certificate_may_be_left_out() {
        let f = Fixture::new();
        let server =
            Arc::new(server_config(&f.settings(ClientAuth::Optional), &[b"http/1.1"]).unwrap());
        let client = client_config(&f.ca, None, &rustls::version::TLS13, &[b"http/1.1"]);
        let seen = handshake(server.clone(), client).await;
        assert_eq!(seen.server.unwrap(), None);
        assert_eq!(seen.client.unwrap().1.as_deref(), Some(&b"http/1.1"[..]));

        let alice = client_leaf(&f.ca, "alice");
        let client = client_config(&f.ca, Some(&alice), &rustls::version::TLS13, &[]);
        let seen = handshake(server.clone(), client).await;
        assert_eq!(seen.server.unwrap().as_deref(), Some("alice"));

        // Sent, a certificate must still chain to the client CA.
        let mallory = client_leaf(&ca("Another CA"), "alice");
        let client = client_config(&f.ca, Some(&mallory), &rustls::version::TLS13, &[]);
        assert_refused(handshake(server.clone(), client).await, "UnknownIssuer");

        // A client offering only a protocol the listener does not speak.
        let client = client_config(&f.ca, None, &rustls::version::TLS13, &[b"h2"]);
        assert_refused(handshake(server, client).await, "any known protocol");
    }

    #[tokio::test]
    async fn without_client_auth_no_certificate_is_asked_for() {
        let f = Fixture::new();
        let mut settings = f.settings(ClientAuth::None);
        // The CA is not read at all: a missing one is no error.
        settings.client_ca = Some(f.path("absent.pem"));
        let server = Arc::new(server_config(&settings, &[b"h2"]).unwrap());
        let alice = client_leaf(&f.ca, "alice");
        let client = client_config(&f.ca, Some(&alice), &rustls::version::TLS13, &[b"h2"]);
        let seen = handshake(server, client).await;
        assert_eq!(seen.server.unwrap(), None);
        assert_eq!(settings.files().len(), 2);
    }

    fn error(settings: &TlsSettings) -> String {
        match server_config(settings, &[b"h2"]) {
            Ok(_) => panic!("{settings:?} loaded"),
            Err(SecurityError::Tls(message)) => message,
            Err(e) => panic!("not a TLS error: {e}"),
        }
    }

    #[test]
    fn each_bad_file_is_named() {
        let f = Fixture::new();
        let good = f.settings(ClientAuth::Required);
        let name = |p: &Path| p.display().to_string();

        let mut s = good.clone();
        s.client_ca = None;
        assert!(error(&s).contains("needs a client CA"));
        s.client_auth = ClientAuth::Optional;
        assert!(error(&s).contains("needs a client CA"));

        let mut s = good.clone();
        s.cert = f.path("missing.pem");
        let e = error(&s);
        assert!(
            e.contains(&name(&s.cert)) && e.contains("cannot be read"),
            "{e}"
        );

        // A certificate file holding only a key; a key file holding only a certificate.
        let mut s = good.clone();
        s.cert = f.path("server.key");
        let e = error(&s);
        assert!(
            e.contains(&name(&s.cert)) && e.contains("no PEM certificate"),
            "{e}"
        );
        let mut s = good.clone();
        s.key = f.path("server.pem");
        let e = error(&s);
        assert!(
            e.contains(&name(&s.key)) && e.contains("no PEM private key"),
            "{e}"
        );

        // An encrypted key is named as such.
        std::fs::write(
            f.path("encrypted.key"),
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )
        .unwrap();
        let mut s = good.clone();
        s.key = f.path("encrypted.key");
        let e = error(&s);
        assert!(e.contains("no unencrypted PEM private key"), "{e}");

        // Another certificate's key.
        let other = server_leaf(&f.ca);
        std::fs::write(f.path("other.key"), &other.key_pem).unwrap();
        let mut s = good.clone();
        s.key = f.path("other.key");
        let e = error(&s);
        assert!(
            e.contains(&name(&s.key)) && e.contains(&name(&s.cert)) && e.contains("does not hold"),
            "{e}"
        );

        // A CA file without a certificate, and a missing one.
        let mut s = good.clone();
        s.client_ca = Some(f.path("server.key"));
        let e = error(&s);
        assert!(
            e.contains("client CA file") && e.contains(&name(&f.path("server.key"))),
            "{e}"
        );
        let mut s = good.clone();
        s.client_ca = Some(f.path("absent.pem"));
        let e = error(&s);
        assert!(e.contains(&name(&f.path("absent.pem"))), "{e}");

        // Broken PEM: the message does not quote the file.
        std::fs::write(
            f.path("broken.key"),
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n",
        )
        .unwrap();
        let mut s = good.clone();
        s.key = f.path("broken.key");
        let e = error(&s);
        assert!(
            e.contains(&name(&s.key)) && e.contains("no END line"),
            "{e}"
        );

        // Too large to be a certificate.
        let mut big = f.server.pem.clone().into_bytes();
        big.resize(MIB as usize + 1, b'\n');
        std::fs::write(f.path("big.pem"), big).unwrap();
        let mut s = good.clone();
        s.cert = f.path("big.pem");
        let e = error(&s);
        assert!(
            e.contains(&name(&s.cert)) && e.contains("larger than 1 MiB"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_renewed_certificate_is_served_after_a_check() {
        let f = Fixture::new();
        let watched = watch(f.settings(ClientAuth::Required), vec![b"h2".to_vec()]).unwrap();
        let alice = client_leaf(&f.ca, "alice");
        let client = client_config(&f.ca, Some(&alice), &rustls::version::TLS13, &[b"h2"]);
        let seen = handshake(watched.get(), client.clone()).await;
        assert_eq!(seen.client.unwrap().0, f.server.der);
        assert!(!watched.check(), "nothing changed");

        let renewed = server_leaf(&f.ca);
        std::fs::write(f.path("server.pem"), &renewed.pem).unwrap();
        std::fs::write(f.path("server.key"), &renewed.key_pem).unwrap();
        assert!(watched.check());
        let seen = handshake(watched.get(), client.clone()).await;
        assert_eq!(seen.client.unwrap().0, renewed.der);
        assert_eq!(seen.server.unwrap().as_deref(), Some("alice"));

        // A corrupt certificate, then a certificate without its key: not loaded.
        std::fs::write(f.path("server.pem"), "not a certificate").unwrap();
        assert!(!watched.check());
        std::fs::write(f.path("server.pem"), server_leaf(&f.ca).pem).unwrap();
        assert!(!watched.check());
        let seen = handshake(watched.get(), client).await;
        assert_eq!(seen.client.unwrap().0, renewed.der);
        assert_eq!(watched.generation(), 1);
    }

    #[test]
    fn principal_is_the_common_name_else_the_distinguished_name() {
        let ca = ca("CA");
        assert_eq!(
            certificate_principal(&client_leaf(&ca, "alice").der).as_deref(),
            Some("alice")
        );

        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CountryName, "SE");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Acme, Inc.");
        params
            .distinguished_name
            .push(DnType::OrganizationalUnitName, " ops#1 ");
        params
            .distinguished_name
            .push(DnType::CustomDnType(vec![1, 2, 3, 4]), "x");
        let cert = leaf(&ca, params, ExtendedKeyUsagePurpose::ClientAuth);
        assert_eq!(
            certificate_principal(&cert.der).as_deref(),
            Some(r"1.2.3.4=#0C0178,OU=\ ops#1\ ,O=Acme\, Inc.,C=SE")
        );

        let mut params = CertificateParams::new(vec!["svc.example".to_owned()]).unwrap();
        params.distinguished_name = DistinguishedName::new();
        let cert = leaf(&ca, params, ExtendedKeyUsagePurpose::ClientAuth);
        assert_eq!(certificate_principal(&cert.der), None);

        assert_eq!(
            certificate_principal(&CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])),
            None
        );
    }

    #[test]
    fn values_are_escaped_as_rfc_4514_says() {
        let escaped = |v: &str| {
            let mut out = String::new();
            escape_into(&mut out, v);
            out
        };
        assert_eq!(escaped(r#"a"b+c,d;e<f>g\h"#), r#"a\"b\+c\,d\;e\<f\>g\\h"#);
        assert_eq!(escaped("#x#"), r"\#x#");
        assert_eq!(escaped(" "), r"\ ");
        assert_eq!(escaped("a\0b"), r"a\00b");
        assert_eq!(escaped("åäö"), "åäö");
        assert_eq!(escaped(""), "");
    }
}
