"""The values linter: placeholders and example values never reach helm.

One linter for every place values are read: the merged values of ``deploy``, ``render``,
``images``, ``check`` and ``mirror`` (every ``-f`` in order, then every ``--set*`` flag),
the file ``import-values`` writes, the file ``init`` writes, and (``lint_stream``) what
reached the objects of a rendered stream. Rules:

* ``placeholder``: a shell variable (``$VAR``, ``${VAR}``), an angle-bracket marker
  (``<your-domain>``), a filler word (``CHANGE_ME``, ``changeme``, ``REPLACE_ME``,
  ``TODO``, ``TBD``, ``FIXME``) or a value whose YAML comment says to replace it
  (``# replace this``), in any key except code and scripts (``hub.extraConfig``,
  ``*.extraFiles``, ``singleuser.lifecycleHooks``, ``cmd``, ``args``, ``command``).
  Template syntax the chart and KubeSpawner use on purpose (``{username}``) and
  ``$(VAR)`` expansion in env values are not placeholders;
* ``example-name``: a reserved example name (RFC 2606, RFC 6761: ``example.com``,
  ``example.org``, ``example.net``, ``*.example``, ``*.test``, ``*.invalid``,
  ``*.localhost``) as a host, in a URL or in an e-mail address, in these keys only:
  Ingress hosts and TLS hosts, ``proxy.https.hosts``, OAuth callback and authorize URLs,
  ``hosted_domain``, ``admin_users``, ``allowed_users``,
  ``proxy.https.letsencrypt.contactEmail``;
* ``required``: OAuth ``client_id`` and ``client_secret`` empty while an OAuth
  authenticator is selected; no Ingress host while the Ingress is on and configured.

Pass::

    ingress: {enabled: true, hosts: [jupyter.acme.io]}
    singleuser: {storage: {homeMountPath: /home/{username}}}

Fail::

    ingress: {enabled: true, hosts: [$PROJECT_DOMAIN]}   # placeholder
    proxy: {https: {letsencrypt: {contactEmail: me@example.com}}}   # example-name

Each ``Finding`` names the key path as the user wrote it, ``file:line`` (or the flag),
and what belongs there. Under a secret-bearing key (``client_secret``, tokens,
passwords, ``cookie_secret``, CryptKeeper keys) the value is never in a message.
A finding is accepted on purpose when its key path is in the allow list
(``--allow-example KEY.PATH`` or ``ck8s.allowExamples``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER = "placeholder"
EXAMPLE_NAME = "example-name"
REQUIRED = "required"
RULES = (PLACEHOLDER, EXAMPLE_NAME, REQUIRED)
# GitOps mode only (``render --gitops``, the Argo CD plugin): never accepted on purpose.
SECRET_IN_VALUES = "secret-in-values"
NO_STABLE_SOURCE = "no-stable-source"
GITOPS_RULES = (SECRET_IN_VALUES, NO_STABLE_SOURCE)

ALLOW_KEY = "allowExamples"  # ck8s.allowExamples

Path = tuple[str | int, ...]

# --- what a placeholder looks like -------------------------------------------------------

_SHELL_VAR = re.compile(r"(?<![A-Za-z0-9$\\])\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)")
_ANGLE = re.compile(r"<([A-Za-z][A-Za-z0-9 _.@:/-]*)>")
_FILLER_ANYCASE = re.compile(r"(?<![A-Za-z0-9])(change[_-]?me|replace[_-]?me|fill[_-]?me[_-]?in)(?![A-Za-z0-9])", re.IGNORECASE)
_FILLER_UPPER = re.compile(r"(?<![A-Za-z0-9])(TODO|TBD|FIXME|XXX+)(?![A-Za-z0-9])")
_FILLER_WHOLE = re.compile(r"\A\s*(todo|tbd|fixme|xxx+|placeholder)\s*\Z", re.IGNORECASE)
_REPLACE_COMMENT = re.compile(
    r"\A#\s*(?:\(\d+\)\s*)?(?:replace|change|fill in)\s+(?:this|me|it)\b", re.IGNORECASE
)
_HTML_TAGS = frozenset(
    ["a", "abbr", "b", "blockquote", "body", "br", "code", "div", "em", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hr", "html", "i", "img", "input", "label", "li", "link", "meta", "nav", "ol", "option", "p", "pre", "script", "section", "select", "small", "span", "strong", "style", "sub", "sup", "table", "tbody", "td", "textarea", "th", "thead", "title", "tr", "u", "ul"]
)

# Keys whose values are code, scripts or command lines: never judged as placeholders.
_CODE_KEYS = frozenset({"cmd", "args", "command", "extraConfig", "extraFiles", "lifecycleHooks", "lifecycle_hooks"})

# --- reserved example names (RFC 2606, RFC 6761) -------------------------------------------

_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
_EXAMPLE_TLDS = ("example", "test", "invalid", "localhost")


def reserved_name(host: str) -> str | None:
    """The reserved name ``host`` falls under (``example.com``, ``*.test``, ...), or None."""
    name = host.strip().rstrip(".").lower()
    if not name:
        return None
    for domain in _EXAMPLE_DOMAINS:
        if name == domain or name.endswith("." + domain):
            return domain
    last = name.rsplit(".", 1)[-1]
    if last in _EXAMPLE_TLDS:
        return last if name == last else f"*.{last}"
    return None


def host_of(value: str) -> str | None:
    """The host name in a URL, an e-mail address or a bare host name."""
    text = value.strip()
    if "://" in text:
        rest = text.split("://", 1)[1]
        host = re.split(r"[/?#]", rest, maxsplit=1)[0]
        host = host.rsplit("@", 1)[-1]
        if host.startswith("["):
            return None
        return host.split(":", 1)[0] or None
    if "@" in text:
        return text.rsplit("@", 1)[1] or None
    if "." in text or text.lower() == "localhost" or text.startswith("*"):
        return text.lstrip("*.") or None
    return None


# --- where things live (paths relative to the upstream chart's values) --------------------

_HOSTS_HELP = "the public host name of the hub, for example jupyter.<your domain>"
_OAUTH_SELECTORS = {
    "google": "GoogleOAuthenticator", "github": "GitHubOAuthenticator", "gitlab": "GitLabOAuthenticator",
    "generic-oauth": "GenericOAuthenticator", "generic": "GenericOAuthenticator",
    "azuread": "AzureAdOAuthenticator", "azure-ad": "AzureAdOAuthenticator",
    "bitbucket": "BitbucketOAuthenticator", "cilogon": "CILogonOAuthenticator",
    "globus": "GlobusOAuthenticator", "openshift": "OpenShiftOAuthenticator",
    "auth0": "Auth0OAuthenticator", "mediawiki": "MWOAuthenticator",
}
_CONFIG_HELP = {
    "oauth_callback_url": "https://<the hub's host>/hub/oauth_callback, the redirect URI registered with the provider",
    "authorize_url": "the OAuth provider's real authorize URL",
    "hosted_domain": "your organisation's e-mail domain (its users may log in)",
    "admin_users": "the login names of real administrators (for Google: their e-mail addresses)",
    "allowed_users": "the login names of real users (for Google: their e-mail addresses)",
    "client_id": "the OAuth client id from your provider's console",
    "client_secret": "the OAuth client secret from your provider's console",
}


def _is_secret_key(key: str | int) -> bool:
    name = str(key).lower().replace("-", "_")
    if name in ("imagepullsecrets", "pullsecret", "existingsecret", "secretname"):
        return False  # names of Secrets, not their contents
    return any(word in name for word in ("secret", "token", "password", "passwd", "apikey", "api_key", "private_key"))


def _is_secret_path(path: Path) -> bool:
    names = [part for part in path if isinstance(part, str)]
    return any(_is_secret_key(part) for part in names) or "CryptKeeper" in names


def _help_for(path: Path) -> str:
    names = [part for part in path if isinstance(part, str)]
    if names[:2] == ["ingress", "hosts"] or names[:2] == ["ingress", "tls"] or names[:3] == ["proxy", "https", "hosts"]:
        return _HOSTS_HELP
    if names[-2:] == ["letsencrypt", "contactEmail"]:
        return "a mailbox you read (Let's Encrypt writes there before the certificate expires)"
    if names and names[-1] in _CONFIG_HELP:
        return _CONFIG_HELP[names[-1]]
    return "the real value"


def _example_key(path: Path) -> bool:
    """Is ``path`` (upstream values) one of the keys where example names are judged?"""
    names = [part for part in path if isinstance(part, str)]
    if names[:2] == ["ingress", "hosts"] and len(path) == 3:
        return True
    if names[:3] == ["ingress", "tls", "hosts"] and len(path) == 5:
        return True
    if names[:3] == ["proxy", "https", "hosts"] and len(path) == 4:
        return True
    if names == ["proxy", "https", "letsencrypt", "contactEmail"]:
        return True
    if names[:2] == ["hub", "config"] and len(names) >= 4:
        key = names[3]
        if key in ("oauth_callback_url", "authorize_url", "hosted_domain", "admin_users", "allowed_users"):
            return len(names) == 4
    return False


def _is_code(path: Path) -> bool:
    names = [part for part in path if isinstance(part, str)]
    return any(name in _CODE_KEYS for name in names)


# --- findings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where a value was written: a file and line, or a flag; ``strip`` leading path parts
    the user did not write (``jupyterhub`` of an upstream-shaped file)."""

    source: str
    line: int | None = None
    strip: int = 0

    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line is not None else self.source


