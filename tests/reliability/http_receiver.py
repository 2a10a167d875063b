"""A real HTTP server on 127.0.0.1 (a thread) that records webhook requests, for the tests.

`receiver.respond(status, delay=…)` sets what it answers; `receiver.requests` lists what came in
(headers lower-cased, raw body bytes). `Receiver(host="127.0.0.2")` listens on another loopback
address; `Receiver(ssl_context=…)` speaks HTTPS with that context's certificate."""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    def __init__(self, host: str = "127.0.0.1", *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.requests: list[Received] = []
        self.status = 200
        self.statuses: list[int] = []  # answered in order first, then `status`
        self.delay = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver.lock:
                    receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                      body, time.time()))
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.status
                    delay = receiver.delay
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:  # keep the test output clean
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.scheme = "http"
        if ssl_context is not None:
            self.server.socket = ssl_context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{self.scheme}://{host}:{port}/hook"

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def respond(self, status: int = 200, *, delay: float = 0.0, first: list[int] | None = None) -> None:
        with self.lock:
            self.status, self.delay, self.statuses = status, delay, list(first or [])

    def message_ids(self) -> list[str]:
        with self.lock:
            return [r.headers.get("webhook-id", "") for r in self.requests]

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
