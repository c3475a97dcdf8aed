"""The Kafka backend against a real Kafka-protocol broker (tansu 0.6.0, in memory).

Every test gets its own broker. Fixture records are produced and the topic is
read back with confluent-kafka (librdkafka), a client nobody here wrote.

"Caught up" never relies on the broker's high watermark (tansu 0.6.0 reports
it wrong after multi-record batches): a starting node writes a NOOP marker and
serves once it has read it back; a writer catches up the same way.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from conftest import alarms, kafka_args, wait_serving

VND = "application/vnd.schemaregistry.v1+json"


# -- helpers -----------------------------------------------------------------

def grpc_health(server) -> str:
    """The registry service's status from grpc.health.v1 (grpcurl)."""
    from test_grpcurl import grpcurl_binary

    done = subprocess.run(
        [grpcurl_binary(), "-plaintext", "-max-time", "20", "-d",
         '{"service":"scute.registry.v1.SchemaRegistry"}', server.grpc_addr, "grpc.health.v1.Health/Check"],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["status"]


def create_topic(broker, topic: str, partitions: int = 1, policy: str = "compact") -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.create_topics([NewTopic(topic, partitions, 1, config={"cleanup.policy": policy})])
    futures[topic].result(30)


def produce(broker, topic: str, records: list[tuple[str, str | None]]) -> None:
    """Produces (key, value-or-None) records in order, one message each."""
    p = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 0})
    for key, value in records:
        p.produce(topic, key=key.encode(), value=None if value is None else value.encode(), partition=0)
        p.flush(30)  # one record per batch
    assert p.flush(30) == 0


def read_topic(broker, topic: str) -> list[tuple[int, dict, dict | None]]:
    """Every record of the topic up to its end: (offset, key, value)."""
    c = Consumer({
        "bootstrap.servers": broker.bootstrap,
        "group.id": f"reader-{uuid.uuid4()}",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
    })
    c.assign([TopicPartition(topic, 0, 0)])
    out = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            m = c.poll(1.0)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    return out
                raise AssertionError(m.error())
            value = m.value()
            out.append((m.offset(), json.loads(m.key()), None if value is None else json.loads(value)))
    finally:
        c.close()
    raise AssertionError("did not reach the end of the topic")


def register(session, url: str, subject: str, schema: str) -> requests.Response:
    return session.post(f"{url}/subjects/{subject}/versions", data=json.dumps({"schema": schema}),
                        headers={"Content-Type": VND}, timeout=60)


def record_schema(name: str) -> str:
    return json.dumps({"type": "record", "name": name, "fields": [{"name": "f_" + name, "type": "long"}]},
                      separators=(",", ":"))


def eventually(read, until, seconds: float = 60):
    """What `read` returns once `until` holds of it, or its last answer after
    `seconds`: a node reading the topic catches up on its own time."""
    deadline = time.monotonic() + seconds
    got = read()
    while not until(got) and time.monotonic() < deadline:
        time.sleep(0.2)
        got = read()
    return got


def versions_of(url: str, subject: str) -> list[int]:
    return requests.get(f"{url}/subjects/{subject}/versions", timeout=30).json()


def start_node(scute_factory, broker, topic="_schemas", node=None, name="kafka"):
    server = scute_factory(name=name).start(kafka_args(broker, topic, node))
    wait_serving(server)
    return server


def state_of(url: str) -> dict:
    """Everything a client can list: subjects, versions with ids, configs."""
    s = requests.Session()
    subjects = s.get(f"{url}/subjects?deleted=true", timeout=30).json()
    out = {"subjects": subjects, "versions": {}}
    for subject in subjects:
        r = s.get(f"{url}/schemas?subjectPrefix={subject}&deleted=true", timeout=30).json()
        out["versions"][subject] = sorted(
            (x["version"], x["id"], x["schema"]) for x in r if x["subject"] == subject)
    out["config"] = s.get(f"{url}/config", timeout=30).json()
    return out


# -- the topic -----------------------------------------------------------------

