"""A commented starter values file for the wrapper chart (``wrapper-chart/``).

``write_starter_values`` guarantees:

* the file holds only what a team must decide (registry, pull secret, login, host); every
  platform default stays in the chart's own ``values.yaml``;
* it validates against the wrapper chart's schema, and its ``jupyterhub:`` part against
  the upstream chart's schema (tests check both);
* an existing file is never overwritten unless ``force=True`` (``StarterExistsError``);
* bad arguments raise ``StarterError`` with one line; nothing is printed. The text written
  is returned.

Login defaults to JupyterHub's DummyAuthenticator with one admin user and a generated
shared password, so a first install can be tried at once; a GoogleOAuthenticator block
(the platform guide's choice) is in the file as a comment, ready to swap in.
"""

from __future__ import annotations

import io
import os
import re
import secrets
from dataclasses import dataclass

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .errors import UserError
from .imageref import ImageRefError, split_registry_path

_DNS1123 = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")

HEADER = """\
Starter values for the jupyterhub-ck8s chart (JupyterHub on Compliant Kubernetes).
Platform defaults (resources, security contexts, no cluster-wide objects, ingress
with cert-manager) live in the chart's values.yaml; set here only what is yours.
Install through the post-renderer, e.g.:
  helm upgrade --install jhub wrapper-chart/ -n <namespace> -f <this file> --post-renderer jhub-ck8s
"""

GOOGLE_BLOCK = """\
For Google login (the platform guide's choice), replace the three blocks below with:
  JupyterHub:
    authenticator_class: google
    admin_users: [admin@example.com]
  GoogleOAuthenticator:
    client_id: <client id>
    client_secret: <client secret>
    oauth_callback_url: https://{host}/hub/oauth_callback
    hosted_domain:
      - example.com
    login_service: Google
    allow_all: true"""


class StarterError(UserError, ValueError):
    """An argument cannot go into a starter values file; the message says which and why."""


class StarterExistsError(StarterError, FileExistsError):
    """The target file exists and ``force`` was not given."""


@dataclass(frozen=True)
class StarterValues:
    """What a starter values file is made from (validated on construction)."""

    registry: str | None = None
    pull_secret: str = "pull-secret"
    host: str | None = None
    admin_user: str = "admin"
    dummy_password: str | None = None

    def __post_init__(self) -> None:
        if self.registry is not None:
            try:
                split_registry_path(self.registry)
            except ImageRefError as exc:
                raise StarterError(f"registry: {exc}; expected host/project") from None
        if not self.pull_secret or not _DNS1123.match(self.pull_secret) or len(self.pull_secret) > 253:
            raise StarterError(
                f"pull_secret: {self.pull_secret!r} is not a Kubernetes object name "
                "(lower-case letters, digits, - and .)"
            )
        if self.host is not None and (not _DNS1123.match(self.host.lower()) or "." not in self.host):
            raise StarterError(f"host: {self.host!r} is not a DNS name such as jupyter.example.com")
        if not self.admin_user.strip():
            raise StarterError("admin_user: must not be empty")


def _seq(*items: object) -> CommentedSeq:
    seq = CommentedSeq()
    seq.extend(items)
    return seq


