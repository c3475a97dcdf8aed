"""Serializer settings of Confluent's Python serdes, for AVRO, PROTOBUF and JSON, against Scute.

What a producer configures beyond the defaults: a serializer that only looks
schemas up (`auto.register.schemas=False`), one that writes with the subject's
latest version (`use.latest.version=True`), `normalize.schemas=True`, and the
record-based subject name strategies; plus key serdes for the formats whose
files do not cover them (AVRO keys are in test_confluent_avro.py). Each test
runs once per format; a small adapter per format builds its serializer,
deserializer, schemas and records. No broker is needed.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest
from confluent_kafka.schema_registry import (
    record_subject_name_strategy,
    topic_record_subject_name_strategy,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

from conftest import frame_id, registry_client

# -- AVRO --------------------------------------------------------------------

AVRO_V1 = {
    "type": "record",
    "name": "Reading",
    "namespace": "com.example.beh",
    "fields": [
        {"name": "sensor", "type": "string"},
        {"name": "value", "type": "double"},
    ],
}
# BACKWARD compatible: a new field with a default.
AVRO_V2 = dict(AVRO_V1, fields=AVRO_V1["fields"] + [{"name": "unit", "type": "string", "default": "C"}])
# Two spellings of one schema that only normalization makes the same text:
# alias order and a double default written as an integer.
AVRO_SPELLING_A = {
    "type": "record",
    "name": "Reading",
    "namespace": "com.example.beh",
    "aliases": ["Z", "B"],
    "fields": [{"name": "sensor", "type": "string"}, {"name": "value", "type": "double", "default": 1}],
}
AVRO_SPELLING_B = dict(
    AVRO_SPELLING_A,
    aliases=["B", "Z"],
    fields=[{"name": "sensor", "type": "string"}, {"name": "value", "type": "double", "default": 1.0}],
)


class Avro:
    name = "AVRO"
    record_name = "com.example.beh.Reading"
    v1_record = {"sensor": "t-1", "value": 21.5}
    v2_record = {"sensor": "t-2", "value": -4.0, "unit": "K"}

    def ser(self, sr, version: Any, conf: dict) -> Callable:
        return AvroSerializer(sr, json.dumps(self.schema(version)), conf=conf)

    def de(self, sr, version: Any = 1) -> Callable:
        return AvroDeserializer(sr, json.dumps(self.schema(version)))

    def schema(self, version: Any) -> dict:
        return {1: AVRO_V1, 2: AVRO_V2, "a": AVRO_SPELLING_A, "b": AVRO_SPELLING_B}[version]

    def record(self, version: Any) -> Any:
        return {1: self.v1_record, 2: self.v2_record, "a": self.v1_record, "b": self.v1_record}[version]

    def as_v2(self, record: dict) -> dict:
        return {"unit": "C", **record}

    def plain(self, value: Any) -> Any:
        return value

    def normalized_checks(self, stored: str) -> None:
        # Aliases sorted, the default re-encoded from its typed value.
        s = json.loads(stored)
        assert s["aliases"] == ["B", "Z"], stored
        assert '"default":1.0' in stored, stored


# -- JSON Schema ---------------------------------------------------------------

JSON_V1 = {
    "title": "Reading",
    "type": "object",
    "properties": {"sensor": {"type": "string", "maxLength": 10}, "value": {"type": "number"}},
    "required": ["sensor", "value"],
}
# BACKWARD compatible: a wider maxLength.
JSON_V2 = json.loads(json.dumps(JSON_V1))
JSON_V2["properties"]["sensor"]["maxLength"] = 100
# One schema, keys in another order.
JSON_SPELLING_A = {
    "type": "object",
    "title": "Reading",
    "required": ["sensor", "value"],
    "properties": {"value": {"type": "number"}, "sensor": {"maxLength": 10, "type": "string"}},
}
JSON_SPELLING_B = {
    "properties": {"sensor": {"type": "string", "maxLength": 10}, "value": {"type": "number"}},
    "required": ["sensor", "value"],
    "title": "Reading",
    "type": "object",
}


class Json:
    name = "JSON"
    record_name = "Reading"
    v1_record = {"sensor": "t-1", "value": 21.5}
    # Valid only under v2: a sensor name longer than v1's maxLength.
    v2_record = {"sensor": "sensor-with-a-long-name", "value": -4.0}

    def ser(self, sr, version: Any, conf: dict) -> Callable:
        return JSONSerializer(json.dumps(self.schema(version)), sr, conf=conf)

    def de(self, sr, version: Any = 1) -> Callable:
        return JSONDeserializer(None, schema_registry_client=sr)

    def schema(self, version: Any) -> dict:
        return {1: JSON_V1, 2: JSON_V2, "a": JSON_SPELLING_A, "b": JSON_SPELLING_B}[version]

    def record(self, version: Any) -> Any:
        return {1: self.v1_record, 2: self.v2_record, "a": self.v1_record, "b": self.v1_record}[version]

    def as_v2(self, record: dict) -> dict:
        return record

    def plain(self, value: Any) -> Any:
        return value

    def normalized_checks(self, stored: str) -> None:
        # Object keys sorted, at every level.
        assert stored == json.dumps(JSON_SPELLING_A, sort_keys=True, separators=(",", ":")), stored


# -- Protobuf ------------------------------------------------------------------

F = descriptor_pb2.FieldDescriptorProto
PROTO_CONF = {"use.deprecated.format": False}


def proto_file(fields: list[tuple[str, int, int]]) -> descriptor_pb2.FileDescriptorProto:
    return descriptor_pb2.FileDescriptorProto(
        name="beh/reading.proto",
        package="beh",
        syntax="proto3",
        message_type=[
            descriptor_pb2.DescriptorProto(
                name="Reading",
                field=[F(name=n, number=num, type=t, label=F.LABEL_OPTIONAL, json_name=n) for n, num, t in fields],
            )
        ],
    )


PROTO_FILES = {
    1: proto_file([("sensor", 1, F.TYPE_STRING), ("value", 2, F.TYPE_DOUBLE)]),
    # BACKWARD compatible: a new field.
    2: proto_file([("sensor", 1, F.TYPE_STRING), ("value", 2, F.TYPE_DOUBLE), ("unit", 3, F.TYPE_STRING)]),
    # One schema, fields declared out of number order (normalization sorts them).
    "a": proto_file([("value", 2, F.TYPE_DOUBLE), ("sensor", 1, F.TYPE_STRING)]),
    "b": proto_file([("sensor", 1, F.TYPE_STRING), ("value", 2, F.TYPE_DOUBLE)]),
}


def proto_class(version: Any):
    pool = descriptor_pool.DescriptorPool()
    pool.Add(PROTO_FILES[version])
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("beh.Reading"))


class Protobuf:
    name = "PROTOBUF"
    record_name = "beh.Reading"
    v1_record = {"sensor": "t-1", "value": 21.5}
    v2_record = {"sensor": "t-2", "value": -4.0, "unit": "K"}

    def ser(self, sr, version: Any, conf: dict) -> Callable:
        cls = proto_class(version)
        inner = ProtobufSerializer(cls, sr, {**PROTO_CONF, **conf})
        return lambda record, ctx: inner(cls(**record), ctx)

    def de(self, sr, version: Any = 1) -> Callable:
        return ProtobufDeserializer(proto_class(version), PROTO_CONF, sr)

    def schema(self, version: Any):
        return PROTO_FILES[version]

    def record(self, version: Any) -> Any:
        return {1: self.v1_record, 2: self.v2_record, "a": self.v1_record, "b": self.v1_record}[version]

    def as_v2(self, record: dict) -> dict:
        return record

    def plain(self, value: Any) -> Any:
        return json_format.MessageToDict(value, preserving_proto_field_name=True)

    def normalized_checks(self, stored: str) -> None:
        # Fields in number order, whatever order the descriptor declared them in.
        assert stored.index("sensor = 1") < stored.index("value = 2"), stored


FORMATS = [Avro(), Json(), Protobuf()]


@pytest.fixture(params=FORMATS, ids=[f.name for f in FORMATS])
def fmt(request):
    return request.param




def value_ctx(topic: str) -> SerializationContext:
    return SerializationContext(topic, MessageField.VALUE)


def test_use_latest_version_writes_with_the_latest_registered_version(scute, fmt):
    ctx = value_ctx("readings")
    id1 = frame_id(fmt.ser(registry_client(scute), 1, {})(fmt.v1_record, ctx))
    id2 = frame_id(fmt.ser(registry_client(scute), 2, {})(fmt.v2_record, ctx))
    assert id1 != id2
    assert registry_client(scute).get_versions("readings-value") == [1, 2]

    # A producer that still has v1 in hand, told to use the latest version,
    # frames with v2's id and registers nothing.
    latest = fmt.ser(registry_client(scute), 1, {"auto.register.schemas": False, "use.latest.version": True})
    data = latest(fmt.v1_record, ctx)
    assert frame_id(data) == id2
    assert registry_client(scute).get_versions("readings-value") == [1, 2]
    # A consumer on v2 reads it.
    assert fmt.plain(fmt.de(registry_client(scute), 2)(data, ctx)) == fmt.as_v2(fmt.v1_record)

    # The JSON serializer validates against the latest version: a record only
    # v2 accepts goes through, where the v1 serializer refuses it.
    if fmt.name == "JSON":
        assert frame_id(latest(fmt.v2_record, ctx)) == id2
        with pytest.raises(SerializationError, match="is too long"):
            fmt.ser(registry_client(scute), 1, {"auto.register.schemas": False})(fmt.v2_record, ctx)

    # Without use.latest.version, a lookup-only v1 producer frames with v1's id.
    lookup = fmt.ser(registry_client(scute), 1, {"auto.register.schemas": False})
    assert frame_id(lookup(fmt.v1_record, ctx)) == id1


def test_use_latest_version_on_an_unknown_subject_is_subject_not_found(scute, fmt):
    ser = fmt.ser(registry_client(scute), 1, {"auto.register.schemas": False, "use.latest.version": True})
    with pytest.raises(SchemaRegistryError) as e:
        ser(fmt.v1_record, value_ctx("nothing-here"))
    assert (e.value.http_status_code, e.value.error_code) == (404, 40401)
    assert registry_client(scute).get_subjects() == []


def test_lookup_only_serializer_with_the_schema_not_registered(scute, fmt):
    ctx = value_ctx("readings")
    ser = fmt.ser(registry_client(scute), 1, {"auto.register.schemas": False})

    # No such subject: 404 / 40401, and nothing is registered.
    with pytest.raises(SchemaRegistryError) as e:
        ser(fmt.v1_record, ctx)
    assert (e.value.http_status_code, e.value.error_code) == (404, 40401)
    assert "Subject" in e.value.error_message and "not found" in e.value.error_message
    assert registry_client(scute).get_subjects() == []

    # The subject exists, without this schema: 404 / 40403.
    fmt.ser(registry_client(scute), 1, {})(fmt.v1_record, ctx)
    with pytest.raises(SchemaRegistryError) as e:
        fmt.ser(registry_client(scute), 2, {"auto.register.schemas": False})(fmt.v2_record, ctx)
    assert (e.value.http_status_code, e.value.error_code) == (404, 40403)
    assert "Schema not found" in e.value.error_message
    assert registry_client(scute).get_versions("readings-value") == [1]

    # Once registered (by another producer), the lookup-only serializer finds it.
    registered = fmt.ser(registry_client(scute), 2, {})(fmt.v2_record, ctx)
    data = fmt.ser(registry_client(scute), 2, {"auto.register.schemas": False})(fmt.v2_record, ctx)
    assert frame_id(data) == frame_id(registered)
    assert registry_client(scute).get_versions("readings-value") == [1, 2]
    assert fmt.plain(fmt.de(registry_client(scute), 2)(data, ctx)) == fmt.v2_record


def test_normalize_schemas(scute, fmt):
    ctx = value_ctx("normalized")
    conf = {"normalize.schemas": True}
    first = fmt.ser(registry_client(scute), "a", conf)(fmt.record("a"), ctx)
    schema_id = frame_id(first)
    stored = registry_client(scute).get_latest_version("normalized-value").schema.schema_str
    fmt.normalized_checks(stored)

    # The other spelling, normalized, is the same schema: same id, no new version.
    second = fmt.ser(registry_client(scute), "b", conf)(fmt.record("b"), ctx)
    assert frame_id(second) == schema_id
    # So is a lookup-only serializer that normalizes.
    third = fmt.ser(registry_client(scute), "a", {**conf, "auto.register.schemas": False})(fmt.record("a"), ctx)
    assert frame_id(third) == schema_id
    assert registry_client(scute).get_versions("normalized-value") == [1]
    assert fmt.plain(fmt.de(registry_client(scute), "b")(second, ctx)) == fmt.record("b")

    # Without normalization the declared spelling is what is stored.
    plain = fmt.ser(registry_client(scute), "a", {})(fmt.record("a"), value_ctx("as-written"))
    stored_plain = registry_client(scute).get_latest_version("as-written-value").schema.schema_str
    assert stored_plain != stored
    with pytest.raises(AssertionError):
        fmt.normalized_checks(stored_plain)
    assert frame_id(plain) != schema_id


@pytest.mark.parametrize(
    "strategy, expected",
    [
        (topic_record_subject_name_strategy, "{topic}-{record}"),
        (record_subject_name_strategy, "{record}"),
    ],
    ids=["topic_record", "record"],
)
def test_record_subject_name_strategies(scute, fmt, strategy, expected):
    subject = expected.format(topic="metrics", record=fmt.record_name)
    conf = {"subject.name.strategy": strategy}
    val_ctx = value_ctx("metrics")
    key_ctx = SerializationContext("metrics", MessageField.KEY)

    data = fmt.ser(registry_client(scute), 1, conf)(fmt.v1_record, val_ctx)
    assert registry_client(scute).get_subjects() == [subject]
    latest = registry_client(scute).get_latest_version(subject)
    assert (latest.schema_id, latest.version) == (frame_id(data), 1)
    assert latest.schema.schema_type == fmt.name

    # Neither strategy looks at the field: a key of the same record type lands
    # in the same subject, with the same id.
    key = fmt.ser(registry_client(scute), 1, conf)(fmt.v1_record, key_ctx)
    assert frame_id(key) == frame_id(data)
    assert registry_client(scute).get_subjects() == [subject]

    # The subject evolves like any other, and a lookup-only serializer with
    # the same strategy finds its schema there.
    v2 = fmt.ser(registry_client(scute), 2, conf)(fmt.v2_record, val_ctx)
    assert registry_client(scute).get_versions(subject) == [1, 2]
    lookup = fmt.ser(registry_client(scute), 2, {**conf, "auto.register.schemas": False})
    assert frame_id(lookup(fmt.v2_record, val_ctx)) == frame_id(v2)
    assert fmt.plain(fmt.de(registry_client(scute), 2)(v2, val_ctx)) == fmt.v2_record
    assert fmt.plain(fmt.de(registry_client(scute))(key, key_ctx)) == fmt.v1_record


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.name != "AVRO"], ids=lambda f: f.name)
def test_key_and_value_serdes(scute, fmt):
    key_ctx = SerializationContext("events", MessageField.KEY)
    val_ctx = value_ctx("events")
    key = fmt.ser(registry_client(scute), 1, {})(fmt.v1_record, key_ctx)
    value = fmt.ser(registry_client(scute), 2, {})(fmt.v2_record, val_ctx)

    sr = registry_client(scute)
    assert sorted(sr.get_subjects()) == ["events-key", "events-value"]
    assert sr.get_latest_version("events-key").schema_id == frame_id(key)
    assert sr.get_latest_version("events-value").schema_id == frame_id(value)
    assert frame_id(key) != frame_id(value)

    assert fmt.plain(fmt.de(registry_client(scute), 1)(key, key_ctx)) == fmt.v1_record
    assert fmt.plain(fmt.de(registry_client(scute), 2)(value, val_ctx)) == fmt.v2_record

    # The key subject has its own history: v2 there is a new version of the key only.
    fmt.ser(registry_client(scute), 2, {})(fmt.v2_record, key_ctx)
    assert registry_client(scute).get_versions("events-key") == [1, 2]
    assert registry_client(scute).get_versions("events-value") == [1]
    # The same schema under both subjects is one id.
    assert registry_client(scute).get_latest_version("events-key").schema_id == frame_id(value)
