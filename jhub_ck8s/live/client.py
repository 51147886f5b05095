"""One small client for the live cluster: the kubeconfig as helm reads it, and the API calls we need.

**Configuration** (``load_config``), as helm and kubectl read it:

* the files: ``--kubeconfig FILE`` alone if given, else every file of ``$KUBECONFIG``
  (``os.pathsep``-separated, missing ones ignored), else ``~/.kube/config``. Files are
  merged: the first file that names a cluster, user or context, or sets
  ``current-context``, wins; relative paths in a file are relative to that file;
* the context: ``--kube-context`` or ``current-context``;
* the namespace: ``-n`` wins, else the context's namespace, else ``default``
  (``KubeConfig.namespace_source`` says which);
* the server: ``certificate-authority`` / ``-data``, ``insecure-skip-tls-verify``,
  ``tls-server-name``; the user: ``client-certificate``/``client-key`` (files or ``-data``),
  ``token`` / ``tokenFile``, ``username``/``password``, and ``exec`` credential plugins
  (run once, on the first request). ``auth-provider`` and ``proxy-url`` are refused
  with a ``ConfigError`` naming them.

**Calls** (``Client``): ``version``, discovery (``resources``, ``resource``), ``get``,
``list``, ``dry_run_create`` / ``dry_run_update`` / ``dry_run_patch`` (always
``dryRun=All``: the server runs admission and validation and stores nothing), and
``can_i`` (a SelfSubjectAccessReview). The client writes nothing else, ever. It is
safe to share between threads (one connection per thread, kept alive).

**Errors** are ``LiveError`` subclasses with one line for a person: ``ConfigError``
(bad or unreadable kubeconfig), ``Unreachable`` (no answer, TLS failure, time-out),
and ``ApiError`` for the server's refusals, typed by status: ``BadRequest`` (400), ``Unauthorized`` (401),
``Forbidden`` (403), ``NotFound`` (404, also an unknown kind), ``Conflict`` (409),
``Invalid`` (422). An ``ApiError`` keeps the server's own message (``server_message``),
its HTTP ``status`` and ``reason``.

**Secrets.** A Secret that is read is returned to the caller as it is. No message of
this module contains Secret data: errors name objects, never bodies; a server
message about a Secret the caller sent (dry run) has every value of that Secret's
``data``/``stringData`` (raw and decoded) replaced by ``<redacted>``; the kubeconfig's
own content (keys, tokens) never appears in a message, not even YAML parse errors.

Standard library only; ``ssl``, ``http.client`` and ``yaml`` are imported when used.
"""

from __future__ import annotations

import base64
import builtins
import functools
import json
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

DEFAULT_TIMEOUT = 30.0
FIELD_MANAGER = "jhub-ck8s"
REDACTED = "<redacted>"


# ------------------------------------------------------------------------------- errors


class LiveError(Exception):
    """Anything that went wrong talking to the cluster; ``str()`` is one line for a person."""


class ConfigError(LiveError):
    """The kubeconfig cannot be used: missing, unreadable, no such context, unsupported auth."""


class Unreachable(LiveError):
    """The API server did not answer: connection refused, DNS, TLS, time-out."""


class ApiError(LiveError):
    """The API server answered with an error status."""

    def __init__(self, message: str, *, status: int, reason: str = "", server_message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.server_message = server_message


class BadRequest(ApiError):
    """400: the request cannot be decoded (unknown or duplicate fields with strict validation)."""


class Unauthorized(ApiError):
    """401: the credentials were refused (expired token or certificate?)."""


class Forbidden(ApiError):
    """403: RBAC or an admission plugin (Pod Security, a ValidatingAdmissionPolicy, a webhook) said no."""


class NotFound(ApiError):
    """404: no such object, or the API server serves no such kind."""


class Conflict(ApiError):
    """409: already exists, or the object changed meanwhile."""


class Invalid(ApiError):
    """422: the object does not validate (field errors, admission that reports as Invalid)."""


_BY_STATUS: dict[int, type[ApiError]] = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 422: Invalid}


