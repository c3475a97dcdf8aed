//! `scute schema|subject|config ...`: a client for people at a terminal.
//!
//! It only calls a registry's API, through one [`Registry`] trait with two
//! transports: Confluent's REST contract (`rest`, so it works against any
//! Confluent-compatible registry) and Scute's gRPC API (`grpc`). Both answer
//! in the small model below, so `render` prints the same either way.
//! `connection` reads the TLS and credential flags both transports use.
//!
//! `scute user ...` (`user`) is the odd one out: it writes a local user
//! file, as Karapace's `karapace_mkpasswd` does, and calls no registry.

mod connection;
mod grpc;
mod render;
mod rest;
mod user;

pub use user::{UserArgs, UserCommand, user};

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use async_trait::async_trait;

/// Appended to each command group's `--help`.
const AFTER_HELP: &str = "\
The registry is --registry (or SCUTE_REGISTRY), default http://localhost:8081:
  http(s)://[user:pass@]host[:port][/path]  Confluent's REST API (any compatible registry)
  grpc(s)://[user:pass@]host[:port]         Scute's gRPC API (port 50051 by default for grpc://, 443 for grpcs://)
user:pass, or --user, is sent as HTTP basic auth (an authorization header over
gRPC); --token as a bearer token. Each flag is also an environment variable:
SCUTE_CA_CERT, SCUTE_CLIENT_CERT, SCUTE_CLIENT_KEY, SCUTE_USER, SCUTE_TOKEN
(and SCUTE_PASSWORD for a --user without one).

Exit status: 0 done (or compatible); 1 the registry said no (incompatible,
not found, invalid schema, ...: its message and error code go to stderr);
2 usage error, or the registry could not be reached (a TLS certificate
problem included) or answered nonsense.";

/// Where the registry is and how to print its answers; accepted anywhere
/// after the command group (`scute schema --registry ... get ...`).
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// The registry: http(s)://... for REST, grpc(s)://... for Scute's gRPC API.
    #[arg(
        long,
        env = "SCUTE_REGISTRY",
        default_value = "http://localhost:8081",
        global = true
    )]
    pub registry: String,
    /// text: tables and pretty-printed schemas; json: the REST entities.
    #[arg(long, value_enum, default_value_t = Output::Text, global = true)]
    pub output: Output,
    /// Trust the CA certificates in FILE (PEM) instead of the system's, for
    /// https:// and grpcs:// registries with a private CA.
    #[arg(long, env = "SCUTE_CA_CERT", value_name = "FILE", global = true)]
    pub ca_cert: Option<PathBuf>,
    /// Present this certificate (PEM, with its chain) to a registry that
    /// asks for one (mutual TLS); needs --client-key.
    #[arg(
        long,
        env = "SCUTE_CLIENT_CERT",
        value_name = "FILE",
        requires = "client_key",
        global = true
    )]
    pub client_cert: Option<PathBuf>,
    /// The private key of --client-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "SCUTE_CLIENT_KEY",
        value_name = "FILE",
        requires = "client_cert",
        global = true
    )]
    pub client_key: Option<PathBuf>,
    /// HTTP basic credentials; without `:PASSWORD`, the password is
    /// SCUTE_PASSWORD. A password here is visible in the process list.
    #[arg(
        long,
        env = "SCUTE_USER",
        value_name = "NAME[:PASSWORD]",
        hide_env_values = true,
        global = true
    )]
    pub user: Option<String>,
    /// A bearer token (OAuth 2 / OIDC) sent with every request. Visible in
    /// the process list: prefer SCUTE_TOKEN.
    #[arg(
        long,
        env = "SCUTE_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaType {
    #[value(name = "AVRO")]
    Avro,
    #[value(name = "PROTOBUF")]
    Protobuf,
    #[value(name = "JSON")]
    Json,
}

impl SchemaType {
    fn name(self) -> &'static str {
        match self {
            Self::Avro => "AVRO",
            Self::Protobuf => "PROTOBUF",
            Self::Json => "JSON",
        }
    }

    /// The type a file's extension suggests.
    fn of_file(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "avsc" => Some(Self::Avro),
            "proto" => Some(Self::Protobuf),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// auto: only on a terminal, and not when NO_COLOR is set (no-color.org).
    fn enabled(self) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct SchemaArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub command: SchemaCommand,
}