def test_creates_the_topic_and_writes_records_confluent_reads(scute_factory, broker):
    server = start_node(scute_factory, broker, node=7)
    s = requests.Session()
    r = register(s, server.url, "orders-value", record_schema("Order"))
    assert r.status_code == 200, r.text
    sid = r.json()["id"]
    r = s.put(f"{server.url}/config/orders-value", json={"compatibility": "FULL"}, timeout=30)
    assert r.status_code == 200, r.text

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    topics = admin.list_topics(timeout=30).topics
    assert len(topics["_schemas"].partitions) == 1
    configs = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "_schemas")])
    config = list(configs.values())[0].result(30)
    assert config["cleanup.policy"].value == "compact"

    records = read_topic(broker, "_schemas")
    schemas = [(o, k, v) for o, k, v in records if k["keytype"] == "SCHEMA"]
    assert len(schemas) == 1
    offset, key, value = schemas[0]
    # Confluent's key fields and order, then Redpanda's stamp: the offset the
    # writer expected, which is where it landed.
    assert list(key) == ["keytype", "subject", "version", "magic", "seq", "node"]
    assert (key["subject"], key["version"], key["magic"], key["seq"], key["node"]) == ("orders-value", 1, 1, offset, 7)
    assert value["id"] == sid and value["subject"] == "orders-value" and value["version"] == 1
    assert json.loads(value["schema"]) == json.loads(record_schema("Order"))
    assert value["deleted"] is False
    configs = [(k, v) for _, k, v in records if k["keytype"] == "CONFIG"]
    assert configs and configs[-1][1]["compatibilityLevel"] == "FULL"
    # NOOPs: the start-up marker and each writer's catch-up.
    assert any(k == {"keytype": "NOOP", "magic": 0} and v is None for _, k, v in records)
    # Start, replay, writes that read their records back, stop: nothing in
    # the log tells an operator to act (reading to the end of the topic is
    # how a reader knows it caught up, not an error).
    server.stop_clean()
    assert not alarms(server.log()), server.log()


def test_a_hard_delete_tombstones_every_key_the_version_was_written_under(scute_factory, broker):
    """Compaction keeps each key's newest record: a stamped key left without
    a tombstone would bring a hard-deleted version back after compaction."""
    server = start_node(scute_factory, broker, node=3)
    s = requests.Session()
    assert register(s, server.url, "doomed", record_schema("Doomed")).status_code == 200
    assert s.delete(f"{server.url}/subjects/doomed/versions/1", timeout=30).status_code == 200
    r = s.delete(f"{server.url}/subjects/doomed/versions/1?permanent=true", timeout=30)
    assert r.status_code == 200, r.text
    records = read_topic(broker, "_schemas")
    keyed = [(json.dumps(k, sort_keys=True), v) for _, k, v in records
             if k["keytype"] == "SCHEMA" and k.get("subject") == "doomed"]
    written = {k for k, v in keyed if v is not None}
    assert len(written) == 2, "registration and soft delete, each under its own stamped key"
    for key in written:
        last = [v for k, v in keyed if k == key][-1]
        assert last is None, f"no tombstone after the last record under {key}"
    assert s.get(f"{server.url}/subjects/doomed/versions?deleted=true", timeout=30).status_code == 404


@pytest.mark.parametrize("partitions,policy,message", [
    (2, "compact", r"2 partitions.*exactly 1"),
    (1, "delete", r"cleanup.policy=delete.*compact"),
])
def test_refuses_a_topic_it_cannot_trust(scute_factory, broker, partitions, policy, message):
    create_topic(broker, "bad", partitions, policy)
    server = scute_factory(name="refused")
    proc = server.spawn(kafka_args(broker, "bad"))
    code = proc.wait(60)
    assert code != 0
    assert re.search(message, server.log()), server.log()


# -- replay ----------------------------------------------------------------------

STRING = '\\"string\\"'


