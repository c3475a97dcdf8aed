"""No request takes Scute down: bounded schemas, and server limits that
answer instead of hanging, checked against the real binary.

Each test starts its own server with the limits it exercises set low, opens
real sockets (raw ones where a client must misbehave) and asserts what a
client sees: the status, the `error_code` and the message naming the limit.
"""

from __future__ import annotations

import json
import resource
import socket
import threading
import time

import grpc
import pytest
import requests
from google.rpc import error_details_pb2
from grpc_status import rpc_status

VND = "application/vnd.schemaregistry.v1+json"
SERVICE = "scute.registry.v1.SchemaRegistry"


@pytest.fixture(autouse=True, scope="module")
def many_files():
    """Thousands of sockets: raise this process's open-files limit as far as allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def post(url: str, path: str, body: dict, timeout: float = 60) -> requests.Response:
    return requests.post(url + path, data=json.dumps(body), headers={"Content-Type": VND}, timeout=timeout)


def nested_proto(depth: int) -> str:
    return 'syntax = "proto3";\n' + "message M { " * depth + "int32 a = 1; " + "}" * depth


def nested_avro(records: int) -> str:
    """Records nested `records` deep: three JSON levels each (text built
    directly: Python's json module recurses too)."""
    text = f'{{"type": "record", "name": "R{records}", "fields": [{{"name": "x", "type": "int"}}]}}'
    for n in range(records - 1, 0, -1):
        text = f'{{"type": "record", "name": "R{n}", "fields": [{{"name": "f", "type": {text}}}]}}'
    return text


def nested_json(depth: int) -> str:
    return '{"type": "array", "items": ' * (depth - 1) + '{"type": "integer"}' + "}" * (depth - 1)


def varint(n: int) -> bytes:
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited Protobuf field."""
    return varint((number << 3) | 2) + varint(len(payload)) + payload


def error_of(r: requests.Response) -> tuple[int, int, str]:
    body = r.json()
    return r.status_code, body["error_code"], body["message"]


def grpc_call(server, method: str = "GetSchemaTypes", timeout: float = 20):
    """One unary call with an empty request; (result, None) or (None, (code, error_code, message))."""
    with grpc.insecure_channel(server.grpc_addr) as channel:
        call = channel.unary_unary(f"/{SERVICE}/{method}", request_serializer=lambda _: b"",
                                   response_deserializer=lambda b: b)
        try:
            return call(None, timeout=timeout), None
        except grpc.RpcError as err:
            status = rpc_status.from_call(err)
            error_code = None
            for detail in status.details if status else []:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    error_code = int(info.metadata["error_code"])
            return None, (err.code(), error_code, err.details())


def grpc_raw(server, method: str, request: bytes):
    """One unary call with a request encoded by hand; raises grpc.RpcError."""
    with grpc.insecure_channel(server.grpc_addr) as channel:
        call = channel.unary_unary(f"/{SERVICE}/{method}", request_serializer=lambda x: x,
                                   response_deserializer=lambda b: b)
        return call(request, timeout=20)


def open_sockets(port: int, n: int) -> list[socket.socket]:
    out = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        out.append(s)
    return out


def closed_by_server(s: socket.socket, wait: float) -> bool:
    """Whether the server closed `s` within `wait` seconds (reading anything it sent first)."""
    s.settimeout(wait)
    deadline = time.monotonic() + wait
    try:
        while time.monotonic() < deadline:
            if not s.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


# -- schemas ---------------------------------------------------------------------


def test_a_schema_nested_past_the_limit_is_42201_naming_it_and_the_server_goes_on(scute):
    # The request that used to abort the process: 1,000 nested messages.
    r = post(scute.url, "/subjects/deep/versions", {"schemaType": "PROTOBUF", "schema": nested_proto(1000)})
    status, code, message = error_of(r)
    assert (status, code) == (422, 42201), r.text
    assert "deeper than 128 levels at line 2, column 1547" in message
    assert "--max-schema-depth" in message
    for schema_type, schema in (("AVRO", nested_avro(50)), ("JSON", nested_json(200))):
        r = post(scute.url, "/subjects/deep/versions", {"schemaType": schema_type, "schema": schema})
        status, code, message = error_of(r)
        assert (status, code) == (422, 42201), r.text
        assert "deeper than 128 levels" in message, message
    # Over gRPC, a FileDescriptorSet nested past every limit: protoc would
    # not write one, so it is built by hand, as an attacker would.
    from google.protobuf import descriptor_pb2

    fds = descriptor_pb2.FileDescriptorSet()
    f = fds.file.add(name="deep.proto", syntax="proto3")
    m = f.message_type.add(name="M0")
    for n in range(1, 150):
        m = m.nested_type.add(name=f"M{n}")
    # RegisterSchemaRequest{subject: 1, file_descriptor_set: 10}, encoded by
    # hand to keep the test free of generated stubs.
    request = field(1, b"deep-grpc") + field(10, fds.SerializeToString())
    with pytest.raises(grpc.RpcError) as err:
        grpc_raw(scute, "RegisterSchema", request)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value
    assert "Invalid file_descriptor_set" in err.value.details(), err.value.details()
    # Still serving.
    r = post(scute.url, "/subjects/ok/versions", {"schema": json.dumps({"type": "string"})})
    assert r.status_code == 200, r.text
    assert scute.running()


def test_schemas_nested_to_the_largest_limit_are_served_whole(scute_factory):
    """At --max-schema-depth 1000 every format parses, prints, normalizes and
    compares schemas nested that deep: the work runs on threads whose stack
    holds it, in the unoptimized build the tests run."""
    server = scute_factory().start(["--max-schema-depth", "1000"])
    cases = [
        ("PROTOBUF", nested_proto(990), nested_proto(990).replace("int32 a = 1;", "int32 a = 1; string b = 2;")),
        ("AVRO", nested_avro(330), nested_avro(330).replace('"type": "int"}', '"type": "long"}')),
        ("JSON", nested_json(990), nested_json(990).replace('"integer"', '"number"')),
    ]
    for schema_type, first, second in cases:
        subject = f"deep-{schema_type}"
        r = post(server.url, f"/subjects/{subject}/versions", {"schemaType": schema_type, "schema": first})
        assert r.status_code == 200, r.text[:500]
        r = post(server.url, f"/subjects/{subject}/versions?normalize=true", {"schemaType": schema_type, "schema": second})
        assert r.status_code == 200, r.text[:500]
        r = post(server.url, f"/compatibility/subjects/{subject}/versions?verbose=true",
                 {"schemaType": schema_type, "schema": first})
        assert r.status_code == 200, r.text[:500]
    r = requests.get(f"{server.url}/subjects/deep-PROTOBUF/versions/1?format=serialized", timeout=60)
    assert r.status_code == 200 and r.json()["schema"], r.text[:500]
    assert server.running()


def test_work_past_its_deadline_is_50002_naming_the_limit(scute_factory):
    server = scute_factory().start(["--compute-deadline-ms", "1"])
    big = json.dumps({"type": "object", "properties": {
        f"p{i}": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}
        for i in range(3000)}})
    r = post(server.url, "/subjects/big/versions", {"schemaType": "JSON", "schema": big})
    status, code, message = error_of(r)
    assert (status, code) == (500, 50002), r.text
    assert message == "Parsing a JSON schema took longer than the 1 ms allowed (--compute-deadline-ms)"
    # Lookups need no such work.
    assert requests.get(f"{server.url}/subjects", timeout=10).status_code == 200


# -- connections and requests --------------------------------------------------


def test_idle_and_slowly_sending_connections_do_not_stop_normal_requests(scute_factory):
    server = scute_factory().start(["--http-header-timeout-ms", "2000", "--http-idle-timeout-ms", "3000",
                                    "--grpc-idle-timeout-ms", "3000"])
    r = post(server.url, "/subjects/s/versions", {"schema": json.dumps({"type": "string"})})
    assert r.status_code == 200, r.text
    sid = r.json()["id"]

    idle = open_sockets(server.rest_port, 1500)
    grpc_idle = open_sockets(server.grpc_port, 500)
    slow = open_sockets(server.rest_port, 300)
    stop = threading.Event()

    def trickle():
        # A request head, one byte at a time, never finished.
        head = b"POST /subjects/x/versions HTTP/1.1\r\nHost: scute\r\nX-Slow: " + b"a" * 10_000
        i = 0
        while not stop.is_set() and i < len(head):
            for s in slow:
                try:
                    s.send(head[i:i + 1])
                except OSError:
                    pass
            i += 1
            stop.wait(0.25)

    t = threading.Thread(target=trickle)
    t.start()
    try:
        session = requests.Session()
        for _ in range(200):
            r = session.get(f"{server.url}/schemas/ids/{sid}", timeout=10)
            assert r.status_code == 200, r.text
        result, error = grpc_call(server)
        assert error is None and result is not None, error
        # The slow heads run out of time, the idle connections too.
        assert all(closed_by_server(s, 10) for s in slow[:20]), "a trickled request head outlived the header timeout"
        assert all(closed_by_server(s, 10) for s in idle[:20]), "an idle keep-alive connection outlived the idle timeout"
        assert all(closed_by_server(s, 10) for s in grpc_idle[:20]), "an idle gRPC connection outlived its timeout"
        r = session.get(f"{server.url}/schemas/ids/{sid}", timeout=10)
        assert r.status_code == 200, r.text
    finally:
        stop.set()
        t.join()
        for s in idle + grpc_idle + slow:
            s.close()
    assert server.running()


def test_connections_beyond_the_limit_are_answered_503(scute_factory):
    server = scute_factory().start(["--max-connections", "20"])
    held = open_sockets(server.rest_port, 20)
    time.sleep(0.3)
    r = requests.get(f"{server.url}/schemas/types", timeout=10)
    status, code, message = error_of(r)
    assert (status, code) == (503, 503), r.text
    assert message == "Scute has 20 connections open on this port, its limit (--max-connections); retry shortly"
    for s in held:
        s.close()
    time.sleep(0.3)
    assert requests.get(f"{server.url}/schemas/types", timeout=10).status_code == 200

    grpc_held = open_sockets(server.grpc_port, 20)
    time.sleep(0.3)
    result, error = grpc_call(server)
    assert result is None and error is not None
    assert error[0] == grpc.StatusCode.RESOURCE_EXHAUSTED and error[1] == 503, error
    assert "--max-connections" in error[2]
    for s in grpc_held:
        s.close()
    time.sleep(0.3)
    result, error = grpc_call(server)
    assert error is None, error


def test_requests_larger_than_the_limit_are_refused_on_both_apis(scute_factory):
    server = scute_factory().start(["--max-request-bytes", "2000"])
    schema = json.dumps({"type": "record", "name": "R", "doc": "z" * 3000, "fields": []})
    r = post(server.url, "/subjects/big/versions", {"schema": schema})
    status, code, message = error_of(r)
    assert (status, code) == (413, 413), r.text
    assert message == "HTTP 413 Payload Too Large: the request body exceeds 2000 bytes"
    request = field(1, b"big") + field(2, schema.encode())
    with pytest.raises(grpc.RpcError) as err:
        grpc_raw(server, "RegisterSchema", request)
    assert err.value.code() == grpc.StatusCode.OUT_OF_RANGE, err.value
    assert "the limit is: 2000 bytes" in err.value.details(), err.value.details()
    small = json.dumps({"type": "record", "name": "R", "fields": []})
    assert post(server.url, "/subjects/small/versions", {"schema": small}).status_code == 200


def send_head(port: int, length: int, body: bytes) -> socket.socket:
    """A POST whose body is announced `length` long and only `body` of it is sent."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(
        b"POST /subjects/slow/versions HTTP/1.1\r\nHost: scute\r\nContent-Type: " + VND.encode() +
        b"\r\nContent-Length: " + str(length).encode() + b"\r\n\r\n" + body)
    return s


