"""`scute schema|subject|config`: the command-line client, run as a person
would run it, against the real server over REST and over gRPC."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from conftest import http_get

USER_V1 = {"type": "record", "name": "User", "fields": [{"name": "name", "type": "string"}]}
USER_V2 = {
    "type": "record",
    "name": "User",
    "fields": [{"name": "name", "type": "string"}, {"name": "age", "type": "int", "default": 0}],
}
# Changes the type of `name`: incompatible under BACKWARD.
USER_BAD = {"type": "record", "name": "User", "fields": [{"name": "name", "type": "int"}]}

OTHER_PROTO = 'syntax = "proto3";\npackage acme;\n\nmessage Other {\n  string id = 1;\n}\n'
MAIN_PROTO = (
    'syntax = "proto3";\npackage acme;\n\nimport "other.proto";\n\n'
    "message Main {\n  Other other = 1;\n}\n"
)


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCUTE_") or k == "SCUTE_BIN"}
    env.pop("NO_COLOR", None)
    env.update(extra or {})
    return env


class Cli:
    """Runs `scute ...` against one registry URL."""

    def __init__(self, binary: Path, registry: str, workdir: Path):
        self.binary = binary
        self.registry = registry
        self.workdir = workdir

    def file(self, name: str, content: str | dict) -> Path:
        path = self.workdir / name
        path.write_text(content if isinstance(content, str) else json.dumps(content, separators=(",", ":")))
        return path

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.binary), *args, "--registry", self.registry],
            capture_output=True, text=True, timeout=60, cwd=self.workdir, env=cli_env(env),
        )

    def ok(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = self.run(*args, env=env)
        assert result.returncode == 0, f"scute {' '.join(args)} exited {result.returncode}: {result.stderr}"
        assert result.stderr == "", result.stderr
        return result.stdout


@pytest.fixture(params=["rest", "grpc"])
def cli(request, scute, scute_bin, tmp_path) -> Cli:
    registry = scute.url if request.param == "rest" else f"grpc://{scute.grpc_addr}"
    return Cli(scute_bin, registry, tmp_path)


def header(text: str) -> dict[str, str]:
    """The `key: value` lines before the first blank line."""
    head = text.split("\n\n", 1)[0]
    return dict(line.split(": ", 1) for line in head.splitlines())


def table(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def test_register_get_check_diff_delete(cli, scute):
    v1 = cli.ok("schema", "register", "users-value", str(cli.file("v1.avsc", USER_V1)))
    assert header(v1)["subject"] == "users-value"
    assert header(v1)["version"] == "1"
    v2 = cli.ok("schema", "register", "users-value", str(cli.file("v2.avsc", USER_V2)))
    assert header(v2)["version"] == "2"
    id1, id2 = int(header(v1)["id"]), int(header(v2)["id"])
    assert id1 != id2
    # Registering the same schema again finds it.
    assert header(cli.ok("schema", "register", "users-value", str(cli.workdir / "v1.avsc")))["version"] == "1"

    latest = cli.ok("schema", "get", "users-value")
    assert header(latest) == {"subject": "users-value", "version": "2", "id": str(id2), "type": "AVRO"}
    body = latest.split("\n\n", 1)[1]
    assert json.loads(body) == USER_V2
    assert '  "name": "User",\n' in body, "pretty-printed one element a line"

    # --output json is the REST entity, with the registry's own schema text.
    _, raw = http_get(f"{scute.url}/subjects/users-value/versions/1")
    entity = json.loads(cli.ok("schema", "get", "users-value", "1", "--output", "json"))
    assert entity == {
        "subject": "users-value", "version": 1, "id": id1, "schemaType": "AVRO",
        "schema": json.loads(raw)["schema"],
    }
    by_id = cli.ok("schema", "get", "--id", str(id1))
    assert header(by_id) == {"id": str(id1), "type": "AVRO"}
    assert json.loads(by_id.split("\n\n", 1)[1]) == USER_V1

    bad = cli.run("schema", "check", "users-value", str(cli.file("bad.avsc", USER_BAD)))
    assert bad.returncode == 1, bad.stderr
    assert bad.stdout.startswith("incompatible\n")
    assert "TYPE_MISMATCH" in bad.stdout
    assert "reader type: INT not compatible with writer type: STRING" in bad.stdout
    good = cli.ok("schema", "check", "users-value", str(cli.workdir / "v2.avsc"), "--version", "1")
    assert good == "compatible\n"

    diff = cli.ok("schema", "diff", "users-value", "1", "2")
    assert "\x1b" not in diff, "no colour when stdout is not a terminal"
    lines = diff.splitlines()
    assert lines[:2] == ["--- users-value version 1", "+++ users-value version 2"]
    assert lines[2].startswith("@@ ")
    assert '+      "name": "age",' in lines
    assert '+      "default": 0' in lines
    assert '       "name": "name",' in lines, "context lines are kept"
    coloured = cli.ok("schema", "diff", "users-value", "1", "2", "--color", "always")
    assert '\x1b[32m+      "name": "age",\x1b[0m' in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == diff
    assert cli.ok("schema", "diff", "users-value", "1", "1") == ""

    assert cli.ok("schema", "delete", "users-value", "1") == "deleted users-value version 1\n"
    assert cli.ok("schema", "delete", "users-value") == "deleted users-value versions 2\n"
    assert cli.ok("subject", "list") == ""
    assert table(cli.ok("subject", "list", "--deleted")) == [["SUBJECT", "DELETED"], ["users-value", "yes"]]
    assert cli.ok("schema", "delete", "users-value", "--permanent") == "deleted users-value versions 1, 2\n"
    assert cli.ok("subject", "list", "--deleted") == ""


def test_normalize_is_sent_on_register(cli, scute):
    # Aliases out of order: normalizing sorts them, so the stored text differs.
    sent = '{"type":"record","name":"N","fields":[{"name":"a","type":"int"}],"aliases":["b","a"]}'
    path = str(cli.file("n.avsc", sent))
    cli.ok("schema", "register", "plain", path)
    cli.ok("schema", "register", "normalized", path, "--normalize")
    stored = {s: json.loads(http_get(f"{scute.url}/subjects/{s}/versions/1")[1])["schema"]
              for s in ("plain", "normalized")}
    assert stored["plain"] != stored["normalized"]
    r = requests.post(f"{scute.url}/subjects/direct/versions?normalize=true", json={"schema": sent}, timeout=30)
    assert r.status_code == 200, r.text
    assert json.loads(http_get(f"{scute.url}/subjects/direct/versions/1")[1])["schema"] == stored["normalized"]


def test_a_missing_subject_is_confluents_40401(cli):
    result = cli.run("schema", "get", "nope")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "scute: Subject 'nope' not found. (error code 40401)"
    result = cli.run("schema", "delete", "nope", "1")
    assert result.returncode == 1
    assert "40401" in result.stderr


def test_an_invalid_schema_is_refused_with_its_message(cli):
    result = cli.run("schema", "register", "s", str(cli.file("broken.avsc", '{"type":"record"}')))
    assert result.returncode == 1
    assert "error code 42201" in result.stderr


def test_an_endless_or_binary_schema_file_is_a_usage_error(cli):
    result = cli.run("schema", "register", "s", "/dev/zero", "--type", "AVRO")
    assert result.returncode == 2
    assert result.stderr.strip() == "scute: /dev/zero is larger than 16 MiB, more than a registry takes"
    binary = cli.workdir / "binary.avsc"
    binary.write_bytes(b'"\xff\xfe"')
    result = cli.run("schema", "register", "s", str(binary))
    assert result.returncode == 2
    assert result.stderr.strip() == f"scute: {binary} is not UTF-8 text"


def test_config_get_and_set(cli):
    assert cli.ok("config", "get") == "compatibility: BACKWARD\n"
    assert cli.ok("config", "set", "full") == "compatibility: FULL\n"
    assert cli.ok("config", "get") == "compatibility: FULL\n"
    assert cli.ok("config", "set", "users-value", "NONE", "--output", "json") == '{\n  "compatibility": "NONE"\n}\n'
    assert json.loads(cli.ok("config", "get", "users-value", "--output", "json")) == {"compatibilityLevel": "NONE"}
    # A subject without a level of its own gets the global one.
    assert cli.ok("config", "get", "other-value") == "compatibility: FULL\n"
    bogus = cli.run("config", "set", "bogus")
    assert bogus.returncode == 1
    assert "error code 42203" in bogus.stderr


def test_subject_list_is_a_table_filtered_by_prefix(cli):
    schema = str(cli.file("s.avsc", '"string"'))
    for subject in ["orders-value", "orders-key", "users-value"]:
        cli.ok("schema", "register", subject, schema)
    assert table(cli.ok("subject", "list")) == [["SUBJECT"], ["orders-key"], ["orders-value"], ["users-value"]]
    assert table(cli.ok("subject", "list", "--prefix", "orders-")) == [["SUBJECT"], ["orders-key"], ["orders-value"]]
    assert json.loads(cli.ok("subject", "list", "--prefix", "users", "--output", "json")) == ["users-value"]


def test_protobuf_with_a_reference(cli):
    cli.ok("schema", "register", "other-value", str(cli.file("other.proto", OTHER_PROTO)))
    main = cli.file("main.proto", MAIN_PROTO)
    missing = cli.run("schema", "register", "main-value", str(main))
    assert missing.returncode == 1, "the import resolves only through a reference"
    registered = cli.ok("schema", "register", "main-value", str(main), "--reference", "other.proto=other-value:1")
    assert header(registered)["version"] == "1"
    shown = cli.ok("schema", "get", "main-value")
    assert header(shown)["type"] == "PROTOBUF"
    assert header(shown)["reference"] == "other.proto -> other-value:1"
    assert "message Main {" in shown.split("\n\n", 1)[1]


def test_both_transports_print_the_same(scute, scute_bin, tmp_path):
    rest = Cli(scute_bin, scute.url, tmp_path)
    grpc = Cli(scute_bin, f"grpc://{scute.grpc_addr}", tmp_path)
    rest.ok("schema", "register", "users-value", str(rest.file("v1.avsc", USER_V1)))
    grpc.ok("schema", "register", "users-value", str(grpc.file("v2.avsc", USER_V2)))
    rest.ok("schema", "register", "gone-value", str(rest.file("s.avsc", '"string"')))
    grpc.ok("schema", "delete", "gone-value")
    rest.ok("config", "set", "users-value", "FULL")
    # Each with the exit status both must give: the same failure on both
    # sides would otherwise pass.
    for status, args in [
        (0, ["schema", "register", "users-value", str(rest.workdir / "v1.avsc")]),
        (0, ["schema", "get", "users-value"]),
        (0, ["schema", "get", "users-value", "1", "--output", "json"]),
        (0, ["schema", "get", "--id", "1"]),
        (0, ["schema", "get", "--id", "1", "--output", "json"]),
        (0, ["schema", "diff", "users-value", "1", "latest", "--color", "always"]),
        (1, ["schema", "check", "users-value", str(rest.file("bad.avsc", USER_BAD)), "--output", "json"]),
        (0, ["subject", "list", "--deleted"]),
        (0, ["subject", "list", "--output", "json"]),
        (0, ["config", "get"]),
        (0, ["config", "get", "users-value", "--output", "json"]),
        (1, ["schema", "get", "nope"]),
    ]:
        a, b = rest.run(*args), grpc.run(*args)
        assert a.returncode == status, (args, a.stderr)
        assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr), args


def run_on_terminal(cli: Cli, args: list[str], env: dict[str, str]) -> str:
    """Runs with stdout on a pseudo-terminal and returns what it printed."""
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(
            [str(cli.binary), *args, "--registry", cli.registry],
            stdout=slave, stderr=subprocess.PIPE, cwd=cli.workdir, env=cli_env(env),
        )
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(30) == 0, proc.stderr.read() if proc.stderr else ""
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_diff_colours_a_terminal_unless_no_color(scute, scute_bin, tmp_path):
    cli = Cli(scute_bin, scute.url, tmp_path)
    cli.ok("schema", "register", "users-value", str(cli.file("v1.avsc", USER_V1)))
    cli.ok("schema", "register", "users-value", str(cli.file("v2.avsc", USER_V2)))
    args = ["schema", "diff", "users-value", "1", "2"]
    on_terminal = run_on_terminal(cli, args, {})
    assert '\x1b[32m+      "name": "age",\x1b[0m' in on_terminal
    assert "\x1b" not in run_on_terminal(cli, args, {"NO_COLOR": "1"})
    assert "\x1b" not in run_on_terminal(cli, [*args, "--color", "never"], {})


def test_usage_and_transport_errors_exit_2(scute_bin, tmp_path, scute):
    cli = Cli(scute_bin, "http://127.0.0.1:1", tmp_path)
    down = cli.run("subject", "list")
    assert down.returncode == 2
    assert "cannot reach the registry at http://127.0.0.1:1/" in down.stderr
    assert Cli(scute_bin, "grpc://127.0.0.1:1", tmp_path).run("subject", "list").returncode == 2
    up = Cli(scute_bin, scute.url, tmp_path)
    untyped = up.run("schema", "register", "s", str(up.file("schema.txt", '"string"')))
    assert untyped.returncode == 2
    assert "pass --type" in untyped.stderr
    assert header(up.ok("schema", "register", "s", str(up.workdir / "schema.txt"), "--type", "AVRO"))["version"] == "1"
    assert up.ok("schema", "check", "s", str(up.workdir / "schema.txt"), "--type", "avro") == "compatible\n"
    assert up.run("schema", "get", "s", "--id", "1").returncode == 2, "clap's usage error"
    assert up.run("schema", "get", "--id", "1", "2").returncode == 2
    assert Cli(scute_bin, "ftp://x", tmp_path).run("subject", "list").returncode == 2
    # The registry comes from SCUTE_REGISTRY too.
    env_run = subprocess.run(
        [str(scute_bin), "subject", "list"], capture_output=True, text=True, timeout=60,
        env=cli_env({"SCUTE_REGISTRY": scute.url}),
    )
    assert (env_run.returncode, table(env_run.stdout)) == (0, [["SUBJECT"], ["s"]])


class FakeRegistry(BaseHTTPRequestHandler):
    """A Confluent-style registry of an older release: registering answers only `{"id"}`."""

    seen: list[tuple[str, str, str | None]] = []

    def log_message(self, *args):  # quiet
        pass

    def answer(self, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.seen.append(("GET", self.path, self.headers.get("Authorization")))
        self.answer(["legacy-value"])

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        schema = json.loads(self.rfile.read(length))["schema"]
        self.seen.append(("POST", self.path, self.headers.get("Authorization")))
        if self.path == "/subjects/legacy-value/versions":
            self.answer({"id": 9})
        else:
            self.answer({"subject": "legacy-value", "version": 4, "id": 9, "schema": schema})


def test_rest_against_an_older_registry_with_basic_auth(scute_bin, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeRegistry.seen = []
    try:
        cli = Cli(scute_bin, f"http://alice:s3cr%40t@127.0.0.1:{server.server_port}", tmp_path)
        assert table(cli.ok("subject", "list")) == [["SUBJECT"], ["legacy-value"]]
        registered = cli.ok("schema", "register", "legacy-value", str(cli.file("s.avsc", '"string"')))
        assert header(registered) == {"subject": "legacy-value", "version": "4", "id": "9"}
    finally:
        server.shutdown()
    auth = "Basic " + base64.b64encode(b"alice:s3cr@t").decode()
    assert FakeRegistry.seen == [
        ("GET", "/subjects", auth),
        ("POST", "/subjects/legacy-value/versions", auth),
        ("POST", "/subjects/legacy-value", auth),
    ]


def self_signed_ca_and_leaf(workdir: Path) -> tuple[Path, Path, Path]:
    """A CA of our own and a certificate it signed for localhost: (ca, cert, key)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    valid = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("scute test CA")).issuer_name(name("scute test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(valid[0]).not_valid_after(valid[1])
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(valid[0]).not_valid_after(valid[1])
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = workdir / "ca.pem", workdir / "leaf.pem", workdir / "leaf.key"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(leaf.public_bytes(pem))
    paths[2].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


def test_rest_over_https_verifies_the_registry_certificate(scute_bin, tmp_path):
    import ssl

    ca, cert, key = self_signed_ca_and_leaf(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRegistry)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeRegistry.seen = []
    try:
        cli = Cli(scute_bin, f"https://localhost:{server.server_port}", tmp_path)
        # Trusted through the standard variable naming a CA file.
        assert table(cli.ok("subject", "list", env={"SSL_CERT_FILE": str(ca)})) == [["SUBJECT"], ["legacy-value"]]
        # Not trusted through another CA: refused before any request.
        other_dir = tmp_path / "other"
        other_dir.mkdir()
        other_ca, _, _ = self_signed_ca_and_leaf(other_dir)
        refused = cli.run("subject", "list", env={"SSL_CERT_FILE": str(other_ca)})
        assert refused.returncode == 2, refused.stderr
        assert f"cannot reach the registry at https://localhost:{server.server_port}/" in refused.stderr
        assert "certificate" in refused.stderr.lower(), refused.stderr
    finally:
        server.shutdown()
    assert FakeRegistry.seen == [("GET", "/subjects", None)]
