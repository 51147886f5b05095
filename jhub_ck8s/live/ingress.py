"""Ingress and TLS: does the IngressClass the release names exist, and its cert-manager issuer?

For every Ingress of the release: the IngressClass of ``spec.ingressClassName`` (or the
``kubernetes.io/ingress.class`` annotation) exists, or, with none named, a default class
does (``ingress-class``). The issuer named by ``cert-manager.io/cluster-issuer`` (a
ClusterIssuer) or ``cert-manager.io/issuer`` (an Issuer in the namespace) exists and its
``Ready`` condition is ``True`` (``ingress-issuer``). A cert-manager that is not installed
(no such kind) is a warning; a read the tenant may not make (IngressClasses and
ClusterIssuers are cluster-scoped) is a skip that says what to ask the administrator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .client import Forbidden, LiveError, NotFound
from .model import FAIL, PASS, SKIP, WARN, Context, Result, ask_admin, label

GROUP = "Ingress and TLS"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class"
CERT_MANAGER = "cert-manager.io/v1"


def _class_check(ctx: Context, ingress: dict[str, Any]) -> Result:
    subject = label(ingress)
    annotations = (ingress.get("metadata") or {}).get("annotations") or {}
    name = (ingress.get("spec") or {}).get("ingressClassName") or annotations.get(CLASS_ANNOTATION)
    client = ctx.client
    try:
        if name:
            client.get("networking.k8s.io/v1", "IngressClass", str(name))
            return Result("ingress-class", GROUP, PASS, f"IngressClass {name} exists", subject=subject)
        defaults = [c for c in client.list("networking.k8s.io/v1", "IngressClass")
                    if ((c.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS) == "true"]
        if defaults:
            return Result("ingress-class", GROUP, PASS, f"no class named; the default IngressClass is "
                          f"{defaults[0]['metadata']['name']}", subject=subject)
        return Result("ingress-class", GROUP, FAIL, "no IngressClass named and the cluster has no default one",
                      "set jupyterhub.ingress.ingressClassName to the platform's class (nginx)", subject)
    except NotFound:
        return Result("ingress-class", GROUP, FAIL, f"IngressClass {name} does not exist in the cluster",
                      "set jupyterhub.ingress.ingressClassName to a class the cluster has (kubectl get ingressclass)", subject)
    except Forbidden:
        what = f"IngressClass {name}" if name else "the default IngressClass"
        return Result("ingress-class", GROUP, SKIP, f"may not read IngressClasses (cluster-scoped): {what} not checked",
                      ask_admin(f"confirm that {what} exists"), subject)
    except LiveError as exc:
        return Result("ingress-class", GROUP, FAIL, str(exc), "", subject)


def _issuer_check(ctx: Context, ingress: dict[str, Any]) -> Result | None:
    subject = label(ingress)
    annotations = (ingress.get("metadata") or {}).get("annotations") or {}
    if annotations.get("cert-manager.io/cluster-issuer"):
        kind, name, namespace = "ClusterIssuer", str(annotations["cert-manager.io/cluster-issuer"]), None
    elif annotations.get("cert-manager.io/issuer"):
        kind, name, namespace = "Issuer", str(annotations["cert-manager.io/issuer"]), ctx.namespace
    else:
        return None
    client = ctx.client
    try:
        client.resource(CERT_MANAGER, kind)
    except NotFound:
        return Result("ingress-issuer", GROUP, WARN, f"cert-manager is not installed (no {kind} in {CERT_MANAGER}): "
                      f"{kind} {name} cannot issue the certificate", "ask the platform administrator about cert-manager", subject)
    except LiveError as exc:
        return Result("ingress-issuer", GROUP, FAIL, str(exc), "", subject)
    try:
        issuer = client.get(CERT_MANAGER, kind, name, namespace)
    except NotFound:
        return Result("ingress-issuer", GROUP, FAIL, f"{kind} {name} does not exist",
                      f"name an existing {kind} in the cert-manager.io annotation (kubectl get {kind.lower()})", subject)
    except Forbidden:
        return Result("ingress-issuer", GROUP, SKIP, f"may not read {kind}s: {kind} {name} not checked",
                      ask_admin(f"confirm that {kind} {name} exists and is Ready"), subject)
    except LiveError as exc:
        return Result("ingress-issuer", GROUP, FAIL, str(exc), "", subject)
    conditions = (issuer.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if isinstance(c, dict) and c.get("type") == "Ready"), None)
    if ready and ready.get("status") == "True":
        return Result("ingress-issuer", GROUP, PASS, f"{kind} {name} exists and is Ready", subject=subject)
    why = f": {ready.get('reason')}" if ready and ready.get("reason") else ""
    return Result("ingress-issuer", GROUP, FAIL, f"{kind} {name} is not Ready{why}",
                  f"ask the platform administrator to fix {kind} {name} (kubectl describe {kind.lower()} {name})", subject)


def run(ctx: Context) -> Iterator[Result]:
    ingresses = ctx.release.of_kind("Ingress")
    if not ingresses:
        yield Result("ingress-class", GROUP, SKIP, "the release has no Ingress", "")
        return
    for ingress in ingresses:
        yield _class_check(ctx, ingress)
        issuer = _issuer_check(ctx, ingress)
        if issuer is not None:
            yield issuer