@dataclass(frozen=True)
class Finding:
    """One value that must not reach helm."""

    rule: str
    path: Path  # full path in the values helm gets (wrapper: starts with jupyterhub or ck8s)
    message: str  # what is wrong; never a secret's value
    fix: str  # what belongs there
    origin: Origin | None = None

    @property
    def key(self) -> str:
        """The full key path (``jupyterhub.ingress.hosts[0]``), as --allow-example takes it."""
        return dotted(self.path)

    @property
    def shown(self) -> str:
        """The key path as the user wrote it."""
        strip = self.origin.strip if self.origin else 0
        return dotted(self.path[strip:])

    def summary(self) -> str:
        """``file:line: key.path: what is wrong`` (no fix)."""
        where = f"{self.origin.where()}: " if self.origin else ""
        return f"{where}{self.shown}: {self.message}"

    def line(self) -> str:
        return f"{self.summary()}; expected {self.fix}"


def dotted(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + part
    return text


def _placeholder(text: str, comment: str | None = None) -> str | None:
    """Why ``text`` is a placeholder, or None."""
    match = _SHELL_VAR.search(text)
    if match:
        return f"shell variable ${match.group(1)}"
    for angle in _ANGLE.finditer(text):
        inner = angle.group(1).strip()
        if inner.lower() not in _HTML_TAGS and "</" not in text:
            return f"marker <{inner}>"
    match = _FILLER_ANYCASE.search(text) or _FILLER_UPPER.search(text) or _FILLER_WHOLE.search(text)
    if match:
        return f"filler word {match.group(1)}"
    if comment and _REPLACE_COMMENT.search(comment):
        return "its comment says to replace it"
    return None


def _describe(path: Path, value: str, reason: str) -> str:
    if _is_secret_path(path):
        return "is a placeholder (secret-bearing key: value not shown)"
    return f"{json.dumps(value)} is a placeholder ({reason})"


@dataclass
class Values:
    """Values and where each was written: ``origins[path]`` for every path a layer set."""

    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[Path, Origin] = field(default_factory=dict)
    comments: dict[Path, str] = field(default_factory=dict)  # end-of-line comment of a value


def _walk(node: Any, path: Path = (), depth: int = 0) -> Iterator[tuple[Path, Any]]:
    if depth > 100:
        return
    yield path, node
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _walk(value, (*path, str(key)), depth + 1)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index), depth + 1)


