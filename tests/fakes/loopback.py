"""What the fakes' loopback HTTP servers share: a threading HTTP/1.1 server that keeps track of
its open connections, so stopping it can shut idle keep-alive connections down."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class TrackingServer(ThreadingHTTPServer):
    """A threading HTTP/1.1 server that remembers its open connections."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # the default 5 drops connections when a benchmark opens many

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients that went away (a dropped or timed-out request)."""

    def close_connections(self) -> None:
        """Shut idle keep-alive connections down so their threads end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
