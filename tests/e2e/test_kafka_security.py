"""The Kafka backend against a broker that wants TLS and/or SASL.

What tansu 0.6.0 (as tests/run installs it: `--features dynostore`) really
supports, read from its source (tansu-cli, tansu-broker, tansu-auth,
tansu-storage 0.6.0) and checked here or by hand:

* No TLS at all. `tansu broker --cert C --key K` is refused by clap ("the
  argument '--cert <CERT>' cannot be used with '--key <KEY>'": both sit in one
  non-multiple arg group), and even when a config were built the broker's
  accept loop never uses it (`let _acceptor = ...` in broker.rs): with `--cert`
  alone the listener is plain TCP. So no SSL, no SASL_SSL, no mTLS
  (its rustls config is `with_no_client_auth()` anyway).
* `--authentication` requires SASL before any request but ApiVersions,
  SaslHandshake and SaslAuthenticate; anything else closes the connection.
  The mechanisms compiled in (rsasl features) are SCRAM-SHA-256, SCRAM-SHA-512
  and OAUTHBEARER; no PLAIN (a PLAIN handshake drops the connection). And no
  login can succeed with this build: SCRAM credentials are stored only by the
  postgres and libsql engines, which it lacks; on memory:// (and s3://, both
  "dynostore") storing a credential is a no-op and every lookup finds none, so
  SCRAM answers unknown-user. `tansu user create` against an authenticating
  broker cannot even log in itself ("early eof"). OAUTHBEARER has no validator:
  "SASL Authentication failed.". So an authenticating tansu turns every client
  away, and that is all it can show.

So every working path here puts a small proxy of this file's own in front of
a plain tansu: it terminates TLS (optionally requiring a client certificate)
and/or SASL (PLAIN, SCRAM-SHA-256/512: the broker side of the SaslHandshake
v1 and SaslAuthenticate exchanges, as Kafka answers them), then passes every
other request through. tansu advertises the proxy's address, so all of a
client's connections go through it.

What Scute supports (rdkafka 0.39 with features ["tokio", "ssl-vendored"]:
librdkafka 2.12.1 with OpenSSL built in): SSL, SSL with a client
certificate, SASL_SSL and SASL_PLAINTEXT with PLAIN, SCRAM-SHA-256 and
SCRAM-SHA-512, each tested below with two nodes sharing a topic, after
checking that the same properties work through the same proxy for
confluent-kafka's own librdkafka. A build without OpenSSL fails these tests:
it answers 'OpenSSL not available at build time'.

A refused login (wrong password, no SASL settings, plain TCP to a TLS port)
makes Scute exit 1 after --kafka-timeout-ms, and the log names the cause:
librdkafka's own line ("SASL authentication error: ...") comes from the
producer Scute starts first, whose thread serves librdkafka's log (the admin
client's own queue is never polled, so its error alone says only
"BrokerTransportFailure").
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
import socket
import ssl
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from conftest import START_TIMEOUT, STOP_TIMEOUT, free_port, tansu_binary, wait_serving

VND = "application/vnd.schemaregistry.v1+json"
USER, PASSWORD = "scute", "s3cret-pa55"

# What Scute prints when its librdkafka lacks a feature (see the docstring).
BUILD_GAP = re.compile(r"OpenSSL not available at build time|No provider for SASL mechanism [A-Z0-9-]+[^\n]*")


# -- certificates (openssl CLI) ---------------------------------------------------

@dataclass
class Certs:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a CA that signed none of these


def openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"openssl {' '.join(args)}: {done.stderr}"


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Certs:
    """A CA, a server certificate for localhost/127.0.0.1 and a client one,
    all X.509 v3 with EC P-256 keys."""
    d = tmp_path_factory.mktemp("certs")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", *ec, "-days", "2", "-subj", f"/CN=Scute test {ca}",
                "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    leaves = {
        "server": ("/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
        "client": ("/CN=scute-node", "extendedKeyUsage=clientAuth\n"),
    }
    for name, (subject, ext) in leaves.items():
        (d / f"{name}.ext").write_text(
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n" + ext)
        openssl("req", *ec, "-subj", subject, "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-out", f"{name}.pem", "-extfile", f"{name}.ext", cwd=d)
    return Certs(d / "ca.pem", d / "server.pem", d / "server.key", d / "client.pem", d / "client.key",
                 d / "other-ca.pem")


# -- tansu -------------------------------------------------------------------------

class Tansu:
    """tansu 0.6.0 in memory, listening on its own port and advertising
    `advertised` (the proxy's port), with extra flags."""

    def __init__(self, log_dir: Path, advertised_port: int | None = None, flags: tuple[str, ...] = ()):
        binary = tansu_binary()
        if not binary.exists():
            pytest.fail(f"{binary} is missing: tests/run installs it (cargo install tansu --version 0.6.0 "
                        "--features dynostore)")
        self.binary = binary
        self.port = free_port()
        self.log_path = log_dir / f"tansu-{self.port}.log"
        advertised = f"tcp://127.0.0.1:{advertised_port or self.port}"
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(binary), "broker", "--listener-url", f"tcp://127.0.0.1:{self.port}",
             "--advertised-listener-url", advertised, "--storage-engine", "memory://tansu/", "--silent", *flags],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=log_dir)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.proc.poll() is None, f"tansu exited: {self.log_path.read_text(errors='replace')}"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, f"tansu did not listen within {START_TIMEOUT}s"
                time.sleep(0.05)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)


