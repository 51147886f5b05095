"""``registry_blobs.BlobChecker`` against a stand-in registry on 127.0.0.1 that speaks the
token flow Harbor and Docker Hub use (a ``Bearer`` challenge, a token service that wants
Basic credentials). The Basic flow of docker-registry is met in test_mirror_faults.py."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import urllib.parse
import uuid

import pytest

from jhub_ck8s.registry_auth import Access, Credentials
from jhub_ck8s.registry_blobs import BlobChecker
from jhub_ck8s.skopeo import Failure, Manifest, SkopeoError

HAVE = "sha256:" + "a" * 64
LACK = "sha256:" + "b" * 64


class TokenRegistry:
    """HEAD /v2/team/app/blobs/DIGEST wants a Bearer token; GET /token gives one for the
    right Basic credentials. Every request is logged (method, path, Authorization)."""

    def __init__(self, user: str, password: str) -> None:
        token = f"tok-{uuid.uuid4().hex}"
        basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        log = self.log = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self) -> None:
                log.append((self.command, self.path, self.headers.get("Authorization")))
                if self.headers.get("Authorization") != f"Bearer {token}":
                    realm = f"http://{self.server.server_address[0]}:{self.server.server_address[1]}/token"
                    self._answer(401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="stand-in",scope="repository:team/app:pull"'})
                elif self.path == f"/v2/team/app/blobs/{HAVE}":
                    self._answer(200)
                else:
                    self._answer(404)

            def do_GET(self) -> None:
                log.append((self.command, self.path, self.headers.get("Authorization")))
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                if self.path.startswith("/token") and self.headers.get("Authorization") == basic \
                        and query.get("scope") == ["repository:team/app:pull"] and query.get("service") == ["stand-in"]:
                    self._answer(200, {"Content-Type": "application/json"}, json.dumps({"token": token}).encode())
                else:
                    self._answer(401)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def registry():
    server = TokenRegistry("reader", PASSWORD)
    yield server
    server.stop()


PASSWORD = f"Blob-Secret-{uuid.uuid4().hex}"


def test_blobs_are_found_or_not_through_the_token_flow(registry):
    checker = BlobChecker()
    access = Access({registry.host: Credentials("reader", PASSWORD)}, tls_verify=False)
    assert checker.exists(registry.host, "team/app", HAVE, access, 10) is True
    assert checker.exists(registry.host, "team/app", LACK, access, 10) is False
    assert sum(1 for method, path, _ in registry.log if path.startswith("/token")) == 1  # the token is kept
    assert all(method in ("HEAD", "GET") for method, _, _ in registry.log)


def test_credentials_come_from_the_auth_file_when_none_are_bound(registry, tmp_path):
    authfile = tmp_path / "auth.json"
    token = base64.b64encode(f"reader:{PASSWORD}".encode()).decode()
    authfile.write_text(json.dumps({"auths": {registry.host.upper(): {"auth": token}}}))
    assert BlobChecker().exists(registry.host, "team/app", HAVE, Access(authfile=str(authfile), tls_verify=False), 10)


def test_refused_credentials_are_an_auth_failure_that_never_shows_them(registry):
    wrong = f"Wrong-Secret-{uuid.uuid4().hex}"
    with pytest.raises(SkopeoError) as caught:
        BlobChecker().exists(registry.host, "team/app", HAVE, Access({registry.host: Credentials("reader", wrong)}, tls_verify=False), 10)
    assert caught.value.kind is Failure.AUTH and wrong not in str(caught.value)


def test_tls_is_required_unless_the_side_says_otherwise(registry):
    with pytest.raises(SkopeoError) as caught:
        BlobChecker().exists(registry.host, "team/app", HAVE, Access({registry.host: Credentials("reader", PASSWORD)}), 10)
    assert caught.value.kind is Failure.TLS
    assert registry.log == []  # nothing was sent in plain HTTP


def test_an_image_manifest_names_its_config_and_layers():
    image = Manifest(json.dumps({"schemaVersion": 2, "config": {"digest": HAVE, "size": 1},
                                 "layers": [{"digest": LACK, "size": 2}, {"digest": HAVE, "size": 1}]}).encode())
    assert image.blobs == ((HAVE, "config"), (LACK, "layer 1"))
    index = Manifest(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                 "manifests": [{"digest": HAVE, "size": 1}]}).encode())
    assert index.blobs == ()
