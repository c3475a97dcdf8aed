"""The Rust examples in clients/examples, run as a new user would run them.

`producer` serializes Avro orders with the schema-registry-client crate's
AvroSerializer over Scute's gRPC API and produces them to a real broker
(tansu); `consumer` reads them back through the same API. Confluent's Python
AvroDeserializer, talking REST, must read the same bytes.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from conftest import scute_binary


def example(name: str) -> Path:
    path = scute_binary().parent / "examples" / name
    assert path.exists(), f"{path} is missing: cargo build -p scute-client --features serdes --examples builds it"
    return path


def run(*args: str) -> str:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{args[0]} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_producer_and_consumer_examples(scute, broker):
    registry = f"grpc://{scute.grpc_addr}"
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("orders", 1, 1)])["orders"].result(30)
    produced = run(example("producer"), broker.bootstrap, registry, "orders", "5").splitlines()
    assert len(produced) == 5
    assert all(line.endswith("schema id 1)") for line in produced), produced

    consumed = [json.loads(line) for line in run(example("consumer"), broker.bootstrap, registry, "orders", "5").splitlines()]
    assert consumed == [
        {"id": i, "product": f"product-{i}", "quantity": i % 5 + 1} for i in range(1, 6)
    ]

    # The schema was registered under the topic's value subject, and
    # Confluent's own Python deserializer, over REST, reads the same bytes.
    sr = SchemaRegistryClient({"url": scute.url})
    assert sr.get_latest_version("orders-value").schema_id == 1
    deserializer = AvroDeserializer(sr)
    # Assigned, not subscribed: the Rust consumer covered the group path.
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "python-reader"})
    consumer.assign([TopicPartition("orders", 0, 0)])
    seen = []
    deadline = time.monotonic() + 60
    try:
        while len(seen) < 5 and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            assert not msg.error(), msg.error()
            seen.append(deserializer(msg.value(), SerializationContext("orders", MessageField.VALUE)))
    finally:
        consumer.close()
    assert sorted(seen, key=lambda o: o["id"]) == consumed