def _get(node: Any, path: Iterable[str | int]) -> Any:
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return None
        elif not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _origin(values: Values, path: Path) -> Origin | None:
    for end in range(len(path), -1, -1):
        origin = values.origins.get(path[:end])
        if origin is not None:
            return origin
    return None


def lint(values: Values, *, upstream_root: Path = ("jupyterhub",), only_written: bool = True) -> list[Finding]:
    """Every finding in ``values`` (merged values helm will get), in key order.

    ``upstream_root`` is where the upstream chart's values live (``()`` when the chart is
    the upstream chart itself). With ``only_written``, placeholders and example names are
    judged only on values a layer wrote (``origins``), not on the chart's own defaults.
    """
    findings: list[Finding] = []
    root = _get(values.data, upstream_root)
    for path, value in _walk(values.data):
        if only_written and path not in values.origins:
            continue
        relative = path[len(upstream_root):] if path[: len(upstream_root)] == upstream_root else None
        if path and path[0] == "ck8s" and upstream_root and len(path) >= 2 and path[1] == ALLOW_KEY:
            continue
        if isinstance(value, str):
            findings.extend(_judge(path, relative, value, values))
        elif value is None and values.comments.get(path) and _REPLACE_COMMENT.search(values.comments[path]):
            findings.append(Finding(
                PLACEHOLDER, path, "is empty and its comment says to replace it", _help_for(relative or path),
                _origin(values, path),
            ))
    if isinstance(root, Mapping):
        findings.extend(_required(root, upstream_root, values))
    return findings