# ------------------------------------------------------------------------ configuration


@dataclass(frozen=True)
class KubeConfig:
    """Everything needed to talk to one cluster as one user. ``repr`` shows no credentials."""

    server: str
    context: str
    namespace: str
    namespace_source: str  # "flag", "context" or "default"
    user: str = ""
    ca_file: str | None = field(default=None, repr=False)
    ca_data: bytes | None = field(default=None, repr=False)
    insecure: bool = False
    tls_server_name: str | None = None
    cert_file: str | None = field(default=None, repr=False)
    key_file: str | None = field(default=None, repr=False)
    cert_data: bytes | None = field(default=None, repr=False)
    key_data: bytes | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    token_file: str | None = field(default=None, repr=False)
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    exec_spec: Mapping[str, Any] | None = field(default=None, repr=False)
    files: tuple[str, ...] = ()


def kubeconfig_files(kubeconfig: str | None = None, env: Mapping[str, str] | None = None) -> list[Path]:
    """The files helm would read, in merge order."""
    env = os.environ if env is None else env
    if kubeconfig:
        return [Path(kubeconfig).expanduser()]
    listed = env.get("KUBECONFIG", "")
    if listed:
        return [Path(p).expanduser() for p in listed.split(os.pathsep) if p]
    home = env.get("HOME") or str(Path.home())
    return [Path(home) / ".kube" / "config"]


