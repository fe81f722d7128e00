"""The JSON API against its own OpenAPI document (schemathesis, in-process over ASGI): requests
generated from ``/api/openapi.json``, sent with a token of every scope; no answer is a 5xx and
every answer matches the document (status, media type, body, headers).

The document is read at import from the route table's app (tests/web/routes.py, a memory
application: nothing to open at collection); the server checks, when it opens, that it
publishes the same document at ``/api/openapi.json``. Schemathesis calls an ASGI app from one
event loop of its own (a thread), so the application is opened there, at the first request,
by :class:`_Server`; the token rides on every request the way a script would send it.
(``schemathesis.pytest.from_fixture`` would be the natural loader, but fails on pytest 9:
it reads ``request.node._nodeid``.)
"""

from __future__ import annotations

import asyncio
import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from litestar.testing import AsyncTestClient
from schemathesis.checks import positive_data_acceptance
from tests.web.routes import route_app

from tradecore.errors import NotFound
from tradecore_adapters.bootstrap import Application, Settings, initialise, open_application
from tradecore_web import WebOptions, create_app

_EXAMPLES = 8
"""Examples per operation: the whole API in well under a minute on a slow machine."""


class _Server:
    """The web front end over a new home, opened in the event loop that calls it first.

    Every request without an ``Authorization`` header gets alice's token (read, write,
    execute); alice has a paper connection so that the listings have something to show.
    """

    def __init__(self, home: Path) -> None:
        self._home = home
        self._lock: asyncio.Lock | None = None
        self._app: Litestar | None = None
        self._application: Application | None = None
        self._authorization = b""

    async def _open(self) -> Litestar:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._app is None:
                await initialise(Settings(home=self._home))
                application = await open_application(environ={"TRADECORE_HOME": str(self._home)})
                try:
                    alice = await application.users.find("alice")
                except NotFound:  # the first time
                    alice = await application.users.add("alice")
                    await application.connections.add(
                        alice.id, broker="paper", name="paper", settings={"seed": "3"}
                    )
                made = await application.api_tokens.create(alice.id, ["read", "write", "execute"])
                self._authorization = f"Bearer {made.secret}".encode("ascii")
                self._application = application
                app = create_app(application, WebOptions())
                async with AsyncTestClient(app=app) as client:
                    served = await client.get(
                        "/api/openapi.json", headers={"authorization": self._authorization.decode()}
                    )
                assert served.json() == _DOCUMENT, "the server publishes another document"
                self._app = app
        return self._app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while True:
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:  # after each operation's test: opened again at the next request
                    if self._application is not None:
                        await self._application.aclose()
                    self._application = self._app = None
                    await send({"type": "lifespan.shutdown.complete"})
                    return
                message = await receive()
        app = await self._open()
        headers = list(scope.get("headers", ()))
        if not any(name == b"authorization" for name, _ in headers):
            headers.append((b"authorization", self._authorization))
        await app({**scope, "headers": headers}, receive, send)


def _loaded() -> Any:
    where = Path(tempfile.mkdtemp(prefix="tradecore-schemathesis-"))
    atexit.register(shutil.rmtree, where, ignore_errors=True)
    loaded = schemathesis.openapi.from_dict(_DOCUMENT)
    loaded.app = _Server(where / "home")
    return loaded


_DOCUMENT = route_app().openapi_schema.to_schema()
schema = _loaded()


@schema.parametrize()
@settings(
    max_examples=_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_api_answers_as_its_openapi_document_says(case: schemathesis.Case) -> None:
    # Every check but positive_data_acceptance: a request the document allows may still be
    # refused by a service's rule the document cannot state (an unknown broker, a name taken,
    # an instrument the risk rules refuse); such a refusal is a 4xx with one sentence, and
    # the checks above still hold it to the document.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
