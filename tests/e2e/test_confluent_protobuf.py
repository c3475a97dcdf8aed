"""Confluent's Python Protobuf serdes against Scute.

The message classes are built at run time from FileDescriptorProtos (what
protoc would have generated code from), in a pool of their own. The
serializer registers each file as Confluent's clients do: a base64
FileDescriptorProto, with the files it imports registered first under their
import paths and named as references; the deserializer reads the writer's
schema back with `format=serialized`. No broker is needed.
"""

from __future__ import annotations

import json
import struct
import urllib.request

import pytest
from confluent_kafka.schema_registry import Schema
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2

from conftest import registry_client

F = descriptor_pb2.FieldDescriptorProto
CONF = {"use.deprecated.format": False}


def field(name: str, number: int, ftype: int, type_name: str = "", label: int = F.LABEL_OPTIONAL) -> F:
    # protoc's JSON name: lowerCamelCase.
    head, *rest = name.split("_")
    f = F(name=name, number=number, type=ftype, label=label, json_name=head + "".join(p.title() for p in rest))
    if type_name:
        f.type_name = type_name
    return f


def amount_file() -> descriptor_pb2.FileDescriptorProto:
    return descriptor_pb2.FileDescriptorProto(
        name="common/amount.proto",
        package="common",
        syntax="proto3",
        message_type=[
            descriptor_pb2.DescriptorProto(
                name="Amount",
                field=[field("cents", 1, F.TYPE_INT64), field("currency", 2, F.TYPE_STRING)],
            )
        ],
    )


def order_file(extra_field: bool = False) -> descriptor_pb2.FileDescriptorProto:
    counts_entry = descriptor_pb2.DescriptorProto(
        name="CountsEntry",
        field=[field("key", 1, F.TYPE_STRING), field("value", 2, F.TYPE_INT32)],
        options=descriptor_pb2.MessageOptions(map_entry=True),
    )
    fields = [
        field("id", 1, F.TYPE_STRING),
        field("total", 2, F.TYPE_MESSAGE, ".common.Amount"),
        field("placed_at", 3, F.TYPE_MESSAGE, ".google.protobuf.Timestamp"),
        field("tags", 4, F.TYPE_STRING, label=F.LABEL_REPEATED),
        field("counts", 5, F.TYPE_MESSAGE, ".shop.Order.CountsEntry", label=F.LABEL_REPEATED),
    ]
    if extra_field:
        fields.append(field("note", 6, F.TYPE_STRING))
    return descriptor_pb2.FileDescriptorProto(
        name="shop/order.proto",
        package="shop",
        syntax="proto3",
        dependency=["common/amount.proto", "google/protobuf/timestamp.proto"],
        message_type=[
            descriptor_pb2.DescriptorProto(name="Order", field=fields, nested_type=[counts_entry]),
            descriptor_pb2.DescriptorProto(name="Refund", field=[field("order_id", 1, F.TYPE_STRING)]),
        ],
    )


def classes(*files: descriptor_pb2.FileDescriptorProto) -> dict:
    """Message classes by full name, from a pool of their own."""
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    out = {}
    for f in files:
        pool.Add(f)
    for f in files:
        fd = pool.FindFileByName(f.name)
        for name, desc in fd.message_types_by_name.items():
            out[desc.full_name] = message_factory.GetMessageClass(desc)
    return out



def get(scute, path: str):
    with urllib.request.urlopen(scute.url + path, timeout=10) as r:
        return json.loads(r.read())


def frame(data: bytes) -> tuple[int, int]:
    """Magic byte and schema id of a Confluent frame."""
    magic, schema_id = struct.unpack(">bI", data[:5])
    return magic, schema_id


