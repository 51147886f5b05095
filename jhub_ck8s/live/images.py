"""Images: can this namespace pull every image of the release, with its real pull secret?

The images are those of every pod spec of the post-rendered release and the runtime
images the hub hands KubeSpawner (``Secret/hub``: singleuser, profiles and options, user
init and sidecar containers), listed by ``inventory`` as ``images`` lists them. The pull
secrets are those the pods name in ``imagePullSecrets`` (user pods included), read from
the cluster. Checks:

* ``images-pull-secret``: each named Secret exists, is of type
  ``kubernetes.io/dockerconfigjson`` and has an entry for every registry host the images
  use. Only host names are ever printed, never credentials;
* ``images-pull``: each image is looked up in its registry (``registry.head_manifest``),
  in parallel, each request bounded by ``--registry-timeout``: 401 means the registry
  refused the credentials (an expired robot token?), 403 that the account may not pull
  from that project (Harbor says so), 404 that the image is not mirrored;
* ``images-pin`` (with ``--pin LOCK``): the digest each tag has at the registry is the
  one in the lock file.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .client import Forbidden, NotFound
from .model import FAIL, PASS, SKIP, Context, Result, ask_admin
from .pods import release_pods, user_pods
from .registry import Lookup, head_manifest

GROUP = "Images"
DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
MIRROR_FIX = "run helm ck8s-jupyter mirror with the same values (it copies every image the release needs)"


@dataclass(frozen=True)
class PullSecret:
    name: str
    hosts: dict[str, tuple[str, str]]  # host -> (username, password); never printed


def _host_of(key: str) -> str:
    text = key if "://" in key else f"//{key}"
    parts = urlsplit(text)
    host = parts.netloc or key
    return "docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host


def _credentials(entry: Any) -> tuple[str, str] | None:
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("auth"), str) and entry["auth"]:
        try:
            user, _, password = base64.b64decode(entry["auth"]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, password
    if isinstance(entry.get("username"), str):
        return entry["username"], str(entry.get("password") or "")
    return None


def _secret_names(ctx: Context) -> list[str]:
    names: list[str] = []
    pods = [use.pod for use in release_pods(ctx)]
    users = user_pods(ctx)
    if not isinstance(users, str):
        pods += [use.pod for use in users]
    for pod in pods:
        for ref in (pod.get("spec") or {}).get("imagePullSecrets") or []:
            name = ref.get("name") if isinstance(ref, dict) else None
            if isinstance(name, str) and name and name not in names:
                names.append(name)
    return names


def _read_secrets(ctx: Context, names: list[str]) -> tuple[list[PullSecret], list[Result]]:
    secrets, results = [], []
    for name in names:
        subject = f"Secret/{name}"
        create = (f"create it: kubectl create secret docker-registry {name} -n {ctx.namespace} "
                  "--docker-server=HOST --docker-username=ROBOT --docker-password-stdin")
        try:
            obj = ctx.client.get("v1", "Secret", name)
        except NotFound:
            results.append(Result("images-pull-secret", GROUP, FAIL,
                                  f"pull secret {name} does not exist in namespace {ctx.namespace}", create, subject))
            continue
        except Forbidden:
            results.append(Result("images-pull-secret", GROUP, SKIP, f"may not read pull secret {name}",
                                  "check it by hand, or ask for get on secrets", subject))
            continue
        if obj.get("type") != DOCKERCONFIGJSON:
            results.append(Result("images-pull-secret", GROUP, FAIL,
                                  f"pull secret {name} is of type {obj.get('type')!r}, not {DOCKERCONFIGJSON}", create, subject))
            continue
        try:
            config = json.loads(base64.b64decode((obj.get("data") or {}).get(".dockerconfigjson") or ""))
            auths = config.get("auths") or {}
            if not isinstance(auths, dict):
                raise ValueError
        except (ValueError, AttributeError, TypeError):
            results.append(Result("images-pull-secret", GROUP, FAIL,
                                  f"pull secret {name}: .dockerconfigjson is not a docker config (JSON with auths)", create, subject))
            continue
        hosts: dict[str, tuple[str, str]] = {}
        for key, entry in auths.items():
            creds = _credentials(entry)
            if creds is not None:
                hosts.setdefault(_host_of(str(key)), creds)
        secrets.append(PullSecret(name, hosts))
        results.append(Result("images-pull-secret", GROUP, PASS,
                              f"pull secret {name} ({DOCKERCONFIGJSON}) has credentials for: {', '.join(sorted(hosts)) or 'no host'}",
                              subject=subject))
    return secrets, results


def _images(ctx: Context) -> tuple[list[Any], str]:
    """The release's images (inventory), or why they cannot be listed."""
    from ..errors import UserError
    from ..inventory import collect
    from ..settings import Settings

    try:
        return list(collect(ctx.release.documents, Settings()).images), ""
    except UserError as exc:
        return [], str(exc)