def _judge(path: Path, relative: Path | None, value: str, values: Values) -> Iterator[Finding]:
    judged = relative if relative is not None else path
    if _is_code(judged):
        return
    reason = _placeholder(value, None)
    if reason:
        yield Finding(PLACEHOLDER, path, _describe(judged, value, reason), _help_for(judged), _origin(values, path))
        return
    if relative is not None and _example_key(relative):
        host = host_of(value)
        reserved = reserved_name(host) if host else None
        if reserved:
            shown = "value not shown" if _is_secret_path(relative) else json.dumps(value)
            yield Finding(
                EXAMPLE_NAME, path, f"{shown} uses the reserved example name {reserved}", _help_for(relative),
                _origin(values, path),
            )
            return
    comment = values.comments.get(path)
    if comment and _REPLACE_COMMENT.search(comment):
        reason = "its comment says to replace it"
        yield Finding(PLACEHOLDER, path, _describe(judged, value, reason), _help_for(judged), _origin(values, path))


def _selected_oauth(config: Mapping[str, Any]) -> str | None:
    """The hub.config section of the OAuth authenticator selected, or None."""
    hub = config.get("JupyterHub")
    selected = hub.get("authenticator_class") if isinstance(hub, Mapping) else None
    if not isinstance(selected, str):
        return None
    if selected in _OAUTH_SELECTORS:
        return _OAUTH_SELECTORS[selected]
    name = selected.rsplit(".", 1)[-1]
    return name if name.endswith("OAuthenticator") or name == "GenericOAuthenticator" else None


def _env_names(hub: Mapping[str, Any]) -> set[str]:
    env = hub.get("extraEnv")
    if isinstance(env, Mapping):
        return {str(key) for key in env}
    if isinstance(env, list):
        return {str(item.get("name")) for item in env if isinstance(item, Mapping)}
    return set()


