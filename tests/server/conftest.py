"""Fixtures the tool-call tests share: the local server paced fast (`server`), and a raw
client that has seen session.created (`client`). A module may define its own of either."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.server import RawClient
from tui.localserver import LocalServer


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer(realtime_factor=50) as running:
        yield running


@pytest.fixture
async def client(server: LocalServer) -> AsyncIterator[RawClient]:
    async with await RawClient.connect(server.url) as connected:
        assert (await connected.recv())["type"] == "session.created"
        yield connected