/// The schema in a file, its type and references.
#[derive(Debug, Clone, clap::Args)]
pub struct SchemaFile {
    /// The subject.
    pub subject: String,
    /// The schema file (`-` for standard input).
    pub file: PathBuf,
    /// The schema type; by default guessed from the extension (.avsc, .proto, .json).
    #[arg(long = "type", value_enum, ignore_case = true)]
    pub schema_type: Option<SchemaType>,
    /// A reference to another subject's schema, NAME=SUBJECT:VERSION
    /// (for Protobuf the name is the import path); repeatable.
    #[arg(long = "reference", value_name = "NAME=SUBJECT:VERSION", value_parser = parse_reference)]
    pub references: Vec<Reference>,
    /// Ask the registry to normalize the schema first.
    #[arg(long)]
    pub normalize: bool,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum SchemaCommand {
    /// Register the schema in FILE under SUBJECT (an identical schema keeps its version).
    Register(SchemaFile),
    /// Print one version of a subject (the latest by default), or the schema with an id.
    Get {
        /// The subject.
        #[arg(required_unless_present = "id", conflicts_with = "id")]
        subject: Option<String>,
        /// A version number or `latest`.
        #[arg(conflicts_with = "id")]
        version: Option<String>,
        /// Print the schema with this id instead.
        #[arg(long)]
        id: Option<i32>,
    },
    /// Check whether the schema in FILE could be registered under SUBJECT
    /// (exit status 1 when it is incompatible).
    Check {
        #[command(flatten)]
        schema: SchemaFile,
        /// Check against this version only (a number or `latest`); by
        /// default against every version the subject's level names.
        #[arg(long)]
        version: Option<String>,
    },
    /// Delete a subject, or one version of it (soft; --permanent after a soft delete).
    Delete {
        subject: String,
        /// A version number or `latest`; the whole subject when absent.
        version: Option<String>,
        #[arg(long)]
        permanent: bool,
    },
    /// Show how two versions of a subject differ: a unified diff of the
    /// pretty-printed schemas (nothing when they are the same).
    Diff {
        subject: String,
        /// The old version (a number or `latest`).
        v1: String,
        /// The new version (a number or `latest`).
        v2: String,
        /// Colour removed lines red and added lines green.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
}

#[derive(Debug, Clone, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct SubjectArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub command: SubjectCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum SubjectCommand {
    /// List the subjects.
    List {
        /// Include soft-deleted subjects (marked in a second column).
        #[arg(long)]
        deleted: bool,
        /// Only subjects whose name starts with this.
        #[arg(long)]
        prefix: Option<String>,
    },
}

#[derive(Debug, Clone, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print the compatibility level: the global one, or the one that applies
    /// to SUBJECT (its own, else the global one).
    Get { subject: Option<String> },
    /// Set the compatibility level, globally or of SUBJECT: NONE, BACKWARD,
    /// BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL or FULL_TRANSITIVE.
    #[command(override_usage = "scute config set [SUBJECT] <LEVEL>")]
    Set {
        /// The subject; or, alone, the level to set globally.
        subject: String,
        /// The level.
        level: Option<String>,
    },
}

/// A failed command. The exit status tells a refusal from the registry (1)
/// from a usage or transport failure (2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The registry answered with an error.
    #[error("{message} (error code {error_code})")]
    Registry { error_code: i32, message: String },
    #[error("{0}")]
    Usage(String),
    /// The registry could not be reached, or its answer made no sense.
    #[error("{0}")]
    Transport(String),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Registry { .. } => 1,
            Self::Usage(_) | Self::Transport(_) => 2,
        }
    }
}

/// An error and its causes on one line (transport errors nest deeply).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A reference from a schema to another subject's version, in the shape
/// Confluent's REST entities give it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

fn parse_reference(text: &str) -> Result<Reference, String> {
    let wrong = || format!("expected NAME=SUBJECT:VERSION, got {text:?}");
    let (name, target) = text.split_once('=').ok_or_else(wrong)?;
    let (subject, version) = target.rsplit_once(':').ok_or_else(wrong)?;
    let version = version.parse().map_err(|_| wrong())?;
    if name.is_empty() || subject.is_empty() {
        return Err(wrong());
    }
    Ok(Reference {
        name: name.to_owned(),
        subject: subject.to_owned(),
        version,
    })
}

/// A schema to register or check.
#[derive(Debug, Clone)]
pub(crate) struct NewSchema {
    pub(crate) schema_type: &'static str,
    pub(crate) schema: String,
    pub(crate) references: Vec<Reference>,
    pub(crate) normalize: bool,
}

/// A stored schema, as either transport returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaInfo {
    pub(crate) subject: Option<String>,
    pub(crate) version: Option<i32>,
    pub(crate) id: i32,
    /// AVRO when the registry leaves it out, as Confluent's REST API does.
    pub(crate) schema_type: String,
    pub(crate) schema: String,
    pub(crate) references: Vec<Reference>,
}