def foreign_records() -> list[tuple[str, str | None]]:
    def schema(subject, version, sid, extra=""):
        return f'{{"subject":"{subject}","version":{version},"id":{sid},{extra}"schema":"{STRING}","deleted":false}}'

    return [
        # Confluent 7.x: NOOP, global config with a null subject, no schemaType for AVRO.
        ('{"keytype":"NOOP","magic":0}', None),
        ('{"keytype":"CONFIG","subject":null,"magic":0}', '{"compatibilityLevel":"FULL"}'),
        ('{"keytype":"SCHEMA","subject":"c7","version":1,"magic":1}', schema("c7", 1, 1)),
        # Confluent 8.x: schemaType always, fields Scute does not use.
        ('{"keytype":"SCHEMA","subject":"c8","version":1,"magic":1}',
         schema("c8", 1, 1, '"schemaType":"AVRO","ts":1700000000000,')),
        # Karapace: magic 0 and its own key order.
        ('{"subject":"karapace","version":1,"magic":0,"keytype":"SCHEMA"}',
         '{"subject":"karapace","version":1,"id":2,"schema":"\\"int\\"","deleted":false}'),
        ('{"keytype":"SCHEMA","subject":"karapace","version":2,"magic":1}',
         '{"subject":"karapace","version":2,"id":3,"schema":"\\"long\\"","deleted":false}'),
        ('{"keytype":"CONFIG","subject":"c7","magic":0}', '{"compatibilityLevel":"NONE","alias":"kept"}'),
        ('{"keytype":"MODE","subject":"c8","magic":0}', '{"subject":"c8","mode":"READONLY"}'),
        ('{"keytype":"MODE","subject":null,"magic":0}', '{"mode":"READWRITE"}'),
        ('{"keytype":"DELETE_SUBJECT","subject":"karapace","magic":0}', '{"subject":"karapace","version":1}'),
        ('{"keytype":"CONTEXT","tenant":"default","context":".x","magic":0}', '{"tenant":"default","context":".x"}'),
        ('{"keytype":"SCHEMA"', "not json"),
        ('{"keytype":"SCHEMA","subject":"gone","version":1,"magic":1}', schema("gone", 1, 9)),
        ('{"keytype":"SCHEMA","subject":"gone","version":1,"magic":1}', None),
        # A Redpanda-stamped record that lost its race (seq is not where it lands).
        ('{"keytype":"SCHEMA","subject":"lost","version":1,"magic":1,"seq":0,"node":5}', schema("lost", 1, 4)),
    ]


def test_replays_a_topic_written_by_confluent_and_karapace(scute_factory, broker):
    create_topic(broker, "_schemas")
    produce(broker, "_schemas", foreign_records())
    server = start_node(scute_factory, broker)
    s = requests.Session()
    get = lambda path: s.get(server.url + path, timeout=30).json()  # noqa: E731
    assert get("/subjects") == ["c7", "c8", "karapace"]
    assert get("/schemas/ids/1/subjects") == ["c7", "c8"]
    assert get("/schemas/ids/1") == {
        "guid": "095d71cf-1255-6b9d-5e33-0ad575b3df5d", "schemaType": "AVRO", "schema": '"string"'}
    assert get("/subjects/karapace/versions") == [2]
    assert get("/subjects/karapace/versions?deleted=true") == [1, 2]
    assert get("/config") == {"compatibilityLevel": "FULL"}
    assert get("/config/c7")["alias"] == "kept"
    assert get("/mode/c8") == {"mode": "READONLY"}
    assert get("/schemas/ids/9")["error_code"] == 40403
    assert get("/schemas/ids/4")["error_code"] == 40403, "a record that lost its race must be ignored"
    r = register(s, server.url, "new", '"bytes"')
    assert r.status_code == 200, r.text
    assert r.json()["id"] == 10


def test_answers_503_until_replayed_never_a_stale_answer(scute_factory, broker):
    """Relies on the start-up NOOP marker, not on the high watermark."""
    n = 20_000
    create_topic(broker, "_schemas")
    records = []
    for i in range(n):
        subject = f"s{i:05}"
        value = json.dumps({"subject": subject, "version": 1, "id": i + 1, "schema": record_schema(f"R{i}"),
                            "deleted": False}, separators=(",", ":"))
        records.append((f'{{"keytype":"SCHEMA","subject":"{subject}","version":1,"magic":1}}', value))
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    for key, value in records:
        p.produce("_schemas", key=key.encode(), value=value.encode(), partition=0)
    assert p.flush(60) == 0

    server = scute_factory(name="replay")
    server.spawn(kafka_args(broker))
    s = requests.Session()
    while True:  # polls from the moment the REST port accepts
        assert server.running(), server.log()
        try:
            s.get(f"{server.url}/", timeout=30)
            break
        except requests.ConnectionError:
            time.sleep(0.01)
    seen_503 = 0
    health_seen = []
    while True:
        # gRPC health first: once it says SERVING, REST must answer in full.
        health = grpc_health(server)
        health_seen.append(health)
        r = s.get(f"{server.url}/subjects", timeout=30)
        if r.status_code == 503:
            assert health == "NOT_SERVING", "health said SERVING before the replay was done"
            body = r.json()
            assert body["error_code"] == 50003, body
            assert "still reading the schemas topic" in body["message"], body
            seen_503 += 1
            continue
        assert r.status_code == 200, r.text
        assert len(r.json()) == n, "the first answer after replay must be complete"
        break
    print(f"503 answers while replaying: {seen_503}; health answers: {health_seen}")
    assert s.get(f"{server.url}/schemas/ids/{n}", timeout=30).status_code == 200
    assert grpc_health(server) == "SERVING"


