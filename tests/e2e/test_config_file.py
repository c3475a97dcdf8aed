"""`scute --config FILE` with the schema-registry.properties a Confluent
registry ran with: the keys that map onto Scute's settings are used, flags
and environment variables win over them, and the rest are named in one line
at start.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from confluent_kafka import Consumer, TopicPartition

from conftest import START_TIMEOUT, STOP_TIMEOUT, free_port
from test_kafka import record_schema
from test_kafka_security import PASSWORD, USER, certs, secured  # noqa: F401 (fixtures)

VND = "application/vnd.schemaregistry.v1+json"


class Started:
    def __init__(self, proc: subprocess.Popen, url: str, log: Path):
        self.proc, self.url, self.log_path = proc, url, log

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(STOP_TIMEOUT)


def start(scute_bin: Path, tmp_path: Path, properties: str, args: tuple[str, ...] = (),
          env: dict[str, str] | None = None, rest_port: int | None = None) -> Started:
    """Starts scute with only --config (plus `args`), and waits until it is ready
    on the REST port the file (or `rest_port`) names."""
    config = tmp_path / "schema-registry.properties"
    config.write_text(properties)
    log = tmp_path / f"scute-{time.monotonic_ns()}.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SCUTE_")}
    environment.update(env or {})
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(scute_bin), "--config", str(config), "--data-dir", str(tmp_path / "data"),
             "--grpc-listen", f"127.0.0.1:{free_port()}", *args],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=environment, cwd=tmp_path,
        )
    started = Started(proc, f"http://127.0.0.1:{rest_port}", log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"scute exited {proc.returncode}:\n{started.log()}"
        try:
            if requests.get(f"{started.url}/health/ready", timeout=5).status_code == 200:
                return started
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    started.stop()
    pytest.fail(f"not ready within {START_TIMEOUT}s:\n{started.log()}")


def test_a_confluent_file_runs_scute_and_names_what_it_ignores(scute_bin, tmp_path):
    port = free_port()
    s = start(scute_bin, tmp_path, f"""\
# The file a Confluent registry ran with.
listeners=http://127.0.0.1:{port}
host.name=registry-1.internal
schema.compatibility.level=full
schema.registry.group.id=payments
debug=false
access.control.allow.methods=GET,POST,PUT,OPTIONS
""", rest_port=port)
    try:
        assert requests.get(f"{s.url}/config", timeout=10).json() == {"compatibilityLevel": "FULL"}
        assert requests.get(f"{s.url}/v1/metadata/id", timeout=10).json()["scope"]["clusters"][
            "schema-registry-cluster"] == "payments"
        # The level in force: a change that only BACKWARD allows is refused under FULL.
        base = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}
        r = requests.post(f"{s.url}/subjects/r/versions", json={"schema": json.dumps(base)}, timeout=10)
        assert r.status_code == 200, r.text
        added = {**base, "fields": base["fields"] + [{"name": "b", "type": "int"}]}
        r = requests.post(f"{s.url}/compatibility/subjects/r/versions/latest",
                          json={"schema": json.dumps(added)}, timeout=10)
        assert r.json()["is_compatible"] is False, r.text
        log = s.log()
        ignored = [line for line in log.splitlines() if "keys Scute does not use" in line]
        assert len(ignored) == 1, log
        line = ignored[0]
        for key in ("access.control.allow.methods", "debug", "host.name"):
            assert key in line, line
        assert "no leader" in line, line
        assert "schema.compatibility.level" not in line, line
        assert "read Confluent's properties file" in log and "listeners" in log
    finally:
        s.stop()


def test_flags_and_environment_win_over_the_file(scute_bin, tmp_path):
    file_port, flag_port = free_port(), free_port()
    s = start(
        scute_bin, tmp_path,
        f"listeners=http://127.0.0.1:{file_port}\nschema.compatibility.level=FULL\nschema.registry.group.id=file\n",
        args=("--rest-listen", f"127.0.0.1:{flag_port}", "--compatibility-level", "none"),
        env={"SCUTE_GROUP_ID": "environment"},
        rest_port=flag_port,
    )
    try:
        assert requests.get(f"{s.url}/config", timeout=10).json() == {"compatibilityLevel": "NONE"}
        assert requests.get(f"{s.url}/v1/metadata/id", timeout=10).json()["scope"]["clusters"][
            "schema-registry-cluster"] == "environment"
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{file_port}/", timeout=2)
    finally:
        s.stop()


def test_a_bad_value_stops_scute_at_start_naming_the_key(scute_bin, tmp_path):
    config = tmp_path / "bad.properties"
    config.write_text("listeners=https://0.0.0.0:8443\nssl.keystore.location=/etc/keystore.jks\n")
    out = subprocess.run([str(scute_bin), "--config", str(config), "--data-dir", str(tmp_path / "d")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "listeners=https://0.0.0.0:8443: an https listener needs a PEM keystore" in out.stderr, out.stderr


def test_a_kafka_file_with_sasl_ssl_and_a_pem_truststore(scute_bin, tmp_path, secured, certs):
    proxy = secured(tls=certs, mechanisms=("SCRAM-SHA-512",))
    port = free_port()
    s = start(scute_bin, tmp_path, f"""\
listeners=http://127.0.0.1:{port}
kafkastore.bootstrap.servers=SASL_SSL://{proxy.bootstrap}
kafkastore.topic=_schemas_from_properties
kafkastore.topic.replication.factor=1
kafkastore.security.protocol=SASL_SSL
kafkastore.sasl.mechanism=SCRAM-SHA-512
kafkastore.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\
    username="{USER}" password="{PASSWORD}";
kafkastore.ssl.truststore.location={certs.ca}
kafkastore.ssl.truststore.type=PEM
schema.compatibility.level=BACKWARD
""", rest_port=port)
    try:
        r = requests.post(f"{s.url}/subjects/v/versions", json={"schema": record_schema("V")}, timeout=30)
        assert r.status_code == 200, r.text
        assert ("SCRAM-SHA-512", USER) in proxy.logins
        # The record is on the topic the file named, read with confluent-kafka's own client.
        c = Consumer({"bootstrap.servers": proxy.bootstrap, "group.id": "check", "security.protocol": "SASL_SSL",
                      "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": USER, "sasl.password": PASSWORD,
                      "ssl.ca.location": str(certs.ca), "enable.auto.commit": False})
        try:
            c.assign([TopicPartition("_schemas_from_properties", 0, 0)])
            keys = []
            deadline = time.monotonic() + 30
            while not any('"SCHEMA"' in k for k in keys) and time.monotonic() < deadline:
                m = c.poll(1)
                if m is not None and m.error() is None and m.key():
                    keys.append(m.key().decode())
            assert any('"subject":"v"' in k for k in keys), keys
        finally:
            c.close()
    finally:
        s.stop()
