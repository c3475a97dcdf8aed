//! The typed client: the calls serializers and tools make, with caches,
//! retries and TLS.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use scute_proto::v1 as api;
use scute_proto::v1::schema_registry_client::SchemaRegistryClient;
use tonic::Status;
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::service::{Interceptor, interceptor::InterceptedService};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::Error;
use crate::cache::Bounded;

/// A schema to register, look up or check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct NewSchema {
    /// `AVRO` (also when empty), `PROTOBUF` or `JSON`.
    pub schema_type: String,
    pub schema: String,
    pub references: Vec<Reference>,
    /// Confluent data-contract metadata and rule set, as JSON text.
    pub metadata_json: Option<String>,
    pub rule_set_json: Option<String>,
}

/// A reference to a version of another subject.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

impl NewSchema {
    pub fn new(schema_type: &str, schema: &str) -> Self {
        Self {
            schema_type: schema_type.to_owned(),
            schema: schema.to_owned(),
            ..Self::default()
        }
    }

    pub fn with_reference(mut self, name: &str, subject: &str, version: i32) -> Self {
        self.references.push(Reference {
            name: name.to_owned(),
            subject: subject.to_owned(),
            version,
        });
        self
    }

    /// The registration of this schema under `subject`.
    pub fn request(&self, subject: &str, normalize: bool) -> api::RegisterSchemaRequest {
        api::RegisterSchemaRequest {
            subject: subject.to_owned(),
            schema: self.schema.clone(),
            schema_type: self.schema_type.clone(),
            references: self.api_references(),
            normalize,
            metadata_json: self.metadata_json.clone(),
            rule_set_json: self.rule_set_json.clone(),
            ..Default::default()
        }
    }

    fn api_references(&self) -> Vec<api::SchemaReference> {
        self.references
            .iter()
            .map(|r| api::SchemaReference {
                name: r.name.clone(),
                subject: r.subject.clone(),
                version: r.version,
            })
            .collect()
    }
}

/// How calls are retried when the registry is unreachable or not ready
/// (gRPC `UNAVAILABLE`): up to `max_retries` more times, waiting a random
/// time up to `initial_backoff` doubled at each attempt, capped at
/// `max_backoff`.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, attempt: u32) -> Duration {
        use std::hash::{BuildHasher, RandomState};
        let ceiling = self
            .initial_backoff
            .saturating_mul(1 << attempt.min(16))
            .min(self.max_backoff);
        let ceiling_ms = u64::try_from(ceiling.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        // Half fixed, half random: clients that failed together spread out.
        let random =
            RandomState::new().hash_one(std::time::Instant::now()) % ceiling_ms.div_ceil(2);
        Duration::from_millis(ceiling_ms / 2 + random)
    }
}

/// TLS settings for an `https://` (or `grpcs://`) endpoint.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM of the CA to trust; the system's roots when absent.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM certificate and key, for a server that asks clients for one.
    pub identity_pem: Option<(Vec<u8>, Vec<u8>)>,
    /// The name to check the server's certificate against, when it is not
    /// the endpoint's host.
    pub domain: Option<String>,
}

/// Settings for a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    endpoint: String,
    tls: Option<TlsOptions>,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    retry: RetryPolicy,
    cache_capacity: usize,
    latest_ttl: Option<Duration>,
    authorization: Option<String>,
}

