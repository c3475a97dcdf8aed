"""The `scute` binary as an operator runs it: flags, SCUTE_* variables, log line, signals."""

from __future__ import annotations

import json
import signal

import requests

from conftest import alarms, parse_json_lines

VND = "application/vnd.schemaregistry.v1+json"


def test_serving_line_names_addresses_and_storage(scute_factory):
    server = scute_factory(name="logline").start()
    log = server.log()
    serving = [line for line in log.splitlines() if server.url.removeprefix("http://") in line]
    assert serving, f"no log line names the REST address {server.url}:\n{log}"
    line = serving[0]
    assert server.grpc_addr in line, f"serving line lacks the gRPC address {server.grpc_addr}: {line}"
    assert str(server.data_dir) in line, f"serving line lacks the storage path {server.data_dir}: {line}"
    # Normal operation, start to stop, says nothing an operator must act on.
    r = requests.post(f"{server.url}/subjects/s/versions", json={"schema": '"string"'}, timeout=10)
    assert r.status_code == 200, r.text
    assert requests.get(f"{server.url}/schemas/ids/1", timeout=10).status_code == 200
    server.stop_clean()
    assert not alarms(server.log()), server.log()


def test_json_log_format_is_json(scute_factory):
    server = scute_factory(name="jsonlog").start(["--log-format", "json"])
    lines = [line for line in server.log().splitlines() if line.strip()]
    assert lines, "no log output"
    objs = list(parse_json_lines(server.log()))
    assert len(objs) == len(lines), f"non-JSON lines with --log-format json:\n{server.log()}"
    assert any(server.grpc_addr in json.dumps(o) for o in objs), server.log()
    server.stop_clean()


def test_configured_through_environment(scute_factory):
    server = scute_factory(name="env").start(via_env=True)
    r = requests.post(
        f"{server.url}/subjects/env/versions", json={"schema": '"string"'}, headers={"Content-Type": VND}, timeout=10
    )
    assert r.status_code == 200, r.text
    server.stop_clean()
    # The data went to SCUTE_DATA_DIR: a flag-configured server on that dir sees it.
    server.start()
    assert requests.get(f"{server.url}/subjects", timeout=10).json() == ["env"]
    server.stop_clean()


def test_sigint_exits_cleanly(scute_factory):
    server = scute_factory(name="sigint").start()
    server.stop_clean(signal.SIGINT)
