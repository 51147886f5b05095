"""Admission: would the API server, with every admission plugin of this cluster, accept the release?

Every object of the post-rendered release is sent as a server-side dry run: a create,
or, when the object already exists (an upgrade), a server-side apply of it over the
live one (as Helm 4 does; Helm 3's patch ends in the same object). Pod Security,
ValidatingAdmissionPolicies (the platform's safeguards) and admission webhooks judge
it, and nothing is stored. Then every user pod the hub would spawn (one per profile
and option, rebuilt from ``Secret/hub`` as ``check`` does) is dry-run created.

Each refusal is a failure that quotes the API server (Secret values never: the client
redacts them); each admission warning (Pod Security ``warn``, a policy in ``Warn``
mode) is a warning. Before: a release with ``Service.spec.type: LoadBalancer`` on a
platform that refuses it; after: ``fail admission-object Service/proxy-public:
... [platform-no-loadbalancer] ...``.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .client import ApiError, Conflict, DryRun, LiveError, NotFound
from .model import FAIL, PASS, SKIP, WARN, Context, Result, label
from .pods import user_pods

GROUP = "Admission"


def _dry_run(ctx: Context, obj: dict[str, Any]) -> DryRun:
    client = ctx.client
    try:
        return client.dry_run_create(obj)
    except Conflict:
        meta = obj.get("metadata") or {}
        return client.dry_run_patch(str(obj.get("apiVersion")), str(obj.get("kind")), str(meta.get("name")),
                                    obj, patch_type="apply", force=True)


def _binds_release_role(ctx: Context, obj: dict[str, Any]) -> bool:
    """A RoleBinding to a Role of the release: a dry run cannot see that Role before it exists."""
    ref = obj.get("roleRef") or {}
    return obj.get("kind") == "RoleBinding" and ref.get("kind") == "Role" and any(
        (role.get("metadata") or {}).get("name") == ref.get("name") for role in ctx.release.of_kind("Role"))


def _judge(ctx: Context, check: str, subject: str, obj: dict[str, Any]) -> list[Result]:
    try:
        answer = _dry_run(ctx, obj)
    except NotFound as exc:
        if "serves no" in str(exc):
            return [Result(check, GROUP, FAIL, str(exc), "install the CRD or switch that feature off", subject)]
        if _binds_release_role(ctx, obj):
            return []  # the Role is the release's own, not live yet: access-role-grantable judges what it grants
        return [Result(check, GROUP, FAIL, f"{subject} refused: {exc.server_message or exc}",
                       "create what it refers to first, or change the values", subject)]
    except ApiError as exc:
        return [Result(check, GROUP, FAIL, f"{subject} refused: {exc.server_message or exc}",
                       "change the values so the object satisfies the rule the API server names", subject)]
    except LiveError as exc:
        return [Result(check, GROUP, FAIL, f"{subject}: {exc}", "", subject)]
    return [Result(check, GROUP, WARN, f"{subject} admitted with a warning: {warning}",
                   "change the values so the object satisfies the rule the warning names", subject)
            for warning in answer.warnings]


def run(ctx: Context) -> Iterator[Result]:
    objects = [(label(obj), obj) for obj in ctx.release.objects]
    with ThreadPoolExecutor(max_workers=ctx.options.workers) as pool:
        judged = list(pool.map(lambda item: _judge(ctx, "admission-object", item[0], item[1]), objects))
    found = [r for results in judged for r in results]
    yield from found
    if not any(r.outcome == FAIL for r in found):
        yield Result("admission-object", GROUP, PASS,
                     f"all {len(objects)} objects of the release admitted by a server-side dry run"
                     + (" (with warnings)" if found else ""))
    pods = user_pods(ctx)
    if isinstance(pods, str):
        yield Result("admission-user-pods", GROUP, SKIP, f"user pods not checked: {pods}",
                     "run make setup (installs jupyterhub-kubespawner)" if "kubespawner" in pods else "")
        return
    with ThreadPoolExecutor(max_workers=ctx.options.workers) as pool:
        judged = list(pool.map(lambda use: _judge(ctx, "admission-user-pods", use.source, use.pod), pods))
    found = [r for results in judged for r in results]
    yield from found
    if not any(r.outcome == FAIL for r in found):
        yield Result("admission-user-pods", GROUP, PASS,
                     f"{'all ' if len(pods) > 1 else ''}{len(pods)} user pod{'s' if len(pods) > 1 else ''} the hub would spawn "
                     "admitted by a server-side dry run"
                     + (" (with warnings)" if found else ""))
