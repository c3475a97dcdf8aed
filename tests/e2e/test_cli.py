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


# -- security: `scute user`, credentials and TLS -------------------------------


def scute_user(scute_bin: Path, workdir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(scute_bin), "user", *args], input=stdin, capture_output=True, text=True, timeout=60,
        cwd=workdir, env=cli_env(),
    )


def grant(users_file: Path, username: str, operation: str = "Write", resource: str = ".*") -> None:
    """Adds a permission by hand, as an operator edits the file."""
    document = json.loads(users_file.read_text())
    document["permissions"].append({"username": username, "operation": operation, "resource": resource})
    users_file.write_text(json.dumps(document))


def test_user_hash_prints_karapace_mkpasswds_entry(scute_bin, tmp_path):
    # karapace_mkpasswd -u cave secret salt (sha512 by default), indented by four.
    expected = (
        '{\n    "username": "cave",\n    "algorithm": "sha512",\n    "salt": "salt",\n'
        '    "password_hash": "CUXHCPbYxKenfgrWHqiIuqAd1VCVkR7YWGdyCnmRFCyRFsblNuriBcesDSvgaxCPb397R4ueFcjWzBcCNtGOYw=="\n}\n'
    )
    printed = scute_user(scute_bin, tmp_path, "hash", "-u", "cave", "--salt", "salt", stdin="secret\n")
    assert (printed.returncode, printed.stdout, printed.stderr) == (0, expected, "")
    same = scute_user(scute_bin, tmp_path, "hash", "--username", "cave", "--salt", "salt", "--password", "secret")
    assert same.stdout == expected
    random = json.loads(scute_user(scute_bin, tmp_path, "hash", "-a", "scrypt", stdin="secret\n").stdout)
    assert list(random) == ["algorithm", "salt", "password_hash"] and random["algorithm"] == "scrypt"
    assert len(random["salt"]) == 22 and len(base64.b64decode(random["password_hash"])) == 64
    # Usage errors: one line, status 2.
    for args, stdin, message in [
        (["hash"], "", "standard input is empty"),
        (["hash"], "\n", "the password is empty"),
        (["hash", "-a", "md5"], "pw\n", "invalid value 'md5'"),
        (["add", "--file", "u.json", "a:b"], "pw\n", "cannot hold ':'"),
    ]:
        refused = scute_user(scute_bin, tmp_path, *args, stdin=stdin)
        assert refused.returncode == 2, (args, refused.stderr)
        assert message in refused.stderr, (args, refused.stderr)


