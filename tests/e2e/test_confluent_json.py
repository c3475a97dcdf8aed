"""Confluent's own Python JSON Schema serdes against Scute.

`JSONSerializer` registers the schema (with its references), validates each
record against it and frames it with the id Scute gave; `JSONDeserializer`
fetches the writer schema (and what it references) from Scute by id. No
broker is needed: the serdes only talk to the registry.
"""

from __future__ import annotations

import json

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

from conftest import frame_id, registry_client

PRODUCT = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Product",
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string", "maxLength": 100},
            "price": {"type": "number", "minimum": 0},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["id", "name"],
    },
    indent=2,
)

ADDRESS = json.dumps(
    {
        "type": "object",
        "properties": {
            "street": {"type": "string"},
            "zip": {"$ref": "#/definitions/zip"},
        },
        "required": ["street"],
        "definitions": {"zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
    }
)

CUSTOMER = json.dumps(
    {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "home": {"$ref": "address.json"},
        },
        "required": ["name", "home"],
    }
)

PRODUCTS = [
    {"id": 1, "name": "kettle", "price": 19.5, "tags": ["kitchen"]},
    {"id": 2, "name": "Ünïcødé ✓"},
    {"id": 2**53, "name": "", "price": 0, "tags": []},
]
CUSTOMERS = [
    {"name": "Ada", "home": {"street": "1 Engine Way", "zip": "12345"}},
    {"name": "Grace", "home": {"street": "2 Compiler Rd"}},
]




def test_json_serializer_round_trip(scute):
    ctx = SerializationContext("products", MessageField.VALUE)
    ser = JSONSerializer(PRODUCT, registry_client(scute))
    frames = [ser(p, ctx) for p in PRODUCTS]
    ids = {frame_id(f) for f in frames}
    assert len(ids) == 1
    schema_id = ids.pop()

    sr = registry_client(scute)
    latest = sr.get_latest_version("products-value")
    assert (latest.schema_id, latest.version) == (schema_id, 1)
    assert latest.schema.schema_type == "JSON"
    # Scute stores the compact text, as Confluent does.
    assert latest.schema.schema_str == json.dumps(json.loads(PRODUCT), separators=(",", ":"))

    de = JSONDeserializer(None, schema_registry_client=registry_client(scute))
    assert [de(f, ctx) for f in frames] == PRODUCTS

    # A record the schema rejects never reaches the wire.
    with pytest.raises(SerializationError):
        ser({"id": "not a number", "name": "x"}, ctx)

    # Serializing again with the schema reformatted is the same schema.
    again = JSONSerializer(json.dumps(json.loads(PRODUCT)), registry_client(scute))
    assert frame_id(again(PRODUCTS[0], ctx)) == schema_id
    assert registry_client(scute).get_versions("products-value") == [1]


def test_json_schema_with_a_reference_to_another_subject(scute):
    sr = registry_client(scute)
    address_id = sr.register_schema("address", Schema(ADDRESS, "JSON"))
    refs = [SchemaReference("address.json", "address", 1)]
    ctx = SerializationContext("customers", MessageField.VALUE)

    ser = JSONSerializer(Schema(CUSTOMER, "JSON", refs), registry_client(scute))
    frames = [ser(c, ctx) for c in CUSTOMERS]
    customer_id = frame_id(frames[0])
    assert customer_id != address_id

    registered = registry_client(scute).get_latest_version("customers-value")
    assert [(r.name, r.subject, r.version) for r in registered.schema.references] == [
        ("address.json", "address", 1)
    ]
    assert registry_client(scute).get_referenced_by("address", 1) == [customer_id]

    # Validation follows the $ref into the other subject's definitions.
    with pytest.raises(SerializationError):
        ser({"name": "Bad", "home": {"street": "x", "zip": "nope"}}, ctx)

    de = JSONDeserializer(None, schema_registry_client=registry_client(scute))
    assert [de(f, ctx) for f in frames] == CUSTOMERS

    # The referenced version cannot be deleted while it is used.
    with pytest.raises(SchemaRegistryError) as e:
        registry_client(scute).delete_version("address", 1)
    assert e.value.error_code == 42206


def test_json_compatibility_through_the_client(scute):
    sr = registry_client(scute)
    subject = "products-value"
    sr.register_schema(subject, Schema(PRODUCT, "JSON"))
    sr.set_compatibility(subject, "BACKWARD")

    widened = json.loads(PRODUCT)
    widened["properties"]["name"]["maxLength"] = 200
    assert sr.test_compatibility(subject, Schema(json.dumps(widened), "JSON"))

    narrowed = json.loads(PRODUCT)
    narrowed["properties"]["name"]["maxLength"] = 10
    assert not sr.test_compatibility(subject, Schema(json.dumps(narrowed), "JSON"))
    with pytest.raises(SchemaRegistryError) as e:
        sr.register_schema(subject, Schema(json.dumps(narrowed), "JSON"))
    assert e.value.http_status_code == 409

    with pytest.raises(SchemaRegistryError) as e:
        sr.register_schema("broken", Schema('{"type": "strin"}', "JSON"))
    assert e.value.error_code == 42201
    assert "'#/type'" in e.value.error_message