# -- many nodes ----------------------------------------------------------------

def test_two_nodes_register_500_schemas_at_once(scute_factory, broker):
    a = start_node(scute_factory, broker, node=1, name="a")
    b = start_node(scute_factory, broker, node=2, name="b")
    r = requests.put(f"{a.url}/config/one", json={"compatibility": "NONE"}, timeout=30)
    assert r.status_code == 200, r.text
    n = 500
    # Half under one subject, half across subjects; each node takes every other one.
    jobs = [("one" if i < n // 2 else f"many-{i}", record_schema(f"S{i}")) for i in range(n)]
    acked: dict[int, dict] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def work(node, parity, thread):
        s = requests.Session()
        for i in range(n):
            if i % 2 != parity or (i // 2) % 3 != thread:
                continue
            subject, schema = jobs[i]
            r = register(s, node.url, subject, schema)
            with lock:
                if r.status_code == 200:
                    acked[i] = r.json()
                else:
                    errors.append(f"{i}: {r.status_code} {r.text}")

    threads = [threading.Thread(target=work, args=(node, parity, t))
               for node, parity in ((a, 0), (b, 1)) for t in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    assert len(acked) == n
    ids = [v["id"] for v in acked.values()]
    assert len(set(ids)) == n, "two distinct schemas share an id"
    one = sorted(v["version"] for i, v in acked.items() if jobs[i][0] == "one")
    assert one == list(range(1, n // 2 + 1)), "versions of one subject must be 1..N without gaps"
    # Each write returned once applied on its node; the other node catches
    # up on its own, and must then hold every version, none skipped.
    for node in (a, b):
        want = list(range(1, n // 2 + 1))
        assert eventually(lambda: versions_of(node.url, "one"), until=lambda got: got == want) == want
    state_a = state_of(a.url)
    assert eventually(lambda: state_of(b.url), until=lambda got: got == state_a) == state_a


def test_every_node_reads_every_record_of_writers_racing_on_the_broker(scute_factory, broker):
    """Six Confluent-style writers produce at once while two nodes read.

    Under concurrent produces tansu 0.6.0 can show a fetch a record before
    the one below it is stored, so a reader that trusts every gap skips that
    record for good (seen with librdkafka's own consumer here). Every node
    must still end up with every record.
    """
    a = start_node(scute_factory, broker, node=1, name="a")
    b = start_node(scute_factory, broker, node=2, name="b")
    writers, each = 6, 600

    def records(w):
        for i in range(each):
            subject, sid = f"w{w}-{i}", 1000 + w * each + i
            key = f'{{"keytype":"SCHEMA","subject":"{subject}","version":1,"magic":1}}'
            yield key, json.dumps({"subject": subject, "version": 1, "id": sid,
                                   "schema": record_schema(f"W{w}_{i}"), "deleted": False})

    with ThreadPoolExecutor(writers) as pool:
        done = [pool.submit(produce, broker, "_schemas", list(records(w))) for w in range(writers)]
        for writer in done:
            writer.result()  # a writer's failure is the test's, not a "skipped" record
    expected = sorted(f"w{w}-{i}" for w in range(writers) for i in range(each))
    for node in (a, b):
        subjects = eventually(lambda: sorted(requests.get(f"{node.url}/subjects", timeout=30).json()),
                              until=lambda got: len(got) >= len(expected))
        assert subjects == expected, f"{node.name} skipped {sorted(set(expected) - set(subjects))[:5]}"
    r = requests.get(f"{b.url}/schemas/ids/{1000 + writers * each - 1}", timeout=30)
    assert r.status_code == 200, r.text


def test_the_same_schema_raced_from_two_nodes_gets_one_id(scute_factory, broker):
    a = start_node(scute_factory, broker, node=1, name="a")
    b = start_node(scute_factory, broker, node=2, name="b")
    for round_ in range(15):
        schema = record_schema(f"Raced{round_}")
        barrier = threading.Barrier(2)
        answers = {}

        def go(node, subject):
            barrier.wait()
            answers[node.url, subject] = register(requests.Session(), node.url, subject, schema)

        # The same subject from both nodes, then two subjects.
        for subjects in ((f"same{round_}", f"same{round_}"), (f"x{round_}", f"y{round_}")):
            answers.clear()
            ts = [threading.Thread(target=go, args=(node, subject)) for node, subject in zip((a, b), subjects)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            replies = list(answers.values())
            assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
            assert replies[0].json()["id"] == replies[1].json()["id"]
            if subjects[0] == subjects[1]:
                assert replies[0].json()["version"] == replies[1].json()["version"]


# -- faults ----------------------------------------------------------------------

def test_broker_stopped_reads_served_writes_fail_then_resume(scute_factory, broker):
    server = start_node(scute_factory, broker)
    s = requests.Session()
    r = register(s, server.url, "before", record_schema("Before"))
    assert r.status_code == 200, r.text
    sid = r.json()["id"]

    broker.pause()
    try:
        for i in range(3):
            r = s.get(f"{server.url}/schemas/ids/{sid}", timeout=30)
            assert r.status_code == 200 and json.loads(r.json()["schema"]) == json.loads(record_schema("Before"))
            assert s.get(f"{server.url}/subjects", timeout=30).json() == ["before"]
            r = register(s, server.url, f"during{i}", record_schema(f"During{i}"))
            assert r.status_code == 500, r.text
            body = r.json()
            assert body["error_code"] in (50001, 50002), body
            assert re.search(r"(?i)kafka|broker|schemas topic", body["message"]), body
    finally:
        broker.resume()

    # Service resumes: a write goes through once the client has reconnected.
    for _ in range(60):
        r = register(s, server.url, "after", record_schema("After"))
        if r.status_code == 200:
            break
        time.sleep(1)
    assert r.status_code == 200, r.text
    assert r.json()["id"] != sid
    assert s.get(f"{server.url}/schemas/ids/{sid}", timeout=30).status_code == 200


def test_a_node_killed_during_registrations_restarts_with_everything(scute_factory, broker):
    a = start_node(scute_factory, broker, node=1, name="a")
    b = start_node(scute_factory, broker, node=2, name="b")
    acked: list[tuple[str, str, int, int]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def work(node, w):
        s = requests.Session()
        for i in range(10_000):
            if stop.is_set():
                return
            subject, schema = f"k{w}-{i}", record_schema(f"K{w}x{i}")
            try:
                r = register(s, node.url, subject, schema)
            except requests.RequestException:
                return
            if r.status_code == 200:
                with lock:
                    acked.append((subject, schema, r.json()["id"], r.json()["version"]))

    threads = [threading.Thread(target=work, args=(node, w)) for w, node in enumerate((a, a, b, b))]
    for t in threads:
        t.start()
    while True:
        with lock:
            if len(acked) >= 60:
                break
        time.sleep(0.01)
    b.kill()
    with lock:
        at_kill = len(acked)
    time.sleep(0.5)  # a keeps writing without b
    stop.set()
    for t in threads:
        t.join()
    assert at_kill >= 60

    b.start(kafka_args(broker, node=2))
    wait_serving(b)
    ids = [x[2] for x in acked]
    assert len(set(ids)) == len(ids)
    for node in (a, b):
        s = requests.Session()
        for subject, schema, sid, version in acked:
            r = s.post(f"{node.url}/subjects/{subject}", data=json.dumps({"schema": schema}),
                       headers={"Content-Type": VND}, timeout=30)
            assert r.status_code == 200, f"{node.name} lost {subject}: {r.text}"
            assert (r.json()["id"], r.json()["version"]) == (sid, version)


# -- backup and restore ----------------------------------------------------------

def run_scute(bin_path, *args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCUTE_")}
    return subprocess.run([str(bin_path), *args], capture_output=True, text=True, timeout=120, env=env)


def test_move_from_a_kafka_topic_to_the_embedded_store_and_back(scute_factory, scute_bin, broker, tmp_path):
    # A topic written by Confluent and Karapace, then by two Scute nodes.
    create_topic(broker, "_schemas")
    produce(broker, "_schemas", foreign_records())
    a = start_node(scute_factory, broker, node=1, name="a")
    b = start_node(scute_factory, broker, node=2, name="b")
    s = requests.Session()
    for i in range(10):
        node = (a, b)[i % 2]
        assert register(s, node.url, f"moved-{i % 3}", '"string"' if i == 0 else record_schema(f"M{i}")).status_code in (200, 409)
    before = state_of(a.url)
    a.stop_clean()
    b.stop_clean()

    backup = tmp_path / "schemas.txt"
    done = run_scute(scute_bin, "--kafka-bootstrap", broker.bootstrap, "backup", "--to", str(backup))
    assert done.returncode == 0, done.stderr
    lines = backup.read_text().splitlines()
    assert all("\t" in line for line in lines)
    assert not any('"seq"' in line.split("\t")[0] for line in lines), "the backup must hold plain Confluent keys"

    # Into an embedded store: the same state.
    data = tmp_path / "embedded"
    done = run_scute(scute_bin, "--data-dir", str(data), "restore", "--from", str(backup))
    assert done.returncode == 0, done.stderr
    embedded = scute_factory(data_dir=data, name="embedded").start()
    assert state_of(embedded.url) == before
    r = register(s, embedded.url, "after-move", '"bytes"')
    assert r.status_code == 200, r.text
    embedded.stop_clean()

    # A restore never overwrites: the store is not empty any more.
    done = run_scute(scute_bin, "--data-dir", str(data), "restore", "--from", str(backup))
    assert done.returncode != 0 and "not empty" in done.stderr, done.stderr

    # And back to a fresh topic.
    back = tmp_path / "back.txt"
    done = run_scute(scute_bin, "--data-dir", str(data), "backup", "--to", str(back))
    assert done.returncode == 0, done.stderr
    done = run_scute(scute_bin, "--kafka-bootstrap", broker.bootstrap, "--kafka-topic", "moved", "restore", "--from", str(back))
    assert done.returncode == 0, done.stderr
    c = start_node(scute_factory, broker, topic="moved", name="c")
    state = state_of(c.url)
    assert state["subjects"] == sorted(before["subjects"] + ["after-move"])
    for subject in before["subjects"]:
        assert state["versions"][subject] == before["versions"][subject]


def test_associations_travel_between_nodes_and_confluents_records_replay(scute_factory, broker):
    """ASSOC records: Confluent's replay on Scute; Scute's, written in
    Confluent's key shape, reach every node, and a delete tombstones every key
    the association was written under."""
    create_topic(broker, "_schemas")
    confluent_key = ('{"keytype":"ASSOC","tenant":"default","resourceName":"payments","resourceNamespace":"lkc-1",'
                     '"resourceType":"topic","associationType":"value","subject":"c7","magic":0}')
    schema = '{{"subject":"{0}","version":1,"id":{1},"schemaType":"AVRO","schema":"\\"{2}\\"","deleted":false}}'
    produce(broker, "_schemas", [
        ('{"keytype":"SCHEMA","subject":"c7","version":1,"magic":1}', schema.format("c7", 1, "string")),
        ('{"keytype":"SCHEMA","subject":"k1","version":1,"magic":1}', schema.format("k1", 2, "int")),
        (confluent_key,
         '{"guid":"7f1c1a52-0b8e-4b5e-9a43-5e1f0c0f2d11","tenant":"default","resourceName":"payments",'
         '"resourceNamespace":"lkc-1","resourceId":"rid-c","resourceType":"topic","associationType":"value",'
         '"subject":"c7","lifecycle":"WEAK","frozen":false}'),
    ])
    a = start_node(scute_factory, broker, node=1, name="a")
    b = start_node(scute_factory, broker, node=2, name="b")
    s = requests.Session()
    listed = s.get(f"{b.url}/associations/resources/rid-c", timeout=30).json()
    assert listed == [{
        "subject": "c7", "guid": "7f1c1a52-0b8e-4b5e-9a43-5e1f0c0f2d11", "resourceName": "payments",
        "resourceNamespace": "lkc-1", "resourceId": "rid-c", "resourceType": "topic",
        "associationType": "value", "lifecycle": "WEAK", "frozen": False,
    }]
    r = s.delete(f"{a.url}/subjects/c7", timeout=30)
    assert (r.status_code, r.json()["error_code"]) == (409, 40904)

    body = {"resourceName": "orders", "resourceNamespace": "lkc-1", "resourceId": "rid-o",
            "associations": [{"subject": "k1"}]}
    r = s.post(f"{a.url}/associations", json=body, timeout=30)
    assert r.status_code == 200, r.text
    on_b = eventually(lambda: s.get(f"{b.url}/associations/resources/rid-o", timeout=30).json(), lambda x: len(x) == 1)
    assert [(x["subject"], x["lifecycle"]) for x in on_b] == [("k1", "WEAK")]
    r = s.delete(f"{b.url}/associations/resources/rid-o", timeout=30)
    assert r.status_code == 204, r.text
    assert eventually(lambda: s.get(f"{a.url}/associations/resources/rid-o", timeout=30).json(), lambda x: x == []) == []

    records = read_topic(broker, "_schemas")
    ours = [(k, v) for _, k, v in records if k["keytype"] == "ASSOC" and k.get("resourceName") == "orders"]
    written = [k for k, v in ours if v is not None]
    assert len(written) == 1
    assert list(written[0]) == ["keytype", "tenant", "resourceName", "resourceNamespace", "resourceType",
                                "associationType", "subject", "magic", "seq", "node"]
    value = [v for k, v in ours if v is not None][0]
    assert list(value)[:10] == ["guid", "tenant", "resourceName", "resourceNamespace", "resourceId",
                                "resourceType", "associationType", "subject", "lifecycle", "frozen"]
    tombstoned = [k for k, v in ours if v is None]
    plain = {x: y for x, y in written[0].items() if x not in ("seq", "node")}
    assert plain in tombstoned, "the key Confluent compacts on"
    assert written[0] in tombstoned, "the stamped key it was written under"


def test_contexts_travel_between_nodes_in_confluents_records(scute_factory, broker):
    """A context Confluent made replays; one Scute makes reaches every node;
    each node names the broker's cluster in its metadata."""
    create_topic(broker, "_schemas")
    schema = '{{"subject":"{0}","version":1,"id":{1},"schemaType":"AVRO","schema":"\\"{2}\\"","deleted":false}}'
    produce(broker, "_schemas", [
        ('{"keytype":"CONTEXT","tenant":"default","context":".conf","magic":0}',
         '{"tenant":"default","context":".conf"}'),
        ('{"keytype":"SCHEMA","subject":":.conf:c","version":1,"magic":1}', schema.format(":.conf:c", 1, "string")),
        ('{"keytype":"SCHEMA","subject":"c","version":1,"magic":1}', schema.format("c", 1, "int")),
    ])
    a = start_node(scute_factory, broker, node=1, name="a")
    b = start_node(scute_factory, broker, node=2, name="b")
    s = requests.Session()
    assert s.get(f"{a.url}/contexts", timeout=30).json() == [".", ".conf"]
    assert s.get(f"{a.url}/schemas/ids/1?subject=:.conf:c", timeout=30).json()["schema"] == '"string"'
    assert s.get(f"{a.url}/schemas/ids/1", timeout=30).json()["schema"] == '"int"'
    r = s.post(f"{a.url}/contexts/.ours/subjects/x/versions", json={"schema": '"long"'}, timeout=30)
    assert (r.status_code, r.json()["id"]) == (200, 1), r.text
    on_b = eventually(lambda: s.get(f"{b.url}/contexts", timeout=30).json(), lambda x: ".ours" in x)
    assert on_b == [".", ".conf", ".ours"]
    records = read_topic(broker, "_schemas")
    ours = [k for _, k, v in records if k["keytype"] == "CONTEXT" and k.get("context") == ".ours" and v]
    assert ours and list(ours[0])[:4] == ["keytype", "tenant", "context", "magic"]
    ident = s.get(f"{b.url}/v1/metadata/id", timeout=30).json()
    assert ident["scope"]["clusters"]["schema-registry-cluster"] == "schema-registry"
    assert ident["scope"]["clusters"].get("kafka-cluster"), ident