def _lookup_result(ref: Any, lookup: Lookup, secret_names: str, pinned_digest: str | None) -> Result:
    image = ref.normalized
    if lookup.status is None:
        return Result("images-pull", GROUP, FAIL, f"registry {ref.registry} {lookup.error}",
                      "check the registry host and that the cluster (and you) can reach it", image)
    if 200 <= lookup.status < 300:
        return Result("images-pull", GROUP, PASS, f"{image} is in its registry ({lookup.digest or 'no digest given'})",
                      subject=image)
    if lookup.status == 401:
        if lookup.authenticated:
            return Result("images-pull", GROUP, FAIL,
                          f"registry {ref.registry} refused the credentials of {secret_names} (401): an expired robot token?",
                          "renew the robot account's secret and update the pull secret", image)
        return Result("images-pull", GROUP, FAIL, f"registry {ref.registry} wants credentials (401), and no pull secret has an entry for it",
                      f"add {ref.registry} to the pull secret (kubectl create secret docker-registry ...)", image)
    if lookup.status == 403:
        return Result("images-pull", GROUP, FAIL,
                      f"the account of {secret_names} may not pull from {ref.registry}/{ref.repository.split('/')[0]} (403)",
                      "give the robot account pull rights on that project in Harbor", image)
    if lookup.status == 404:
        what = f"digest {pinned_digest}" if pinned_digest else "this tag"
        return Result("images-pull", GROUP, FAIL, f"not in the registry ({what}: 404): the image was never mirrored there",
                      MIRROR_FIX, image)
    return Result("images-pull", GROUP, FAIL, f"registry {ref.registry} answered HTTP {lookup.status}",
                  "check the registry", image)


def run(ctx: Context) -> Iterator[Result]:
    images, problem = _images(ctx)
    if problem:
        yield Result("images-pull", GROUP, FAIL, problem, "fix the image references in the values")
        return
    names = _secret_names(ctx)
    secrets, results = _read_secrets(ctx, names)
    yield from results
    hosts = sorted({img.source.registry for img in images})
    if secrets:
        for host in hosts:
            if not any(host in s.hosts for s in secrets):
                yield Result("images-pull-secret", GROUP, FAIL,
                             f"no pull secret ({', '.join(s.name for s in secrets)}) has an entry for {host}",
                             f"add {host} to the pull secret: kubectl create secret docker-registry ... --docker-server={host}",
                             host)
    elif not names:
        yield Result("images-pull-secret", GROUP, SKIP, "no pod of the release names an imagePullSecret",
                     "set ck8s.pullSecret and jupyterhub.imagePullSecrets if the registry needs credentials")

    lock_by_destination: dict[str, str] = {}
    if ctx.options.pin:
        from ..lock import load

        lock_by_destination = {entry.destination: entry.digest for entry in load(ctx.options.pin).entries}

    def look(image: Any) -> tuple[Result, Result | None]:
        ref = image.source
        creds, used = None, []
        for secret in secrets:
            if ref.registry in secret.hosts:
                creds = secret.hosts[ref.registry]
                used.append(secret.name)
                break
        names_text = "pull secret " + (used[0] if used else "(none)")
        timeout = ctx.options.registry_timeout
        lookup = head_manifest(ref.registry, ref.repository, ref.digest or ref.tag or "latest", creds, timeout)
        result = _lookup_result(ref, lookup, names_text, ref.digest)
        pin: Result | None = None
        if ctx.options.pin and result.outcome == PASS:
            tagged = f"{ref.name}:{ref.tag}" if ref.tag else ref.name
            wanted = lock_by_destination.get(tagged)
            if wanted is None:
                pin = Result("images-pin", GROUP, FAIL, f"{tagged} is not in the lock file {ctx.options.pin}",
                             MIRROR_FIX + " --lock " + ctx.options.pin, ref.normalized)
            else:
                at_tag = head_manifest(ref.registry, ref.repository, ref.tag, creds, timeout) if ref.tag else lookup
                if at_tag.digest != wanted:
                    pin = Result("images-pin", GROUP, FAIL,
                                 f"{tagged} is {at_tag.digest or 'unknown'} at the registry, the lock file says {wanted}",
                                 "mirror again (the tag moved), or deploy with the lock file that matches", ref.normalized)
        return result, pin

    with ThreadPoolExecutor(max_workers=ctx.options.workers) as pool:
        looked = list(pool.map(look, images))
    yield from (r for r, _ in looked)  # one result per image, failures and passes
    failed = [r for r, _ in looked if r.outcome != PASS]
    if ctx.options.pin:
        pins = [p for _, p in looked if p is not None]
        yield from pins
        if not pins and not failed:
            yield Result("images-pin", GROUP, PASS, f"every tag has the digest of {ctx.options.pin} at its registry")


__all__ = ["GROUP", "ask_admin", "run"]