/// The verdict of a compatibility check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Compatibility {
    pub(crate) is_compatible: bool,
    pub(crate) messages: Vec<String>,
}

/// A compatibility configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ConfigInfo {
    pub(crate) compatibility_level: Option<String>,
    pub(crate) normalize: Option<bool>,
}

/// The calls the commands make; one implementation per transport.
#[async_trait]
pub(crate) trait Registry: Send {
    async fn register(&mut self, subject: &str, schema: &NewSchema)
    -> Result<SchemaInfo, CliError>;
    async fn schema_by_id(&mut self, id: i32) -> Result<SchemaInfo, CliError>;
    async fn version(&mut self, subject: &str, version: &str) -> Result<SchemaInfo, CliError>;
    async fn check(
        &mut self,
        subject: &str,
        version: Option<&str>,
        schema: &NewSchema,
    ) -> Result<Compatibility, CliError>;
    async fn delete_subject(
        &mut self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, CliError>;
    async fn delete_version(
        &mut self,
        subject: &str,
        version: &str,
        permanent: bool,
    ) -> Result<i32, CliError>;
    async fn subjects(&mut self, deleted: bool, prefix: &str) -> Result<Vec<String>, CliError>;
    /// The config of `subject` (falling back to the global one), or the global one.
    async fn config(&mut self, subject: Option<&str>) -> Result<ConfigInfo, CliError>;
    async fn set_level(&mut self, subject: Option<&str>, level: &str) -> Result<String, CliError>;
}

/// Opens the transport the URL's scheme names, after reading and checking
/// the TLS files and credentials the flags name.
async fn connect(args: &ClientArgs) -> Result<Box<dyn Registry>, CliError> {
    let target = connection::Target::from_args(args)?;
    match target.url.scheme() {
        "grpc" | "grpcs" => Ok(Box::new(grpc::Grpc::connect(target).await?)),
        _ => Ok(Box::new(rest::Rest::new(target)?)),
    }
}

/// A failure to reach the registry at `at`; a TLS failure says which flag
/// fixes it.
fn unreachable(at: &dyn std::fmt::Display, error: &(dyn std::error::Error + 'static)) -> CliError {
    let why = connection::tls_failure(error).unwrap_or_else(|| chain(error));
    CliError::Transport(format!("cannot reach the registry at {at}: {why}"))
}

/// `user:pass` of a URL, percent-decoded.
fn credentials(url: &reqwest::Url) -> Option<(String, Option<String>)> {
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    };
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    Some((decode(url.username()), url.password().map(decode)))
}

/// What a command prints on success, and its exit status.
struct Done {
    stdout: String,
    status: u8,
}

impl From<String> for Done {
    fn from(stdout: String) -> Self {
        Self { stdout, status: 0 }
    }
}

fn finish(result: Result<Done, CliError>) -> ExitCode {
    match result {
        Ok(done) => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not worth a message.
            let _ = out
                .write_all(done.stdout.as_bytes())
                .and_then(|()| out.flush());
            ExitCode::from(done.status)
        }
        Err(e) => {
            eprintln!("scute: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// The largest schema file read: a registry's default request limit.
const MAX_SCHEMA_FILE_BYTES: usize = 16 << 20;

fn read_schema(file: &SchemaFile) -> Result<NewSchema, CliError> {
    let schema_type = match (file.schema_type, SchemaType::of_file(&file.file)) {
        (Some(given), _) => given,
        (None, Some(guessed)) => guessed,
        (None, None) => {
            return Err(CliError::Usage(format!(
                "cannot tell the schema type of {}: name it .avsc, .proto or .json, or pass --type",
                file.file.display()
            )));
        }
    };
    let cannot =
        |e: std::io::Error| CliError::Usage(format!("cannot read {}: {e}", file.file.display()));
    // Read at most one byte past the limit: `/dev/zero` or a mistaken
    // multi-gigabyte file ends here, not in memory.
    let mut bytes = Vec::new();
    let limit = MAX_SCHEMA_FILE_BYTES as u64 + 1;
    if file.file.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(&file.file).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    }
    .map_err(cannot)?;
    if bytes.len() > MAX_SCHEMA_FILE_BYTES {
        return Err(CliError::Usage(format!(
            "{} is larger than {} MiB, more than a registry takes",
            file.file.display(),
            MAX_SCHEMA_FILE_BYTES >> 20
        )));
    }
    let schema = String::from_utf8(bytes)
        .map_err(|_| CliError::Usage(format!("{} is not UTF-8 text", file.file.display())))?;
    Ok(NewSchema {
        schema_type: schema_type.name(),
        schema,
        references: file.references.clone(),
        normalize: file.normalize,
    })
}

/// Runs `scute schema ...`.
pub async fn schema(args: SchemaArgs) -> ExitCode {
    finish(run_schema(args).await)
}

async fn run_schema(args: SchemaArgs) -> Result<Done, CliError> {
    let output = args.client.output;
    let registry = &args.client;
    match args.command {
        SchemaCommand::Register(file) => {
            // The file is read first: a typo should not wait on the network.
            let schema = read_schema(&file)?;
            let stored = connect(registry)
                .await?
                .register(&file.subject, &schema)
                .await?;
            Ok(render::registered(&stored, output).into())
        }
        SchemaCommand::Check {
            schema: file,
            version,
        } => {
            let schema = read_schema(&file)?;
            let verdict = connect(registry)
                .await?
                .check(&file.subject, version.as_deref(), &schema)
                .await?;
            Ok(Done {
                stdout: render::compatibility(&verdict, output),
                status: if verdict.is_compatible { 0 } else { 1 },
            })
        }
        SchemaCommand::Get {
            subject,
            version,
            id,
        } => {
            let mut registry = connect(registry).await?;
            let schema = match (id, subject) {
                (Some(id), _) => registry.schema_by_id(id).await?,
                (None, Some(subject)) => {
                    let version = version.as_deref().unwrap_or("latest");
                    registry.version(&subject, version).await?
                }
                (None, None) => return Err(CliError::Usage("name a subject or an --id".into())),
            };
            Ok(render::schema(&schema, output).into())
        }
        SchemaCommand::Delete {
            subject,
            version,
            permanent,
        } => {
            let mut registry = connect(registry).await?;
            match version {
                None => {
                    let versions = registry.delete_subject(&subject, permanent).await?;
                    Ok(render::deleted_subject(&subject, &versions, output).into())
                }
                Some(version) => {
                    let version = registry
                        .delete_version(&subject, &version, permanent)
                        .await?;
                    Ok(render::deleted_version(&subject, version, output).into())
                }
            }
        }
        SchemaCommand::Diff {
            subject,
            v1,
            v2,
            color,
        } => {
            let mut registry = connect(registry).await?;
            let old = registry.version(&subject, &v1).await?;
            let new = registry.version(&subject, &v2).await?;
            let label = |s: &SchemaInfo, asked: &str| match s.version {
                Some(v) => format!("{subject} version {v}"),
                None => format!("{subject} version {asked}"),
            };
            Ok(render::diff(
                &label(&old, &v1),
                &label(&new, &v2),
                &render::pretty(&old.schema_type, &old.schema),
                &render::pretty(&new.schema_type, &new.schema),
                color.enabled(),
            )
            .into())
        }
    }
}

/// Runs `scute subject ...`.
pub async fn subject(args: SubjectArgs) -> ExitCode {
    finish(run_subject(args).await)
}

async fn run_subject(args: SubjectArgs) -> Result<Done, CliError> {
    let output = args.client.output;
    let mut registry = connect(&args.client).await?;
    match args.command {
        SubjectCommand::List { deleted, prefix } => {
            let prefix = prefix.unwrap_or_default();
            let listed = registry.subjects(deleted, &prefix).await?;
            // With --deleted, a second call tells which of them are live.
            let live = if deleted {
                Some(registry.subjects(false, &prefix).await?)
            } else {
                None
            };
            Ok(render::subjects(&listed, live.as_deref(), output).into())
        }
    }
}

/// Runs `scute config ...`.
pub async fn config(args: ConfigArgs) -> ExitCode {
    finish(run_config(args).await)
}

async fn run_config(args: ConfigArgs) -> Result<Done, CliError> {
    let output = args.client.output;
    let mut registry = connect(&args.client).await?;
    match args.command {
        ConfigCommand::Get { subject } => {
            let config = registry.config(subject.as_deref()).await?;
            Ok(render::config(&config, output).into())
        }
        ConfigCommand::Set { subject, level } => {
            let (subject, level) = match level {
                Some(level) => (Some(subject), level),
                None => (None, subject),
            };
            // Upper case, the spelling Confluent's API documents and echoes.
            let level = registry
                .set_level(subject.as_deref(), &level.to_uppercase())
                .await?;
            Ok(render::level_set(&level, output).into())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn references_parse() {
        assert_eq!(
            parse_reference("other.proto=other-value:3").unwrap(),
            Reference {
                name: "other.proto".into(),
                subject: "other-value".into(),
                version: 3
            }
        );
        // The subject may itself hold a colon; the version is after the last one.
        assert_eq!(parse_reference("a=ns:b:1").unwrap().subject, "ns:b");
        for bad in ["a", "a=b", "=b:1", "a=:1", "a=b:x"] {
            assert!(parse_reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn types_follow_extensions() {
        assert_eq!(
            SchemaType::of_file(Path::new("u.avsc")),
            Some(SchemaType::Avro)
        );
        assert_eq!(
            SchemaType::of_file(Path::new("u.PROTO")),
            Some(SchemaType::Protobuf)
        );
        assert_eq!(
            SchemaType::of_file(Path::new("u.json")),
            Some(SchemaType::Json)
        );
        assert_eq!(SchemaType::of_file(Path::new("u.txt")), None);
        assert_eq!(SchemaType::of_file(Path::new("-")), None);
    }

    #[test]
    fn commands_parse_with_the_registry_anywhere_after_the_group() {
        use crate::config::{Command, Config};
        use clap::Parser;
        let parsed = Config::try_parse_from([
            "scute",
            "schema",
            "--registry",
            "grpc://h:1",
            "get",
            "s",
            "2",
            "--output",
            "json",
        ])
        .unwrap();
        let Some(Command::Schema(args)) = parsed.command else {
            panic!("not a schema command")
        };
        assert_eq!(args.client.registry, "grpc://h:1");
        assert_eq!(args.client.output, Output::Json);
        assert!(matches!(
            args.command,
            SchemaCommand::Get { subject: Some(s), version: Some(v), id: None } if s == "s" && v == "2"
        ));
        // --id and a subject exclude each other; one of them is needed.
        assert!(Config::try_parse_from(["scute", "schema", "get", "--id", "3"]).is_ok());
        assert!(Config::try_parse_from(["scute", "schema", "get", "s", "--id", "3"]).is_err());
        assert!(Config::try_parse_from(["scute", "schema", "get"]).is_err());
        // config set takes LEVEL, or SUBJECT LEVEL.
        for (argv, want) in [
            (&["scute", "config", "set", "full"][..], ("full", None)),
            (
                &["scute", "config", "set", "s", "full"][..],
                ("s", Some("full")),
            ),
        ] {
            let Some(Command::Config(args)) = Config::try_parse_from(argv).unwrap().command else {
                panic!("not a config command")
            };
            assert!(matches!(args.command,
                ConfigCommand::Set { subject, level } if (subject.as_str(), level.as_deref()) == want));
        }
        assert!(Config::try_parse_from(["scute", "config", "set"]).is_err());
        assert!(Config::try_parse_from(["scute", "config", "set", "a", "b", "c"]).is_err());
    }

    #[test]
    fn security_flags_parse_anywhere_after_the_group() {
        use crate::config::{Command, Config};
        use clap::Parser;
        let parsed = Config::try_parse_from([
            "scute",
            "subject",
            "--ca-cert",
            "ca.pem",
            "list",
            "--user",
            "alice:pw",
            "--client-cert",
            "c.pem",
            "--client-key",
            "k.pem",
        ])
        .unwrap();
        let Some(Command::Subject(args)) = parsed.command else {
            panic!("not a subject command")
        };
        let client = args.client;
        assert_eq!(client.ca_cert, Some(PathBuf::from("ca.pem")));
        assert_eq!(client.client_cert, Some(PathBuf::from("c.pem")));
        assert_eq!(client.client_key, Some(PathBuf::from("k.pem")));
        assert_eq!(client.user.as_deref(), Some("alice:pw"));
        assert_eq!(client.token, None);
        let parsed = Config::try_parse_from(["scute", "config", "get", "--token", "t"]).unwrap();
        let Some(Command::Config(args)) = parsed.command else {
            panic!("not a config command")
        };
        assert_eq!(args.client.token.as_deref(), Some("t"));
        // A certificate without its key (or the reverse) is a usage error.
        for half in [["--client-cert", "c.pem"], ["--client-key", "k.pem"]] {
            let argv = ["scute", "subject", "list", half[0], half[1]];
            assert!(Config::try_parse_from(argv).is_err(), "{half:?}");
        }
    }

    #[test]
    fn exit_codes_tell_refusals_from_failures() {
        let refused = CliError::Registry {
            error_code: 40401,
            message: "Subject 'x' not found.".into(),
        };
        assert_eq!(
            refused.to_string(),
            "Subject 'x' not found. (error code 40401)"
        );
        assert_eq!(refused.exit_code(), 1);
        assert_eq!(CliError::Transport("down".into()).exit_code(), 2);
        assert_eq!(CliError::Usage("typo".into()).exit_code(), 2);
    }
}
