"""Confluent's own Python Schema Registry client and Avro serdes against Scute.

Nothing here is Scute code: `confluent_kafka.schema_registry` is what Kafka
users run, and it must work against Scute exactly as against Confluent's
registry. No broker is needed: the serializers only talk to the registry.
"""

from __future__ import annotations

import json

import pytest
from confluent_kafka.schema_registry import Schema
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from conftest import frame_id, registry_client

USER_V1 = json.dumps(
    {
        "type": "record",
        "name": "User",
        "namespace": "com.example.scute",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "name", "type": "string"},
            {"name": "email", "type": ["null", "string"], "default": None},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
        ],
    }
)

# BACKWARD compatible with v1: only adds a field that has a default.
USER_V2 = json.dumps(
    {
        "type": "record",
        "name": "User",
        "namespace": "com.example.scute",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "name", "type": "string"},
            {"name": "email", "type": ["null", "string"], "default": None},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {"name": "score", "type": "double", "default": 0.5},
        ],
    }
)

# Not BACKWARD compatible with v1 or v2: a new field without a default, so a
# reader with this schema cannot read data written with the earlier ones.
USER_BAD = json.dumps(
    {
        "type": "record",
        "name": "User",
        "namespace": "com.example.scute",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "name", "type": "string"},
            {"name": "email", "type": ["null", "string"], "default": None},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {"name": "country", "type": "string"},
        ],
    }
)

RECORDS_V1 = [
    {"id": 1, "name": "Ada", "email": "ada@example.com", "tags": ["math", "engines"]},
    {"id": 2, "name": "Grace", "email": None, "tags": []},
    {"id": -9007199254740993, "name": "Ünïcødé ✓", "email": "x@y", "tags": ["a" * 1000]},
    {"id": 2**62, "name": "", "email": None, "tags": ["", "b"]},
]
RECORDS_V2 = [
    {"id": 10, "name": "Linus", "email": None, "tags": ["kernel"], "score": 0.25},
    {"id": 11, "name": "Barbara", "email": "b@l", "tags": [], "score": -3.5},
]




def test_serializer_round_trip_with_backward_compatible_evolution(scute):
    topic = "users"
    ctx = SerializationContext(topic, MessageField.VALUE)
    subject = "users-value"

    ser_v1 = AvroSerializer(registry_client(scute), USER_V1)  # auto.register.schemas is the default
    frames_v1 = [ser_v1(r, ctx) for r in RECORDS_V1]
    ids_v1 = {frame_id(f) for f in frames_v1}
    assert len(ids_v1) == 1
    id_v1 = ids_v1.pop()
    assert id_v1 > 0

    # A fresh client sees what the serializer registered.
    sr = registry_client(scute)
    assert subject in sr.get_subjects()
    assert sr.get_versions(subject) == [1]
    latest = sr.get_latest_version(subject)
    assert (latest.schema_id, latest.subject, latest.version) == (id_v1, subject, 1)
    assert json.loads(latest.schema.schema_str) == json.loads(USER_V1)

    ser_v2 = AvroSerializer(registry_client(scute), USER_V2)
    frames_v2 = [ser_v2(r, ctx) for r in RECORDS_V2]
    ids_v2 = {frame_id(f) for f in frames_v2}
    assert len(ids_v2) == 1
    id_v2 = ids_v2.pop()
    assert id_v2 != id_v1

    sr = registry_client(scute)
    assert sr.get_versions(subject) == [1, 2]
    v2 = sr.get_latest_version(subject)
    assert (v2.schema_id, v2.version) == (id_v2, 2)

    # Writer schemas are fetched by id from Scute (fresh client, empty cache).
    de = AvroDeserializer(registry_client(scute))
    assert [de(f, ctx) for f in frames_v1] == RECORDS_V1
    assert [de(f, ctx) for f in frames_v2] == RECORDS_V2

    # A consumer on v2 reads v1 data: the new field takes its default.
    de_v2 = AvroDeserializer(registry_client(scute), USER_V2)
    assert [de_v2(f, ctx) for f in frames_v1] == [dict(r, score=0.5) for r in RECORDS_V1]
    assert [de_v2(f, ctx) for f in frames_v2] == RECORDS_V2

    # Serializing again does not create a new version.
    ser_again = AvroSerializer(registry_client(scute), USER_V1)
    assert frame_id(ser_again(RECORDS_V1[0], ctx)) == id_v1
    assert registry_client(scute).get_versions(subject) == [1, 2]


