"""Fixtures that run the real `scute` binary for the end-to-end tests.

The binary is `target/debug/scute` (built by `tests/run`), or whatever
SCUTE_BIN points at. Each server gets free loopback ports and its own fresh
data directory; it is stopped with SIGTERM and must exit with status 0.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


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


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def registry_client(scute) -> SchemaRegistryClient:
    """Confluent's Python client, fresh: its cache is empty, so every lookup
    goes to Scute."""
    return SchemaRegistryClient({"url": scute.url, "timeout": 10, "max.retries": 0})


def frame_id(data: bytes) -> int:
    """The schema id of a Confluent wire-format frame."""
    assert data[0] == 0, f"not Confluent wire format v0: {data[:5]!r}"
    return struct.unpack(">I", data[1:5])[0]


class Scute:
    """One `scute` process on a data directory."""

    def __init__(self, binary: Path, data_dir: Path, log_dir: Path, name: str):
        self.binary = binary
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.rest_port = 0
        self.grpc_port = 0
        self.log_path: Path | None = None
        self._runs = 0

    # -- addresses ---------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def grpc_addr(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    # -- lifecycle ---------------------------------------------------------
    def spawn(self, extra_args: list[str] | None = None, via_env: bool = False) -> subprocess.Popen:
        """Starts the process without waiting for it to serve.

        With via_env the data dir and addresses go in SCUTE_* variables instead of flags.
        """
        assert self.binary.exists(), f"{self.binary} is missing: build it with `cargo build -p scute-service --bin scute`"
        self.rest_port = free_port()
        self.grpc_port = free_port()
        while self.grpc_port == self.rest_port:
            self.grpc_port = free_port()
        self._runs += 1
        self.log_path = self.log_dir / f"{self.name}-run{self._runs}.log"
        log = open(self.log_path, "wb")
        env = dict(os.environ)
        env.setdefault("RUST_BACKTRACE", "1")
        env["NO_COLOR"] = "1"
        for key in list(env):  # only the flags below configure the server
            if key.startswith("SCUTE_") and key != "SCUTE_BIN":
                del env[key]
        settings = {
            "data-dir": str(self.data_dir),
            "rest-listen": f"127.0.0.1:{self.rest_port}",
            "grpc-listen": f"127.0.0.1:{self.grpc_port}",
        }
        args = [str(self.binary)]
        for name, value in settings.items():
            if via_env:
                env["SCUTE_" + name.upper().replace("-", "_")] = value
            else:
                args += [f"--{name}", value]
        args += extra_args or []
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.log_dir
        )
        log.close()
        return self.proc

    def start(self, extra_args: list[str] | None = None, via_env: bool = False) -> "Scute":
        """Starts the process and waits until `GET /` answers 200 and the gRPC port accepts."""
        for attempt in range(3):
            self.spawn(extra_args, via_env)
            try:
                self.wait_ready()
                return self
            except PortTaken:
                if attempt == 2:
                    raise
        return self

    def wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        rest_ok = grpc_ok = False
        last = ""
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                log = self.log()
                if re.search(r"(?i)address (already )?in use", log):
                    raise PortTaken(log)
                pytest.fail(f"scute exited with status {code} before serving; its output:\n{log}")
            if not rest_ok:
                try:
                    status, body = http_get(self.url + "/")
                    rest_ok = status == 200
                    last = f"GET / -> {status} {body[:200]!r}"
                except OSError as e:
                    last = f"GET / -> {e}"
            if rest_ok and not grpc_ok:
                try:
                    socket.create_connection(("127.0.0.1", self.grpc_port), timeout=1).close()
                    grpc_ok = True
                except OSError as e:
                    last = f"gRPC connect -> {e}"
            if rest_ok and grpc_ok:
                return
            time.sleep(0.05)
        self.kill()
        pytest.fail(f"scute did not serve within {START_TIMEOUT}s (last: {last}); its output:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """SIGTERM (or sig), wait, and return the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"scute did not exit within {STOP_TIMEOUT}s of signal {sig}; its output:\n{self.log()}")
        return self.proc.returncode

    def stop_clean(self, sig: int = signal.SIGTERM) -> None:
        code = self.stop(sig)
        assert code == 0, f"scute exited with status {code} after signal {sig} (expected 0); its output:\n{self.log()}"

    def kill(self) -> None:
        """SIGKILL, as a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(STOP_TIMEOUT)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return ANSI.sub("", self.log_path.read_text(errors="replace"))


class PortTaken(Exception):
    pass


@pytest.fixture(scope="session")
def scute_bin() -> Path:
    path = scute_binary()
    if not path.exists():
        pytest.fail(f"{path} is missing: build it with `cargo build -p scute-service --bin scute`")
    return path


@pytest.fixture
def scute_factory(scute_bin, tmp_path):
    """Makes Scute servers; any still running at the end get SIGTERM and must exit 0."""
    made: list[Scute] = []

    def make(data_dir: Path | None = None, name: str = "scute") -> Scute:
        d = data_dir or (tmp_path / f"data-{len(made)}")
        s = Scute(scute_bin, d, tmp_path, f"{name}{len(made)}")
        made.append(s)
        return s

    yield make
    failures = []
    for s in made:
        if s.running():
            code = s.stop()
            if code != 0:
                failures.append(f"{s.name}: exit status {code} after SIGTERM; its output:\n{s.log()}")
    if failures:
        pytest.fail("\n".join(failures))


@pytest.fixture
def scute(scute_factory) -> Scute:
    """A running Scute on free ports with a fresh data directory."""
    return scute_factory().start()


ALARM = re.compile(r"^\S+\s+(ERROR|WARN)\s")


def alarms(log: str) -> list[str]:
    """The ERROR and WARN lines of a text log: in normal operation there are
    none, since such a line tells an operator to act."""
    return [line for line in log.splitlines() if ALARM.match(line)]


def parse_json_lines(text: str):
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                yield json.loads(line)
            except ValueError:
                continue


# -- Kafka: a real Kafka-protocol broker (tansu) -----------------------------

def tansu_binary() -> Path:
    """tansu 0.6.0, installed by tests/run into target/tansu (or TANSU_BIN)."""
    explicit = os.environ.get("TANSU_BIN")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    if not target.is_absolute():
        target = REPO / target
    return target / "tansu" / "bin" / "tansu"


class Broker:
    """One tansu broker with in-memory storage: a restart is a new, empty cluster."""

    def __init__(self, binary: Path, log_dir: Path, name: str = "tansu"):
        self.binary = binary
        self.port = free_port()
        self.log_path = log_dir / f"{name}.log"
        url = f"tcp://127.0.0.1:{self.port}"
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=log_dir,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"tansu exited: {self.log_path.read_text(errors='replace')}"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"tansu did not listen within {START_TIMEOUT}s")

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def pause(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)


@pytest.fixture
def broker(tmp_path):
    """A fresh tansu broker for one test."""
    binary = tansu_binary()
    if not binary.exists():
        pytest.fail(f"{binary} is missing: tests/run installs it (cargo install tansu --version 0.6.0 --features dynostore)")
    b = Broker(binary, tmp_path)
    yield b
    b.close()


def kafka_args(broker: Broker, topic: str = "_schemas", node: int | None = None, timeout_ms: int = 3000) -> list[str]:
    args = ["--kafka-bootstrap", broker.bootstrap, "--kafka-topic", topic, "--kafka-timeout-ms", str(timeout_ms)]
    if node is not None:
        args += ["--node-id", str(node)]
    return args


def wait_serving(server: Scute, timeout: float = 60.0) -> None:
    """Waits until the node has replayed its topic (GET /subjects stops answering 503)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.running(), f"scute exited; its output:\n{server.log()}"
        status, _ = http_get(server.url + "/subjects")
        if status == 200:
            return
        time.sleep(0.05)
    raise AssertionError(f"scute did not catch up within {timeout}s; its output:\n{server.log()}")
