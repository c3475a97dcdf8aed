"""The Rust `schema-registry-client` serdes against Scute, over REST and gRPC.

`scute-interop` runs that crate's serializers and deserializers with either
its own REST client or scute-client's gRPC implementation of the same
trait. Bytes must move freely between the two transports and between the
Rust serdes and Confluent's Python ones, for Avro, JSON Schema and Protobuf,
each with a schema reference (an Order whose customer is a Customer from
another subject). No broker is needed.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from conftest import frame_id, registry_client, scute_binary

FORMATS = ["avro", "json", "protobuf"]
TIMEOUT = 30

# The schemas scute-interop uses, as the Python serializers must see them.
AVRO_CUSTOMER = json.dumps(
    {"type": "record", "name": "Customer", "namespace": "shop", "fields": [{"name": "name", "type": "string"}]}
)
AVRO_ORDER = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "namespace": "shop",
        "fields": [{"name": "id", "type": "long"}, {"name": "customer", "type": "shop.Customer"}],
    }
)
JSON_CUSTOMER = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "customer.json",
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
    }
)
JSON_ORDER = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Order",
        "type": "object",
        "properties": {"id": {"type": "integer"}, "customer": {"$ref": "customer.json"}},
        "required": ["id", "customer"],
    }
)
# The subject each format's order schema references, and its reference name.
REFERENCED = {"avro": "shop.Customer", "json": "customer.json", "protobuf": "shop/customer.proto"}
CONF = {"use.deprecated.format": False}


def _with(text: str, **extra) -> str:
    return json.dumps({**json.loads(text), **extra})


def _ref(fmt: str) -> list[dict]:
    return [{"name": REFERENCED[fmt], "subject": REFERENCED[fmt], "version": 1}]


# A later version of each order schema that the same records still fit.
SECOND_VERSION = {
    "avro": {"schema": _with(AVRO_ORDER, doc="version 2"), "references": _ref("avro")},
    "json": {"schema": _with(JSON_ORDER, description="version 2"), "schemaType": "JSON", "references": _ref("json")},
    "protobuf": {
        "schema": 'syntax = "proto3";\npackage shop;\n\nimport "shop/customer.proto";\n\n'
        "message Order {\n  int64 id = 1;\n  Customer customer = 2;\n  string note = 3;\n}\n",
        "schemaType": "PROTOBUF",
        "references": _ref("protobuf"),
    },
}


def interop_binary() -> Path:
    explicit = os.environ.get("SCUTE_INTEROP_BIN")
    if explicit:
        return Path(explicit)
    # Next to the server: <target>/debug/scute-interop.
    return scute_binary().parent / "scute-interop"


@pytest.fixture(scope="session")
def interop() -> Path:
    path = interop_binary()
    if not path.exists():
        pytest.fail(f"{path} is missing: build it with `cargo build -p scute-interop`")
    return path


def run(interop: Path, registry: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(interop), "--registry", registry, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def rest(scute) -> str:
    return scute.url


def grpc(scute) -> str:
    return f"grpc://{scute.grpc_addr}"


def write(interop, registry: str, fmt: str, topic: str, count: int = 3, use_latest: bool = False) -> list[bytes]:
    args = ["write", "--format", fmt, "--topic", topic, "--count", str(count)]
    if use_latest:
        args.append("--use-latest")
    out = run(interop, registry, *args)
    assert out.returncode == 0, f"write over {registry} failed:\n{out.stderr}"
    values = [base64.b64decode(line) for line in out.stdout.split()]
    assert len(values) == count, out.stdout
    return values


def read(interop, registry: str, fmt: str, topic: str, values: list[bytes]) -> list[dict]:
    lines = "".join(base64.b64encode(v).decode() + "\n" for v in values)
    out = run(interop, registry, "read", "--format", fmt, "--topic", topic, stdin=lines)
    assert out.returncode == 0, f"read over {registry} failed:\n{out.stderr}"
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def orders(ids) -> list[dict]:
    return [{"id": i, "customer": {"name": f"customer {i}"}} for i in ids]



def get(scute, path: str):
    with urllib.request.urlopen(scute.url + path, timeout=10) as r:
        return json.loads(r.read())


def send(scute, method: str, path: str, body: dict):
    req = urllib.request.Request(
        scute.url + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def post(scute, path: str, body: dict):
    return send(scute, "POST", path, body)


def put(scute, path: str, body: dict):
    return send(scute, "PUT", path, body)



def ctx(topic: str) -> SerializationContext:
    return SerializationContext(topic, MessageField.VALUE)


# -- Protobuf message classes, built at run time from the two .proto files ----

F = descriptor_pb2.FieldDescriptorProto


def proto_classes() -> dict:
    customer = descriptor_pb2.FileDescriptorProto(
        name="shop/customer.proto",
        package="shop",
        syntax="proto3",
        message_type=[
            descriptor_pb2.DescriptorProto(
                name="Customer",
                field=[F(name="name", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL, json_name="name")],
            )
        ],
    )
    order = descriptor_pb2.FileDescriptorProto(
        name="shop/order.proto",
        package="shop",
        syntax="proto3",
        dependency=["shop/customer.proto"],
        message_type=[
            descriptor_pb2.DescriptorProto(
                name="Order",
                field=[
                    F(name="id", number=1, type=F.TYPE_INT64, label=F.LABEL_OPTIONAL, json_name="id"),
                    F(
                        name="customer",
                        number=2,
                        type=F.TYPE_MESSAGE,
                        type_name=".shop.Customer",
                        label=F.LABEL_OPTIONAL,
                        json_name="customer",
                    ),
                ],
            )
        ],
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(customer)
    pool.Add(order)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(name))
        for name in ("shop.Order", "shop.Customer")
    }


# -- Confluent's Python serdes, one pair per format ------------------------------


def python_deserialize(scute, fmt: str, topic: str, values: list[bytes]) -> list[dict]:
    sr = registry_client(scute)
    if fmt == "avro":
        de = AvroDeserializer(sr)
        return [de(v, ctx(topic)) for v in values]
    if fmt == "json":
        de = JSONDeserializer(None, schema_registry_client=sr)
        return [de(v, ctx(topic)) for v in values]
    Order = proto_classes()["shop.Order"]
    de = ProtobufDeserializer(Order, CONF, sr)
    out = []
    for v in values:
        m = de(v, ctx(topic))
        out.append({"id": m.id, "customer": {"name": m.customer.name}})
    return out


def python_serialize(scute, fmt: str, topic: str, records: list[dict]) -> list[bytes]:
    sr = registry_client(scute)
    if fmt == "avro":
        sr.register_schema("shop.Customer", Schema(AVRO_CUSTOMER, "AVRO"))
        refs = [SchemaReference("shop.Customer", "shop.Customer", 1)]
        ser = AvroSerializer(sr, Schema(AVRO_ORDER, "AVRO", refs))
        return [ser(r, ctx(topic)) for r in records]
    if fmt == "json":
        sr.register_schema("customer.json", Schema(JSON_CUSTOMER, "JSON"))
        refs = [SchemaReference("customer.json", "customer.json", 1)]
        ser = JSONSerializer(Schema(JSON_ORDER, "JSON", refs), sr)
        return [ser(r, ctx(topic)) for r in records]
    types = proto_classes()
    Order, Customer = types["shop.Order"], types["shop.Customer"]
    ser = ProtobufSerializer(Order, sr, CONF)
    return [ser(Order(id=r["id"], customer=Customer(name=r["customer"]["name"])), ctx(topic)) for r in records]


def assert_order_subject(scute, fmt: str, topic: str, sid: int) -> None:
    latest = get(scute, f"/subjects/{topic}-value/versions/latest")
    assert latest["id"] == sid
    assert latest.get("schemaType", "AVRO") == fmt.upper()
    assert [(r["name"], r["subject"], r["version"]) for r in latest["references"]] == [
        (REFERENCED[fmt], REFERENCED[fmt], 1)
    ]


# -- the tests -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_rest_and_grpc_read_each_others_bytes(scute, interop, fmt):
    over_rest = write(interop, rest(scute), fmt, "a", count=3)
    assert read(interop, grpc(scute), fmt, "a", over_rest) == orders(range(1, 4))
    over_grpc = write(interop, grpc(scute), fmt, "b", count=4)
    assert read(interop, rest(scute), fmt, "b", over_grpc) == orders(range(1, 5))

    # One schema, one id, whichever transport registered it.
    ids = {frame_id(v) for v in over_rest + over_grpc}
    assert len(ids) == 1, ids
    sid = ids.pop()
    assert_order_subject(scute, fmt, "a", sid)
    assert_order_subject(scute, fmt, "b", sid)
    # Registering again over the other transport finds the same version.
    assert {frame_id(v) for v in write(interop, grpc(scute), fmt, "a", count=1)} == {sid}
    assert {frame_id(v) for v in write(interop, rest(scute), fmt, "b", count=1)} == {sid}
    for topic in ("a", "b"):
        assert get(scute, f"/subjects/{topic}-value/versions") == [1]
    assert sorted(get(scute, "/subjects")) == sorted(["a-value", "b-value", REFERENCED[fmt]])
    customer = urllib.parse.quote(REFERENCED[fmt], safe="")
    assert get(scute, f"/subjects/{customer}/versions") == [1]
    assert get(scute, f"/subjects/{customer}/versions/1/referencedby") == [sid]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_python_reads_what_rust_wrote(scute, interop, fmt, transport):
    registry = rest(scute) if transport == "rest" else grpc(scute)
    values = write(interop, registry, fmt, "orders", count=3)
    assert python_deserialize(scute, fmt, "orders", values) == orders(range(1, 4))


@pytest.mark.parametrize("fmt", FORMATS)
def test_rust_reads_what_python_wrote(scute, interop, fmt):
    records = orders([7, -2, 2**40])
    values = python_serialize(scute, fmt, "orders", records)
    sid = frame_id(values[0])
    assert_order_subject(scute, fmt, "orders", sid)
    assert read(interop, rest(scute), fmt, "orders", values) == records
    assert read(interop, grpc(scute), fmt, "orders", values) == records


@pytest.mark.parametrize("fmt", FORMATS)
def test_use_latest_over_grpc(scute, interop, fmt):
    # Nothing registered yet: no version to use, and nothing gets registered.
    out = run(interop, grpc(scute), "write", "--format", fmt, "--topic", "orders", "--use-latest", "--count", "1")
    assert out.returncode != 0, out.stdout
    assert out.stdout.strip() == ""
    assert "orders-value" in out.stderr and "not found" in out.stderr, out.stderr
    assert "orders-value" not in get(scute, "/subjects")

    registered = write(interop, rest(scute), fmt, "orders", count=1)
    # A second version that the same records still fit: the latest is not
    # the one the serializer registered.
    put(scute, "/config/orders-value", {"compatibility": "NONE"})
    v2 = post(scute, "/subjects/orders-value/versions", SECOND_VERSION[fmt])
    assert v2["id"] != frame_id(registered[0])
    latest = get(scute, "/subjects/orders-value/versions/latest")
    assert (latest["version"], latest["id"]) == (2, v2["id"])

    values = write(interop, grpc(scute), fmt, "orders", count=3, use_latest=True)
    assert [frame_id(v) for v in values] == [latest["id"]] * 3
    assert get(scute, "/subjects/orders-value/versions") == [1, 2]
    assert read(interop, grpc(scute), fmt, "orders", values) == orders(range(1, 4))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_serializers_follow_a_topics_association(scute, interop, fmt, transport):
    """The crate's default subject-name strategy asks the registry which
    subject a topic is associated with; associate one through the crate's
    own client and its serializers write under it."""
    registry = rest(scute) if transport == "rest" else grpc(scute)
    other = grpc(scute) if transport == "rest" else rest(scute)
    # A subject of one's choosing, holding the order schema.
    seed = write(interop, rest(scute), fmt, "seed", count=1)
    latest = get(scute, "/subjects/seed-value/versions/latest")
    body = {k: latest[k] for k in ("schema", "schemaType", "references") if k in latest}
    custom = post(scute, "/subjects/custom-orders/versions", body)
    assert custom["id"] == frame_id(seed[0])

    out = run(
        interop, registry, "associate", "--topic", "orders", "--subject", "custom-orders",
        "--namespace", "lkc-1", "--resource-id", "rid-orders",
    )
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["resourceName"] == "orders" and answer["resourceId"] == "rid-orders"
    assert [(a["subject"], a["lifecycle"], a["frozen"]) for a in answer["associations"]] == [
        ("custom-orders", "WEAK", False)
    ]
    listed = get(scute, "/associations/resources/lkc-1/orders")
    assert [(a["subject"], a["associationType"]) for a in listed] == [("custom-orders", "value")]

    # Auto-registering serializers find the schema under the associated
    # subject; nothing is written under orders-value.
    values = write(interop, registry, fmt, "orders", count=3)
    assert {frame_id(v) for v in values} == {custom["id"]}
    assert get(scute, "/subjects/custom-orders/versions") == [1]
    assert "orders-value" not in get(scute, "/subjects")
    assert read(interop, other, fmt, "orders", values) == orders(range(1, 4))
    assert python_deserialize(scute, fmt, "orders", values) == orders(range(1, 4))

    # Once dissociated, the topic falls back to <topic>-value.
    out = run(interop, registry, "dissociate", "--resource-id", "rid-orders")
    assert out.returncode == 0, out.stderr
    assert get(scute, "/associations/resources/rid-orders") == []
    write(interop, registry, fmt, "orders", count=1)
    assert "orders-value" in get(scute, "/subjects")