impl ClientBuilder {
    /// `endpoint` is `http://host:port`, `https://host:port`, or the same with
    /// `grpc://` / `grpcs://`; a bare `host:port` means plain text.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            tls: None,
            timeout: Some(Duration::from_secs(30)),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            cache_capacity: 1000,
            latest_ttl: Some(Duration::from_secs(60)),
            authorization: None,
        }
    }

    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Deadline of each attempt of a call; `None` waits for ever.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How many answers each cache keeps (0 turns caching off).
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// How long a "latest version" answer is reused; `None` keeps it until
    /// [`Client::clear_latest_caches`].
    pub fn latest_ttl(mut self, ttl: Option<Duration>) -> Self {
        self.latest_ttl = ttl;
        self
    }

    /// Sends `authorization: Bearer <token>` with every call.
    pub fn bearer_token(mut self, token: &str) -> Self {
        self.authorization = Some(format!("Bearer {token}"));
        self
    }

    /// Sends HTTP basic credentials with every call.
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        use base64::Engine;
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.authorization = Some(format!("Basic {encoded}"));
        self
    }

    /// Connects now: fails at once when the registry is unreachable.
    pub async fn connect(self) -> Result<Client, Error> {
        let endpoint = self.endpoint()?;
        let channel = endpoint.connect().await?;
        self.finish(channel)
    }

    /// Connects on the first call (and reconnects as needed), so building
    /// a client never waits.
    pub fn connect_lazy(self) -> Result<Client, Error> {
        let channel = self.endpoint()?.connect_lazy();
        self.finish(channel)
    }

    fn endpoint(&self) -> Result<Endpoint, Error> {
        let url = endpoint_url(&self.endpoint);
        let mut endpoint = Endpoint::from_shared(url.clone())
            .map_err(|e| Error::Config(format!("endpoint {:?}: {e}", self.endpoint)))?
            .connect_timeout(self.connect_timeout)
            .tcp_nodelay(true);
        if url.starts_with("https://") || self.tls.is_some() {
            let options = self.tls.clone().unwrap_or_default();
            let mut tls = ClientTlsConfig::new();
            tls = match &options.ca_pem {
                Some(pem) => tls.ca_certificate(Certificate::from_pem(pem)),
                None => tls.with_native_roots(),
            };
            if let Some((cert, key)) = &options.identity_pem {
                tls = tls.identity(Identity::from_pem(cert, key));
            }
            if let Some(domain) = &options.domain {
                tls = tls.domain_name(domain.clone());
            }
            endpoint = endpoint.tls_config(tls)?;
        }
        Ok(endpoint)
    }

    fn finish(self, channel: Channel) -> Result<Client, Error> {
        let authorization = match &self.authorization {
            None => None,
            Some(value) => Some(
                MetadataValue::try_from(value.as_str())
                    .map_err(|_| Error::Config("credentials are not valid header text".into()))?,
            ),
        };
        let capacity = self.cache_capacity;
        Ok(Client {
            stub: SchemaRegistryClient::with_interceptor(channel, Credentials(authorization))
                .max_decoding_message_size(64 << 20)
                .max_encoding_message_size(64 << 20),
            shared: Arc::new(Shared {
                retry: self.retry,
                timeout: self.timeout,
                by_id: Bounded::new(capacity),
                by_guid: Bounded::new(capacity),
                registered: Bounded::new(capacity),
                versions: Bounded::new(capacity),
                latest: Bounded::with_ttl(capacity, self.latest_ttl),
                latest_with_metadata: Bounded::with_ttl(capacity, self.latest_ttl),
            }),
        })
    }
}

/// The URL tonic dials for an endpoint as people write it: `grpc://` and
/// `grpcs://` are spellings of `http://` and `https://`, no scheme means
/// plain text, and a missing port is Scute's (50051), or 443 with TLS.
pub fn endpoint_url(endpoint: &str) -> String {
    let endpoint = endpoint.trim();
    let (scheme, rest, default_port) = if let Some(rest) = endpoint.strip_prefix("grpc://") {
        ("http", rest, 50051)
    } else if let Some(rest) = endpoint.strip_prefix("grpcs://") {
        ("https", rest, 443)
    } else if endpoint.contains("://") {
        return endpoint.to_owned();
    } else {
        ("http", endpoint, 50051)
    };
    let authority = rest.split('/').next().unwrap_or_default();
    // `host:port`, not the colons of an IPv6 address in brackets.
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    if has_port {
        format!("{scheme}://{rest}")
    } else {
        let path = &rest[authority.len()..];
        format!("{scheme}://{authority}:{default_port}{path}")
    }
}

/// Answers are shared, not copied, between the cache and its callers.
type Cached = Arc<api::Schema>;

/// The cached answer for `key`, or `fetch`'s, kept. `fetch` is a future,
/// so it runs (and builds its request) only on a miss.
async fn cached<K: Eq + Hash + Clone>(
    cache: &Bounded<K, Cached>,
    key: K,
    fetch: impl Future<Output = Result<api::Schema, Error>>,
) -> Result<Cached, Error> {
    if let Some(hit) = cache.get(&key) {
        return Ok(hit);
    }
    let reply = Arc::new(fetch.await?);
    cache.put(key, reply.clone());
    Ok(reply)
}

