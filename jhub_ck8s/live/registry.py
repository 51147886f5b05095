"""Ask a registry whether it has an image, as the kubelet's runtime would: the OCI distribution API.

``head_manifest`` sends ``HEAD /v2/<repository>/manifests/<tag or digest>`` (``GET`` when
HEAD is not allowed) with the media types a runtime accepts. On ``401`` it follows the
registry's ``WWW-Authenticate`` challenge with the pull secret's credentials: ``Basic``
(distribution with htpasswd) or ``Bearer`` (Harbor, Docker Hub, quay.io: a token from the
realm for scope ``repository:<repository>:pull``). The answer is the final HTTP status and
the ``Docker-Content-Digest``; a registry that does not answer within ``timeout`` seconds
is an ``error`` line, never a hang. Nothing of the credentials (nor of the registry's
answer bodies) is ever in a message.

Plain HTTP is used for loopback registries (127.0.0.0/8, ``localhost``, ``::1``), as
container runtimes treat them as insecure by default; HTTPS with the system's trust
store for every other host.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Lookup:
    status: int | None  # the registry's final HTTP status; None when it did not answer
    digest: str | None = None
    error: str = ""  # why there is no status (time-out, refused, TLS)
    authenticated: bool = False  # credentials were sent


def is_loopback(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or ""
    return name == "localhost" or name.startswith("127.") or name == "::1"


def _request(method: str, url: str, headers: dict[str, str], timeout: float) -> tuple[int, dict[str, str], bytes]:
    import http.client
    import ssl

    parts = urlsplit(url)
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port or 443, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, headers={**headers, "User-Agent": "jhub-ck8s"})
        response = conn.getresponse()
        body = response.read(65536) if method != "HEAD" else b""
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def _token(challenge: str, repository: str, creds: tuple[str, str] | None, timeout: float) -> tuple[int, str | None]:
    params = dict(_PARAM.findall(challenge))
    realm = params.get("realm")
    if not realm:
        return 401, None
    query = {"scope": f"repository:{repository}:pull"}
    if params.get("service"):
        query["service"] = params["service"]
    headers = {}
    if creds:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
    status, _, body = _request("GET", f"{realm}{'&' if '?' in realm else '?'}{urlencode(query)}", headers, timeout)
    if status != 200:
        return status, None
    try:
        data = json.loads(body)
        return 200, str(data.get("token") or data.get("access_token") or "") or None
    except (ValueError, AttributeError):
        return 401, None


def head_manifest(registry: str, repository: str, reference: str, creds: tuple[str, str] | None,
                  timeout: float) -> Lookup:
    """Does ``registry/repository`` have ``reference`` (a tag or ``sha256:`` digest) for these credentials?"""
    import http.client
    import ssl

    scheme = "http" if is_loopback(registry) else "https"
    url = f"{scheme}://{registry}/v2/{repository}/manifests/{reference}"
    headers = {"Accept": MANIFEST_TYPES}
    authenticated = False
    try:
        method = "HEAD"
        status, got, _ = _request(method, url, headers, timeout)
        if status == 405:
            method = "GET"
            status, got, _ = _request(method, url, headers, timeout)
        if status == 401 and creds is not None:
            challenge = got.get("www-authenticate", "")
            authenticated = True
            if challenge.lower().startswith("bearer"):
                token_status, token = _token(challenge, repository, creds, timeout)
                if token is None:
                    return Lookup(token_status if token_status in (401, 403) else 401, authenticated=True)
                headers["Authorization"] = f"Bearer {token}"
            else:
                headers["Authorization"] = "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
            status, got, _ = _request(method, url, headers, timeout)
        return Lookup(status, got.get("docker-content-digest"), authenticated=authenticated)
    except TimeoutError:
        return Lookup(None, error=f"did not answer within {timeout:g}s")
    except ssl.SSLError as exc:
        return Lookup(None, error=f"TLS failed ({exc.reason or type(exc).__name__})")
    except (OSError, http.client.HTTPException) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        return Lookup(None, error=f"cannot be reached ({reason})")