def test_key_and_value_subjects_and_same_schema_same_id(scute):
    key_schema = json.dumps({"type": "record", "name": "Key", "fields": [{"name": "k", "type": "string"}]})
    key_ctx = SerializationContext("orders", MessageField.KEY)
    val_ctx = SerializationContext("orders", MessageField.VALUE)
    other_ctx = SerializationContext("orders-archive", MessageField.VALUE)

    key_frame = AvroSerializer(registry_client(scute), key_schema)({"k": "o-1"}, key_ctx)
    val_frame = AvroSerializer(registry_client(scute), USER_V1)(RECORDS_V1[0], val_ctx)
    other_frame = AvroSerializer(registry_client(scute), USER_V1)(RECORDS_V1[1], other_ctx)

    sr = registry_client(scute)
    assert sorted(sr.get_subjects()) == ["orders-archive-value", "orders-key", "orders-value"]
    # The same schema under two subjects has one id; a different schema another.
    assert frame_id(val_frame) == frame_id(other_frame)
    assert frame_id(key_frame) != frame_id(val_frame)
    assert sr.get_latest_version("orders-archive-value").version == 1

    de = AvroDeserializer(registry_client(scute))
    assert de(key_frame, key_ctx) == {"k": "o-1"}
    assert de(other_frame, other_ctx) == RECORDS_V1[1]

    fetched = registry_client(scute).get_schema(frame_id(val_frame))
    assert fetched.schema_type == "AVRO"
    assert json.loads(fetched.schema_str) == json.loads(USER_V1)


def test_client_calls(scute):
    sr = registry_client(scute)
    subject = "payments-value"
    assert sr.get_subjects() == []

    id1 = sr.register_schema(subject, Schema(USER_V1, "AVRO"))
    assert id1 > 0
    # Registering the same schema again returns the same id (new client: no cache).
    assert registry_client(scute).register_schema(subject, Schema(USER_V1, "AVRO")) == id1
    assert sr.get_subjects() == [subject]

    v1 = sr.get_version(subject, 1)
    assert (v1.schema_id, v1.subject, v1.version) == (id1, subject, 1)
    assert json.loads(v1.schema.schema_str) == json.loads(USER_V1)

    found = registry_client(scute).lookup_schema(subject, Schema(USER_V1, "AVRO"))
    assert (found.schema_id, found.subject, found.version) == (id1, subject, 1)

    with pytest.raises(SchemaRegistryError) as e:
        registry_client(scute).lookup_schema(subject, Schema(USER_V2, "AVRO"))
    assert (e.value.http_status_code, e.value.error_code) == (404, 40403)

    with pytest.raises(SchemaRegistryError) as e:
        registry_client(scute).get_version("no-such-subject", 1)
    assert (e.value.http_status_code, e.value.error_code) == (404, 40401)

    with pytest.raises(SchemaRegistryError) as e:
        registry_client(scute).get_version(subject, 7)
    assert (e.value.http_status_code, e.value.error_code) == (404, 40402)

    # Compatibility checks against the latest version under the default BACKWARD.
    assert sr.get_compatibility() == "BACKWARD"
    assert sr.test_compatibility(subject, Schema(USER_V2, "AVRO")) is True
    assert sr.test_compatibility(subject, Schema(USER_BAD, "AVRO")) is False

    # An incompatible registration is refused with 409 / 40901 and changes nothing.
    with pytest.raises(SchemaRegistryError) as e:
        registry_client(scute).register_schema(subject, Schema(USER_BAD, "AVRO"))
    assert e.value.http_status_code == 409
    assert e.value.error_code == 40901
    assert "incompatible" in e.value.error_message.lower()
    assert registry_client(scute).get_versions(subject) == [1]

    # Subject-level compatibility: NONE lets the same change through.
    # The client returns the PUT body: {"compatibility": ...}.
    assert sr.set_compatibility(subject, "NONE")["compatibility"] == "NONE"
    assert registry_client(scute).get_compatibility(subject) == "NONE"
    assert registry_client(scute).get_compatibility() == "BACKWARD"  # global unchanged
    assert sr.test_compatibility(subject, Schema(USER_BAD, "AVRO")) is True
    id_bad = registry_client(scute).register_schema(subject, Schema(USER_BAD, "AVRO"))
    assert id_bad not in (id1,)
    assert registry_client(scute).get_versions(subject) == [1, 2]

    # Global level.
    assert sr.set_compatibility(level="FULL")["compatibility"] == "FULL"
    assert registry_client(scute).get_compatibility() == "FULL"
    assert registry_client(scute).get_compatibility(subject) == "NONE"

    # Soft delete, then permanent delete.
    assert sorted(registry_client(scute).delete_subject(subject)) == [1, 2]
    assert registry_client(scute).get_subjects() == []
    assert registry_client(scute).get_subjects(deleted=True) == [subject]
    with pytest.raises(SchemaRegistryError) as e:
        registry_client(scute).get_latest_version(subject)
    assert (e.value.http_status_code, e.value.error_code) == (404, 40401)
    # Ids survive a soft delete.
    assert json.loads(registry_client(scute).get_schema(id1).schema_str) == json.loads(USER_V1)

    assert sorted(registry_client(scute).delete_subject(subject, permanent=True)) == [1, 2]
    assert registry_client(scute).get_subjects(deleted=True) == []
    with pytest.raises(SchemaRegistryError) as e:
        registry_client(scute).get_schema(id1)
    assert (e.value.http_status_code, e.value.error_code) == (404, 40403)


def test_invalid_schema_is_rejected_with_42201(scute):
    with pytest.raises(SchemaRegistryError) as e:
        registry_client(scute).register_schema("broken-value", Schema('{"type":"record","name":"X","fields":[{"name":"a","type":"NoSuchType"}]}', "AVRO"))
    assert (e.value.http_status_code, e.value.error_code) == (422, 42201)
    assert registry_client(scute).get_subjects() == []