/// What a lookup or registration was asked; its answer never changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SchemaQuery {
    subject: String,
    schema: NewSchema,
    normalize: bool,
    /// `None` for a registration; `Some(deleted)` for a lookup.
    lookup: Option<bool>,
}

/// (subject, sorted metadata pairs, deleted, format).
type MetadataQuery = (String, Vec<(String, String)>, bool, String);

/// Adds the credentials to every call, [`Client::raw`]'s included.
#[derive(Debug, Clone)]
pub struct Credentials(Option<AsciiMetadataValue>);

impl Interceptor for Credentials {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// The generated stub, with the client's credentials.
pub type Stub = SchemaRegistryClient<InterceptedService<Channel, Credentials>>;

#[derive(Debug)]
struct Shared {
    retry: RetryPolicy,
    timeout: Option<Duration>,
    /// (id, subject asked for, format) -> schema.
    by_id: Bounded<(i32, Option<String>, String), Cached>,
    /// (guid, format) -> schema.
    by_guid: Bounded<(String, String), Cached>,
    registered: Bounded<SchemaQuery, Cached>,
    /// (subject, version, deleted, format) -> that version.
    versions: Bounded<(String, i32, bool, String), Cached>,
    /// (subject, format) -> the latest version, for a time.
    latest: Bounded<(String, String), Cached>,
    /// (subject, sorted metadata, deleted, format) -> the matching version.
    latest_with_metadata: Bounded<MetadataQuery, Cached>,
}

/// A client of a Scute registry's gRPC API. Cheap to clone; clones share the
/// connection and the caches.
#[derive(Debug, Clone)]
pub struct Client {
    stub: Stub,
    shared: Arc<Shared>,
}

impl Client {
    /// Connects to `endpoint` with default settings; see [`ClientBuilder`].
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self, Error> {
        ClientBuilder::new(endpoint).connect().await
    }

    pub fn builder(endpoint: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(endpoint)
    }

    /// The generated stub, for calls this client does not wrap: with the
    /// credentials, without the timeout, retries and caches.
    pub fn raw(&mut self) -> &mut Stub {
        &mut self.stub
    }

