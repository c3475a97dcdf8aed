//! Produces Avro orders to Kafka, serialized by the `schema-registry-client`
//! crate's `AvroSerializer` through Scute's gRPC API.
//!
//! ```text
//! cargo run -p scute-client --features serdes --example producer -- \
//!     localhost:9092 grpc://localhost:50051 orders 10
//! ```
//!
//! The serializer registers the schema under `orders-value` on first use
//! (later records hit the client's cache) and prefixes each value with the
//! schema id, as every Confluent serializer does, so any Confluent
//! deserializer, REST or gRPC, can read them.

use std::time::Duration;

use rdkafka::ClientConfig as KafkaConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use schema_registry_client::rest::client_config::ClientConfig;
use schema_registry_client::rest::models::Schema;
use schema_registry_client::rest::schema_registry_client::Client as _;
use schema_registry_client::serdes::avro::AvroSerializer;
use schema_registry_client::serdes::config::SerializerConfig;
use schema_registry_client::serdes::serde::{SerdeFormat, SerdeType, SerializationContext};
use scute_client::serdes::GrpcClient;

const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"product","type":"string"},{"name":"quantity","type":"int"}]}"#;

#[derive(serde::Serialize)]
struct Order {
    id: i64,
    product: String,
    quantity: i32,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bootstrap, registry, topic, rest @ ..] = args.as_slice() else {
        return Err("usage: producer BOOTSTRAP REGISTRY TOPIC [COUNT]".into());
    };
    let count: i64 = rest.first().map(|c| c.parse()).transpose()?.unwrap_or(10);

    let client = GrpcClient::new(ClientConfig::new(vec![registry.clone()]));
    let schema = Schema {
        schema_type: Some("AVRO".into()),
        references: None,
        metadata: None,
        rule_set: None,
        schema: ORDER.into(),
    };
    let serializer = AvroSerializer::new(&client, Some(&schema), None, SerializerConfig::default())
        .map_err(|e| format!("{e:?}"))?;
    let producer: FutureProducer = KafkaConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("message.timeout.ms", "10000")
        .create()?;
    let ctx = SerializationContext {
        topic: topic.clone(),
        serde_type: SerdeType::Value,
        serde_format: SerdeFormat::Avro,
        headers: None,
    };
    for id in 1..=count {
        let order = Order {
            id,
            product: format!("product-{id}"),
            quantity: i32::try_from(id % 5 + 1)?,
        };
        let value = serializer
            .serialize_ser(&ctx, &order)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let key = id.to_string();
        producer
            .send(
                FutureRecord::to(topic).key(&key).payload(&value),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)?;
        println!(
            "produced order {id} ({} bytes, schema id {})",
            value.len(),
            schema_id(&value)
        );
    }
    Ok(())
}

/// The id Confluent's wire format puts after the magic byte.
fn schema_id(value: &[u8]) -> u32 {
    value
        .get(1..5)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .unwrap_or_default()
}
