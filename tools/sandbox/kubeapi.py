"""The one way the tests talk to the Kubernetes API server directly: kubectl-equivalent
HTTPS calls with a client certificate (Python's standard library only).

Everything else goes through the tools users use (helm and the plugin). This module is
what ``kubectl get/create/delete --dry-run=server`` would do: resource discovery, one
request per call, the server's own status message and its ``Warning`` headers kept
with every answer, so a test can show exactly what the API server said.
"""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode


@dataclass(frozen=True)
class Answer:
    """One response: HTTP status, decoded body, and the API server's warnings."""

    status: int
    body: dict[str, Any]
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        """The API server's own message (a Status object's ``message``), or the raw body."""
        return str(self.body.get("message") or self.body.get("raw") or self.body)

    def describe(self) -> str:
        lines = [f"HTTP {self.status}: {self.message}" if not self.ok else f"HTTP {self.status}"]
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass(frozen=True)
class Resource:
    """Where a kind lives in the API: ``/apis/apps/v1`` + ``deployments``."""

    group_version: str
    plural: str
    kind: str
    namespaced: bool
    verbs: frozenset[str]

    @property
    def prefix(self) -> str:
        return "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"

    def path(self, namespace: str | None, name: str | None = None) -> str:
        path = self.prefix
        if self.namespaced:
            if namespace is None:
                raise ValueError(f"{self.kind} is namespaced: a namespace is needed")
            path += f"/namespaces/{quote(namespace, safe='')}"
        path += f"/{self.plural}"
        return path + (f"/{quote(name, safe='')}" if name else "")


class UnknownKind(LookupError):
    """The API server serves no such apiVersion/kind (discovery has no entry)."""


def _warning_text(header: str) -> str:
    # RFC 7234 form the API server uses: 299 - "text"
    parts = header.split(" ", 2)
    if len(parts) == 3 and parts[0] == "299":
        text = parts[2].strip()
        if text.startswith('"') and text.endswith('"'):
            return text[1:-1].replace('\\"', '"')
        return text
    return header


@dataclass
class KubeAPI:
    """An authenticated client for one identity (cluster admin or tenant)."""

    host: str
    port: int
    ca_file: Path
    cert_file: Path
    key_file: Path
    timeout: float = 30.0
    _resources: dict[tuple[str, str], Resource] | None = field(default=None, repr=False)

    @classmethod
    def from_kubeconfig(cls, path: Path) -> KubeAPI:
        """The client for the current context of a kubeconfig the sandbox wrote (certificate files)."""
        import yaml

        config = yaml.safe_load(Path(path).read_text())
        context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
        user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
        host, port = cluster["server"].removeprefix("https://").rsplit(":", 1)
        return cls(host, int(port), Path(cluster["certificate-authority"]), Path(user["client-certificate"]),
                   Path(user["client-key"]))

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        context.load_cert_chain(str(self.cert_file), str(self.key_file))
        return context

    def request(self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None,
                content_type: str = "application/json") -> Answer:
        url = path + (f"?{urlencode(query)}" if query else "")
        connection = http.client.HTTPSConnection(self.host, self.port, context=self._context(), timeout=self.timeout)
        try:
            payload = None if body is None else json.dumps(body).encode()
            headers = {"Accept": "application/json"}
            if payload is not None:
                headers["Content-Type"] = content_type
            connection.request(method, url, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read().decode("utf-8", errors="replace")
            warnings = tuple(_warning_text(v) for k, v in response.getheaders() if k.lower() == "warning")
            status = response.status
        finally:
            connection.close()
        try:
            decoded = json.loads(raw) if raw else {}
        except ValueError:
            decoded = {"raw": raw}
        if not isinstance(decoded, dict):
            decoded = {"raw": raw}
        return Answer(status, decoded, warnings)

    # ----------------------------------------------------------------- discovery

    def resources(self) -> dict[tuple[str, str], Resource]:
        """(apiVersion, kind) -> Resource, from the server's discovery documents."""
        if self._resources is None:
            found: dict[tuple[str, str], Resource] = {}
            group_versions = ["v1"]
            groups = self.request("GET", "/apis")
            for group in groups.body.get("groups", []):
                group_versions += [v["groupVersion"] for v in group.get("versions", [])]
            for group_version in group_versions:
                prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
                listing = self.request("GET", prefix)
                for item in listing.body.get("resources", []):
                    if "/" in item["name"]:
                        continue  # subresources
                    key = (group_version, item["kind"])
                    found.setdefault(key, Resource(group_version, item["name"], item["kind"], item["namespaced"],
                                                   frozenset(item.get("verbs", []))))
            self._resources = found
        return self._resources

    def resource(self, api_version: str, kind: str) -> Resource:
        try:
            return self.resources()[(api_version, kind)]
        except KeyError:
            raise UnknownKind(f"the API server serves no {api_version} {kind}") from None

    # ------------------------------------------------------------------- verbs

    def create(self, obj: Mapping[str, Any], namespace: str | None, *, dry_run: bool = False) -> Answer:
        resource = self.resource(str(obj.get("apiVersion")), str(obj.get("kind")))
        query = {"dryRun": "All", "fieldValidation": "Strict"} if dry_run else {"fieldValidation": "Strict"}
        return self.request("POST", resource.path(namespace if resource.namespaced else None), obj, query)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Answer:
        resource = self.resource(api_version, kind)
        return self.request("GET", resource.path(namespace, name))

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Answer:
        resource = self.resource(api_version, kind)
        return self.request("DELETE", resource.path(namespace, name), {"propagationPolicy": "Background"})

    def patch_merge(self, api_version: str, kind: str, name: str, patch: Mapping[str, Any],
                    namespace: str | None = None) -> Answer:
        resource = self.resource(api_version, kind)
        return self.request("PATCH", resource.path(namespace, name), patch,
                            content_type="application/merge-patch+json")

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        resource = self.resource(api_version, kind)
        answer = self.request("GET", resource.path(namespace))
        if not answer.ok:
            raise RuntimeError(f"list {kind}: {answer.describe()}")
        return list(answer.body.get("items", []))

    def namespaced_objects(self, namespace: str) -> Iterator[tuple[str, str]]:
        """("Kind", "name") of every listable object in the namespace (preferred versions, no Events)."""
        seen: set[str] = set()
        for (_api_version, kind), resource in sorted(self.resources().items()):
            if not resource.namespaced or "list" not in resource.verbs or kind in seen or kind == "Event":
                continue
            seen.add(kind)
            answer = self.request("GET", resource.path(namespace))
            if answer.status in (403, 404, 405):
                continue
            for item in answer.body.get("items", []):
                yield kind, item["metadata"]["name"]

    def create_or_replace(self, obj: Mapping[str, Any], namespace: str | None = None) -> Answer:
        """Set up a fixture object (admin side): create, or replace the one that exists."""
        answer = self.create(obj, namespace)
        if answer.status != 409:
            return answer
        resource = self.resource(str(obj["apiVersion"]), str(obj["kind"]))
        name = obj["metadata"]["name"]
        current = self.request("GET", resource.path(namespace if resource.namespaced else None, name))
        replacement = {**obj, "metadata": {**obj["metadata"], "resourceVersion": current.body["metadata"]["resourceVersion"]}}
        return self.request("PUT", resource.path(namespace if resource.namespaced else None, name), replacement)