    /// Runs one call, retrying while the registry is unavailable.
    async fn call<Q, R, F, Fut>(&self, request: Q, send: F) -> Result<R, Error>
    where
        Q: Clone,
        F: Fn(Stub, tonic::Request<Q>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<R>, tonic::Status>>,
    {
        let mut attempt = 0;
        loop {
            let mut call = tonic::Request::new(request.clone());
            if let Some(timeout) = self.shared.timeout {
                call.set_timeout(timeout);
            }
            match send(self.stub.clone(), call).await {
                Ok(reply) => return Ok(reply.into_inner()),
                Err(status)
                    if Error::retryable(&status) && attempt < self.shared.retry.max_retries =>
                {
                    tokio::time::sleep(self.shared.retry.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(status) => return Err(status.into()),
            }
        }
    }

    /// Registers `schema` under `subject` (or finds it there); the answer
    /// is cached, so registering the same schema again costs nothing.
    pub async fn register(
        &self,
        subject: &str,
        schema: &NewSchema,
        normalize: bool,
    ) -> Result<Arc<api::Schema>, Error> {
        let key = SchemaQuery {
            subject: subject.to_owned(),
            schema: schema.clone(),
            normalize,
            lookup: None,
        };
        cached(&self.shared.registered, key, async {
            let reply = self
                .call(schema.request(subject, normalize), |mut c, r| async move {
                    c.register_schema(r).await
                })
                .await?;
            self.remember_content(&reply);
            Ok(reply)
        })
        .await
    }

    /// The version of `subject` that holds `schema` (cached).
    pub async fn lookup(
        &self,
        subject: &str,
        schema: &NewSchema,
        normalize: bool,
        deleted: bool,
    ) -> Result<Arc<api::Schema>, Error> {
        let key = SchemaQuery {
            subject: subject.to_owned(),
            schema: schema.clone(),
            normalize,
            lookup: Some(deleted),
        };
        let request = || api::LookupSchemaRequest {
            subject: subject.to_owned(),
            schema: schema.schema.clone(),
            schema_type: schema.schema_type.clone(),
            references: schema.api_references(),
            normalize,
            deleted,
        };
        cached(&self.shared.registered, key, async {
            let reply = self
                .call(
                    request(),
                    |mut c, r| async move { c.lookup_schema(r).await },
                )
                .await?;
            self.remember_content(&reply);
            Ok(reply)
        })
        .await
    }

    /// An id's schema is fixed for good: keep it for readers by id.
    fn remember_content(&self, schema: &api::Schema) {
        let content = Arc::new(api::Schema {
            subject: String::new(),
            version: 0,
            deleted: false,
            max_id: None,
            ..schema.clone()
        });
        self.shared
            .by_id
            .put((schema.id, None, String::new()), content.clone());
        if !schema.guid.is_empty() {
            self.shared
                .by_guid
                .put((schema.guid.clone(), String::new()), content);
        }
    }

    /// The schema registered under `id` (cached).
    pub async fn schema_by_id(&self, id: i32) -> Result<Arc<api::Schema>, Error> {
        self.schema_by_id_with(id, None, "").await
    }

    /// The schema registered under `id`, with the version it has in
    /// `subject` when given, in an output `format` ("" for the stored text,
    /// "resolved" or "serialized") (cached).
    pub async fn schema_by_id_with(
        &self,
        id: i32,
        subject: Option<&str>,
        format: &str,
    ) -> Result<Arc<api::Schema>, Error> {
        let key = (id, subject.map(str::to_owned), format.to_owned());
        let request = api::GetSchemaByIdRequest {
            id,
            subject: subject.map(str::to_owned),
            format: format.to_owned(),
            ..Default::default()
        };
        cached(
            &self.shared.by_id,
            key,
            self.call(
                request,
                |mut c, r| async move { c.get_schema_by_id(r).await },
            ),
        )
        .await
    }

    /// The schema with this guid (cached).
    pub async fn schema_by_guid(
        &self,
        guid: &str,
        format: &str,
    ) -> Result<Arc<api::Schema>, Error> {
        let key = (guid.to_owned(), format.to_owned());
        let request = api::GetSchemaByGuidRequest {
            guid: guid.to_owned(),
            format: format.to_owned(),
        };
        cached(
            &self.shared.by_guid,
            key,
            self.call(
                request,
                |mut c, r| async move { c.get_schema_by_guid(r).await },
            ),
        )
        .await
    }

    /// One version of a subject: a number, or `latest` / `-1` (the latest is
    /// cached for the latest-version TTL, numbered versions for good).
    pub async fn version(&self, subject: &str, version: &str) -> Result<Arc<api::Schema>, Error> {
        match version.trim() {
            v if v.eq_ignore_ascii_case("latest") || v == "-1" => self.latest(subject, "").await,
            v => match v.parse::<i32>() {
                Ok(n) if n > 0 => self.numbered_version(subject, n, false, "").await,
                // Let the registry word the error.
                _ => self
                    .fetch_version(subject, version, false, "")
                    .await
                    .map(Arc::new),
            },
        }
    }

    /// Version `version` of `subject`, soft-deleted ones too when `deleted`
    /// (cached).
    pub async fn numbered_version(
        &self,
        subject: &str,
        version: i32,
        deleted: bool,
        format: &str,
    ) -> Result<Arc<api::Schema>, Error> {
        let key = (subject.to_owned(), version, deleted, format.to_owned());
        let number = version.to_string();
        let fetch = self.fetch_version(subject, &number, deleted, format);
        cached(&self.shared.versions, key, fetch).await
    }

    /// The latest live version of `subject` (cached for the TTL).
    pub async fn latest(&self, subject: &str, format: &str) -> Result<Arc<api::Schema>, Error> {
        let key = (subject.to_owned(), format.to_owned());
        let fetch = self.fetch_version(subject, "latest", false, format);
        cached(&self.shared.latest, key, fetch).await
    }

    async fn fetch_version(
        &self,
        subject: &str,
        version: &str,
        deleted: bool,
        format: &str,
    ) -> Result<api::Schema, Error> {
        let request = api::GetVersionRequest {
            subject: subject.to_owned(),
            version: version.to_owned(),
            deleted,
            format: format.to_owned(),
            ..Default::default()
        };
        self.call(request, |mut c, r| async move { c.get_version(r).await })
            .await
    }

    /// The newest version of `subject` whose metadata properties hold every
    /// `(key, value)` pair (cached for the latest-version TTL).
    pub async fn latest_with_metadata(
        &self,
        subject: &str,
        metadata: &[(String, String)],
        deleted: bool,
        format: &str,
    ) -> Result<Arc<api::Schema>, Error> {
        let mut pairs = metadata.to_vec();
        pairs.sort();
        let key = (subject.to_owned(), pairs, deleted, format.to_owned());
        let request = api::GetLatestWithMetadataRequest {
            subject: subject.to_owned(),
            metadata: metadata.iter().cloned().collect(),
            deleted,
            format: format.to_owned(),
        };
        let fetch = self.call(request, |mut c, r| async move {
            c.get_latest_with_metadata(r).await
        });
        cached(&self.shared.latest_with_metadata, key, fetch).await
    }

    /// Every live subject.
    pub async fn subjects(&self) -> Result<Vec<String>, Error> {
        self.list_subjects("", false).await
    }

    /// Subjects starting with `prefix`, soft-deleted ones too when `deleted`.
    pub async fn list_subjects(&self, prefix: &str, deleted: bool) -> Result<Vec<String>, Error> {
        let request = api::ListSubjectsRequest {
            subject_prefix: prefix.to_owned(),
            deleted,
            ..Default::default()
        };
        let reply = self
            .call(request, |mut c, r| async move { c.list_subjects(r).await })
            .await?;
        Ok(reply.subjects)
    }

    /// The version numbers of `subject`.
    pub async fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i32>, Error> {
        let request = api::ListVersionsRequest {
            subject: subject.to_owned(),
            deleted,
            ..Default::default()
        };
        let reply = self
            .call(request, |mut c, r| async move { c.list_versions(r).await })
            .await?;
        Ok(reply.versions)
    }

    /// Deletes `subject` (softly, or for good when `permanent`); returns the
    /// versions deleted.
    pub async fn delete_subject(&self, subject: &str, permanent: bool) -> Result<Vec<i32>, Error> {
        let request = api::DeleteSubjectRequest {
            subject: subject.to_owned(),
            permanent,
        };
        let reply = self
            .call(request, |mut c, r| async move { c.delete_subject(r).await })
            .await?;
        self.forget_subject(subject);
        Ok(reply.versions)
    }

    /// Deletes one version (`latest` allowed); returns its number.
    pub async fn delete_version(
        &self,
        subject: &str,
        version: &str,
        permanent: bool,
    ) -> Result<i32, Error> {
        let request = api::DeleteVersionRequest {
            subject: subject.to_owned(),
            version: version.to_owned(),
            permanent,
        };
        let reply = self
            .call(request, |mut c, r| async move { c.delete_version(r).await })
            .await?;
        self.forget_subject(subject);
        Ok(reply.version)
    }

    /// Associations by subject, resource id or resource name (not cached:
    /// serializers cache what they resolve from them).
    pub async fn associations(
        &self,
        request: api::ListAssociationsRequest,
    ) -> Result<Vec<api::Association>, Error> {
        let reply = self
            .call(
                request,
                |mut c, r| async move { c.list_associations(r).await },
            )
            .await?;
        Ok(reply.associations)
    }

    /// Creates associations (and registers the schemas they carry); with
    /// `upsert`, updates those the resource has instead of refusing them.
    pub async fn create_association(
        &self,
        request: api::AssociationRequest,
        upsert: bool,
    ) -> Result<api::AssociationResponse, Error> {
        let reply = if upsert {
            self.call(request, |mut c, r| async move {
                c.create_or_update_association(r).await
            })
            .await?
        } else {
            self.call(
                request,
                |mut c, r| async move { c.create_association(r).await },
            )
            .await?
        };
        for info in &reply.associations {
            self.forget_subject(&info.subject);
        }
        Ok(reply)
    }

    /// Deletes a resource's associations; returns those deleted. A cascade
    /// deletes STRONG associations' subjects too.
    pub async fn delete_associations(
        &self,
        request: api::DeleteAssociationsRequest,
    ) -> Result<Vec<api::Association>, Error> {
        let reply = self
            .call(
                request,
                |mut c, r| async move { c.delete_associations(r).await },
            )
            .await?;
        for association in &reply.associations {
            self.forget_subject(&association.subject);
        }
        Ok(reply.associations)
    }

    fn forget_subject(&self, subject: &str) {
        let s = &self.shared;
        s.registered.remove_where(|k| k.subject == subject);
        s.versions.remove_where(|k| k.0 == subject);
        s.latest.remove_where(|k| k.0 == subject);
        s.latest_with_metadata.remove_where(|k| k.0 == subject);
    }

    /// Checks `schema` against `version` of `subject`, or against the
    /// versions its compatibility level names when `version` is `None`;
    /// `verbose` asks for the reasons.
    pub async fn check_compatibility(
        &self,
        subject: &str,
        version: Option<&str>,
        schema: &NewSchema,
        normalize: bool,
        verbose: bool,
    ) -> Result<api::CompatibilityResult, Error> {
        let request = api::CheckCompatibilityRequest {
            subject: subject.to_owned(),
            version: version.map(str::to_owned),
            schema: schema.schema.clone(),
            schema_type: schema.schema_type.clone(),
            references: schema.api_references(),
            normalize,
            verbose,
        };
        self.call(
            request,
            |mut c, r| async move { c.check_compatibility(r).await },
        )
        .await
    }

    /// The compatibility config of `subject` (the global one when `None`),
    /// falling back to the global one when `default_to_global`.
    pub async fn config(
        &self,
        subject: Option<&str>,
        default_to_global: bool,
    ) -> Result<api::Config, Error> {
        let request = api::GetConfigRequest {
            subject: subject.map(str::to_owned),
            default_to_global,
        };
        self.call(request, |mut c, r| async move { c.get_config(r).await })
            .await
    }

    /// Sets (merges) the config of `subject`, or the global one.
    pub async fn set_config(
        &self,
        subject: Option<&str>,
        config: api::Config,
    ) -> Result<api::Config, Error> {
        let request = api::SetConfigRequest {
            subject: subject.map(str::to_owned),
            config: Some(config),
        };
        self.call(request, |mut c, r| async move { c.set_config(r).await })
            .await
    }

    /// The mode of `subject`, or the global one.
    pub async fn mode(&self, subject: Option<&str>) -> Result<String, Error> {
        let request = api::GetModeRequest {
            subject: subject.map(str::to_owned),
            default_to_global: true,
        };
        let reply = self
            .call(request, |mut c, r| async move { c.get_mode(r).await })
            .await?;
        Ok(reply.mode)
    }

    /// Sets the mode of `subject`, or the global one.
    pub async fn set_mode(
        &self,
        subject: Option<&str>,
        mode: &str,
        force: bool,
    ) -> Result<String, Error> {
        let request = api::SetModeRequest {
            subject: subject.map(str::to_owned),
            mode: mode.to_owned(),
            force,
        };
        let reply = self
            .call(request, |mut c, r| async move { c.set_mode(r).await })
            .await?;
        Ok(reply.mode)
    }

    /// Drops the cached "latest" answers, so the next read asks again.
    pub fn clear_latest_caches(&self) {
        self.shared.latest.clear();
        self.shared.latest_with_metadata.clear();
    }

    /// Drops every cached answer.
    pub fn clear_caches(&self) {
        let s = &self.shared;
        s.by_id.clear();
        s.by_guid.clear();
        s.registered.clear();
        s.versions.clear();
        self.clear_latest_caches();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_take_every_spelling() {
        assert_eq!(endpoint_url("grpc://h:1"), "http://h:1");
        assert_eq!(endpoint_url("grpcs://h:1"), "https://h:1");
        assert_eq!(endpoint_url("h:1"), "http://h:1");
        assert_eq!(endpoint_url(" https://h:1 "), "https://h:1");
        assert_eq!(endpoint_url("grpc://localhost"), "http://localhost:50051");
        assert_eq!(
            endpoint_url("grpcs://r.example.com"),
            "https://r.example.com:443"
        );
        assert_eq!(endpoint_url("[::1]"), "http://[::1]:50051");
        assert_eq!(endpoint_url("grpc://[::1]:7"), "http://[::1]:7");
    }

    #[test]
    fn backoff_grows_and_stays_under_the_cap() {
        let policy = RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
        };
        for _ in 0..50 {
            let first = policy.backoff(0);
            assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&first));
            let late = policy.backoff(10);
            assert!((Duration::from_millis(500)..=Duration::from_millis(1000)).contains(&late));
        }
    }

    #[test]
    fn bad_endpoints_and_credentials_are_config_errors() {
        let err = ClientBuilder::new("http://bad host:1")
            .connect_lazy()
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
    }
}
