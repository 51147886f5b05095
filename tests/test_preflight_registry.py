"""jhub_ck8s.live.registry: the Bearer token flow (Harbor, Docker Hub, quay.io) and what 401/403/404 mean.

The Basic flow is tested against Debian's docker-registry in test_preflight.py. Harbor is
not available here, so a small registry on 127.0.0.1 speaks the distribution token
protocol as Harbor does: 401 with ``WWW-Authenticate: Bearer realm=...,service=...``, a
token endpoint that checks Basic credentials, 403 for an account without pull rights.
"""

from __future__ import annotations

import base64
import http.server
import json
import socket
import threading

import pytest

from jhub_ck8s.live.registry import head_manifest

pytestmark = pytest.mark.preflight
DIGEST = "sha256:" + "ab" * 32
ACCOUNTS = {("robot", "right"): "good-token", ("no-pull", "right"): "no-pull-token"}


class TokenRegistry:
    def __init__(self) -> None:
        seen: list[dict[str, str]] = []
        self.token_requests = seen
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _manifest(self) -> None:
                auth = self.headers.get("Authorization", "")
                if auth == "Bearer good-token":
                    if "/missing/" in self.path:
                        self.send_response(404)
                    else:
                        self.send_response(200)
                        self.send_header("Docker-Content-Digest", DIGEST)
                elif auth == "Bearer no-pull-token":
                    self.send_response(403)
                else:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate",
                                     f'Bearer realm="http://{outer.host}/service/token",service="harbor-registry"')
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_HEAD(self) -> None:
                self._manifest()

            def do_GET(self) -> None:
                if not self.path.startswith("/service/token"):
                    self._manifest()
                    return
                from urllib.parse import parse_qs, urlsplit

                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                seen.append(query)
                auth = self.headers.get("Authorization", "")
                creds = tuple(base64.b64decode(auth[6:]).decode().split(":", 1)) if auth.startswith("Basic ") else None
                token = ACCOUNTS.get(creds) if creds else None  # type: ignore[arg-type]
                body = json.dumps({"token": token}).encode() if token else b""
                self.send_response(200 if token else 401)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def registry():
    started = TokenRegistry()
    yield started
    started.stop()


def test_bearer_flow_finds_the_image(registry):
    found = head_manifest(registry.host, "jupyterhub/k8s-hub", "4.4.0", ("robot", "right"), 5)
    assert (found.status, found.digest, found.authenticated) == (200, DIGEST, True)
    assert registry.token_requests == [{"scope": "repository:jupyterhub/k8s-hub:pull", "service": "harbor-registry"}]


def test_refused_credentials_no_pull_right_and_not_mirrored(registry):
    assert head_manifest(registry.host, "jupyterhub/k8s-hub", "4.4.0", ("robot", "expired"), 5).status == 401
    assert head_manifest(registry.host, "jupyterhub/k8s-hub", "4.4.0", ("no-pull", "right"), 5).status == 403
    assert head_manifest(registry.host, "jupyterhub/missing/x", "1", ("robot", "right"), 5).status == 404
    anonymous = head_manifest(registry.host, "jupyterhub/k8s-hub", "4.4.0", None, 5)
    assert (anonymous.status, anonymous.authenticated) == (401, False)


def test_silent_and_closed_registries_are_errors_not_hangs():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)  # accepts, never answers
        silent = head_manifest(f"127.0.0.1:{listener.getsockname()[1]}", "a/b", "1", None, 0.5)
    assert silent.status is None and silent.error == "did not answer within 0.5s"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = head_manifest(f"127.0.0.1:{port}", "a/b", "1", None, 2)
    assert closed.status is None and closed.error.startswith("cannot be reached")
