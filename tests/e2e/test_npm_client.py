"""The npm package @kafkajs/confluent-schema-registry (Node) against Scute.

tests/e2e/node/roundtrip.mjs drives the Node client against a started binary
and prints what the caller saw as one JSON report; these tests assert on it,
and check that the Node client and Confluent's Python serdes read each
other's AVRO and JSON frames through the same registry. tests/run installs the
Node project (npm ci) into tests/e2e/node/node_modules.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from conftest import frame_id, registry_client

NODE_DIR = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_DIR / "roundtrip.mjs"


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (tests/run installs it with apt when missing)")
    if not (NODE_DIR / "node_modules" / "@kafkajs" / "confluent-schema-registry").is_dir():
        pytest.fail(f"{NODE_DIR}/node_modules is missing: tests/run installs it (npm ci in {NODE_DIR})")
    return node


def run_node(*args: str) -> dict:
    proc = subprocess.run(
        [node_binary(), str(SCRIPT), *args], capture_output=True, text=True, timeout=60, cwd=NODE_DIR
    )
    assert proc.returncode == 0, f"roundtrip.mjs exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return json.loads(proc.stdout)




def test_node_client_avro_and_json(scute):
    report = run_node(scute.url)
    avro, js = report["avro"], report["json"]

    # Registered, encoded with the id Scute gave, decoded by a second client.
    v1 = avro["v1_id"]
    assert isinstance(v1, int) and v1 > 0
    assert avro["encoded_v1_frame_id"] == v1
    assert avro["decoded_v1"] == avro["record_v1"]
    assert avro["latest_id_after_v1"] == v1
    assert avro["id_by_schema_v1"] == v1
    assert avro["v1_again_id"] == v1
    # An unregistered schema: the client turns Scute's 404 / 40403 into its own error.
    missing = avro["id_by_unregistered_schema"]
    assert missing["failed"], missing
    assert missing["error"]["name"] == "ConfluentSchemaRegistryError"
    assert "Schema not found" in missing["error"]["message"]

    # Evolution: a second version, old bytes still decode (as written, and
    # with the new schema as reader, where the new field takes its default).
    v2 = avro["v2_id"]
    assert v2 > 0 and v2 != v1
    assert avro["latest_id_after_v2"] == v2
    assert avro["id_of_version_1"] == v1
    assert avro["decoded_v2"] == avro["record_v2"]
    assert avro["decoded_v1_after_v2"] == avro["record_v1"]
    assert avro["decoded_v1_as_v2"] == dict(avro["record_v1"], score=0.5)

    # The incompatible registration reaches the caller as Scute's 409 with Confluent's message.
    bad = avro["incompatible"]
    assert bad["failed"], bad
    assert bad["error"]["name"] == "ResponseError"
    assert bad["error"]["status"] == 409
    message = bad["error"]["message"]
    assert "Schema being registered is incompatible with an earlier schema" in message
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in message and "country" in message
    assert avro["latest_id_after_incompatible"] == v2

    # The client read the subject's level (it set BACKWARD on first
    # registration) and refused to register under another one.
    mismatch = avro["compatibility_mismatch"]
    assert mismatch["failed"], mismatch
    assert mismatch["error"]["name"] == "ConfluentSchemaRegistryCompatibilityError"
    assert "FULL != BACKWARD" in mismatch["error"]["message"]
    r = requests.get(f"{scute.url}/config/node-users-value", timeout=10)
    assert (r.status_code, r.json()) == (200, {"compatibilityLevel": "BACKWARD"})

    assert avro["invalid_record"]["failed"]
    assert avro["invalid_record"]["error"]["name"] == "ConfluentSchemaRegistryValidationError"
    assert avro["invalid_record"]["error"]["paths"] == [["id"]]

    # JSON Schema.
    jid = js["id"]
    assert jid > 0 and jid not in (v1, v2)
    assert js["encoded_frame_id"] == jid
    assert js["decoded"] == js["record"]
    assert js["latest_id"] == jid
    assert js["id_by_schema"] == jid
    for key, path in (("invalid_record", "/id"), ("missing_required", "")):
        failure = js[key]
        assert failure["failed"], failure
        assert failure["error"]["name"] == "ConfluentSchemaRegistryValidationError"
        assert failure["error"]["paths"] == [[path]]

    # What Scute holds is what the Node client registered.
    sr = registry_client(scute)
    assert sorted(sr.get_subjects()) == ["node-products-value", "node-users-value"]
    assert sr.get_versions("node-users-value") == [1, 2]
    assert sr.get_latest_version("node-products-value").schema.schema_type == "JSON"
    assert sr.get_schema(v1).schema_type == "AVRO"


def test_node_and_python_read_each_others_frames(scute):
    report = run_node(scute.url)
    avro, js = report["avro"], report["json"]

    # Node -> Python: Confluent's deserializers fetch the writer schema from Scute by id.
    ctx = SerializationContext("node-users", MessageField.VALUE)
    de = AvroDeserializer(registry_client(scute))
    assert de(base64.b64decode(avro["encoded_v1_b64"]), ctx) == avro["record_v1"]
    assert de(base64.b64decode(avro["encoded_v2_b64"]), ctx) == avro["record_v2"]
    jde = JSONDeserializer(None, schema_registry_client=registry_client(scute))
    jctx = SerializationContext("node-products", MessageField.VALUE)
    assert jde(base64.b64decode(js["encoded_b64"]), jctx) == js["record"]

    # Python -> Node: Confluent's serializer registers under its own subject;
    # the Node client decodes the frames with the schema it fetches by id.
    schema = json.dumps(
        {
            "type": "record",
            "name": "Reading",
            "namespace": "com.example.scute.py",
            "fields": [
                {"name": "sensor", "type": "string"},
                {"name": "value", "type": "double"},
                {"name": "unit", "type": ["null", "string"], "default": None},
                {"name": "seq", "type": "long"},
            ],
        }
    )
    records = [
        {"sensor": "t-1", "value": 21.5, "unit": "C", "seq": 1},
        {"sensor": "Ünïcødé ✓", "value": -0.125, "unit": None, "seq": 2**40},
    ]
    pctx = SerializationContext("py-readings", MessageField.VALUE)
    ser = AvroSerializer(registry_client(scute), schema)
    frames = [ser(r, pctx) for r in records]
    assert registry_client(scute).get_latest_version("py-readings-value").schema_id == frame_id(frames[0])

    decoded = run_node(scute.url, "decode", *(base64.b64encode(f).decode() for f in frames))
    assert decoded == {"decoded": records}
