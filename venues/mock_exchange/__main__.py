"""``python -m riskctl.venues.mock_exchange --port 0``: serve the mock until SIGTERM/SIGINT.

Prints the URL (``http://127.0.0.1:<port>``) on one line, flushed, once it accepts
connections, so a parent process can read it and connect. The API secret is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from riskctl.venues.mock_exchange.server import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    MockExchange,
)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m riskctl.venues.mock_exchange",
        description="A mock Binance spot exchange on 127.0.0.1, for tests.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 lets the OS choose")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--api-secret", default=DEFAULT_API_SECRET)
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with MockExchange(
        port=args.port, api_key=args.api_key, api_secret=args.api_secret
    ) as mock:
        sys.stdout.write(mock.url + "\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    asyncio.run(_serve(_arguments(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