# -- the proxy: TLS and SASL in front of tansu -------------------------------------

SASL_HANDSHAKE, SASL_AUTHENTICATE, API_VERSIONS = 17, 36, 18
UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE, SASL_AUTHENTICATION_FAILED = 33, 34, 58
SCRAM_HASHES = {"SCRAM-SHA-256": hashlib.sha256, "SCRAM-SHA-512": hashlib.sha512}


def uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_uvarint(data: bytes, pos: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def skip_tags(data: bytes, pos: int) -> int:
    count, pos = read_uvarint(data, pos)
    for _ in range(count):
        _, pos = read_uvarint(data, pos)
        size, pos = read_uvarint(data, pos)
        pos += size
    return pos


class Scram:
    """The server side of one SCRAM exchange (RFC 5802, 7677)."""

    def __init__(self, mechanism: str, users: dict[str, str]):
        self.hash = SCRAM_HASHES[mechanism]
        self.mechanism = mechanism
        self.users = users
        self.first: tuple | None = None

    def hmac(self, key: bytes, msg: bytes) -> bytes:
        return hmac.new(key, msg, self.hash).digest()

    def step(self, message: bytes) -> tuple[bytes, str | None]:
        """(answer, user) after the last message; raises PermissionError on refusal."""
        text = message.decode()
        if self.first is None:
            bare = text.split(",", 2)[2]  # after the GS2 header "n,,"
            attrs = dict(a.split("=", 1) for a in bare.split(","))
            salt, iterations = secrets.token_bytes(16), 4096
            nonce = attrs["r"] + base64.b64encode(secrets.token_bytes(18)).decode()
            server_first = f"r={nonce},s={base64.b64encode(salt).decode()},i={iterations}"
            self.first = (attrs["n"], bare, server_first, nonce, salt, iterations)
            return server_first.encode(), None
        user, client_bare, server_first, nonce, salt, iterations = self.first
        without_proof, proof = text.rsplit(",p=", 1)
        attrs = dict(a.split("=", 1) for a in without_proof.split(","))
        if user not in self.users or attrs.get("r") != nonce:
            raise PermissionError(user)
        salted = hashlib.pbkdf2_hmac(self.hash().name, self.users[user].encode(), salt, iterations)
        client_key = self.hmac(salted, b"Client Key")
        auth_message = f"{client_bare},{server_first},{without_proof}".encode()
        signature = self.hmac(self.hash(client_key).digest(), auth_message)
        claimed = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature))
        if not hmac.compare_digest(claimed, client_key):
            raise PermissionError(user)
        server_signature = self.hmac(self.hmac(salted, b"Server Key"), auth_message)
        return b"v=" + base64.b64encode(server_signature), user


