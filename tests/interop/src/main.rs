//! `scute-interop`: the serializers and deserializers of the
//! `schema-registry-client` crate, run against a registry over REST (its own
//! client) or over gRPC (scute-client's implementation of the same trait).
//!
//! `write` prints one base64 Kafka value per line, `read` decodes such lines
//! into JSON, so the end-to-end tests can move bytes between this, other
//! languages' serdes, and the other transport. `associate` and `dissociate`
//! point a topic at a subject of one's choosing through the crate's own
//! association calls, which its serdes' default subject-name strategy
//! follows. `bench` measures both transports.
//!
//! Every record is an `Order` whose `customer` field is a `Customer` from a
//! separate schema, so each format runs with a schema reference.

use std::io::BufRead;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use clap::{Parser, Subcommand, ValueEnum};
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};
use schema_registry_client::rest::client_config::ClientConfig;
use schema_registry_client::rest::models::{
    AssociationCreateOrUpdateInfo, AssociationCreateOrUpdateRequest, Schema, SchemaReference,
};
use schema_registry_client::rest::schema_registry_client::{Client, SchemaRegistryClient};
use schema_registry_client::serdes::avro::{AvroDeserializer, AvroSerializer};
use schema_registry_client::serdes::config::{
    DeserializerConfig, SchemaSelector, SerializerConfig,
};
use schema_registry_client::serdes::json::{JsonDeserializer, JsonSerializer};
use schema_registry_client::serdes::protobuf::{ProtobufDeserializer, ProtobufSerializer};
use schema_registry_client::serdes::serde::{SerdeFormat, SerdeType, SerializationContext};
use scute_client::serdes::GrpcClient;
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "schema-registry-client serdes against a registry, over REST or gRPC")]
struct Args {
    /// `http://host:8081` uses REST; `grpc://host:50051` uses Scute's gRPC API.
    /// `https://` and `grpcs://` use TLS, trusting the system's CAs
    /// (`SSL_CERT_FILE` or `SSL_CERT_DIR` name others).
    #[arg(long)]
    registry: String,
    /// HTTP Basic credentials, `user:password`, sent with every call.
    #[arg(long, value_name = "USER:PASSWORD", conflicts_with = "bearer_token")]
    basic_auth: Option<String>,
    /// A bearer token sent with every call.
    #[arg(long, value_name = "TOKEN")]
    bearer_token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serializes `count` orders to `<topic>-value`, one base64 value a line.
    Write {
        #[arg(long, value_enum)]
        format: Format,
        #[arg(long)]
        topic: String,
        #[arg(long, default_value_t = 3)]
        count: i64,
        /// Don't register: write with the subject's latest version.
        #[arg(long)]
        use_latest: bool,
    },
    /// Decodes base64 values from stdin, printing each as one JSON line.
    Read {
        #[arg(long, value_enum)]
        format: Format,
        #[arg(long)]
        topic: String,
    },
    /// Associates `topic`'s values with `subject` (a WEAK association),
    /// printing the registry's answer as JSON.
    Associate {
        #[arg(long)]
        topic: String,
        #[arg(long)]
        subject: String,
        #[arg(long)]
        namespace: String,
        #[arg(long)]
        resource_id: String,
    },
    /// Deletes a resource's associations.
    Dissociate {
        #[arg(long)]
        resource_id: String,
    },
    /// Serialize and deserialize throughput with warm caches, and the latency
    /// of the first record with cold ones.
    Bench {
        #[arg(long, value_enum)]
        format: Format,
        #[arg(long, default_value_t = 100_000)]
        records: u32,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Format {
    Avro,
    Json,
    Protobuf,
}

const AVRO_CUSTOMER: &str = r#"{"type":"record","name":"Customer","namespace":"shop","fields":[{"name":"name","type":"string"}]}"#;
const AVRO_ORDER: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"customer","type":"shop.Customer"}]}"#;
const JSON_CUSTOMER: &str = r#"{"$schema":"http://json-schema.org/draft-07/schema#","$id":"customer.json","type":"object","properties":{"name":{"type":"string"}},"required":["name"]}"#;
const JSON_ORDER: &str = r#"{"$schema":"http://json-schema.org/draft-07/schema#","title":"Order","type":"object","properties":{"id":{"type":"integer"},"customer":{"$ref":"customer.json"}},"required":["id","customer"]}"#;
const PROTO_CUSTOMER: &str =
    "syntax = \"proto3\";\npackage shop;\n\nmessage Customer {\n  string name = 1;\n}\n";