def _read_file(path: Path, required: bool) -> dict[str, Any] | None:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(f"kubeconfig {path} does not exist") from None
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ConfigError(f"cannot read kubeconfig {path}: {reason}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # the parser's message quotes the file, which holds keys and tokens: the line only
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"kubeconfig {path} is not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"kubeconfig {path} is not a kubeconfig (not a mapping)")
    return data


def _named(data: Mapping[str, Any], section: str, path: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    entries = data.get(section) or []
    if not isinstance(entries, list):
        raise ConfigError(f"kubeconfig {path}: {section} is not a list")
    inner = section[:-1]  # clusters -> cluster
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigError(f"kubeconfig {path}: an entry of {section} has no name")
        body = entry.get(inner) or {}
        if not isinstance(body, dict):
            raise ConfigError(f"kubeconfig {path}: {section} entry {entry['name']!r} is not a mapping")
        yield entry["name"], {**body, "__dir__": str(path.parent)}


def load_config(
    kubeconfig: str | None = None,
    context: str | None = None,
    namespace: str | None = None,
    env: Mapping[str, str] | None = None,
) -> KubeConfig:
    """The cluster, user and namespace helm would use with these flags (``--kubeconfig``,
    ``--kube-context``, ``-n``), or a ``ConfigError`` saying what is wrong."""
    files = kubeconfig_files(kubeconfig, env)
    merged: dict[str, dict[str, dict[str, Any]]] = {"clusters": {}, "users": {}, "contexts": {}}
    current = ""
    read: list[str] = []
    for path in files:
        data = _read_file(path, required=bool(kubeconfig))
        if data is None:
            continue
        read.append(str(path))
        for section, entries in merged.items():
            for name, body in _named(data, section, path):
                entries.setdefault(name, body)
        if not current and isinstance(data.get("current-context"), str):
            current = data["current-context"]
    where = ", ".join(str(p) for p in files)
    if not read:
        raise ConfigError(f"no kubeconfig found (looked at {where}): set KUBECONFIG or pass --kubeconfig")
    name = context or current
    if not name:
        raise ConfigError(f"no current context in {where}: pass --kube-context")
    ctx = merged["contexts"].get(name)
    if ctx is None:
        raise ConfigError(f"context {name!r} is not in {where} (kubectl config get-contexts lists them)")
    cluster = merged["clusters"].get(str(ctx.get("cluster") or ""))
    if cluster is None:
        raise ConfigError(f"context {name!r} names cluster {ctx.get('cluster')!r}, which is not in {where}")
    user_name = str(ctx.get("user") or "")
    user = merged["users"].get(user_name, {}) if user_name else {}
    if user_name and user_name not in merged["users"]:
        raise ConfigError(f"context {name!r} names user {user_name!r}, which is not in {where}")
    server = cluster.get("server")
    if not isinstance(server, str) or not server:
        raise ConfigError(f"cluster {ctx.get('cluster')!r} of context {name!r} has no server")
    if cluster.get("proxy-url"):
        raise ConfigError(f"cluster {ctx.get('cluster')!r} uses proxy-url, which jhub-ck8s does not support")
    if user.get("auth-provider"):
        provider = (user["auth-provider"] or {}).get("name", "?")
        raise ConfigError(f"user {user_name!r} uses auth-provider {provider!r}, which is not supported: use an exec plugin")

    if namespace:
        ns, source = namespace, "flag"
    elif ctx.get("namespace"):
        ns, source = str(ctx["namespace"]), "context"
    else:
        ns, source = "default", "default"

    def path_of(body: Mapping[str, Any], key: str) -> str | None:
        value = body.get(key)
        if not value:
            return None
        p = Path(str(value)).expanduser()
        return str(p if p.is_absolute() else Path(body["__dir__"]) / p)

    def data_of(body: Mapping[str, Any], key: str, what: str) -> bytes | None:
        value = body.get(key)
        if not value:
            return None
        try:
            return base64.b64decode(str(value), validate=True)
        except ValueError:
            raise ConfigError(f"{key} of {what} is not valid base64") from None

    cluster_what = f"cluster {ctx.get('cluster')!r}"
    user_what = f"user {user_name!r}"
    return KubeConfig(
        server=server.rstrip("/"),
        context=name,
        namespace=ns,
        namespace_source=source,
        user=user_name,
        ca_file=path_of(cluster, "certificate-authority"),
        ca_data=data_of(cluster, "certificate-authority-data", cluster_what),
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        tls_server_name=cluster.get("tls-server-name") or None,
        cert_file=path_of(user, "client-certificate"),
        key_file=path_of(user, "client-key"),
        cert_data=data_of(user, "client-certificate-data", user_what),
        key_data=data_of(user, "client-key-data", user_what),
        token=str(user["token"]) if user.get("token") else None,
        token_file=path_of(user, "tokenFile"),
        username=user.get("username") or None,
        password=user.get("password") or None,
        exec_spec={**user["exec"], "__dir__": user["__dir__"]} if isinstance(user.get("exec"), dict) else None,
        files=tuple(read),
    )


# ---------------------------------------------------------------------- results


@dataclass(frozen=True)
class Resource:
    """Where a kind lives in the API (from discovery): ``/apis/apps/v1`` + ``deployments``."""

    group_version: str
    plural: str
    kind: str
    namespaced: bool
    verbs: frozenset[str]

    @property
    def group(self) -> str:
        return self.group_version.rpartition("/")[0]

    @property
    def prefix(self) -> str:
        return "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"

    def path(self, namespace: str | None, name: str | None = None) -> str:
        path = self.prefix
        if self.namespaced and namespace is not None:
            path += f"/namespaces/{quote(namespace, safe='')}"
        path += f"/{self.plural}"
        return path + (f"/{quote(name, safe='')}" if name else "")


@dataclass(frozen=True)
class DryRun:
    """What the API server would have stored, and the warnings it gave (Pod Security's ``warn``...)."""

    object: dict[str, Any]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccessReview:
    """One SelfSubjectAccessReview: may I ``verb`` ``resource`` (in ``group``, ``namespace``)?"""

    verb: str
    group: str
    resource: str
    namespace: str | None
    allowed: bool
    reason: str = ""
    subresource: str = ""
    name: str = ""

    @property
    def what(self) -> str:
        """``create networkpolicies.networking.k8s.io`` as kubectl auth can-i spells it."""
        res = self.resource + (f".{self.group}" if self.group else "")
        res += f"/{self.subresource}" if self.subresource else ""
        return f"{self.verb} {res}" + (f" {self.name}" if self.name else "")


# ---------------------------------------------------------------------------- client


def _warning_text(header: str) -> str:
    parts = header.split(" ", 2)  # RFC 7234: 299 - "text"
    if len(parts) == 3 and parts[0] == "299":
        text = parts[2].strip()
        if text.startswith('"') and text.endswith('"'):
            return text[1:-1].replace('\\"', '"')
        return text
    return header


def _secret_values(obj: Mapping[str, Any] | None) -> list[str]:
    """Every value of a Secret's data/stringData, raw and decoded, longest first (to redact)."""
    if not obj or obj.get("kind") != "Secret":
        return []
    values: set[str] = set()
    for key in ("data", "stringData"):
        section = obj.get(key)
        if not isinstance(section, Mapping):
            continue
        for value in section.values():
            if not isinstance(value, str) or not value:
                continue
            values.add(value)
            if key == "data":
                try:
                    decoded = base64.b64decode(value).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    continue
                values.add(decoded)
                values.update(line for line in decoded.splitlines() if len(line) >= 4)
    return sorted((v for v in values if len(v) >= 3), key=len, reverse=True)


def redact(text: str, secret: Mapping[str, Any] | None) -> str:
    """``text`` with every data value of ``secret`` (if it is a Secret) replaced by ``<redacted>``."""
    for value in _secret_values(secret):
        text = text.replace(value, REDACTED)
    return text


def _one_line(text: str) -> str:
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


class Client:
    """Calls to one API server as one user. Thread-safe; every write is a server-side dry run."""

    def __init__(self, config: KubeConfig, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.config = config
        self.timeout = timeout
        parts = urlsplit(config.server)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError(f"server {config.server!r} of context {config.context!r} is not an http(s) URL")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._base = parts.path.rstrip("/")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ssl: Any = None
        self._auth: dict[str, str] | None = None
        self._resources: dict[tuple[str, str], Resource] | None = None

    # ------------------------------------------------------------------ basics

    @property
    def namespace(self) -> str:
        return self.config.namespace

    @property
    def where(self) -> str:
        return f"{self.config.server} (context {self.config.context!r})"

    def _ssl_context(self) -> Any:
        import ssl
        import tempfile

        config = self.config
        try:
            context = ssl.create_default_context(cafile=config.ca_file)
        except (OSError, ssl.SSLError):
            raise ConfigError(f"cannot read certificate-authority {config.ca_file} of context {config.context!r}") from None
        if config.ca_data:
            try:
                context.load_verify_locations(cadata=config.ca_data.decode("ascii", "replace"))
            except ssl.SSLError:
                raise ConfigError(f"certificate-authority-data of context {config.context!r} is not a PEM certificate") from None
        if config.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        cert, key = config.cert_file, config.key_file
        if config.cert_data or config.key_data or cert or key:
            with tempfile.TemporaryDirectory(prefix="jhub-ck8s-tls-") as folder:
                if config.cert_data:
                    cert = os.path.join(folder, "client.crt")
                    _write_private(cert, config.cert_data)
                if config.key_data:
                    key = os.path.join(folder, "client.key")
                    _write_private(key, config.key_data)
                if not cert or not key:
                    raise ConfigError(f"user {config.user!r} has a client certificate or key, not both")
                try:
                    context.load_cert_chain(cert, key)
                except (OSError, ssl.SSLError):
                    raise ConfigError(f"cannot load the client certificate and key of user {config.user!r}") from None
        return context

    def _headers(self) -> dict[str, str]:
        with self._lock:
            if self._auth is None:
                self._auth = self._credentials()
            return dict(self._auth)

    def _credentials(self) -> dict[str, str]:
        config = self.config
        if config.token:
            return {"Authorization": f"Bearer {config.token}"}
        if config.token_file:
            try:
                token = Path(config.token_file).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
                raise ConfigError(f"cannot read tokenFile {config.token_file} of user {config.user!r}: {reason}") from None
            return {"Authorization": f"Bearer {token}"}
        if config.username and config.password:
            basic = base64.b64encode(f"{config.username}:{config.password}".encode()).decode()
            return {"Authorization": f"Basic {basic}"}
        if config.exec_spec:
            return self._exec_credentials(config.exec_spec)
        return {}

    def _exec_credentials(self, spec: Mapping[str, Any]) -> dict[str, str]:
        import subprocess

        command = str(spec.get("command") or "")
        if not command:
            raise ConfigError(f"the exec plugin of user {self.config.user!r} has no command")
        if os.sep in command and not os.path.isabs(command):
            command = os.path.join(spec["__dir__"], command)
        env = dict(os.environ)
        for item in spec.get("env") or []:
            if isinstance(item, dict) and "name" in item:
                env[str(item["name"])] = str(item.get("value", ""))
        api_version = str(spec.get("apiVersion") or "client.authentication.k8s.io/v1")
        env["KUBERNETES_EXEC_INFO"] = json.dumps(
            {"apiVersion": api_version, "kind": "ExecCredential", "spec": {"interactive": False}})
        try:
            done = subprocess.run([command, *[str(a) for a in spec.get("args") or []]], env=env,
                                  capture_output=True, timeout=max(self.timeout, 60.0), check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = "timed out" if isinstance(exc, subprocess.TimeoutExpired) else (exc.strerror or "cannot run")
            raise ConfigError(f"exec plugin {command!r} of user {self.config.user!r}: {reason}") from None
        if done.returncode != 0:
            # its output may carry a token: the exit code only
            raise ConfigError(f"exec plugin {command!r} of user {self.config.user!r} failed (exit {done.returncode}): run it by hand to log in")
        try:
            status = json.loads(done.stdout).get("status") or {}
        except (ValueError, AttributeError):
            raise ConfigError(f"exec plugin {command!r} of user {self.config.user!r} did not print an ExecCredential") from None
        if status.get("token"):
            return {"Authorization": f"Bearer {status['token']}"}
        if status.get("clientCertificateData") and status.get("clientKeyData"):
            import dataclasses

            self.config = dataclasses.replace(self.config, cert_data=str(status["clientCertificateData"]).encode(),
                                              key_data=str(status["clientKeyData"]).encode(), cert_file=None, key_file=None)
            self._ssl = None
            return {}
        raise ConfigError(f"exec plugin {command!r} of user {self.config.user!r} gave neither a token nor a certificate")

    def _connection(self, fresh: bool = False) -> Any:
        import http.client

        conn = getattr(self._local, "conn", None)
        if conn is not None and not fresh:
            return conn
        if conn is not None:
            conn.close()
        if self._scheme == "https":
            with self._lock:
                if self._ssl is None:
                    self._ssl = self._ssl_context()
                context = self._ssl
            conn = _https_connection(self._host, self._port, context=context, timeout=self.timeout,
                                    server_name=self.config.tls_server_name)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        what: str = "",
        sent: Mapping[str, Any] | None = None,
    ) -> tuple[int, dict[str, Any], tuple[str, ...]]:
        """One call: (status, decoded body, warnings) for 2xx, else a typed ``ApiError``.

        ``what`` names the call in messages ("get Secret/x in ns"); ``sent`` is the
        object sent, whose Secret values are redacted from every message."""
        import http.client
        import ssl

        headers = self._headers()  # before the connection: an exec plugin may give a certificate
        url = self._base + path + (f"?{urlencode(query)}" if query else "")
        payload = None if body is None else json.dumps(body).encode()
        headers.update({"Accept": accept, "User-Agent": "jhub-ck8s"})
        if payload is not None:
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            conn = self._connection(fresh=attempt == 2)
            reused = getattr(conn, "sock", None) is not None
            try:
                conn.request(method, url, body=payload, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                if attempt == 1 and reused:
                    continue  # a kept-alive connection the server had closed
                raise Unreachable(f"cannot reach the API server {self.where}: {type(exc).__name__}") from None
            except ssl.SSLCertVerificationError as exc:
                self.close()
                raise Unreachable(f"the API server {self.where} is not trusted: {exc.verify_message or 'certificate verify failed'}"
                                  " (check certificate-authority in the kubeconfig)") from None
            except ssl.SSLError as exc:
                self.close()
                raise Unreachable(f"TLS with the API server {self.where} failed: {exc.reason or type(exc).__name__}"
                                  " (a refused or expired client certificate?)") from None
            except TimeoutError:
                self.close()
                raise Unreachable(f"the API server {self.where} did not answer within {self.timeout:g}s") from None
            except OSError as exc:
                self.close()
                raise Unreachable(f"cannot reach the API server {self.where}: {exc.strerror or type(exc).__name__}") from None
            except http.client.HTTPException as exc:
                self.close()
                raise Unreachable(f"the API server {self.where} answered nonsense ({type(exc).__name__})") from None
        warnings = tuple(_warning_text(h) for h in response.headers.get_all("Warning") or [])
        try:
            decoded = json.loads(raw) if raw else {}
        except ValueError:
            decoded = {"raw": raw[:200].decode("utf-8", "replace")}
        if not isinstance(decoded, dict):
            decoded = {"raw": str(decoded)[:200]}
        if 200 <= response.status < 300:
            return response.status, decoded, tuple(redact(w, sent) for w in warnings)
        raise self._error(response.status, decoded, what or f"{method} {path}", sent)

    def _error(self, status: int, body: Mapping[str, Any], what: str, sent: Mapping[str, Any] | None) -> ApiError:
        server_message = ""
        if body.get("kind") == "Status":
            server_message = str(body.get("message") or "")
        elif "raw" in body:
            server_message = str(body["raw"])
        server_message = _one_line(redact(server_message, sent))
        reason = str(body.get("reason") or "")
        cls = _BY_STATUS.get(status, ApiError)
        if status == 401:
            text = (f"the API server {self.where} refused the credentials of user {self.config.user!r} "
                    "(HTTP 401): log in again, or renew the token or certificate")
        else:
            text = f"{what}: {server_message or reason or 'HTTP ' + str(status)}"
        return cls(text, status=status, reason=reason, server_message=server_message)

    # --------------------------------------------------------------- discovery

    def version(self) -> dict[str, Any]:
        """``/version`` (``gitVersion``...): also the cheapest proof the server answers."""
        return self.request("GET", "/version", what="get the server version")[1]

    def resources(self) -> dict[tuple[str, str], Resource]:
        """Every (apiVersion, kind) the server serves, from aggregated discovery (one call
        per prefix) or, on servers without it, one call per group version."""
        with self._lock:
            if self._resources is not None:
                return self._resources
        found: dict[tuple[str, str], Resource] = {}
        aggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
        for prefix in ("/api", "/apis"):
            body = self.request("GET", prefix, accept=aggregated, what="discover the API")[1]
            if body.get("kind") == "APIGroupDiscoveryList":
                for group in body.get("items") or []:
                    name = (group.get("metadata") or {}).get("name") or ""
                    for version in group.get("versions") or []:
                        gv = f"{name}/{version['version']}" if name else version["version"]
                        for res in version.get("resources") or []:
                            kind = (res.get("responseKind") or {}).get("kind")
                            if kind:
                                found.setdefault((gv, kind), Resource(gv, res["resource"], kind,
                                                                      res.get("scope") == "Namespaced",
                                                                      frozenset(res.get("verbs") or ())))
            else:
                versions = ([v for v in body.get("versions") or []] if prefix == "/api" else
                            [v["groupVersion"] for g in body.get("groups") or [] for v in g.get("versions") or []])
                for gv in versions:
                    path = f"/api/{gv}" if prefix == "/api" else f"/apis/{gv}"
                    listing = self.request("GET", path, what=f"discover {gv}")[1]
                    for res in listing.get("resources") or []:
                        if "/" in res.get("name", ""):
                            continue  # subresources
                        found.setdefault((gv, res["kind"]), Resource(gv, res["name"], res["kind"],
                                                                     bool(res.get("namespaced")),
                                                                     frozenset(res.get("verbs") or ())))
        with self._lock:
            self._resources = found
        return found

    def resource(self, api_version: str, kind: str) -> Resource:
        """Where ``kind`` of ``api_version`` lives; ``NotFound`` when the server does not serve it."""
        found = self.resources().get((api_version, kind))
        if found is None:
            raise NotFound(f"the API server {self.where} serves no {kind} in {api_version} (a CRD not installed?)",
                           status=404, reason="NotFound")
        return found

    # ------------------------------------------------------------------- reads

    def _namespace_for(self, res: Resource, namespace: str | None) -> str | None:
        return (namespace or self.namespace) if res.namespaced else None

    @staticmethod
    def _describe(kind: str, name: str | None, namespace: str | None) -> str:
        text = f"{kind}/{name}" if name else kind
        return text + (f" in namespace {namespace}" if namespace else "")

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """One object (the client's namespace for a namespaced kind unless ``namespace``)."""
        res = self.resource(api_version, kind)
        ns = self._namespace_for(res, namespace)
        return self.request("GET", res.path(ns, name), what=f"get {self._describe(kind, name, ns)}")[1]

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        all_namespaces: bool = False,
        label_selector: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every object of a kind (in one namespace, all of them, or cluster-scoped), with
        ``apiVersion`` and ``kind`` filled in as ``kubectl get -o yaml`` shows them."""
        res = self.resource(api_version, kind)
        ns = None if all_namespaces else self._namespace_for(res, namespace)
        items: list[dict[str, Any]] = []
        query: dict[str, str] = {"limit": "500"}
        if label_selector:
            query["labelSelector"] = label_selector
        while True:
            body = self.request("GET", res.path(ns), query=query, what=f"list {self._describe(res.plural, None, ns)}")[1]
            for item in body.get("items") or []:
                items.append({"apiVersion": api_version, "kind": kind, **item})
            token = (body.get("metadata") or {}).get("continue")
            if not token:
                return items
            query["continue"] = token

    # ---------------------------------------------------------------- dry runs

    def _object_target(self, obj: Mapping[str, Any], namespace: str | None) -> tuple[Resource, str | None, str]:
        api_version, kind = str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
        name = str((obj.get("metadata") or {}).get("name") or "")
        res = self.resource(api_version, kind)
        ns = (namespace or (obj.get("metadata") or {}).get("namespace") or self.namespace) if res.namespaced else None
        return res, ns, name

    def dry_run_create(self, obj: Mapping[str, Any], namespace: str | None = None, *,
                       field_validation: str = "Strict") -> DryRun:
        """POST with ``dryRun=All``: admission and validation judge ``obj``; nothing is stored.
        ``field_validation``: ``Strict`` (unknown or duplicate fields refused), ``Warn`` or ``Ignore``."""
        res, ns, name = self._object_target(obj, namespace)
        what = f"dry-run create {self._describe(res.kind, name or None, ns)}"
        query = {"dryRun": "All", "fieldManager": FIELD_MANAGER, "fieldValidation": field_validation}
        _, body, warnings = self.request("POST", res.path(ns), query=query, body=obj, what=what, sent=obj)
        return DryRun(body, warnings)

    def dry_run_update(self, obj: Mapping[str, Any], namespace: str | None = None, *,
                       field_validation: str = "Strict") -> DryRun:
        """PUT with ``dryRun=All`` (``obj`` usually carries the live ``resourceVersion``)."""
        res, ns, name = self._object_target(obj, namespace)
        what = f"dry-run update {self._describe(res.kind, name, ns)}"
        query = {"dryRun": "All", "fieldManager": FIELD_MANAGER, "fieldValidation": field_validation}
        _, body, warnings = self.request("PUT", res.path(ns, name), query=query, body=obj, what=what, sent=obj)
        return DryRun(body, warnings)

    def dry_run_patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        namespace: str | None = None,
        *,
        patch_type: str = "merge",
        force: bool = False,
        field_manager: str = FIELD_MANAGER,
        field_validation: str = "Strict",
    ) -> DryRun:
        """PATCH with ``dryRun=All``. ``patch_type``: ``merge``, ``strategic``, ``json`` or
        ``apply`` (server-side apply: ``patch`` is the whole object; ``force`` takes
        conflicting fields over, as ``helm`` 4 does)."""
        types = {"merge": "application/merge-patch+json", "strategic": "application/strategic-merge-patch+json",
                 "json": "application/json-patch+json", "apply": "application/apply-patch+yaml"}
        if patch_type not in types:
            raise ValueError(f"unknown patch type {patch_type!r}")
        res = self.resource(api_version, kind)
        ns = self._namespace_for(res, namespace)
        query = {"dryRun": "All", "fieldManager": field_manager, "fieldValidation": field_validation}
        if patch_type == "apply" and force:
            query["force"] = "true"
        sent = patch if isinstance(patch, Mapping) else None
        _, body, warnings = self.request("PATCH", res.path(ns, name), query=query, body=patch,
                                         content_type=types[patch_type], sent=sent,
                                         what=f"dry-run patch {self._describe(kind, name, ns)}")
        return DryRun(body, warnings)

    # ------------------------------------------------------------------ access

    def can_i(
        self,
        verb: str,
        resource: str,
        group: str = "",
        namespace: str | None = None,
        *,
        name: str = "",
        subresource: str = "",
        cluster: bool = False,
    ) -> AccessReview:
        """A SelfSubjectAccessReview, as ``kubectl auth can-i``: in the client's namespace
        unless ``namespace``, or cluster-wide with ``cluster=True``."""
        ns = None if cluster else (namespace or self.namespace)
        attributes: dict[str, str] = {"verb": verb, "resource": resource, "group": group}
        if ns:
            attributes["namespace"] = ns
        if name:
            attributes["name"] = name
        if subresource:
            attributes["subresource"] = subresource
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                  "spec": {"resourceAttributes": attributes}}
        _, body, _ = self.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=review,
                                  what=f"ask whether the user may {verb} {resource}")
        status = body.get("status") or {}
        return AccessReview(verb, group, resource, ns, bool(status.get("allowed")) and not status.get("denied"),
                            str(status.get("reason") or ""), subresource, name)

    def can_i_all(self, questions: Sequence[tuple[str, str, str]], namespace: str | None = None,
                  *, workers: int = 8) -> builtins.list[AccessReview]:
        """``can_i(verb, resource, group)`` for each question, in parallel, answers in order."""
        from concurrent.futures import ThreadPoolExecutor

        if not questions:
            return []
        with ThreadPoolExecutor(max_workers=min(workers, len(questions))) as pool:
            return list(pool.map(lambda q: self.can_i(q[0], q[1], q[2], namespace), questions))


def _write_private(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


@functools.lru_cache(maxsize=1)
def _https_connection_class() -> type:
    import http.client
    import socket

    class HTTPSConnection(http.client.HTTPSConnection):
        """``tls-server-name``: verify the certificate against that name, not the host's."""

        def __init__(self, host: str, port: int, *, context: Any, timeout: float, server_name: str | None) -> None:
            super().__init__(host, port, context=context, timeout=timeout)
            self._context = context
            self._server_name = server_name

        def connect(self) -> None:
            if not self._server_name:
                super().connect()
                return
            sock = socket.create_connection((self.host, self.port), self.timeout)
            self.sock = self._context.wrap_socket(sock, server_hostname=self._server_name)

    return HTTPSConnection


def _https_connection(host: str, port: int, *, context: Any, timeout: float, server_name: str | None) -> Any:
    return _https_connection_class()(host, port, context=context, timeout=timeout, server_name=server_name)
