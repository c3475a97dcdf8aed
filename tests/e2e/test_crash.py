"""Durability: what Scute acknowledged survives `kill -9`, and one data dir has one owner."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time

import requests

from conftest import parse_json_lines

VND = "application/vnd.schemaregistry.v1+json"
WRITERS = 4
KILL_AFTER_ACKS = 300  # kill once this many registrations were acknowledged...
KILL_AFTER_SECONDS = 20.0  # ...or after this long, whichever comes first
MAX_PER_WRITER = 2000  # bound on each writer's loop


def avro_schema(writer: int, n: int) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": f"Crash{writer}x{n}",
            "namespace": "com.example.crash",
            "fields": [{"name": f"f{writer}_{n}", "type": "long"}, {"name": "note", "type": "string", "default": "x"}],
        },
        separators=(",", ":"),
    )


def register(session: requests.Session, url: str, subject: str, schema: str) -> requests.Response:
    return session.post(
        f"{url}/subjects/{subject}/versions",
        data=json.dumps({"schema": schema}),
        headers={"Content-Type": VND},
        timeout=10,
    )


def replayed_counts(log: str) -> list[int]:
    """Numbers the log gives as records replayed, in JSON or text form."""
    counts = []
    for obj in parse_json_lines(log):
        stack = [obj]
        while stack:
            o = stack.pop()
            if isinstance(o, dict):
                for k, v in o.items():
                    if isinstance(v, (dict, list)):
                        stack.append(v)
                    elif (
                        isinstance(v, int)
                        and not isinstance(v, bool)
                        and re.search(r"(?i)record|replay", k)
                        and not re.search(r"(?i)ms|time|dur|elapsed|sec|byte|offset", k)
                    ):
                        counts.append(v)
            elif isinstance(o, list):
                stack.extend(o)
    for line in log.splitlines():
        if re.search(r"(?i)replay", line):
            counts += [int(m) for m in re.findall(r"(?i)(?:records?[_ ]?replayed|replayed[_ ]?records?|records?)\W{0,3}(\d+)", line)]
            counts += [int(m) for m in re.findall(r"(?i)(\d+)\s+records?", line)]
            counts += [int(m) for m in re.findall(r"(?i)replayed\W{0,3}(\d+)", line)]
    return counts


def test_acknowledged_registrations_survive_kill_9(scute_factory):
    server = scute_factory(name="crash").start()
    url = server.url

    acked: list[tuple[str, str, int, int]] = []  # subject, schema, id, version
    attempted = [0]
    lock = threading.Lock()
    stop = threading.Event()
    unexpected: list[str] = []

    def writer(w: int) -> None:
        session = requests.Session()
        for n in range(MAX_PER_WRITER):
            if stop.is_set():
                return
            subject = f"crash-{w}-{n}"
            schema = avro_schema(w, n)
            with lock:
                attempted[0] += 1
            try:
                r = register(session, url, subject, schema)
            except requests.RequestException:
                if not stop.is_set():
                    time.sleep(0.01)
                    continue
                return
            if r.status_code == 200:
                body = r.json()
                with lock:
                    acked.append((subject, schema, body["id"], body.get("version", 1)))
            elif not stop.is_set():
                with lock:
                    unexpected.append(f"{subject}: {r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(WRITERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + KILL_AFTER_SECONDS
    while time.monotonic() < deadline:
        with lock:
            if len(acked) >= KILL_AFTER_ACKS:
                break
        time.sleep(0.005)
    server.kill()  # SIGKILL while the writers are still sending
    kill_time_acked = len(acked)
    stop.set()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a writer did not stop"
    assert server.proc.returncode == -9

    assert not unexpected, f"registrations refused before the kill: {unexpected[:5]}"
    assert kill_time_acked >= 10, f"only {kill_time_acked} registrations acknowledged before the kill; log:\n{server.log()}"
    ids = [a[2] for a in acked]
    assert len(set(ids)) == len(ids), "two distinct schemas were acknowledged with the same id"

    print(f"acknowledged {len(acked)} of {attempted[0]} attempted registrations before kill -9")

    # Restart on the same data directory.
    server.start(["--log-format", "json"])
    log = server.log()
    print(f"restart log:\n{log}")
    counts = replayed_counts(log)
    assert any(len(acked) <= c <= attempted[0] + 10 for c in counts), (
        f"restart log should say how many records it replayed (>= {len(acked)} acknowledged, "
        f"<= {attempted[0]} attempted); numbers found: {counts}; log:\n{log}"
    )

    session = requests.Session()
    missing = []
    for subject, schema, sid, version in acked:
        r = session.post(f"{server.url}/subjects/{subject}", data=json.dumps({"schema": schema}), headers={"Content-Type": VND}, timeout=10)
        if r.status_code != 200 or r.json().get("id") != sid or r.json().get("version") != version:
            missing.append(f"lookup {subject}: {r.status_code} {r.text[:200]} (acknowledged id {sid} version {version})")
            continue
        r = session.get(f"{server.url}/schemas/ids/{sid}", timeout=10)
        if r.status_code != 200 or json.loads(r.json()["schema"]) != json.loads(schema):
            missing.append(f"GET /schemas/ids/{sid}: {r.status_code} {r.text[:200]}")
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged registrations lost after kill -9:\n" + "\n".join(missing[:10])

    # The registry still takes writes after the crash, with a fresh id.
    r = register(session, server.url, "after-crash", avro_schema(99, 0))
    assert r.status_code == 200, r.text
    assert r.json()["id"] not in ids
    server.stop_clean()


def test_clean_restart_keeps_state(scute_factory):
    server = scute_factory(name="restart").start()
    schema = avro_schema(0, 0)
    r = register(requests.Session(), server.url, "keep", schema)
    assert r.status_code == 200, r.text
    sid = r.json()["id"]
    r = requests.put(f"{server.url}/config/keep", json={"compatibility": "FULL"}, headers={"Content-Type": VND}, timeout=10)
    assert r.status_code == 200, r.text
    server.stop_clean()

    server.start()
    r = requests.get(f"{server.url}/subjects/keep/versions/1", timeout=10)
    assert r.status_code == 200, r.text
    assert (r.json()["id"], json.loads(r.json()["schema"])) == (sid, json.loads(schema))
    r = requests.get(f"{server.url}/config/keep", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["compatibilityLevel"] == "FULL"
    server.stop_clean()


def test_second_process_on_same_data_dir_fails_fast(scute_factory):
    first = scute_factory(name="owner").start()
    r = register(requests.Session(), first.url, "owned", avro_schema(1, 1))
    assert r.status_code == 200, r.text

    second = scute_factory(data_dir=first.data_dir, name="intruder")
    proc = second.spawn()
    try:
        code = proc.wait(15)
    except subprocess.TimeoutExpired:
        second.kill()
        raise AssertionError(f"a second scute on {first.data_dir} kept running; its output:\n{second.log()}")
    out = second.log()
    assert code != 0, f"second scute exited 0; output:\n{out}"
    assert re.search(r"(?i)lock", out), f"second scute's output does not mention the lock:\n{out}"
    assert str(first.data_dir) in out or "data" in out.lower(), f"message should name the data directory:\n{out}"

    # The first one is unharmed.
    r = requests.get(f"{first.url}/subjects", timeout=10)
    assert r.status_code == 200 and r.json() == ["owned"], r.text
    first.stop_clean()