def _required(root: Mapping[str, Any], base: Path, values: Values) -> Iterator[Finding]:
    hub: Mapping[str, Any] = root["hub"] if isinstance(root.get("hub"), Mapping) else {}
    config: Mapping[str, Any] = hub["config"] if isinstance(hub.get("config"), Mapping) else {}
    section = _selected_oauth(config)
    if section is not None:
        env = _env_names(hub)
        for key, variable in (("client_id", "OAUTH_CLIENT_ID"), ("client_secret", "OAUTH_CLIENT_SECRET")):
            given = [
                _get(config, (name, key)) for name in (section, "OAuthenticator")
                if isinstance(config.get(name), Mapping) and key in config[name]
            ]
            if any(isinstance(v, str | int) and str(v).strip() for v in given) or variable in env:
                continue
            if key == "client_secret" and hub.get("existingSecret"):
                continue
            path = (*base, "hub", "config", section, key)
            yield Finding(
                REQUIRED, path, f"is empty, and {section} is the authenticator", _CONFIG_HELP[key],
                _origin(values, path),
            )
    ingress = root.get("ingress")
    written = any(p[: len(base) + 1] == (*base, "ingress") for p in values.origins)
    if isinstance(ingress, Mapping) and ingress.get("enabled") is True and written:
        hosts = ingress.get("hosts")
        real = [h for h in hosts if isinstance(h, str) and h.strip()] if isinstance(hosts, list) else []
        if not real:
            path = (*base, "ingress", "hosts")
            yield Finding(REQUIRED, path, "is empty while the Ingress is on", _HOSTS_HELP, _origin(values, path))


# --- GitOps mode ------------------------------------------------------------------------------

# Under these keys a secret-sounding name is a reference to a Secret, not its contents.
_REFERENCE_PARTS = frozenset({"secretKeyRef", "secretRef", "valueFrom", "configMapKeyRef", "envFrom"})
_NOT_A_SECRET_SUFFIXES = ("url", "uri", "name", "file", "path", "ref", "key_name", "env", "type", "enabled", "create")
_GITOPS_FIX = (
    "no value here: in --gitops mode every value ends up in git (Secret/hub values.yaml); move it into the Secret "
    "named by hub.existingSecret, or an environment variable from it (README, GitOps)"
)


def _secret_value_path(path: Path) -> bool:
    """Does a scalar at ``path`` (upstream values) hold a secret, not a reference to one?"""
    names = [part for part in path if isinstance(part, str)]
    if not names or any(part in _REFERENCE_PARTS for part in names):
        return False
    if names[-2:] == ["CryptKeeper", "keys"]:
        return True
    last = names[-1].lower().replace("-", "_")
    if last.endswith(_NOT_A_SECRET_SUFFIXES):
        return False
    return _is_secret_key(names[-1])


def lint_gitops(values: Values, *, upstream_root: Path = ("jupyterhub",)) -> list[Finding]:
    """What a GitOps render refuses: a secret written in the values (it would be committed with the
    rendered Secret/hub), and no ``hub.existingSecret`` for the tokens the chart would generate.

    Key paths only; a secret's value is never in a message.
    """
    findings: list[Finding] = []
    for path, value in _walk(values.data):
        if path not in values.origins or isinstance(value, Mapping | list) or value in (None, "", False):
            continue
        relative = path[len(upstream_root):] if path[: len(upstream_root)] == upstream_root else path
        if _secret_value_path(relative):
            findings.append(Finding(
                SECRET_IN_VALUES, path, "is a secret (value not shown), and this render goes to git", _GITOPS_FIX,
                _origin(values, path),
            ))
    root = _get(values.data, upstream_root)
    hub = root.get("hub") if isinstance(root, Mapping) else None
    existing = hub.get("existingSecret") if isinstance(hub, Mapping) else None
    if not (isinstance(existing, str) and existing):
        services = hub.get("services") if isinstance(hub, Mapping) else None
        keys = ["hub.config.ConfigurableHTTPProxy.auth_token", "hub.config.JupyterHub.cookie_secret",
                "hub.config.CryptKeeper.keys"]
        keys += sorted(f"hub.services.{name}.apiToken" for name in services) if isinstance(services, Mapping) else []
        path = (*upstream_root, "hub", "existingSecret")
        findings.append(Finding(
            NO_STABLE_SOURCE, path,
            f"is not set, so {', '.join(keys)} have no stable source (helm template would generate them at "
            "random on every render)",
            "the name of a Secret you manage that holds these keys (README, GitOps)",
            _origin(values, path),
        ))
    return findings


# --- the allow list -----------------------------------------------------------------------------


