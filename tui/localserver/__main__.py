"""`python -m tui.localserver --host 127.0.0.1 --port 8765`: the local server on its own."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from tui.localserver.server import LocalServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tui.localserver",
        description="The rt-tui local Realtime server: the OpenAI Realtime GA protocol on "
        "ws://HOST:PORT/v1/realtime?model=..., no real key needed (any 'Authorization: Bearer "
        "<anything>' header is accepted; on Azure's path /openai/v1/realtime also an 'api-key' "
        "header). Prints its URL, then serves until Ctrl-C.",
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
    server = LocalServer(
        args.host, args.port, realtime_factor=args.realtime_factor, record_audio=False
    )
    async with server:
        print(server.url, flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        asyncio.run(serve_until_stopped(args))
    except OSError as error:  # port taken, address not local: one line, no traceback
        print(
            f"cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr
        )
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
