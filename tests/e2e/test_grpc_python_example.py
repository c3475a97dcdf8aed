"""clients/examples/python, the gRPC example, run for real against the binary.

Its generate.sh writes stubs from proto/ with grpc_tools.protoc (this venv's
grpcio-tools) into a temporary directory; example.py then talks to a started
Scute with them, and what it prints is checked, as well as what Scute holds
afterwards.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

EXAMPLE = Path(__file__).resolve().parents[2] / "clients" / "examples" / "python"


@pytest.fixture(scope="module")
def stubs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("stubs")
    proc = subprocess.run(
        [str(EXAMPLE / "generate.sh"), str(out)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"generate.sh exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    generated = sorted(p.name for p in (out / "scute" / "registry" / "v1").iterdir())
    assert generated == ["registry_pb2.py", "registry_pb2.pyi", "registry_pb2_grpc.py"], generated
    return out


def run_example(scute, stubs: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(EXAMPLE / "example.py"), scute.grpc_addr, "--stubs", str(stubs), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=stubs,
    )


def test_example_registers_fetches_and_reports_error_codes(scute, stubs):
    proc = run_example(scute, stubs)
    assert proc.returncode == 0, f"example.py exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    out = proc.stdout

    m = re.search(r"^registered: subject=example-users-value version=1 id=(\d+)$", out, re.M)
    assert m, out
    schema_id = int(m.group(1))
    assert schema_id > 0

    m = re.search(r"^fetched: id=(\d+) type=AVRO schema=(.*)$", out, re.M)
    assert m, out
    assert int(m.group(1)) == schema_id
    fetched = json.loads(m.group(2))
    assert fetched["name"] == "User" and [f["name"] for f in fetched["fields"]] == ["id", "name"]

    assert re.search(r"^subjects: example-users-value$", out, re.M), out

    # The check answers, with Confluent's verbose messages.
    assert re.search(r"^compatible: false$", out, re.M), out
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in out and "'email'" in out

    # The failed registration's ErrorInfo carries Confluent's code.
    m = re.search(r"^register refused: code=(\w+) error_code=(\d+) reason=(\w+)$", out, re.M)
    assert m, out
    assert m.groups() == ("FAILED_PRECONDITION", "40901", "INCOMPATIBLE_SCHEMA")
    assert "Schema being registered is incompatible with an earlier schema" in out

    m = re.search(r"^unknown id (\d+): code=(\w+) error_code=(\d+) reason=(\w+)$", out, re.M)
    assert m, out
    assert m.groups()[1:] == ("NOT_FOUND", "40403", "SCHEMA_NOT_FOUND")

    # Over REST, Scute holds what the example registered, and only that.
    r = requests.get(f"{scute.url}/subjects/example-users-value/versions", timeout=10)
    assert (r.status_code, r.json()) == (200, [1])
    r = requests.get(f"{scute.url}/schemas/ids/{schema_id}", timeout=10)
    assert json.loads(r.json()["schema"]) == fetched
    r = requests.get(f"{scute.url}/schemas/ids/{m.group(1)}", timeout=10)
    assert (r.status_code, r.json()["error_code"]) == (404, 40403)


def test_example_run_twice_finds_the_same_version(scute, stubs):
    first = run_example(scute, stubs, "--subject", "again-value")
    second = run_example(scute, stubs, "--subject", "again-value")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    lines = [p.stdout.splitlines()[0] for p in (first, second)]
    assert lines[0] == lines[1], lines
    assert lines[0].startswith("registered: subject=again-value version=1 id=")


def test_example_without_a_server_fails(stubs):
    class Nowhere:
        # A port nothing listens on: the first call fails and the example says so.
        grpc_addr = "127.0.0.1:1"

    proc = run_example(Nowhere(), stubs)
    assert proc.returncode != 0
    assert "call failed: code=UNAVAILABLE" in proc.stderr, proc.stderr