def test_basic_auth_with_a_user_file_scute_user_wrote(scute_factory, scute_bin, tmp_path):
    users = tmp_path / "users.json"
    added = scute_user(scute_bin, tmp_path, "add", "--file", str(users), "alice", stdin="first\n")
    assert added.returncode == 0, added.stderr
    assert added.stderr.startswith(f'scute: added user "alice" to {users}'), added.stderr
    assert "no permission names them" in added.stderr
    grant(users, "alice")
    # A new password replaces the entry and keeps the permission.
    replaced = scute_user(scute_bin, tmp_path, "add", "--file", str(users), "-a", "sha256", "alice", stdin="s3cret\n")
    assert replaced.returncode == 0, replaced.stderr
    assert replaced.stderr == f'scute: replaced user "alice" in {users}\n'
    document = json.loads(users.read_text())
    assert [u["username"] for u in document["users"]] == ["alice"]
    assert document["users"][0]["algorithm"] == "sha256"
    assert document["permissions"] == [{"username": "alice", "operation": "Write", "resource": ".*"}]
    if os.name == "posix":
        assert users.stat().st_mode & 0o777 == 0o600

    assert scute_user(scute_bin, tmp_path, "add", "--file", str(users), "reader", "--password", "r").returncode == 0
    grant(users, "reader", "Read", "Subject:s-.*")
    scute = scute_factory().start(extra_args=["--auth-file", str(users), "--auth-open-path", "/"])
    for registry in [scute.url, f"grpc://{scute.grpc_addr}"]:
        cli = Cli(scute_bin, registry, tmp_path)
        assert cli.run("subject", "list").returncode == 1
        cli.ok("schema", "register", "s-value", str(cli.file("s.avsc", '"string"')), "--user", "alice:s3cret")
        assert table(cli.ok("subject", "list", "--user", "alice:s3cret")) == [["SUBJECT"], ["s-value"]]
        # The password from SCUTE_PASSWORD, the user from SCUTE_USER.
        assert "s-value" in cli.ok("subject", "list", env={"SCUTE_USER": "alice", "SCUTE_PASSWORD": "s3cret"})
        for wrong in [["--user", "alice:first"], ["--user", "bob:s3cret"], ["--token", "not-a-jwt"], []]:
            refused = cli.run("subject", "list", *wrong)
            assert refused.returncode == 1, (registry, wrong, refused.stderr)
            assert refused.stderr == "scute: Unauthorized (error code 40101)\n", (registry, wrong, refused.stderr)
        both = cli.run("subject", "list", "--user", "alice:s3cret", "--token", "t")
        assert both.returncode == 2 and "one kind of credentials" in both.stderr
        # Known, but without the permission: 403, Confluent's 40301, exit 1.
        denied = cli.run("schema", "register", "s-value", str(cli.workdir / "s.avsc"), "--user", "reader:r")
        assert denied.returncode == 1, (registry, denied.stderr)
        assert "(error code 40301)" in denied.stderr, (registry, denied.stderr)
        assert "s-value" in cli.ok("subject", "list", "--user", "reader:r")


def write_test_pki(workdir: Path) -> dict[str, Path]:
    """A CA, a server certificate it signed for localhost and 127.0.0.1
    (X.509 v3, subjectAltName), and a client certificate: made with the openssl CLI."""
    workdir.mkdir(parents=True, exist_ok=True)
    p = {name: workdir / name for name in
         ["ca.pem", "ca.key", "server.pem", "server.key", "client.pem", "client.key"]}

    def openssl(*args: str) -> None:
        done = subprocess.run(["openssl", *args], capture_output=True, text=True, cwd=workdir, timeout=60)
        assert done.returncode == 0, done.stderr

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", str(p["ca.key"]), "-out", str(p["ca.pem"]), "-days", "2",
            "-subj", "/CN=scute test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for leaf, cn, extensions in [
        ("server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
        ("client", "alice", "extendedKeyUsage=clientAuth\n"),
    ]:
        ext = workdir / f"{leaf}.ext"
        ext.write_text("basicConstraints=CA:FALSE\n" + extensions)
        csr = workdir / f"{leaf}.csr"
        openssl("req", *ec, "-keyout", str(p[f"{leaf}.key"]), "-out", str(csr), "-subj", f"/CN={cn}")
        openssl("x509", "-req", "-in", str(csr), "-CA", str(p["ca.pem"]), "-CAkey", str(p["ca.key"]),
                "-CAcreateserial", "-out", str(p[f"{leaf}.pem"]), "-days", "2", "-extfile", str(ext))
    return p


def start_tls(scute_factory, extra_args: list[str]):
    """A server with TLS on both listeners: the fixture's readiness check
    speaks plain HTTP, so this waits for the log line instead."""
    import time

    for _ in range(3):
        scute = scute_factory()
        proc = scute.spawn(extra_args)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "scute is serving" in scute.log():
                return scute
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        log = scute.log()
        if proc.poll() is not None and re.search(r"(?i)address (already )?in use", log):
            continue  # a port taken between choosing and binding it: try others
        scute.kill()
        pytest.fail(f"scute did not serve over TLS; its output:\n{log}")
    pytest.fail("no free ports for scute")


