"""Access: may this user install, upgrade and uninstall the release here?

A SelfSubjectAccessReview for every verb helm uses (create, get, update, patch, delete)
on every kind of the post-rendered release, plus get/list/create/update/delete on Secrets
(helm keeps its release records there). Everything missing is in one result, as
``kubectl auth can-i`` spells it::

    fail  access-release-kinds  may not: create networkpolicies.networking.k8s.io, delete ...

Every Role of the release must be grantable: RBAC lets a user create a Role only with
rules the user holds (or with ``escalate`` on roles). Each rule of each Role is reviewed;
what the user lacks is listed (``access-role-grantable``). A kind the API server does not
serve is a failure here too (a CRD not installed).
"""

from __future__ import annotations

from collections.abc import Iterator

from .client import LiveError, NotFound
from .model import FAIL, PASS, Context, Result, label

GROUP = "Access"
HELM_VERBS = ("create", "get", "update", "patch", "delete")
RELEASE_STORAGE = [("get", "secrets", ""), ("list", "secrets", ""), ("create", "secrets", ""),
                   ("update", "secrets", ""), ("delete", "secrets", "")]


def run(ctx: Context) -> Iterator[Result]:
    client = ctx.client
    questions: list[tuple[str, str, str]] = list(RELEASE_STORAGE)
    unknown = []
    for obj in ctx.release.objects:
        try:
            res = client.resource(str(obj.get("apiVersion")), str(obj.get("kind")))
        except NotFound:
            unknown.append(f"{obj.get('kind')} ({obj.get('apiVersion')})")
            continue
        questions += [(verb, res.plural, res.group) for verb in HELM_VERBS]
    questions = sorted(set(questions), key=lambda q: (q[2], q[1], HELM_VERBS.index(q[0]) if q[0] in HELM_VERBS else 9))
    reviews = client.can_i_all(questions, workers=ctx.options.workers)
    missing = [r.what for r in reviews if not r.allowed]
    if unknown:
        yield Result("access-release-kinds", GROUP, FAIL,
                     f"the API server serves no {', '.join(sorted(set(unknown)))}",
                     "install the CRD (ask the platform administrator) or switch that feature off in the values")
    if missing:
        yield Result("access-release-kinds", GROUP, FAIL,
                     f"{client.config.user or 'this user'} may not, in namespace {ctx.namespace}: {', '.join(missing)}",
                     "ask the platform administrator for these rights, or switch the features that need them off")
    elif not unknown:
        kinds = len({(q[1], q[2]) for q in questions})
        yield Result("access-release-kinds", GROUP, PASS,
                     f"may create, get, update, patch and delete all {kinds} kinds of the release in namespace {ctx.namespace}")
    yield from _roles(ctx)


def _roles(ctx: Context) -> Iterator[Result]:
    roles = ctx.release.of_kind("Role")
    if not roles:
        return
    client = ctx.client
    try:
        if client.can_i("escalate", "roles", "rbac.authorization.k8s.io").allowed:
            yield Result("access-role-grantable", GROUP, PASS,
                         f"may escalate roles: {', '.join(label(r) for r in roles)} can be created")
            return
    except LiveError:
        pass
    for role in roles:
        questions: list[tuple[str, str, str]] = []
        for rule in role.get("rules") or []:
            if not isinstance(rule, dict):
                continue
            for group in rule.get("apiGroups") or [""]:
                for resource in rule.get("resources") or []:
                    for verb in rule.get("verbs") or []:
                        questions.append((str(verb), str(resource), str(group)))
        questions = sorted(set(questions))
        reviews = client.can_i_all(questions, workers=ctx.options.workers)
        lacking = [r.what for r in reviews if not r.allowed]
        if lacking:
            yield Result("access-role-grantable", GROUP, FAIL,
                         f"{label(role)} grants what this user does not hold, so RBAC refuses to create it: {', '.join(lacking)}",
                         "ask the platform administrator for these rights (or for escalate on roles)", label(role))
        else:
            yield Result("access-role-grantable", GROUP, PASS,
                         f"{label(role)}: this user holds all {len(questions)} rights it grants", subject=label(role))