@dataclass
class Proxy:
    """Listens on `port`, speaks TLS if `tls` is given (requiring a client
    certificate if `client_ca` is), demands SASL if `mechanisms` is non-empty,
    and passes everything else to tansu at `upstream`."""

    upstream: int
    tls: Certs | None = None
    client_ca: Path | None = None
    mechanisms: tuple[str, ...] = ()
    users: dict[str, str] = field(default_factory=lambda: {USER: PASSWORD})
    port: int = field(default_factory=free_port)
    logins: list[tuple[str, str]] = field(default_factory=list)    # (mechanism, user)
    refusals: list[str] = field(default_factory=list)               # why a connection was turned away

    def start(self) -> "Proxy":
        context = None
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.tls.server_cert, self.tls.server_key)
            if self.client_ca:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(self.client_ca)
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def serve():
            self.server = await asyncio.start_server(self.connection, "127.0.0.1", self.port, ssl=context)
            ready.set()

        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(serve(), self.loop).result(10)
        assert ready.wait(10)
        return self

    def close(self) -> None:
        async def stop():
            self.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader = up_writer = pump = None
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
            pump = asyncio.ensure_future(self.pass_back(up_reader, writer))
            authenticated = not self.mechanisms
            scram = mechanism = None
            while True:
                request = await reader.readexactly(struct.unpack(">i", await reader.readexactly(4))[0])
                api_key, version, correlation = struct.unpack(">hhi", request[:8])
                if authenticated or api_key == API_VERSIONS:
                    up_writer.write(struct.pack(">i", len(request)) + request)
                    await up_writer.drain()
                    continue
                client_len = struct.unpack(">h", request[8:10])[0]
                pos = 10 + max(client_len, 0)
                if api_key == SASL_HANDSHAKE and version == 1:
                    n = struct.unpack(">h", request[pos:pos + 2])[0]
                    asked = request[pos + 2:pos + 2 + n].decode()
                    ok = asked in self.mechanisms
                    mechanism = asked if ok else None
                    scram = Scram(asked, self.users) if ok and asked in SCRAM_HASHES else None
                    body = struct.pack(">hi", 0 if ok else UNSUPPORTED_SASL_MECHANISM, len(self.mechanisms))
                    body += b"".join(struct.pack(">h", len(m)) + m.encode() for m in self.mechanisms)
                    await self.answer(writer, correlation, body, flexible=False)
                    if not ok:
                        self.refusals.append(f"mechanism {asked}")
                        return
                    continue
                if api_key == SASL_AUTHENTICATE and mechanism and version <= 2:
                    flexible = version == 2
                    if flexible:
                        pos = skip_tags(request, pos)
                        size, pos = read_uvarint(request, pos)
                        size -= 1
                    else:
                        size, pos = struct.unpack(">i", request[pos:pos + 4])[0], pos + 4
                    token = request[pos:pos + size]
                    try:
                        if scram:
                            reply, user = scram.step(token)
                        else:
                            _authz, user, password = token.split(b"\0")
                            user = user.decode()
                            if self.users.get(user) != password.decode():
                                raise PermissionError(user)
                            reply = b""
                    except (PermissionError, ValueError, KeyError) as e:
                        self.refusals.append(f"{mechanism} login of {e}")
                        message = ("Authentication failed: Invalid username or password" if mechanism == "PLAIN"
                                   else f"Authentication failed during authentication due to invalid credentials "
                                        f"with SASL mechanism {mechanism}")
                        await self.answer(writer, correlation,
                                          self.authenticate_body(version, SASL_AUTHENTICATION_FAILED, message, b""),
                                          flexible)
                        return
                    if user is not None:
                        authenticated = True
                        self.logins.append((mechanism, user))
                    await self.answer(writer, correlation, self.authenticate_body(version, 0, None, reply), flexible)
                    continue
                # What a Kafka broker does with any other request before SASL.
                self.refusals.append(f"api key {api_key} before authentication")
                return
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError):
            pass
        finally:
            for w in (writer, up_writer):
                if w is not None:
                    w.close()
            if pump is not None:
                pump.cancel()

    @staticmethod
    def authenticate_body(version: int, error: int, message: str | None, token: bytes) -> bytes:
        if version == 2:
            text = uvarint(0) if message is None else uvarint(len(message.encode()) + 1) + message.encode()
            return struct.pack(">h", error) + text + uvarint(len(token) + 1) + token + struct.pack(">q", 0) + b"\0"
        text = struct.pack(">h", -1) if message is None else struct.pack(">h", len(message.encode())) + message.encode()
        body = struct.pack(">h", error) + text + struct.pack(">i", len(token)) + token
        return body + (struct.pack(">q", 0) if version == 1 else b"")

    @staticmethod
    async def answer(writer: asyncio.StreamWriter, correlation: int, body: bytes, flexible: bool) -> None:
        frame = struct.pack(">i", correlation) + (b"\0" if flexible else b"") + body
        writer.write(struct.pack(">i", len(frame)) + frame)
        await writer.drain()

    @staticmethod
    async def pass_back(up_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                writer.write(await up_reader.read(65536) or b"")
                if up_reader.at_eof():
                    writer.close()
                    return
                await writer.drain()
        except (ConnectionError, OSError):
            writer.close()


@pytest.fixture
def secured(tmp_path):
    """Makes a plain tansu with a proxy in front that demands what it is told."""
    made: list = []

    def make(**proxy_args) -> Proxy:
        port = free_port()
        broker = Tansu(tmp_path, advertised_port=port)
        proxy = Proxy(upstream=broker.port, port=port, **proxy_args).start()
        made.extend([proxy, broker])
        return proxy

    yield make
    for thing in made:
        thing.close()


# -- helpers -----------------------------------------------------------------------

def props(**kv: str) -> dict[str, str]:
    return {k.replace("_", "."): v for k, v in kv.items()}


def property_args(properties: dict[str, str]) -> list[str]:
    return [arg for k, v in properties.items() for arg in ("--kafka-property", f"{k}={v}")]


def librdkafka_works(bootstrap: str, properties: dict[str, str]) -> None:
    """The properties work for confluent-kafka's librdkafka (built with
    OpenSSL): the proxy and tansu are fine, whatever Scute then does."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0, **properties})
    brokers = admin.list_topics(timeout=20).brokers
    assert [f"{b.host}:{b.port}" for b in brokers.values()] == [bootstrap], brokers


def librdkafka_refused(bootstrap: str, properties: dict[str, str]) -> None:
    """The proxy really turns these properties away (for a librdkafka that has OpenSSL)."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0, **properties})
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=2)


