"""Receive an OAuth redirect on the machine running the login: :class:`RedirectListener`.

``tradecore broker login`` opens the broker's login page in a browser; when the person has logged
in, the broker sends the browser to the connection's redirect URI (``http://localhost:8080/callback``
by default) with the authorization code in the query string. This listener serves that one
address on its host and port, answers the browser with a short page, and hands the full URL to
the caller. It never logs or prints the URL (it carries the code).
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit, urlunsplit

from tradecore.errors import ConfigurationError

__all__ = ["RedirectListener"]

_DONE_PAGE = (
    b"<!doctype html><html><head><meta charset='utf-8'><title>tradecore</title></head>"
    b"<body><h1>Login received</h1><p>You can close this window and go back to the terminal."
    b"</p></body></html>"
)
_MAX_REQUEST = 16384


class RedirectListener:
    """Serve the redirect URI until the browser comes back to it once.

    Use it as ``async with``: it listens on entering (so the URL can be shown only once the
    redirect can land) and stops on leaving.

    :param redirect_uri: an ``http://`` URI on this machine, e.g. ``http://localhost:8080/callback``.
    """

    def __init__(self, redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme != "http" or not parts.hostname:
            raise ConfigurationError(
                f"the redirect URI {redirect_uri!r} cannot be served here (an http:// URL on "
                "this machine is needed); use --paste instead"
            )
        self._host = parts.hostname
        self._port = parts.port or 80
        self._path = parts.path or "/"
        self._origin = urlunsplit(("http", parts.netloc, "", "", ""))
        self._server: asyncio.Server | None = None
        self._arrived: asyncio.Future[str] | None = None

    async def __aenter__(self) -> Self:
        self._arrived = asyncio.get_running_loop().create_future()
        try:
            self._server = await asyncio.start_server(self._serve, self._host, self._port)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot listen on {self._host}:{self._port} for the login's redirect "
                f"({exc.strerror or exc}); free that port, register another redirect URI for "
                "the app and set it as the connection's redirect_uri, or use --paste"
            ) from None
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=2)

    async def wait(self, timeout: float) -> str:
        """The full URL the browser was redirected to.

        :raises TimeoutError: nothing arrived within ``timeout`` seconds.
        """
        assert self._arrived is not None, "use the listener as `async with`"
        return await asyncio.wait_for(asyncio.shield(self._arrived), timeout=timeout)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            writer.close()
            return
        request_line = head[:_MAX_REQUEST].split(b"\r\n", 1)[0].decode("latin-1")
        method, _, rest = request_line.partition(" ")
        target = rest.rsplit(" ", 1)[0] if " " in rest else rest
        path = urlsplit(target).path
        arrived = self._arrived
        if method == "GET" and path == self._path and arrived is not None and not arrived.done():
            arrived.set_result(self._origin + target)
            await _answer(writer, 200, _DONE_PAGE)
        else:
            await _answer(writer, 404, b"not found")


async def _answer(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
    reason = "OK" if status == 200 else "Not Found"
    kind = "text/html; charset=utf-8" if status == 200 else "text/plain"
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\nCache-Control: no-store\r\n\r\n".encode("ascii")
        + body
    )
    with contextlib.suppress(Exception):
        await writer.drain()
    writer.close()
