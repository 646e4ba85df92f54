"""The opening handshake: auth, paths, refusals by fault switch; the standalone entry point."""

from __future__ import annotations

import asyncio
import json
import socket
import sys

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.server import RawClient
from tui.localserver import Faults, LocalServer


async def refused(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    with pytest.raises(InvalidStatus) as caught:
        await websockets.connect(url, additional_headers=headers or {})
    response = caught.value.response
    assert response.headers["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.body)


async def test_missing_authorization_is_401(local_server: LocalServer) -> None:
    status, body = await refused(f"{local_server.url}?model=gpt-realtime")
    assert status == 401
    assert body["error"]["code"] == "missing_api_key"
    assert "Authorization" in body["error"]["message"]
    status, _ = await refused(f"{local_server.url}?model=m", {"Authorization": "Bearer "})
    assert status == 401
    assert local_server.sessions == []


async def test_other_paths_are_404_and_a_model_is_required(local_server: LocalServer) -> None:
    auth = {"Authorization": "Bearer k"}
    base = f"ws://127.0.0.1:{local_server.port}"
    assert (await refused(f"{base}/v1/chat?model=m", auth))[0] == 404
    assert (await refused(f"{base}/?model=m", auth))[0] == 404
    assert (await refused(local_server.url, auth))[0] == 400


async def test_any_bearer_works_and_the_beta_header_is_ignored(local_server: LocalServer) -> None:
    headers = {"Authorization": "Bearer anything", "OpenAI-Beta": "realtime=v1"}
    async with await RawClient.connect(local_server.url, headers=headers) as client:
        assert (await client.recv())["type"] == "session.created"
    record = await local_server.wait_for_session()
    assert record.headers["OpenAI-Beta"] == "realtime=v1"
    assert local_server.handshakes == [101]


@pytest.mark.parametrize("status", [401, 403, 404, 500])
async def test_refuse_handshake_by_fault_switch(local_server: LocalServer, status: int) -> None:
    local_server.faults.refuse_status = status
    got, body = await refused(f"{local_server.url}?model=m", {"Authorization": "Bearer k"})
    assert got == status and body["error"]["message"]
    local_server.faults.refuse_status = None  # live: the next handshake succeeds
    async with await RawClient.connect(local_server.url) as client:
        await client.recv()
    assert local_server.handshakes == [status, 101]


async def test_break_only_the_first_connections(local_server: LocalServer) -> None:
    local_server.break_next_connections(Faults(refuse_status=500), count=2)
    for _ in range(2):
        assert (await refused(f"{local_server.url}?model=m", {"Authorization": "Bearer k"}))[
            0
        ] == 500
    async with await RawClient.connect(local_server.url) as client:
        assert (await client.recv())["type"] == "session.created"
    assert local_server.handshakes == [500, 500, 101]


async def test_module_entry_point_serves_until_terminated() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tui.localserver",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        line = await asyncio.wait_for(process.stdout.readline(), timeout=20)
        url = line.decode().strip()
        assert url.startswith("ws://127.0.0.1:") and url.endswith("/v1/realtime")
        async with await RawClient.connect(url) as client:
            assert (await client.recv())["type"] == "session.created"
    finally:
        process.terminate()
        code = await asyncio.wait_for(process.wait(), timeout=10)
    assert code == 0, (await process.stderr.read()).decode()


async def test_module_entry_point_reports_a_taken_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tui.localserver",
            "--port",
            str(port),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 2
    assert stderr.decode().startswith(f"cannot listen on 127.0.0.1:{port}:")
    assert "Traceback" not in stderr.decode()