def start_node(scute_factory, bootstrap: str, properties: dict[str, str], name: str, node: int):
    """A running, caught-up Scute node; a failure naming the build if its
    librdkafka cannot do what the properties ask."""
    server = scute_factory(name=name)
    args = ["--kafka-bootstrap", bootstrap, "--kafka-timeout-ms", "3000", "--node-id", str(node)]
    try:
        server.start(args + property_args(properties))
    except pytest.fail.Exception:
        gap = BUILD_GAP.search(server.log())
        if gap:
            pytest.fail(f"Scute's librdkafka is built without OpenSSL: {gap.group(0)}")
        raise
    wait_serving(server)
    return server


def refused(scute_factory, bootstrap: str, properties: dict[str, str], name: str, within: float = 30) -> str:
    """Starts a node that must exit 1 within `within` seconds; its output."""
    server = scute_factory(name=name)
    proc = server.spawn(["--kafka-bootstrap", bootstrap, "--kafka-timeout-ms", "3000"] + property_args(properties))
    try:
        code = proc.wait(within)
    except subprocess.TimeoutExpired:
        server.kill()
        pytest.fail(f"scute neither served nor exited within {within}s; its output:\n{server.log()}")
    log = server.log()
    assert code == 1, f"exit status {code}; output:\n{log}"
    assert re.search(r"(?m)^scute: Kafka: ", log), f"no 'scute: Kafka: ...' line on stderr:\n{log}"
    return log