def test_tls_with_a_private_ca(scute_factory, scute_bin, tmp_path):
    pki = write_test_pki(tmp_path / "pki")
    scute = start_tls(scute_factory, ["--tls-cert", str(pki["server.pem"]), "--tls-key", str(pki["server.key"])])
    rest = f"https://localhost:{scute.rest_port}"
    grpcs = f"grpcs://localhost:{scute.grpc_port}"
    for registry in [rest, grpcs]:
        cli = Cli(scute_bin, registry, tmp_path)
        cli.ok("schema", "register", "tls-value", str(cli.file("t.avsc", '"string"')), "--ca-cert", str(pki["ca.pem"]))
        assert table(cli.ok("subject", "list", "--ca-cert", str(pki["ca.pem"]))) == [["SUBJECT"], ["tls-value"]]
        # The CA from SCUTE_CA_CERT.
        assert "tls-value" in cli.ok("subject", "list", env={"SCUTE_CA_CERT": str(pki["ca.pem"])})
        # Without the CA, the system's roots do not know the certificate.
        untrusted = cli.run("subject", "list")
        assert untrusted.returncode == 2, (registry, untrusted.stderr)
        assert "TLS certificate problem" in untrusted.stderr, untrusted.stderr
        assert "not signed by a CA this client trusts" in untrusted.stderr, untrusted.stderr
        assert "--ca-cert" in untrusted.stderr and untrusted.stderr.count("\n") == 1, untrusted.stderr
        # A file that holds no certificate is refused before connecting.
        not_pem = cli.run("subject", "list", "--ca-cert", str(pki["ca.key"]))
        assert not_pem.returncode == 2 and "no certificate in it" in not_pem.stderr, not_pem.stderr
    # TLS files with a plain-text registry: a forgotten "s", said so.
    plain = Cli(scute_bin, f"http://localhost:{scute.rest_port}", tmp_path).run(
        "subject", "list", "--ca-cert", str(pki["ca.pem"]))
    assert plain.returncode == 2 and "is plain text" in plain.stderr, plain.stderr


def test_mutual_tls_and_basic_auth_over_tls(scute_factory, scute_bin, tmp_path):
    pki = write_test_pki(tmp_path / "pki")
    users = tmp_path / "users.json"
    assert scute_user(scute_bin, tmp_path, "add", "--file", str(users), "alice", stdin="pw\n").returncode == 0
    grant(users, "alice")
    scute = start_tls(scute_factory, [
        "--tls-cert", str(pki["server.pem"]), "--tls-key", str(pki["server.key"]),
        "--tls-client-ca", str(pki["ca.pem"]), "--tls-client-auth", "optional",
        "--auth-file", str(users), "--auth-client-certificates",
    ])
    ca = ["--ca-cert", str(pki["ca.pem"])]
    identity = ["--client-cert", str(pki["client.pem"]), "--client-key", str(pki["client.key"])]
    for registry in [f"https://localhost:{scute.rest_port}", f"grpcs://localhost:{scute.grpc_port}"]:
        cli = Cli(scute_bin, registry, tmp_path)
        # The client certificate names alice (its CN), whom the file lets write.
        cli.ok("schema", "register", "m-value", str(cli.file("m.avsc", '"string"')), *ca, *identity)
        assert "m-value" in cli.ok("subject", "list", *ca, *identity)
        assert "m-value" in cli.ok("subject", "list", *ca, "--user", "alice:pw")
        refused = cli.run("subject", "list", *ca, "--user", "alice:nope")
        assert (refused.returncode, refused.stderr) == (1, "scute: Unauthorized (error code 40101)\n")
        # A key that is not the certificate's: said before any request.
        mismatch = cli.run("subject", "list", *ca, "--client-cert", str(pki["client.pem"]),
                           "--client-key", str(pki["server.key"]))
        assert mismatch.returncode == 2 and "not the key of --client-cert" in mismatch.stderr, mismatch.stderr
        half = cli.run("subject", "list", *ca, "--client-cert", str(pki["client.pem"]))
        assert half.returncode == 2 and "--client-key" in half.stderr
