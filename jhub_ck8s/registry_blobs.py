"""Is a blob there? ``HEAD /v2/REPOSITORY/blobs/DIGEST``, the one registry read skopeo has no
command for. ``mirror`` asks it for the config and every layer of an image, so a manifest
whose blobs were lost (garbage collection, a storage fault, a half-deleted repository)
is not taken for a whole image.

Guarantees:

* **read only**: HEAD requests (``readable``: a GET of one byte), and a token request
  where the registry asks for one;
  redirects are not followed (a registry redirects only to a blob it has);
* **credentials as skopeo sends them**: the side's bound credentials for that host, else
  the auth file's entry for it (``registry_auth.stored_credentials``); sent to the
  registry, and to the token service the registry names in its ``Bearer`` challenge only;
  never in a message;
* **TLS as the side says**: HTTPS with verification; with ``tls_verify=False`` HTTPS
  without verification, then plain HTTP (as skopeo does);
* **failures are typed** as skopeo's are (``SkopeoError`` with a ``Failure``), so the
  mirror treats them alike: retried when transient, blamed on the registry that gave them.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import threading
import urllib.parse

from .imageref import DOCKER_HUB, host_key
from .registry_auth import Access, Credentials, stored_credentials
from .skopeo import Failure, SkopeoError

_USER_AGENT = "jhub-ck8s"


def _endpoint(host: str) -> str:
    return "registry-1.docker.io" if host_key(host) == DOCKER_HUB else host


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="x",service="y"`` -> ("bearer", {"realm": "x", "service": "y"})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {}
    for part in _split_params(rest):
        key, _, value = part.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return scheme.lower(), params


def _split_params(text: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    return [p for p in (*parts, current) if p.strip()]


class BlobChecker:
    """HEADs blobs; thread-safe (the mirror checks images from several threads)."""

    def __init__(self) -> None:
        self._schemes: dict[str, str] = {}  # host -> "https" or "http", once known
        self._tokens: dict[tuple[str, str], str] = {}  # (host, repository) -> Authorization
        self._guard = threading.Lock()

    def exists(self, host: str, repository: str, digest: str, access: Access, timeout: float) -> bool:
        """True: the registry has the blob in that repository. SkopeoError when it cannot say."""
        return self._blob("HEAD", host, repository, digest, access, timeout)

    def readable(self, host: str, repository: str, digest: str, access: Access, timeout: float) -> bool:
        """Like ``exists``, but asks for the blob's first byte (``GET``, ``Range: bytes=0-0``):
        a registry that answers HEADs may still stall when its blobs are read."""
        return self._blob("GET", host, repository, digest, access, timeout)

    def _blob(self, method: str, host: str, repository: str, digest: str, access: Access, timeout: float) -> bool:
        path = f"/v2/{repository}/blobs/{digest}"
        key = (host_key(host), repository)
        with self._guard:
            authorization = self._tokens.get(key)
        status, headers = self._ask(method, host, path, access, timeout, authorization)
        if status == 401:
            authorization = self._authorize(host, repository, headers.get("www-authenticate", ""), access, timeout)
            with self._guard:
                self._tokens[key] = authorization
            status, headers = self._ask(method, host, path, access, timeout, authorization)
        if 200 <= status < 400:
            return True
        if status == 404:
            return False
        raise self._error(status, host, path)

    # -- HTTP

    @staticmethod
    def _error(status: int, host: str, path: str) -> SkopeoError:
        if status in (401, 403):
            return SkopeoError(Failure.AUTH, f"HEAD {path} at {host}: {status} (unauthorized or denied)")
        if status == 429 or status >= 500:
            return SkopeoError(Failure.TRANSIENT, f"HEAD {path} at {host}: {status}")
        return SkopeoError(Failure.OTHER, f"HEAD {path} at {host}: unexpected HTTP status {status}")

    def _request(
        self, scheme: str, host: str, method: str, target: str, headers: dict[str, str], timeout: float, verify: bool,
        limit: int,
    ) -> tuple[int, dict[str, str], bytes]:
        connection: http.client.HTTPConnection
        if scheme == "https":
            context = ssl.create_default_context()
            if not verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            connection = http.client.HTTPSConnection(host, timeout=timeout, context=context)
        else:
            connection = http.client.HTTPConnection(host, timeout=timeout)
        try:
            connection.request(method, target, headers={"User-Agent": _USER_AGENT, **headers})
            response = connection.getresponse()
            body = response.read(limit) if method != "HEAD" else b""
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        finally:
            connection.close()

    def _call(
        self, host: str, method: str, target: str, headers: dict[str, str], access: Access, timeout: float,
        limit: int = 1 << 20,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request to the registry ``host``, with the scheme its TLS setting allows."""
        endpoint = _endpoint(host)
        with self._guard:
            known = self._schemes.get(endpoint)
        schemes = [known] if known else (["https"] if access.tls_verify else ["https", "http"])
        for scheme in schemes:
            try:
                answer = self._request(scheme, endpoint, method, target, headers, timeout, access.tls_verify, limit)
            except ssl.SSLError as exc:
                if scheme == schemes[-1]:
                    raise SkopeoError(Failure.TLS, f"{method} {target} at {host}: {exc.reason or exc}") from None
                continue
            except TimeoutError:
                raise SkopeoError(Failure.TIMEOUT, f"{method} {target} at {host}: no answer within {timeout:g}s") from None
            except (ConnectionResetError, http.client.RemoteDisconnected, http.client.BadStatusLine) as exc:
                if scheme == schemes[-1]:
                    raise SkopeoError(Failure.TRANSIENT, f"{method} {target} at {host}: {exc}") from None
                continue  # a plain-HTTP server meeting a TLS hello
            except OSError as exc:
                raise SkopeoError(Failure.UNREACHABLE, f"{method} {target} at {host}: {exc.strerror or exc}") from None
            with self._guard:
                self._schemes[endpoint] = scheme
            return answer
        raise SkopeoError(Failure.TLS, f"{method} {target} at {host}: no protocol worked")

    def _ask(
        self, method: str, host: str, path: str, access: Access, timeout: float, authorization: str | None
    ) -> tuple[int, dict[str, str]]:
        headers = {"Authorization": authorization} if authorization else {}
        if method == "GET":
            headers["Range"] = "bytes=0-0"
        status, answer, _ = self._call(host, method, path, headers, access, timeout, limit=1)
        return status, answer

    def _credentials(self, host: str, access: Access) -> Credentials | None:
        return access.for_host(host) or stored_credentials(host, access.authfile)

    def _authorize(self, host: str, repository: str, header: str, access: Access, timeout: float) -> str:
        """The Authorization header the challenge asks for; SkopeoError(AUTH) when it cannot be met."""
        scheme, params = _challenge(header)
        creds = self._credentials(host, access)
        basic = base64.b64encode(creds.argument.encode()).decode() if creds else None
        if scheme == "basic":
            if basic is None:
                raise SkopeoError(Failure.AUTH, f"{host} asks for credentials and none are given for it")
            return f"Basic {basic}"
        if scheme != "bearer" or not params.get("realm"):
            raise SkopeoError(Failure.AUTH, f"{host} asks for an authentication this client does not speak ({scheme or 'none'})")
        realm = urllib.parse.urlsplit(params["realm"])
        query = {"scope": f"repository:{repository}:pull"}
        if params.get("service"):
            query["service"] = params["service"]
        target = (realm.path or "/") + "?" + (f"{realm.query}&" if realm.query else "") + urllib.parse.urlencode(query)
        headers = {"Authorization": f"Basic {basic}"} if basic else {}
        token_access = Access(tls_verify=access.tls_verify)
        try:
            if realm.scheme == "http":  # only where the registry itself is plain HTTP
                with self._guard:
                    self._schemes.setdefault(realm.netloc, "http")
            status, _, body = self._call(realm.netloc, "GET", target, headers, token_access, timeout)
        except SkopeoError as exc:
            raise SkopeoError(exc.kind, f"token service of {host}: {exc.detail}") from None
        if status != 200:
            raise SkopeoError(Failure.AUTH if status in (401, 403) else Failure.TRANSIENT,
                              f"token service of {host} answered {status}")
        try:
            data = json.loads(body)
            token = data.get("token") or data.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise SkopeoError(Failure.AUTH, f"token service of {host} gave no token")
        return f"Bearer {token}"


__all__ = ["BlobChecker"]
