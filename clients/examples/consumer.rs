//! Consumes Avro values from Kafka and decodes them with the
//! `schema-registry-client` crate's `AvroDeserializer`, fetching schemas
//! through Scute's gRPC API.
//!
//! ```text
//! cargo run -p scute-client --features serdes --example consumer -- \
//!     localhost:9092 grpc://localhost:50051 orders 10
//! ```
//!
//! Prints each record as JSON and stops after COUNT records, or after ten
//! seconds with nothing new.

use std::time::Duration;

use rdkafka::ClientConfig as KafkaConfig;
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use schema_registry_client::rest::client_config::ClientConfig;
use schema_registry_client::rest::schema_registry_client::Client as _;
use schema_registry_client::serdes::avro::AvroDeserializer;
use schema_registry_client::serdes::config::DeserializerConfig;
use schema_registry_client::serdes::serde::{SerdeFormat, SerdeType, SerializationContext};
use scute_client::serdes::GrpcClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bootstrap, registry, topic, rest @ ..] = args.as_slice() else {
        return Err("usage: consumer BOOTSTRAP REGISTRY TOPIC [COUNT]".into());
    };
    let count: usize = rest.first().map(|c| c.parse()).transpose()?.unwrap_or(10);

    let client = GrpcClient::new(ClientConfig::new(vec![registry.clone()]));
    let deserializer = AvroDeserializer::new(&client, None, DeserializerConfig::default())
        .map_err(|e| format!("{e:?}"))?;
    let consumer: StreamConsumer = KafkaConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "scute-example-consumer")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&[topic])?;
    let ctx = SerializationContext {
        topic: topic.clone(),
        serde_type: SerdeType::Value,
        serde_format: SerdeFormat::Avro,
        headers: None,
    };
    for _ in 0..count {
        let message = tokio::time::timeout(Duration::from_secs(10), consumer.recv())
            .await
            .map_err(|_| "no record within 10 s")??;
        let Some(payload) = message.payload() else {
            continue;
        };
        let record = deserializer
            .deserialize(&ctx, payload)
            .await
            .map_err(|e| format!("{e:?}"))?;
        println!("{}", serde_json::Value::try_from(record.value)?);
    }
    Ok(())
}