def register_and_share(a, b, subject: str) -> None:
    """a registers a schema and reads it back; b sees it through the topic."""
    schema = '{"type":"record","name":"Sec","fields":[{"name":"f","type":"long"}]}'
    s = requests.Session()
    r = s.post(f"{a.url}/subjects/{subject}/versions", json={"schema": schema},
               headers={"Content-Type": VND}, timeout=30)
    assert r.status_code == 200, r.text
    sid = r.json()["id"]
    r = s.get(f"{a.url}/schemas/ids/{sid}", timeout=30)
    assert r.status_code == 200 and r.json()["schema"] == schema, r.text
    deadline = time.monotonic() + 30
    while True:
        r = s.get(f"{b.url}/subjects/{subject}/versions/latest", timeout=30)
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["version"], r.json()["schema"]) == (sid, 1, schema)


# -- what tansu itself does ------------------------------------------------------

def test_tansu_0_6_0_serves_no_tls(certs, tmp_path):
    """--cert with --key is refused; --cert alone leaves plain TCP."""
    binary = tansu_binary()
    done = subprocess.run([str(binary), "broker", "--listener-url", f"tcp://127.0.0.1:{free_port()}",
                           "--cert", str(certs.server_cert), "--key", str(certs.server_key)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "cannot be used with" in done.stderr, (done.returncode, done.stderr)

    broker = Tansu(tmp_path, flags=("--cert", str(certs.server_cert)))
    try:
        context = ssl.create_default_context(cafile=str(certs.ca))
        with socket.create_connection(("127.0.0.1", broker.port), timeout=1) as raw:
            with pytest.raises((ssl.SSLError, OSError)):  # no ServerHello: a timeout or a reset
                context.wrap_socket(raw, server_hostname="localhost")
        librdkafka_works(f"127.0.0.1:{broker.port}", {})  # plain Kafka on the same port
    finally:
        broker.close()


def test_an_authenticating_tansu_turns_every_scute_away(scute_factory, tmp_path):
    """tansu --authentication on memory storage: no user can be made and no
    login succeeds; Scute exits 1 without SASL and with PLAIN alike."""
    broker = Tansu(tmp_path, flags=("--authentication",))
    try:
        bootstrap = f"127.0.0.1:{broker.port}"
        done = subprocess.run([str(broker.binary), "user", "create", USER, PASSWORD, "--broker", f"tcp://{bootstrap}"],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode != 0, "tansu user create cannot log in to an authenticating broker"
        refused(scute_factory, bootstrap, {}, "no-sasl")
        refused(scute_factory, bootstrap, props(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                                                sasl_username=USER, sasl_password=PASSWORD), "plain")
        assert broker.proc.poll() is None
    finally:
        broker.close()


# -- SASL/PLAIN (what Scute can do today) ------------------------------------------

PLAIN = props(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username=USER, sasl_password=PASSWORD)


def test_sasl_plain_two_nodes_share_the_topic(scute_factory, secured):
    proxy = secured(mechanisms=("PLAIN",))
    a = start_node(scute_factory, proxy.bootstrap, PLAIN, "plain-a", 1)
    b = start_node(scute_factory, proxy.bootstrap, PLAIN, "plain-b", 2)
    register_and_share(a, b, "plain-value")
    assert proxy.logins and set(proxy.logins) == {("PLAIN", USER)}
    assert proxy.refusals == [], "every connection Scute made logged in first"
    a.stop_clean()
    b.stop_clean()


@pytest.mark.parametrize("case", ["wrong password", "unknown user", "no SASL settings"])
def test_a_refused_plain_login_stops_the_node_at_start(scute_factory, secured, case):
    proxy = secured(mechanisms=("PLAIN",))
    properties = {
        "wrong password": {**PLAIN, "sasl.password": "not-it"},
        "unknown user": {**PLAIN, "sasl.username": "nobody"},
        "no SASL settings": {},
    }[case]
    began = time.monotonic()
    refused(scute_factory, proxy.bootstrap, properties, case.replace(" ", "-"))
    assert time.monotonic() - began < 20, "the start gives up after --kafka-timeout-ms, not later"
    assert proxy.refusals and not proxy.logins


def test_a_wrong_password_is_named_in_the_error(scute_factory, secured):
    proxy = secured(mechanisms=("PLAIN",))
    log = refused(scute_factory, proxy.bootstrap, {**PLAIN, "sasl.password": "not-it"}, "named")
    assert re.search(r"(?i)SASL|authenticat", log), log


# -- TLS and SCRAM (refused by Scute's build today) --------------------------------

def tls_props(certs: Certs, **more: str) -> dict[str, str]:
    return {"security.protocol": "SSL", "ssl.ca.location": str(certs.ca), **props(**more)}


CASES = {
    # name: (proxy arguments, properties) given the certs
    "SSL": (lambda c: {"tls": c}, lambda c: tls_props(c)),
    "SSL with a client certificate": (
        lambda c: {"tls": c, "client_ca": c.ca},
        lambda c: tls_props(c, ssl_certificate_location=str(c.client_cert), ssl_key_location=str(c.client_key))),
    "SASL_SSL SCRAM-SHA-512": (
        lambda c: {"tls": c, "mechanisms": ("SCRAM-SHA-512",)},
        lambda c: {**tls_props(c), "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
                   "sasl.username": USER, "sasl.password": PASSWORD}),
    "SASL_SSL PLAIN": (
        lambda c: {"tls": c, "mechanisms": ("PLAIN",)},
        lambda c: {**tls_props(c), **PLAIN, "security.protocol": "SASL_SSL"}),
    "SASL_PLAINTEXT SCRAM-SHA-256": (
        lambda c: {"mechanisms": ("SCRAM-SHA-256",)},
        lambda c: {**PLAIN, "sasl.mechanism": "SCRAM-SHA-256"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_tls_and_scram_two_nodes_share_the_topic(scute_factory, secured, certs, case):
    proxy_args, properties = CASES[case][0](certs), CASES[case][1](certs)
    proxy = secured(**proxy_args)
    librdkafka_works(proxy.bootstrap, properties)
    assert set(proxy.logins) == {(m, USER) for m in proxy.mechanisms}
    a = start_node(scute_factory, proxy.bootstrap, properties, "sec-a", 1)
    b = start_node(scute_factory, proxy.bootstrap, properties, "sec-b", 2)
    register_and_share(a, b, "secured-value")
    a.stop_clean()
    b.stop_clean()


@pytest.mark.parametrize("case", ["wrong CA", "no client certificate", "wrong SCRAM password"])
def test_a_refused_tls_or_scram_login_stops_the_node_at_start(scute_factory, secured, certs, case):
    if case == "wrong CA":
        proxy = secured(tls=certs)
        properties = tls_props(certs, ssl_ca_location=str(certs.other_ca))
    elif case == "no client certificate":
        proxy = secured(tls=certs, client_ca=certs.ca)
        properties = tls_props(certs)
    else:
        proxy = secured(tls=certs, mechanisms=("SCRAM-SHA-512",))
        properties = {**CASES["SASL_SSL SCRAM-SHA-512"][1](certs), "sasl.password": "not-it"}
    librdkafka_refused(proxy.bootstrap, properties)
    if case == "wrong SCRAM password":
        assert f"SCRAM-SHA-512 login of {USER}" in proxy.refusals
    log = refused(scute_factory, proxy.bootstrap, properties, case.replace(" ", "-"))
    assert not BUILD_GAP.search(log), log
    assert not proxy.logins


def test_plain_tcp_to_a_tls_port_stops_the_node_at_start(scute_factory, secured, certs):
    """No TLS settings against a TLS listener: an exit, not a hang."""
    proxy = secured(tls=certs)
    refused(scute_factory, proxy.bootstrap, {}, "no-tls")
