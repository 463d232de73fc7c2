"""A stand-in for the few Grafana HTTP API endpoints ``dashboards push`` uses, recording every
request. It keeps data sources and dashboards as Grafana does: secrets write-only, dashboards
stored as posted with an ``id`` and a ``version``."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "glsa_test-token"


@dataclass
class Request:
    method: str
    path: str
    body: Any


@dataclass
class FakeGrafana:
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)

    def writes(self) -> list[Request]:
        """The requests that changed something."""
        return [r for r in self.requests if r.method != "GET"]

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "GET" and path.startswith("/api/datasources/uid/"):
            ds = self.datasources.get(path.rsplit("/", 1)[1])
            if ds is None:
                return 404, {"message": "Data source not found"}
            shown = {k: v for k, v in ds.items() if k != "secureJsonData"}
            shown["secureJsonFields"] = {k: True for k in ds.get("secureJsonData", {})}
            return 200, shown
        if method == "POST" and path == "/api/datasources":
            self.datasources[body["uid"]] = {**body, "id": len(self.datasources) + 1}
            return 200, {"message": "Datasource added", "id": len(self.datasources)}
        if method == "PUT" and path.startswith("/api/datasources/uid/"):
            uid = path.rsplit("/", 1)[1]
            self.datasources[uid] = {**body, "id": self.datasources[uid]["id"]}
            return 200, {"message": "Datasource updated"}
        if method == "GET" and path.startswith("/api/dashboards/uid/"):
            stored = self.dashboards.get(path.rsplit("/", 1)[1])
            if stored is None:
                return 404, {"message": "Dashboard not found"}
            return 200, {"dashboard": stored, "meta": {"slug": "x"}}
        if method == "POST" and path == "/api/dashboards/db":
            dash = body["dashboard"]
            old = self.dashboards.get(dash["uid"], {"id": len(self.dashboards) + 1, "version": 0})
            self.dashboards[dash["uid"]] = {**dash, "id": old["id"], "version": old["version"] + 1}
            return 200, {"status": "success", "uid": dash["uid"]}
        return 404, {"message": "Not found"}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGrafana

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.fake.requests.append(Request(self.command, self.path, body))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            status, answer = 401, {"message": "invalid API key"}
        else:
            status, answer = self.fake.answer(self.command, self.path, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def fake_grafana() -> Iterator[FakeGrafana]:
    """A fake Grafana on a free local port, for the length of the block."""
    fake = FakeGrafana()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