const PROTO_ORDER: &str = "syntax = \"proto3\";\npackage shop;\n\nimport \"shop/customer.proto\";\n\nmessage Order {\n  int64 id = 1;\n  Customer customer = 2;\n}\n";

/// The Rust type the Protobuf deserializer decodes into.
#[derive(Clone, PartialEq, prost::Message)]
struct Order {
    #[prost(int64, tag = "1")]
    id: i64,
    #[prost(message, optional, tag = "2")]
    customer: Option<Customer>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Customer {
    #[prost(string, tag = "1")]
    name: String,
}

/// An order as the Avro serializer takes it: a record of records.
fn avro_order(id: i64) -> apache_avro_sr::types::Value {
    use apache_avro_sr::types::Value as Avro;
    Avro::Record(vec![
        ("id".into(), Avro::Long(id)),
        (
            "customer".into(),
            Avro::Record(vec![(
                "name".into(),
                Avro::String(format!("customer {id}")),
            )]),
        ),
    ])
}

fn order(id: i64) -> Value {
    json!({"id": id, "customer": {"name": format!("customer {id}")}})
}

fn context(topic: &str, format: Format) -> SerializationContext {
    SerializationContext {
        topic: topic.to_owned(),
        serde_type: SerdeType::Value,
        serde_format: match format {
            Format::Avro => SerdeFormat::Avro,
            Format::Json => SerdeFormat::Json,
            Format::Protobuf => SerdeFormat::Protobuf,
        },
        headers: None,
    }
}

fn schema(schema_type: &str, text: &str, references: Vec<SchemaReference>) -> Schema {
    Schema {
        schema_type: Some(schema_type.to_owned()),
        references: (!references.is_empty()).then_some(references),
        metadata: None,
        rule_set: None,
        schema: text.to_owned(),
    }
}

fn reference(name: &str, subject: &str) -> SchemaReference {
    SchemaReference {
        name: Some(name.to_owned()),
        subject: Some(subject.to_owned()),
        version: Some(1),
    }
}

/// The Order schema, with its Customer reference registered first (the
/// Protobuf serializer registers imports itself).
async fn order_schema<T: Client + Sync>(client: &T, format: Format) -> Result<Option<Schema>> {
    Ok(match format {
        Format::Avro => {
            client
                .register_schema(
                    "shop.Customer",
                    &schema("AVRO", AVRO_CUSTOMER, vec![]),
                    false,
                )
                .await
                .map_err(se)?;
            Some(schema(
                "AVRO",
                AVRO_ORDER,
                vec![reference("shop.Customer", "shop.Customer")],
            ))
        }
        Format::Json => {
            client
                .register_schema(
                    "customer.json",
                    &schema("JSON", JSON_CUSTOMER, vec![]),
                    false,
                )
                .await
                .map_err(se)?;
            Some(schema(
                "JSON",
                JSON_ORDER,
                vec![reference("customer.json", "customer.json")],
            ))
        }
        Format::Protobuf => None,
    })
}

fn order_descriptor() -> Result<MessageDescriptor> {
    use prost014::Message as _;
    let mut compiler = protox::Compiler::with_file_resolver(Files);
    compiler.include_imports(true);
    compiler
        .open_file("shop/order.proto")
        .map_err(|e| anyhow!("{e}"))?;
    let bytes = compiler.file_descriptor_set().encode_to_vec();
    let pool = DescriptorPool::decode(bytes.as_slice())?;
    pool.get_message_by_name("shop.Order")
        .context("shop.Order missing from its own file")
}

/// The two .proto files, in memory.
struct Files;

impl protox::file::FileResolver for Files {
    fn open_file(&self, name: &str) -> Result<protox::file::File, protox::Error> {
        match name {
            "shop/customer.proto" => protox::file::File::from_source(name, PROTO_CUSTOMER),
            "shop/order.proto" => protox::file::File::from_source(name, PROTO_ORDER),
            _ => Err(protox::Error::file_not_found(name)),
        }
    }
}

/// The serdes' error type is not `Sync`; keep its message.
fn se(e: impl std::fmt::Debug) -> anyhow::Error {
    anyhow!("{e:?}")
}

fn serializer_config(use_latest: bool) -> SerializerConfig {
    let mut config = SerializerConfig::default();
    if use_latest {
        config.auto_register_schemas = false;
        config.use_schema = Some(SchemaSelector::LatestVersion);
    }
    config
}

/// Serializes `ids` as orders; the serializer is built once, as a producer
/// would build it.
async fn write<T: Client + Sync>(
    client: &T,
    format: Format,
    topic: &str,
    ids: impl Iterator<Item = i64>,
    use_latest: bool,
) -> Result<Vec<Vec<u8>>> {
    let ctx = context(topic, format);
    let schema = if use_latest {
        None
    } else {
        order_schema(client, format).await?
    };
    let mut out = Vec::new();
    match format {
        Format::Avro => {
            let ser =
                AvroSerializer::new(client, schema.as_ref(), None, serializer_config(use_latest))
                    .map_err(se)?;
            for id in ids {
                out.push(ser.serialize(&ctx, avro_order(id)).await.map_err(se)?);
            }
        }
        Format::Json => {
            let ser =
                JsonSerializer::new(client, schema.as_ref(), None, serializer_config(use_latest))
                    .map_err(se)?;
            for id in ids {
                out.push(ser.serialize(&ctx, order(id)).await.map_err(se)?);
            }
        }
        Format::Protobuf => {
            let descriptor = order_descriptor()?;
            let ser =
                ProtobufSerializer::new(client, None, serializer_config(use_latest)).map_err(se)?;
            for id in ids {
                let message = DynamicMessage::deserialize(descriptor.clone(), order(id))?;
                out.push(
                    ser.serialize_with_message_desc(&ctx, &message, &descriptor)
                        .await
                        .map_err(se)?,
                );
            }
        }
    }
    Ok(out)
}

/// A reader for one format, built once and used for every value.
enum Reader<'a, T: Client + Sync> {
    Avro(AvroDeserializer<'a, T>),
    Json(JsonDeserializer<'a, T>),
    Protobuf(ProtobufDeserializer<'a, T>),
}

impl<'a, T: Client + Sync> Reader<'a, T> {
    fn new(client: &'a T, format: Format) -> Result<Self> {
        let config = DeserializerConfig::default;
        Ok(match format {
            Format::Avro => Self::Avro(AvroDeserializer::new(client, None, config()).map_err(se)?),
            Format::Json => Self::Json(JsonDeserializer::new(client, None, config()).map_err(se)?),
            Format::Protobuf => {
                Self::Protobuf(ProtobufDeserializer::new(client, None, config()).map_err(se)?)
            }
        })
    }

    async fn read(&self, ctx: &SerializationContext, bytes: &[u8]) -> Result<Value> {
        Ok(match self {
            Self::Avro(de) => Value::try_from(de.deserialize(ctx, bytes).await.map_err(se)?.value)?,
            Self::Json(de) => de.deserialize(ctx, bytes).await.map_err(se)?,
            Self::Protobuf(de) => {
                let order: Order = de.deserialize(ctx, bytes).await.map_err(se)?;
                let name = order.customer.map(|c| c.name).unwrap_or_default();
                json!({"id": order.id, "customer": {"name": name}})
            }
        })
    }
}

/// Runs `command`; the writer and the reader have clients of their own, as a
/// producer and a consumer would.
async fn run<T: Client + Sync>(writer: &T, reader: &T, command: &Command) -> Result<()> {
    let b64 = base64::engine::general_purpose::STANDARD;
    match command {
        Command::Write {
            format,
            topic,
            count,
            use_latest,
        } => {
            for bytes in write(writer, *format, topic, 1..=*count, *use_latest).await? {
                println!("{}", b64.encode(bytes));
            }
        }
        Command::Read { format, topic } => {
            let decoder = Reader::new(reader, *format)?;
            let ctx = context(topic, *format);
            for line in std::io::stdin().lock().lines() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                let bytes = b64
                    .decode(line.trim())
                    .context("a line that is not base64")?;
                println!("{}", decoder.read(&ctx, &bytes).await?);
            }
        }
        Command::Associate {
            topic,
            subject,
            namespace,
            resource_id,
        } => {
            let request = AssociationCreateOrUpdateRequest {
                resource_name: Some(topic.clone()),
                resource_namespace: Some(namespace.clone()),
                resource_id: Some(resource_id.clone()),
                resource_type: None,
                associations: Some(vec![AssociationCreateOrUpdateInfo {
                    subject: Some(subject.clone()),
                    association_type: Some("value".into()),
                    ..Default::default()
                }]),
            };
            let reply = writer.create_association(&request).await.map_err(se)?;
            println!("{}", serde_json::to_string(&reply)?);
        }
        Command::Dissociate { resource_id } => {
            writer
                .delete_associations(resource_id, None, None, false)
                .await
                .map_err(se)?;
        }
        Command::Bench { format, records } => bench(writer, reader, *format, *records).await?,
    }
    Ok(())
}

/// A writer and a reader with clients of their own, as a producer and a
/// consumer would have.
async fn bench<T: Client + Sync>(
    writer: &T,
    reader: &T,
    format: Format,
    records: u32,
) -> Result<()> {
    let topic = format!("bench-{}", format!("{format:?}").to_lowercase());
    let ctx = context(&topic, format);
    // Cold: the first record of a fresh client registers its schema, the
    // first read fetches it.
    let started = Instant::now();
    let first = write(writer, format, &topic, 0..1, false).await?;
    let cold_write = started.elapsed();
    let reader = Reader::new(reader, format)?;
    let started = Instant::now();
    let decoded = reader.read(&ctx, &first[0]).await?;
    let cold_read = started.elapsed();
    if decoded != order(0) {
        bail!("read back {decoded}, wrote {}", order(0));
    }
    // Warm: the same client (and its caches), many records; each pass's
    // serializer either registers (auto-register, the default) or uses the
    // latest version.
    let started = Instant::now();
    write(writer, format, &topic, 1..=i64::from(records), true).await?;
    let latest_time = started.elapsed();
    let started = Instant::now();
    let frames = write(writer, format, &topic, 1..=i64::from(records), false).await?;
    let write_time = started.elapsed();
    let started = Instant::now();
    for frame in &frames {
        reader.read(&ctx, frame).await?;
    }
    let read_time = started.elapsed();
    let rate = |d: Duration| f64::from(records) / d.as_secs_f64();
    println!(
        "{format:?}: serialize {:.0} records/s (auto-register) {:.0} records/s (use latest), deserialize {:.0} records/s; first record: serialize {:.2} ms, deserialize {:.2} ms",
        rate(write_time),
        rate(latest_time),
        rate(read_time),
        cold_write.as_secs_f64() * 1e3,
        cold_read.as_secs_f64() * 1e3,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let config = || {
        let mut config = ClientConfig::new(vec![args.registry.clone()]);
        config.basic_auth =
            args.basic_auth
                .as_ref()
                .map(|credentials| match credentials.split_once(':') {
                    Some((user, password)) => (user.to_owned(), Some(password.to_owned())),
                    None => (credentials.clone(), None),
                });
        config.bearer_access_token = args.bearer_token.clone();
        config
    };
    let grpc = args.registry.starts_with("grpc://") || args.registry.starts_with("grpcs://");
    let result = if grpc {
        let (writer, reader) = (GrpcClient::new(config()), GrpcClient::new(config()));
        run(&writer, &reader, &args.command).await
    } else {
        let (writer, reader) = (
            SchemaRegistryClient::new(config()),
            SchemaRegistryClient::new(config()),
        );
        run(&writer, &reader, &args.command).await
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scute-interop: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
