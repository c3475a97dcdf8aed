"""Metrics and health of the real binary, as Prometheus, a probe and an
operator see them: the page is read by prometheus_client's own parser (the
Python client library of the Prometheus project), gRPC calls are made with
grpcurl, and readiness on Kafka follows the replay and the broker.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import requests
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from prometheus_client.parser import text_string_to_metric_families

from conftest import free_port, kafka_args
from test_grpcurl import SERVICE, grpcurl
from test_kafka import create_topic, record_schema

README = Path(__file__).resolve().parents[2] / "README.md"


def scrape(url: str) -> dict:
    """Every sample of the page, by name: a list of (labels, value)."""
    r = requests.get(f"{url}/metrics", timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4"), r.headers
    samples: dict = {}
    types = {}
    for family in text_string_to_metric_families(r.text):
        types[family.name] = family.type
        for s in family.samples:
            samples.setdefault(s.name, []).append((s.labels, s.value))
    samples["__types__"] = types
    return samples


def value(samples: dict, name: str, **labels) -> float | None:
    for have, v in samples.get(name, []):
        if all(have.get(k) == want for k, want in labels.items()):
            return v
    return None


def test_metrics_count_rest_and_grpc_calls_and_what_the_registry_holds(scute_factory):
    metrics_port = free_port()
    server = scute_factory(name="metrics").start(["--metrics-listen", f"127.0.0.1:{metrics_port}"])
    client = SchemaRegistryClient({"url": server.url})
    ids = [
        client.register_schema(f"orders-{i}", Schema(record_schema(f"Order{i}"), "AVRO"))
        for i in range(3)
    ]
    client.register_schema("events", Schema('{"type":"object"}', "JSON"))
    client.register_schema(
        "people", Schema('syntax = "proto3";\nmessage Person { string name = 1; }\n', "PROTOBUF")
    )
    client.delete_version("orders-2", 1)
    grpcurl(server, f"{SERVICE}/GetSchemaById", data=json.dumps({"id": ids[0]}))
    missing = grpcurl(server, f"{SERVICE}/GetSchemaById", data=json.dumps({"id": 4242}), check=False)
    assert missing.returncode != 0

    page = scrape(server.url)
    types = page["__types__"]
    # prometheus_client names a counter's family without `_total`.
    assert types["scute_requests"] == "counter"
    assert types["scute_request_duration_seconds"] == "histogram"
    grpc_route = f"/{SERVICE}/GetSchemaById"
    assert value(page, "scute_requests_total", api="grpc", route=grpc_route, status="OK") == 1
    assert value(page, "scute_requests_total", api="grpc", route=grpc_route, status="NOT_FOUND") == 1
    registered = value(
        page, "scute_requests_total", api="rest", route="/subjects/:subject/versions", method="POST", status="200"
    )
    assert registered == 5
    assert value(
        page, "scute_request_duration_seconds_count", api="rest", route="/subjects/:subject/versions", method="POST"
    ) == 5
    assert value(
        page, "scute_request_duration_seconds_bucket", api="grpc", route=grpc_route, status="OK", le="+Inf"
    ) == 1

    # What the registry holds, by Scute's names and Confluent's dashboard names.
    assert value(page, "scute_schemas", schema_type="AVRO") == 3
    assert value(page, "scute_schemas", schema_type="JSON") == 1
    assert value(page, "scute_schemas", schema_type="PROTOBUF") == 1
    assert value(page, "scute_subjects", deleted="false") == 4
    assert value(page, "scute_versions", schema_type="AVRO", deleted="true") == 1
    assert value(page, "kafka_schema_registry_registered_count") == 4
    assert value(page, "kafka_schema_registry_schemas_created", schema_type="avro") == 3
    assert value(page, "kafka_schema_registry_schemas_created", schema_type="protobuf") == 1
    assert value(page, "kafka_schema_registry_schemas_deleted", schema_type="avro") == 1
    assert value(page, "kafka_schema_registry_api_failure_count") >= 1
    assert value(page, "kafka_schema_registry_master_slave_role") == 1
    assert value(page, "kafka_schema_registry_jersey_metrics_request_rate") > 0
    # The log: six records (five schemas and a delete), fsync'd.
    assert value(page, "scute_log_records_total", storage="file") == 6
    assert value(page, "scute_log_sync_duration_seconds_count", storage="file") >= 1
    assert value(page, "process_resident_memory_bytes") > 1_000_000
    assert value(page, "process_open_fds") > 0
    assert value(page, "scute_ready") == 1

    # The metrics listener serves the same, and the probes.
    other = scrape(f"http://127.0.0.1:{metrics_port}")
    assert value(other, "kafka_schema_registry_registered_count") == 4
    for path in ("/health/live", "/health/ready"):
        r = requests.get(f"http://127.0.0.1:{metrics_port}{path}", timeout=30)
        assert r.status_code == 200 and r.json() == {"status": "UP"}, r.text
    # GET / is still Confluent's.
    r = requests.get(f"{server.url}/", timeout=30)
    assert r.status_code == 200 and r.json() == {}


def test_the_readme_probes_answer(scute):
    """The Kubernetes probe configuration the README shows points at paths that answer."""
    text = README.read_text()
    paths = set(re.findall(r"path: (/health/\w+)", text))
    assert paths == {"/health/live", "/health/ready"}, paths
    for path in paths:
        r = requests.get(f"{scute.url}{path}", timeout=30)
        assert r.status_code == 200, (path, r.text)


def test_readiness_on_kafka_follows_the_replay_and_the_broker(scute_factory, broker):
    n = 5_000
    create_topic(broker, "_schemas")
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    for i in range(n):
        key = json.dumps({"keytype": "SCHEMA", "subject": f"s{i}", "version": 1, "magic": 1})
        value_ = json.dumps({"subject": f"s{i}", "version": 1, "id": i + 1, "schema": record_schema(f"R{i}"),
                             "deleted": False})
        p.produce("_schemas", key=key.encode(), value=value_.encode(), partition=0)
    assert p.flush(60) == 0

    server = scute_factory(name="ready")
    server.spawn(kafka_args(broker))
    s = requests.Session()
    while True:
        assert server.running(), server.log()
        try:
            live = s.get(f"{server.url}/health/live", timeout=30)
            break
        except requests.ConnectionError:
            time.sleep(0.01)
    assert live.status_code == 200
    not_ready = 0
    while True:
        ready = s.get(f"{server.url}/health/ready", timeout=30)
        subjects = s.get(f"{server.url}/subjects", timeout=30)
        if ready.status_code == 200:
            # Never ready before the node answers in full.
            assert subjects.status_code == 200 and len(subjects.json()) == n, subjects.text[:200]
            break
        assert ready.status_code == 503, ready.text
        body = ready.json()
        assert body["status"] == "DOWN" and "schemas topic" in body["reason"], body
        not_ready += 1
    print(f"readiness said DOWN {not_ready} times during the replay")
    r = s.post(f"{server.url}/subjects/after-replay/versions", json={"schema": record_schema("After")}, timeout=30)
    assert r.status_code == 200, r.text
    page = scrape(server.url)
    assert value(page, "scute_kafka_replay_lag_records") == 0
    # The start-up marker, a catch-up marker and the schema, produced by this node.
    assert value(page, "scute_log_records_total", storage="kafka") >= 2
    assert value(page, "scute_log_sync_duration_seconds_count", storage="kafka") >= 2
    assert value(page, "scute_kafka_write_batches_total") >= 1
    assert value(page, "scute_kafka_batched_writes_total") >= 1
    assert value(page, "scute_kafka_write_races_lost_total") == 0
    assert value(page, "scute_schemas", schema_type="AVRO") == n + 1

    # A broker that stops answering makes the node unready, and alive.
    broker.pause()
    try:
        deadline = time.monotonic() + 30
        while True:
            r = s.get(f"{server.url}/health/ready", timeout=30)
            if r.status_code == 503:
                assert "Kafka broker does not answer" in r.json()["reason"], r.text
                break
            assert time.monotonic() < deadline, "still ready 30 s after the broker stopped"
            time.sleep(0.5)
        assert s.get(f"{server.url}/health/live", timeout=30).status_code == 200
        assert value(scrape(server.url), "scute_ready") == 0
    finally:
        broker.resume()
    deadline = time.monotonic() + 60
    while s.get(f"{server.url}/health/ready", timeout=30).status_code != 200:
        assert time.monotonic() < deadline, "not ready again within 60 s of the broker's return"
        time.sleep(0.5)
