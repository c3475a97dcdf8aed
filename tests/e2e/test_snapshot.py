"""A restart over the snapshot of the replayed state: the same answers as a
whole replay, texts read back from the log exactly, a bad snapshot ignored."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import requests
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

RECORDS = 12_000  # past the 10,000 a start must decode before it writes a snapshot
VND = "application/vnd.schemaregistry.v1+json"


def schema_text(i: int) -> str:
    # Escapes and non-ASCII, so a text read back from the log is decoded, not copied.
    return json.dumps(
        {
            "type": "record",
            "name": f"Snap{i}",
            "namespace": "io.scute.snapshot",
            "doc": f"line one\nline \"two\" é {i}",
            "fields": [{"name": "id", "type": "long"}, {"name": "n", "type": "string", "default": "ü"}],
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def write_backup(path) -> None:
    lines = []
    for i in range(1, RECORDS + 1):
        subject = f"snap-{i}-value"
        key = {"keytype": "SCHEMA", "subject": subject, "version": 1, "magic": 1}
        value = {"subject": subject, "version": 1, "id": i, "schemaType": "AVRO", "schema": schema_text(i), "deleted": False}
        lines.append(json.dumps(key) + "\t" + json.dumps(value, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_scute(bin_path, *args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCUTE_")}
    return subprocess.run([str(bin_path), *args], capture_output=True, text=True, timeout=120, env=env)


def wait_for(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def register(url: str, i: int, schema: str) -> requests.Response:
    """A new version of subject `snap-{i}-value`."""
    return requests.post(
        f"{url}/subjects/snap-{i}-value/versions",
        data=json.dumps({"schema": schema}),
        headers={"Content-Type": VND},
        timeout=30,
    )


def answers(url: str) -> dict:
    """What a client sees of a few ids and the subject list."""
    client = SchemaRegistryClient({"url": url})
    texts = {i: client.get_schema(i).schema_str for i in (1, 2, RECORDS // 2, RECORDS, RECORDS + 1)}
    subjects = requests.get(f"{url}/subjects", timeout=30).json()
    return {"texts": texts, "subjects": len(subjects)}


def test_a_restart_reads_the_snapshot_and_answers_as_a_whole_replay(scute_factory, scute_bin, tmp_path):
    backup = tmp_path / "schemas.txt"
    write_backup(backup)
    data = tmp_path / "data"
    done = run_scute(scute_bin, "--data-dir", str(data), "restore", "--from", str(backup))
    assert done.returncode == 0, done.stderr
    snapshot = data / "state.snapshot"
    assert not snapshot.exists()

    # The first start replays the whole log, then writes the snapshot.
    scute = scute_factory(data_dir=data, name="first").start()
    wait_for(lambda: "wrote a snapshot of the state" in scute.log(), "the snapshot")
    assert snapshot.exists() and not (data / "state.snapshot.partial").exists()
    client = SchemaRegistryClient({"url": scute.url})
    assert client.get_schema(7).schema_str == schema_text(7)
    # One more, registered after the snapshot: the next start decodes it.
    new_id = client.register_schema("after-snapshot-value", Schema(schema_text(RECORDS + 1), "AVRO"))
    assert new_id == RECORDS + 1
    before = answers(scute.url)
    assert before["texts"][RECORDS] == schema_text(RECORDS)
    assert before["subjects"] == RECORDS + 1
    scute.stop_clean()

    again = scute_factory(data_dir=data, name="again").start()
    line = re.search(r"state from the snapshot and the log past it.*", again.log())
    assert line, again.log()
    assert f"snapshot={RECORDS}" in line.group(0) and "decoded=1" in line.group(0), line.group(0)
    assert answers(again.url) == before
    # Writes go on as before: a new version, compatibility checked against a text read back.
    r = register(again.url, 5, schema_text(5).replace('"fields":[', '"fields":[{"name":"x","type":"int","default":0},'))
    assert r.status_code == 200, r.text
    r = register(again.url, 6, schema_text(6).replace('"type":"long"', '"type":"string"'))
    assert r.status_code == 409, r.text
    assert schema_text(6)[:40].replace('"', '\\"') in r.text, r.text
    after = answers(again.url)
    again.stop_clean()

    # A damaged snapshot is set aside: the whole log is replayed, same answers.
    damaged = bytearray(snapshot.read_bytes())
    damaged[len(damaged) // 2] ^= 0x55
    snapshot.write_bytes(bytes(damaged))
    third = scute_factory(data_dir=data, name="third").start()
    assert "the snapshot does not read; replaying the whole log" in third.log(), third.log()
    assert answers(third.url) == after
    third.stop_clean()

    # No snapshot at all: the same again.
    snapshot.unlink(missing_ok=True)
    fourth = scute_factory(data_dir=data, name="fourth").start()
    assert answers(fourth.url) == after