def build_starter(spec: StarterValues) -> CommentedMap:
    """The starter values as a commented ruamel.yaml mapping."""
    password = spec.dummy_password or secrets.token_urlsafe(18)
    host = spec.host or "jupyter.example.com"

    ck8s = CommentedMap()
    ck8s["registry"] = spec.registry.rstrip("/") if spec.registry else None
    ck8s.yaml_add_eol_comment(
        "your Harbor project, host/project: every image is moved there" if spec.registry
        else "set your Harbor project, e.g. harbor.example.com/jupyterhub",
        "registry",
    )
    ck8s["pullSecret"] = spec.pull_secret
    ck8s.yaml_add_eol_comment("kubernetes.io/dockerconfigjson Secret of a Harbor robot account", "pullSecret")
    ck8s.yaml_set_comment_before_after_key(
        "registry",
        before="Post-renderer settings. Create the pull secret before installing:\n"
        f"  kubectl create secret docker-registry {spec.pull_secret} --docker-server=<harbor host> \\\n"
        "    --docker-username='<robot account>' --docker-password='<secret>'",
        indent=2,
    )

    dummy = CommentedMap()
    dummy["password"] = password
    dummy.yaml_add_eol_comment("shared password for every user: replace before real use", "password")
    jupyterhub_cfg = CommentedMap()
    jupyterhub_cfg["authenticator_class"] = "dummy"
    jupyterhub_cfg["admin_users"] = _seq(spec.admin_user)
    authenticator = CommentedMap()
    authenticator["allowed_users"] = _seq(spec.admin_user)
    authenticator.yaml_add_eol_comment("who may log in; add your users", "allowed_users")
    config = CommentedMap()
    config["JupyterHub"] = jupyterhub_cfg
    config["Authenticator"] = authenticator
    config["DummyAuthenticator"] = dummy
    config.yaml_set_comment_before_after_key(
        "JupyterHub",
        before="Login: a dummy authenticator to try the hub out. Not for real users.\n"
        + GOOGLE_BLOCK.format(host=host),
        indent=6,
    )
    hub = CommentedMap()
    hub["config"] = config

    ingress = CommentedMap()
    if spec.host:
        ingress["hosts"] = _seq(spec.host)
        tls = CommentedMap()
        tls["hosts"] = _seq(spec.host)
        tls["secretName"] = "jupyterhub-tls"
        ingress["tls"] = _seq(tls)
        ingress.yaml_add_eol_comment("cert-manager stores the certificate here", "tls")
    else:
        ingress["hosts"] = CommentedSeq()
        ingress["tls"] = CommentedSeq()
    ingress.yaml_set_comment_before_after_key(
        "hosts",
        before="Your domain (the chart's ingress uses nginx and cert-manager's letsencrypt-prod)."
        + ("" if spec.host else "\nSet hosts: [jupyter.example.com] and\n"
           "tls: [{hosts: [jupyter.example.com], secretName: jupyterhub-tls}]"),
        indent=4,
    )

    jupyterhub = CommentedMap()
    jupyterhub["imagePullSecrets"] = _seq(spec.pull_secret)
    jupyterhub.yaml_add_eol_comment("the same name as ck8s.pullSecret", "imagePullSecrets")
    jupyterhub["hub"] = hub
    jupyterhub["ingress"] = ingress
    jupyterhub.yaml_set_comment_before_after_key(
        "ingress",
        before="User image and resources: the chart's defaults are the sample notebook\n"
        "image, cpu 0.1-1 and memory 1G-2G per user. To change them:\n"
        "singleuser:\n"
        "  image: {name: quay.io/jupyter/scipy-notebook, tag: \"2025-06-30\"}\n"
        "  cpu: {guarantee: 0.5, limit: 2}\n"
        "  memory: {guarantee: 2G, limit: 4G}",
        indent=2,
    )

    top = CommentedMap()
    top["ck8s"] = ck8s
    top["jupyterhub"] = jupyterhub
    top.yaml_set_start_comment(HEADER.rstrip("\n"))
    top.yaml_set_comment_before_after_key(
        "jupyterhub", before="\nValues for the upstream JupyterHub chart (https://z2jh.jupyter.org)."
    )
    return top


def render_starter_values(spec: StarterValues) -> str:
    """The starter values file's text."""
    from .yamlio import ruamel_yaml  # strings quoted wherever Helm (Go) could misread them

    yaml = ruamel_yaml()
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(build_starter(spec), out)
    return out.getvalue()


def write_starter_values(
    path: str | os.PathLike[str],
    registry: str | None = None,
    pull_secret: str = "pull-secret",
    host: str | None = None,
    *,
    admin_user: str = "admin",
    dummy_password: str | None = None,
    force: bool = False,
) -> str:
    """Write a commented starter values file for the wrapper chart; return its text.

    Raises ``StarterExistsError`` if ``path`` exists and ``force`` is false, and
    ``StarterError`` for an invalid registry, pull-secret name or host.
    """
    text = render_starter_values(
        StarterValues(registry, pull_secret, host, admin_user, dummy_password)
    )
    mode = "w" if force else "x"
    try:
        with open(path, mode, encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise StarterExistsError(
            f"{os.fspath(path)} exists; not overwriting it (use force=True / --force to replace it)"
        ) from None
    except OSError as exc:
        raise StarterError(f"cannot write {os.fspath(path)}: {exc.strerror}") from None
    return text


__all__ = [
    "StarterError",
    "StarterExistsError",
    "StarterValues",
    "build_starter",
    "render_starter_values",
    "write_starter_values",
]
