"""`python -m tui.localserver --host 127.0.0.1 --port 8765`: the local server on its own."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from tui.localserver.server import LocalServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tui.localserver",
        description="The rt-tui local Realtime server (GA protocol, loopback, no API key needed: "
        "any 'Authorization: Bearer ...' value is accepted).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port (0 = any free port)")
    parser.add_argument(
        "--realtime-factor",
        type=float,
        default=4.0,
        help="how much faster than real time reply audio streams (default 4)",
    )
    parser.add_argument("--verbose", action="store_true", help="log connections")
    return parser.parse_args(argv)


async def serve_until_stopped(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with LocalServer(args.host, args.port, realtime_factor=args.realtime_factor) as server:
        print(server.url, flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    asyncio.run(serve_until_stopped(args))


if __name__ == "__main__":
    main()