def test_round_trip_with_an_import_and_a_timestamp(scute):
    types = classes(amount_file(), order_file())
    Order, Amount = types["shop.Order"], types["common.Amount"]
    sr = registry_client(scute)
    ser = ProtobufSerializer(Order, sr, CONF)
    ctx = SerializationContext("orders", MessageField.VALUE)

    order = Order(id="o-1", tags=["a", "b"])
    order.total.CopyFrom(Amount(cents=1999, currency="EUR"))
    order.placed_at.seconds = 1_700_000_000
    order.placed_at.nanos = 5
    order.counts["x"] = 3
    data = ser(order, ctx)
    magic, schema_id = frame(data)
    assert magic == 0

    # The import was registered under its path and named as a reference;
    # the bundled google/protobuf import needed none.
    assert sorted(get(scute, "/subjects")) == ["common/amount.proto", "orders-value"]
    latest = get(scute, "/subjects/orders-value/versions/latest")
    assert latest["id"] == schema_id
    assert latest["schemaType"] == "PROTOBUF"
    assert [r["name"] for r in latest["references"]] == ["common/amount.proto"]
    # Stored as Confluent prints a descriptor: qualified names, JSON names,
    # the map's entry message.
    assert latest["schema"] == (
        'syntax = "proto3";\npackage shop;\n\n'
        'import "common/amount.proto";\nimport "google/protobuf/timestamp.proto";\n\n'
        "message Order {\n"
        '  string id = 1 [json_name = "id"];\n'
        '  .common.Amount total = 2 [json_name = "total"];\n'
        '  .google.protobuf.Timestamp placed_at = 3 [json_name = "placedAt"];\n'
        '  repeated string tags = 4 [json_name = "tags"];\n'
        '  repeated .shop.Order.CountsEntry counts = 5 [json_name = "counts"];\n'
        "\n"
        "  message CountsEntry {\n"
        "    option map_entry = true;\n"
        "  \n"
        '    string key = 1 [json_name = "key"];\n'
        '    int32 value = 2 [json_name = "value"];\n'
        "  }\n"
        "}\n"
        'message Refund {\n  string order_id = 1 [json_name = "orderId"];\n}\n'
    )
    dep = get(scute, "/subjects/common%2Famount.proto/versions/1")
    assert get(scute, "/subjects/common%2Famount.proto/versions/1/referencedby") == [schema_id]
    assert dep["schema"].startswith('syntax = "proto3";\npackage common;\n')

    # A consumer's deserializer (its own client, so its own cache) reads the
    # writer's schema from Scute in the serialized format.
    de = ProtobufDeserializer(Order, CONF, registry_client(scute))
    back = de(data, ctx)
    assert back == order
    assert back.placed_at.seconds == 1_700_000_000
    assert back.total.currency == "EUR"
    assert dict(back.counts) == {"x": 3}

    # Same schema again: same id, no new version.
    assert frame(ProtobufSerializer(Order, registry_client(scute), CONF)(order, ctx))[1] == schema_id
    assert get(scute, "/subjects/orders-value/versions") == [1]


def test_second_message_of_a_file_and_evolution(scute):
    v1 = classes(amount_file(), order_file())
    sr = registry_client(scute)
    ctx = SerializationContext("refunds", MessageField.VALUE)
    Refund = v1["shop.Refund"]
    data = ProtobufSerializer(Refund, sr, CONF)(Refund(order_id="o-9"), ctx)
    back = ProtobufDeserializer(Refund, CONF, registry_client(scute))(data, ctx)
    assert back.order_id == "o-9"

    # A field added: BACKWARD compatible, a new version under the same subject.
    v2 = classes(amount_file(), order_file(extra_field=True))
    data2 = ProtobufSerializer(v2["shop.Refund"], sr, CONF)(v2["shop.Refund"](order_id="o-10"), ctx)
    assert frame(data2)[1] != frame(data)[1]
    assert get(scute, "/subjects/refunds-value/versions") == [1, 2]
    # Old data still reads with the new class.
    assert ProtobufDeserializer(v2["shop.Refund"], CONF, registry_client(scute))(data, ctx).order_id == "o-9"


def test_incompatible_change_is_refused_with_confluents_message(scute):
    sr = registry_client(scute)
    first = 'syntax = "proto3";\nmessage Reading {\n  double value = 1;\n}\n'
    sr.register_schema("readings-value", Schema(first, "PROTOBUF"))
    changed = 'syntax = "proto3";\nmessage Reading {\n  string value = 1;\n}\n'
    assert not sr.test_compatibility("readings-value", Schema(changed, "PROTOBUF"))
    with pytest.raises(SchemaRegistryError) as e:
        sr.register_schema("readings-value", Schema(changed, "PROTOBUF"))
    assert e.value.http_status_code == 409
    assert "FIELD_SCALAR_KIND_CHANGED" in e.value.error_message


def test_invalid_schema_names_line_and_column(scute):
    sr = registry_client(scute)
    with pytest.raises(SchemaRegistryError) as e:
        sr.register_schema("bad-value", Schema('syntax = "proto3";\nmessage A {\n  int32 x = 1\n}\n', "PROTOBUF"))
    assert e.value.http_status_code == 422
    assert e.value.error_code == 42201
    assert ":4:1:" in e.value.error_message
