"""`twin serve` as a user starts it: exposure refused, a taken port and malformed requests each one
line, the control token and JWT secret from the environment."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator

import jwt
import pytest
from twin_process import TWIN, TwinProcess, free_port, twin_serve
from twin_testing import TUTORHUB

TWIN_SERVE = [str(TWIN), "serve", "--spec", str(TUTORHUB)]


def serve(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TWIN_SERVE, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("args, env, missing", [
    (["--host", "0.0.0.0"], {}, "--control-token (or TWIN_CONTROL_TOKEN) and --jwt-secret"),
    (["--host", "0.0.0.0", "--control-token", "t0ken"], {}, "--jwt-secret (or TWIN_JWT_SECRET)"),
    (["--host", "0.0.0.0"], {"TWIN_JWT_SECRET": "own-secret"}, "--control-token (or TWIN_CONTROL_TOKEN), or"),
])
def test_binding_beyond_loopback_without_a_token_and_a_secret_is_refused(args: list[str], env: dict[str, str],
                                                                         missing: str):
    env = {"TWIN_CONTROL_TOKEN": "", "TWIN_JWT_SECRET": "", **env}
    done = serve(*args, "--port", str(free_port()), env=env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --host 0.0.0.0 would let anyone on the network")
    assert missing in lines[0]
    assert "serving" not in done.stdout


def test_a_short_jwt_secret_is_refused_in_one_line():
    done = serve("--port", str(free_port()), "--jwt-secret", "short")
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: the JWT secret must be at least 32 bytes (HS256, RFC 7518 §3.2); "
                                   "this one has 5")


def test_a_taken_port_is_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve("--port", str(port))
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: port {port} on 127.0.0.1 is already in use (another twin?); choose another --port"
    assert "serving" not in done.stdout and "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def guarded() -> Iterator[TwinProcess]:
    """`twin serve` with its control token and JWT secret from the environment."""
    env = {"TWIN_CONTROL_TOKEN": "ctl-token", "TWIN_JWT_SECRET": "a-secret-of-my-own-32-bytes-long!"}
    with twin_serve("--spec", str(TUTORHUB), env=env) as twin:
        yield twin


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_environment_sets_the_control_token_and_the_jwt_secret(guarded: TwinProcess):
    url = guarded.url
    status, body = get(url + "/__twin/personas")
    assert status == 401 and body["message"] == "errMsg_controlTokenRequired"
    status, body = get(url + "/__twin/personas?project=tutorhub", {"Authorization": "Bearer ctl-token"})
    assert status == 200
    token = body["personas"][0]["token"]  # type: ignore[index]
    assert jwt.decode(token, "a-secret-of-my-own-32-bytes-long!", algorithms=["HS256"])["project"] == "tutorhub"


def test_headers_with_nul_bytes_get_a_400_and_no_traceback(guarded: TwinProcess):
    url, port = guarded.url, guarded.port
    for raw in (b"GET /__twin/services HTTP/1.1\r\nHost: localhost\r\nX-Bad: a\x00b\r\n\r\n",
                b"GET /enrollmentmanagement-api/v1/enrollments HTTP/1.1\r\nHost: localhost\r\n"
                b"Authorization: Bearer a\x00b\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(raw)
            answer = sock.recv(64)
            assert answer.startswith(b"HTTP/1.") and b" 400 " in answer
    assert get(url + "/__twin/services", {"Authorization": "Bearer ctl-token"})[0] == 200
    output = guarded.stop()
    assert "Traceback" not in output
    assert output.count("refused with 400") == 2