def test_requests_beyond_the_in_flight_cap_are_refused_at_once(scute_factory):
    server = scute_factory().start(["--max-requests-in-flight", "3"])
    # Three requests whose bodies never finish stay in flight.
    stuck = [send_head(server.rest_port, 1000, b'{"schema": ') for _ in range(3)]
    time.sleep(0.3)
    started = time.monotonic()
    r = requests.get(f"{server.url}/schemas/types", timeout=10)
    status, code, message = error_of(r)
    assert (status, code) == (503, 503), r.text
    assert message == "Scute is handling 3 requests, its limit (--max-requests-in-flight); retry shortly"
    print(f"refused in {1000 * (time.monotonic() - started):.1f} ms")
    result, error = grpc_call(server)
    assert error is not None and error[0] == grpc.StatusCode.RESOURCE_EXHAUSTED and error[1] == 503, error
    for s in stuck:
        s.close()
    time.sleep(0.3)
    assert requests.get(f"{server.url}/schemas/types", timeout=10).status_code == 200


def test_request_bodies_beyond_the_byte_budget_are_refused(scute_factory):
    server = scute_factory().start(["--max-request-bytes-in-flight", "100000"])
    hog = send_head(server.rest_port, 200_000, b'{"schema": "' + b"x" * 90_000)
    time.sleep(0.5)
    schema = json.dumps({"type": "record", "name": "R", "doc": "y" * 20_000, "fields": []})
    r = post(server.url, "/subjects/b/versions", {"schema": schema})
    status, code, message = error_of(r)
    assert (status, code) == (503, 503), r.text
    assert "its limit (--max-request-bytes-in-flight)" in message
    hog.close()
    time.sleep(0.3)
    r = post(server.url, "/subjects/b/versions", {"schema": schema})
    assert r.status_code == 200, r.text


