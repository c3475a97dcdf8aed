"""Contexts, schema tags and server metadata with clients nobody here wrote:
Confluent's Python client and serdes pointed at a context's base URL (as
Confluent documents for contexts), requests for the routes that client has
no call for, and grpcurl for the gRPC side.
"""

from __future__ import annotations

import json

import requests
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from conftest import frame_id, registry_client
from test_grpcurl import SERVICE, grpcurl

VND = "application/vnd.schemaregistry.v1+json"


def order(name: str) -> str:
    return json.dumps(
        {"type": "record", "name": name, "fields": [{"name": "id", "type": "long"}]}
    )


def in_context(scute, context: str) -> SchemaRegistryClient:
    return SchemaRegistryClient(
        {"url": f"{scute.url}/contexts/{context}", "timeout": 10, "max.retries": 0}
    )


def test_serdes_on_a_context_url_keep_to_their_context(scute):
    ctx = SerializationContext("orders", MessageField.VALUE)
    plain = AvroSerializer(registry_client(scute), order("Plain"))(
        {"id": 1}, ctx
    )
    staged = AvroSerializer(in_context(scute, ".staging"), order("Staged"))(
        {"id": 2}, ctx
    )
    # Each context numbers its own ids: both frames carry id 1.
    assert frame_id(plain) == frame_id(staged) == 1
    # Each deserializer reads its own context's schema for that id.
    assert AvroDeserializer(registry_client(scute))(plain, ctx) == {"id": 1}
    assert AvroDeserializer(in_context(scute, ".staging"))(staged, ctx) == {"id": 2}
    sr = registry_client(scute)
    assert sr.get_subjects() == [":.staging:orders-value", "orders-value"]
    assert "Staged" in sr.get_latest_version(":.staging:orders-value").schema.schema_str
    assert in_context(scute, ".staging").get_subjects() == [":.staging:orders-value"]
    r = requests.get(f"{scute.url}/contexts", timeout=10)
    assert r.json() == [".", ".staging"]
    # The same over gRPC, through reflection alone.
    out = json.loads(grpcurl(scute, f"{SERVICE}/ListContexts", data="{}").stdout)
    assert out == {"contexts": [".", ".staging"]}


def test_tags_and_server_metadata(scute):
    sr = registry_client(scute)
    schema = json.dumps(
        {"type": "record", "name": "rec", "fields": [{"name": "ssn", "type": "string"}]}
    )
    from confluent_kafka.schema_registry import Schema

    sr.register_schema("people-value", Schema(schema, "AVRO"))
    entity = {"schemaEntity": {"entityPath": "rec.ssn", "entityType": "sr_field"}, "tags": ["PII"]}
    r = requests.post(
        f"{scute.url}/subjects/people-value/versions/latest/tags",
        json={"tagsToAdd": [entity]},
        headers={"Content-Type": VND},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    # Confluent's client reads the tagged version like any other.
    latest = registry_client(scute).get_latest_version("people-value")
    assert json.loads(latest.schema.schema_str)["fields"][0]["confluent:tags"] == ["PII"]
    found = requests.get(
        f"{scute.url}/subjects/people-value/versions/2", params={"findTags": "PII"}, timeout=10
    ).json()
    assert found["schemaTags"] == [entity]

    ident = requests.get(f"{scute.url}/v1/metadata/id", timeout=10).json()
    assert ident == {"scope": {"path": [], "clusters": {"schema-registry-cluster": "schema-registry"}}}
    version = requests.get(f"{scute.url}/v1/metadata/version", timeout=10).json()
    assert version["version"] and len(version.get("commitId", "")) in (0, 40)
    out = json.loads(grpcurl(scute, f"{SERVICE}/GetDeployment", data="{}").stdout)
    assert out == {"attributes": ["opensource"]}
