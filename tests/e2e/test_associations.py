"""Associations through Confluent's Python client and serializers.

confluent-kafka's `ASSOCIATED` subject-name strategy asks the registry which
subject a topic is associated with (`GET /associations/resources/{cluster
id}/{topic}`) and falls back to `<topic>-value` when there is none. These
tests create, read and delete associations with the client's own calls and
check where its serializers write.
"""

from __future__ import annotations

import json

import pytest
from confluent_kafka.schema_registry import Schema
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.schema_registry_client import (
    AssociationCreateOrUpdateInfo,
    AssociationCreateOrUpdateRequest,
)
from confluent_kafka.serialization import MessageField, SerializationContext

from conftest import frame_id, registry_client

ORDER = json.dumps(
    {"type": "record", "name": "Order", "namespace": "shop", "fields": [{"name": "id", "type": "long"}]}
)
CLUSTER = "lkc-1"


def serializer(sr, **conf) -> AvroSerializer:
    return AvroSerializer(
        sr,
        ORDER,
        conf={
            "subject.name.strategy.type": "ASSOCIATED",
            "subject.name.strategy.conf": {"subject.name.strategy.kafka.cluster.id": CLUSTER},
            **conf,
        },
    )


def ctx(topic: str) -> SerializationContext:
    return SerializationContext(topic, MessageField.VALUE)


def test_a_strong_association_made_by_the_client_routes_its_serializers(scute):
    sr = registry_client(scute)
    request = AssociationCreateOrUpdateRequest(
        resource_name="orders",
        resource_namespace=CLUSTER,
        resource_id="rid-orders",
        associations=[AssociationCreateOrUpdateInfo(schema=Schema(ORDER, "AVRO"))],
    )
    created = sr.create_association(request)
    assert created.resource_type == "topic"
    [info] = created.associations
    subject = f":.{CLUSTER}:orders-value"
    assert (info.subject, info.lifecycle, info.frozen) == (subject, "STRONG", True)
    registered = sr.get_latest_version(subject)

    [found] = sr.get_associations_by_resource_name("orders", CLUSTER)
    assert (found.subject, found.resource_id, found.association_type) == (subject, "rid-orders", "value")
    assert sr.get_associations_by_resource_name("orders", "other-cluster") == []

    values = [serializer(sr, **{"auto.register.schemas": False, "use.latest.version": True})({"id": i}, ctx("orders")) for i in range(3)]
    assert {frame_id(v) for v in values} == {registered.schema_id}
    assert "orders-value" not in sr.get_subjects()
    reader = AvroDeserializer(registry_client(scute))
    assert [reader(v, ctx("orders")) for v in values] == [{"id": i} for i in range(3)]

    # Frozen: the delete needs the cascade, which takes the subject along.
    with pytest.raises(SchemaRegistryError) as refused:
        sr.delete_associations("rid-orders")
    assert (refused.value.http_status_code, refused.value.error_code) == (409, 40908)
    sr.delete_associations("rid-orders", cascade_lifecycle=True)
    assert sr.get_associations_by_resource_name("orders", CLUSTER) == []
    assert subject not in registry_client(scute).get_subjects()

    # With no association, a fresh serializer falls back to <topic>-value.
    fresh = serializer(registry_client(scute))
    value = fresh({"id": 7}, ctx("orders"))
    assert registry_client(scute).get_latest_version("orders-value").schema_id == frame_id(value)


def test_a_subject_with_a_weak_association_stays_until_dissociated(scute):
    sr = registry_client(scute)
    sid = sr.register_schema("orders-custom", Schema(ORDER, "AVRO"))
    sr.create_association(
        AssociationCreateOrUpdateRequest(
            resource_name="orders",
            resource_namespace=CLUSTER,
            resource_id="rid-1",
            associations=[AssociationCreateOrUpdateInfo(subject="orders-custom", association_type="value")],
        )
    )
    value = serializer(sr)({"id": 1}, ctx("orders"))
    assert frame_id(value) == sid
    with pytest.raises(SchemaRegistryError) as refused:
        sr.delete_subject("orders-custom")
    assert (refused.value.http_status_code, refused.value.error_code) == (409, 40904)
    sr.delete_associations("rid-1")
    assert sr.delete_subject("orders-custom") == [1]