def test_a_body_sent_too_slowly_is_408(scute_factory):
    server = scute_factory().start(["--http-body-timeout-ms", "1000"])
    s = send_head(server.rest_port, 1000, b'{"schema": ')
    s.settimeout(10)
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
        chunk = s.recv(65536)
        if not chunk:
            break
        answer += chunk
    s.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer
    assert json.loads(body) == {
        "error_code": 408,
        "message": "HTTP 408 Request Timeout: the request body did not arrive within 1000 ms",
    }


def test_a_flood_of_heavy_checks_leaves_lookups_served(scute_factory):
    """Many clients send large PROTOBUF and JSON schemas to check while one
    reads a schema by id: every read is answered. Its latency is printed;
    scute-bench measures it (the README's figures)."""
    server = scute_factory().start(["--compute-queue", "8"])
    r = post(server.url, "/subjects/small/versions", {"schema": json.dumps({"type": "string"})})
    sid = r.json()["id"]
    proto = 'syntax = "proto3";\n' + "\n".join(
        f"message M{i} {{ " + " ".join(f"string f{j} = {j + 1};" for j in range(20)) + " }" for i in range(200))
    js = json.dumps({"type": "object", "properties": {
        f"p{i}": {"type": "object", "properties": {f"q{j}": {"type": "string"} for j in range(5)}}
        for i in range(400)}})
    for subject, schema_type, schema in (("p", "PROTOBUF", proto), ("j", "JSON", js)):
        r = post(server.url, f"/subjects/{subject}/versions", {"schemaType": schema_type, "schema": schema})
        assert r.status_code == 200, r.text[:300]

    stop = threading.Event()
    outcomes: list[int] = []
    lock = threading.Lock()

    def flood(subject: str, schema_type: str, schema: str):
        s = requests.Session()
        while not stop.is_set():
            r = s.post(f"{server.url}/compatibility/subjects/{subject}/versions/latest",
                       data=json.dumps({"schemaType": schema_type, "schema": schema}),
                       headers={"Content-Type": VND}, timeout=60)
            with lock:
                outcomes.append(r.status_code if r.status_code == 200 else r.json()["error_code"])

    floods = [threading.Thread(target=flood, args=(("p", "PROTOBUF", proto) if i % 2 else ("j", "JSON", js)))
              for i in range(12)]
    for t in floods:
        t.start()
    latencies = []
    try:
        time.sleep(1)
        session = requests.Session()
        for _ in range(300):
            started = time.monotonic()
            r = session.get(f"{server.url}/schemas/ids/{sid}", timeout=10)
            latencies.append(time.monotonic() - started)
            assert r.status_code == 200, r.text
    finally:
        stop.set()
        for t in floods:
            t.join()
    latencies.sort()
    print(f"reads during the flood: p50 {1000 * latencies[len(latencies) // 2]:.2f} ms, "
          f"p99 {1000 * latencies[int(len(latencies) * 0.99)]:.2f} ms; checks: {len(outcomes)}")
    # Checks are answered, or refused at once when the queue is full: never
    # another error.
    assert outcomes and set(outcomes) <= {200, 503}, set(outcomes)
    assert 200 in outcomes
    assert server.running()
