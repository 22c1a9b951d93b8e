"""Headless Chromium over the DevTools protocol, for tests that open a page as a person would.

Debian's ``/usr/bin/chromium`` is started with ``--remote-debugging-port=0``; the
DevTools address it prints on stderr is dialled with aiohttp's websocket client, and one
page target is driven through a flattened session. The page's problems are collected from
the protocol itself: uncaught exceptions (``Runtime.exceptionThrown``), ``console.error``
and ``console.assert`` calls, browser log entries of level error (``Log.entryAdded``:
failed loads, CSP violations), and every request it makes (``Network.requestWillBeSent``).

Chromium is pointed at a proxy on a closed loopback port, so nothing it or the page tries
can leave this machine; a page that does try still shows up in ``requests``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

__all__ = ["CHROMIUM", "INSTALL_HINT", "Browser", "Page", "chromium", "find_chromium"]

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = (
    "these tests open the report in Debian's headless Chromium, which is not installed:"
    " run `apt-get install -y chromium` as root (.ci/run installs it when absent)"
)
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")
_FLAGS = (
    "--headless=new",
    "--remote-debugging-port=0",
    "--no-sandbox",  # root in a container: Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-pings",
    "--metrics-recording-only",
    "--proxy-server=127.0.0.1:9",  # the discard port, closed: no request leaves the machine
    "--hide-scrollbars",
    "--mute-audio",
)
_TIMEOUT_S = 60  # a hang guard only: nothing is asserted about time


def find_chromium() -> Path | None:
    """Debian's chromium, or one on PATH."""
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


class Browser:
    """One DevTools connection: commands by id, events kept in arrival order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            body = message.json()
            if "id" in body:
                future = self._pending.pop(body["id"], None)
                if future is not None and not future.done():
                    future.set_result(body)
            else:
                self.events.append(body)
                self._arrived.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("DevTools connection closed"))

    async def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self._next_id += 1
        request: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            request["sessionId"] = session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        await self._ws.send_json(request)
        async with asyncio.timeout(_TIMEOUT_S):
            answer = await future
        if "error" in answer:
            raise RuntimeError(f"DevTools {method} failed: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def wait_for(self, method: str, session: str) -> dict[str, Any]:
        """The first event ``method`` of ``session`` (already arrived or still to come)."""
        seen = 0
        async with asyncio.timeout(_TIMEOUT_S):
            while True:
                for event in self.events[seen:]:
                    if event.get("method") == method and event.get("sessionId") == session:
                        return event
                seen = len(self.events)
                self._arrived.clear()
                await self._arrived.wait()

    async def open(self, url: str, *, width: int = 1280, height: int = 900) -> Page:
        """A new tab showing ``url``, loaded (its load event fired), with problems recorded."""
        target = await self.call("Target.createTarget", {"url": "about:blank"})
        attached = await self.call(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        page = Page(self, attached["sessionId"])
        for domain in ("Runtime", "Log", "Page", "Network"):
            await page.call(f"{domain}.enable")
        await page.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        navigated = await page.call("Page.navigate", {"url": url})
        if navigated.get("errorText"):
            raise RuntimeError(f"could not open {url}: {navigated['errorText']}")
        await self.wait_for("Page.loadEventFired", page.session)
        return page

    async def close(self) -> None:
        await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class Page:
    """One tab: evaluate JavaScript, take screenshots, read what went wrong."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser = browser
        self.session = session

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.browser.call(method, params, self.session)

    async def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` (awaited if it is a promise); a throw raises here."""
        result = await self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {_describe(result['exceptionDetails'])}")
        return result["result"].get("value")

    async def screenshot(self, *, height: float | None = None, scale: float = 1.0) -> bytes:
        """A PNG of the page from its top, ``height`` CSS pixels (the whole page by default)
        and scaled by ``scale``: past the viewport, as a person scrolling would see it."""
        size = (await self.call("Page.getLayoutMetrics"))["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": height or size["height"]}
        shot = await self.call(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": {**clip, "scale": scale}},
        )
        return base64.b64decode(shot["data"])

    def _events(self, method: str) -> list[dict[str, Any]]:
        return [
            e["params"]
            for e in self.browser.events
            if e.get("method") == method and e.get("sessionId") == self.session
        ]

    def problems(self) -> list[str]:
        """Uncaught exceptions, console errors and assertions, browser log errors."""
        found = [
            f"uncaught: {_describe(e['exceptionDetails'])}"
            for e in self._events("Runtime.exceptionThrown")
        ]
        for call in self._events("Runtime.consoleAPICalled"):
            if call["type"] in ("error", "assert"):
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in call["args"])
                found.append(f"console.{call['type']}: {args}")
        for entry in self._events("Log.entryAdded"):
            if entry["entry"]["level"] == "error":
                found.append(f"log: {entry['entry']['text']} {entry['entry'].get('url', '')}")
        return found

    def requests(self) -> list[str]:
        """Every URL the page asked for, its own document included."""
        return [r["request"]["url"] for r in self._events("Network.requestWillBeSent")]


def _describe(details: dict[str, Any]) -> str:
    exception = details.get("exception") or {}
    return str(exception.get("description") or details.get("text", "unknown error"))


@contextlib.asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[Browser]:
    """Start headless Chromium with a fresh profile in ``profile``; stop it on exit."""
    binary = find_chromium()
    if binary is None:
        raise FileNotFoundError(INSTALL_HINT)
    process = await asyncio.create_subprocess_exec(
        str(binary),
        *_FLAGS,
        f"--user-data-dir={profile}",
        "about:blank",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    log: list[str] = []
    drain: asyncio.Task[None] | None = None
    try:
        url = await _devtools_url(process.stderr, log)
        # Keep reading stderr, or Chromium blocks once the pipe fills.
        drain = asyncio.create_task(_drain(process.stderr, log))
        async with aiohttp.ClientSession() as http, http.ws_connect(url, max_msg_size=0) as ws:
            browser = Browser(ws)
            try:
                yield browser
            finally:
                await browser.close()
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        if drain is not None:
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain


async def _devtools_url(stderr: asyncio.StreamReader, log: list[str]) -> str:
    async with asyncio.timeout(_TIMEOUT_S):
        while line := (await stderr.readline()).decode(errors="replace"):
            log.append(line)
            if found := _LISTENING.search(line):
                return found.group(1)
    raise RuntimeError("Chromium exited before it listened for DevTools:\n" + "".join(log))


async def _drain(stderr: asyncio.StreamReader, log: list[str]) -> None:
    while line := await stderr.readline():
        log.append(line.decode(errors="replace"))