def normalize_allowed(key: str, *, wrapper: bool = True) -> str:
    """``ingress.hosts`` -> ``jupyterhub.ingress.hosts`` (for the wrapper chart)."""
    key = key.strip()
    if wrapper and key.split(".", 1)[0].split("[", 1)[0] not in ("jupyterhub", "ck8s"):
        key = f"jupyterhub.{key}"
    return key


def is_allowed(finding: Finding, allowed: Iterable[str]) -> bool:
    key = finding.key
    return any(key == a or key.startswith(a + ".") or key.startswith(a + "[") for a in allowed)


def allowed_from(values: Values, flags: Sequence[str], *, wrapper: bool = True) -> list[str]:
    """Every accepted key path: the flags, then ``ck8s.allowExamples`` of the values."""
    keys = [normalize_allowed(key, wrapper=wrapper) for key in flags]
    listed = _get(values.data, ("ck8s", ALLOW_KEY)) if wrapper else None
    if isinstance(listed, list):
        keys += [normalize_allowed(str(key)) for key in listed if isinstance(key, str)]
    return keys


# --- a rendered stream ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamFinding:
    """A finding on one object of a rendered stream (``label`` such as ``Ingress/jhub``)."""

    label: str
    where: str
    rule: str
    message: str
    fix: str


def lint_stream(documents: Sequence[Any], hub_values: Mapping[str, Any] | None) -> list[StreamFinding]:
    """The same rules on what reached the objects: Ingress hosts and TLS hosts, and the OAuth
    settings in ``Secret/hub`` ``values.yaml`` (key paths only: no value of that Secret is shown)."""
    found: list[StreamFinding] = []
    for doc in documents:
        if getattr(doc, "kind", None) != "Ingress" or not isinstance(doc.obj, Mapping):
            continue
        spec: Mapping[str, Any] = doc.obj["spec"] if isinstance(doc.obj.get("spec"), Mapping) else {}
        places: list[tuple[str, Any]] = []
        for i, rule in enumerate(spec.get("rules") or []):
            if isinstance(rule, Mapping) and "host" in rule:
                places.append((f"spec.rules[{i}].host", rule["host"]))
        for i, tls in enumerate(spec.get("tls") or []):
            for j, host in enumerate((tls.get("hosts") if isinstance(tls, Mapping) else None) or []):
                places.append((f"spec.tls[{i}].hosts[{j}]", host))
        for where, value in places:
            if not isinstance(value, str):
                continue
            reason = _placeholder(value, None)
            if reason:
                found.append(StreamFinding(doc.label, where, PLACEHOLDER, f"{json.dumps(value)} is a placeholder ({reason})", _HOSTS_HELP))
                continue
            reserved = reserved_name(value)
            if reserved:
                found.append(StreamFinding(
                    doc.label, where, EXAMPLE_NAME, f"{json.dumps(value)} uses the reserved example name {reserved}", _HOSTS_HELP,
                ))
    if hub_values is not None:
        config = _get(hub_values, ("hub", "config"))
        if isinstance(config, Mapping):
            values = Values({"hub": {"config": config}})
            values.origins = {path: Origin("Secret/hub") for path, _ in _walk(values.data)}
            for finding in lint(values, upstream_root=(), only_written=True):
                if finding.rule == REQUIRED:
                    message = finding.message
                elif finding.rule == PLACEHOLDER:
                    message = "is a placeholder"
                else:
                    message = "uses a reserved example name (RFC 2606, RFC 6761)"
                found.append(StreamFinding(
                    "Secret/hub", f"values.yaml {dotted(finding.path)}", finding.rule, message, finding.fix,
                ))
    return found


__all__ = [
    "ALLOW_KEY",
    "EXAMPLE_NAME",
    "GITOPS_RULES",
    "NO_STABLE_SOURCE",
    "PLACEHOLDER",
    "REQUIRED",
    "RULES",
    "SECRET_IN_VALUES",
    "Finding",
    "Origin",
    "StreamFinding",
    "Values",
    "allowed_from",
    "dotted",
    "host_of",
    "is_allowed",
    "lint",
    "lint_gitops",
    "lint_stream",
    "normalize_allowed",
    "reserved_name",
]
