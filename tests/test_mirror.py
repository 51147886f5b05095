"""``mirror`` against two real registries on 127.0.0.1 ("upstream" open, "harbor" with basic auth).

The registries, the test images (built offline with umoci, one multi-architecture index)
and the pushes are set up once per test session (``world`` in conftest.py, from
``mirror_world``) and stopped at its end. Every test that
writes to "harbor" uses its own project path, so the tests do not depend on each other's
order. Without docker-registry, skopeo, umoci or htpasswd the registry tests skip and say
which is missing; the tests of the library with a fake skopeo always run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from conftest import REPO, run_postrender
from mirror_world import (
    MULTI,
    UPSTREAM_IMAGES,
    env_for,
    harbor_raw,
    mirror_args,
    run_mirror,
    stream_of,
    upstream_digest,
)
from registry_fixtures import PASSWORD, USER, free_port, inspect_raw, push, sha256

from jhub_ck8s import hubconfig
from jhub_ck8s import lock as locks
from jhub_ck8s.imageref import parse as parse_ref
from jhub_ck8s.inventory import MOVE, InventoryImage, Usage
from jhub_ck8s.mirror import Mirror, MirrorOptions, Status
from jhub_ck8s.podspec import containers, pod_spec
from jhub_ck8s.registry_auth import Access, Credentials
from jhub_ck8s.skopeo import Failure, Skopeo, classify
from jhub_ck8s.stream import parse


@pytest.fixture(scope="module")
def mirrored(world, tmp_path_factory):
    """One complete mirror run into its own project, shared by the read-only checks."""
    tmp = tmp_path_factory.mktemp("mirrored")
    target = world.project()
    lock = tmp / "images.lock.yaml"
    result = run_mirror(world, target, lock, tmp_path=tmp)
    return target, lock, result, tmp


# --- the full run --------------------------------------------------------------------------


def test_mirror_copies_the_full_list_and_writes_the_lock(world, mirrored):
    target, lock, result, _ = mirrored
    assert result.returncode == 0, result.stderr
    assert f"{len(UPSTREAM_IMAGES)} images: {len(UPSTREAM_IMAGES)} copied, 0 already present" in result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("mirror: [")]
    assert len(progress) == len(UPSTREAM_IMAGES)
    assert all(line.endswith("s)") and (" B, " in line or " kB, " in line) for line in progress), progress
    entries = locks.load(str(lock)).by_source()
    assert len(entries) == len(UPSTREAM_IMAGES)
    for repository in UPSTREAM_IMAGES:
        entry = entries[f"{world.upstream.host}/{repository}"]
        assert entry.destination == f"{target}/{repository}"
        assert entry.digest == upstream_digest(world, repository)
        raw = harbor_raw(entry.destination)
        assert raw is not None and sha256(raw) == entry.digest


def test_multi_arch_index_arrives_whole(world, mirrored):
    target, _, result, _ = mirrored
    assert result.returncode == 0, result.stderr
    raw = harbor_raw(f"{target}/{MULTI}")
    assert raw is not None
    assert sha256(raw) == world.layout.digests["multi"] == sha256(inspect_raw(f"{world.upstream.host}/{MULTI}"))
    index = json.loads(raw)
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert sorted(m["platform"]["architecture"] for m in index["manifests"]) == ["amd64", "arm64"]
    name = f"{target}/{MULTI.split(':')[0]}"
    for manifest in index["manifests"]:
        child = harbor_raw(f"{name}@{manifest['digest']}")
        assert child is not None and sha256(child) == manifest["digest"]


def test_rerun_skips_everything(world, mirrored):
    target, lock, first, tmp = mirrored
    assert first.returncode == 0, first.stderr
    before = lock.read_text()
    again = run_mirror(world, target, lock, tmp_path=tmp)
    assert again.returncode == 0, again.stderr
    assert f"{len(UPSTREAM_IMAGES)} images: 0 copied, {len(UPSTREAM_IMAGES)} already present" in again.stderr
    assert lock.read_text() == before


def test_verify_after_mirroring_passes(world, mirrored):
    target, lock, first, tmp = mirrored
    assert first.returncode == 0, first.stderr
    result = run_mirror(world, target, lock, "--verify", tmp_path=tmp)
    assert result.returncode == 0, result.stderr
    assert "verify ok" in result.stderr and "lock file's digests" in result.stderr


def test_pinned_post_render_references_digests_that_exist_in_harbor(world, mirrored):
    target, lock, first, _ = mirrored
    assert first.returncode == 0, first.stderr
    rendered = run_postrender(["--registry", target, "--pin", str(lock), "--mode", "warn", "--quiet"], world.stream.read_text())
    assert rendered.returncode == 0, rendered.stderr.decode()
    documents = parse(rendered.stdout.decode())
    references = [c.container["image"] for d in documents if pod_spec(d.obj) for c in containers(pod_spec(d.obj))]
    hub = hubconfig.find(documents)
    references += [slot.get() for slot in hubconfig.image_slots(hub.values) if slot.get()]
    assert len(references) >= len(UPSTREAM_IMAGES)
    for text in references:
        ref = parse_ref(text)
        assert ref.digest and ref.name.startswith(target + "/"), text
        raw = harbor_raw(f"{ref.name}@{ref.digest}")
        assert raw is not None and sha256(raw) == ref.digest, text


def test_images_lock_output_resolves_the_same_digests(world, mirrored, tmp_path):
    target, lock, first, _ = mirrored
    assert first.returncode == 0, first.stderr
    result = subprocess.run(
        [sys.executable, "-m", "jhub_ck8s.cli", "images", "--from", str(world.stream), "--registry", target,
         "--output", "lock", "--src-tls-verify=false"],
        capture_output=True, text=True, cwd=REPO, env=env_for(tmp_path), check=False,
    )
    assert result.returncode == 0, result.stderr
    printed = tmp_path / "printed.lock.yaml"
    printed.write_text(result.stdout)
    assert locks.load(str(printed)) == locks.load(str(lock))


# --- before, interrupted, failures -----------------------------------------------------------


def test_verify_before_mirroring_lists_the_missing(world, tmp_path):
    target = world.project()
    result = run_mirror(world, target, tmp_path / "images.lock.yaml", "--verify", tmp_path=tmp_path)
    assert result.returncode == 1
    missing = [line for line in result.stderr.splitlines() if line.startswith("mirror: missing ")]
    assert sorted(line.split()[2].rstrip(":") for line in missing) == sorted(f"{target}/{r}" for r in UPSTREAM_IMAGES)
    assert f"{len(UPSTREAM_IMAGES)} of {len(UPSTREAM_IMAGES)} images are not in place" in result.stderr


def test_interrupted_run_then_rerun_completes(world, tmp_path):
    """``kill -9`` after the first image (nothing of ours can clean up), then a rerun.

    A slow skopeo (sleeps before each copy) leaves time to kill the run after the first image.
    Each skopeo runs in a session of its own, so killing the run's process group does not reach
    it: the test kills the recorded skopeo groups too, as a machine that goes down would. The
    rerun must then find exactly what is at the destination (the lock may lag by the one image
    whose copy ended just before the kill) and copy the rest."""
    real = shutil.which("skopeo")
    slow, groups = tmp_path / "slow-skopeo", tmp_path / "groups"
    slow.write_text(f'#!/bin/sh\nif [ "$1" = copy ]; then echo $$ >> "{groups}"; sleep 1; fi\nexec {real} "$@"\n')
    slow.chmod(0o755)
    target = world.project()
    lock = tmp_path / "images.lock.yaml"
    environment = env_for(tmp_path, JHUB_CK8S_DEST_CREDS=f"{USER}:{PASSWORD}", JHUB_CK8S_SKOPEO=str(slow))
    process = subprocess.Popen(
        mirror_args(world, target, lock, "--jobs", "1"), cwd=REPO, env=environment,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if lock.exists() and len(locks.load(str(lock)).entries) >= 1:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the mirror finished before it could be interrupted"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        for group in {int(pid) for pid in groups.read_text().split()} if groups.exists() else ():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
    kept = locks.load(str(lock)).entries  # still a valid lock file: written atomically
    assert 1 <= len(kept) < len(UPSTREAM_IMAGES)
    there = [r for r in UPSTREAM_IMAGES if harbor_raw(f"{target}/{r}") is not None]
    assert {e.destination for e in kept} <= {f"{target}/{r}" for r in there}  # the lock never lists what is not there
    rerun = run_mirror(world, target, lock, tmp_path=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(UPSTREAM_IMAGES) - len(there)} copied, {len(there)} already present" in rerun.stderr
    assert len(locks.load(str(lock)).entries) == len(UPSTREAM_IMAGES)


def test_wrong_credentials_clear_message_never_echoed(world, tmp_path):
    wrong = "Wr0ng-Pa55word-XYZ"
    result = run_mirror(world, world.project(), tmp_path / "l.yaml", "--dest-creds", f"{USER}:{wrong}", tmp_path=tmp_path, creds=False)
    assert result.returncode == 1
    assert "destination registry" in result.stderr and "authentication failed" in result.stderr
    assert "--dest-creds" in result.stderr
    assert wrong not in result.stderr + result.stdout
    assert not (tmp_path / "l.yaml").exists()


def test_missing_source_image(world, tmp_path):
    stream = stream_of(tmp_path, f"{world.upstream.host}/nothere/app:1.0")
    result = run_mirror(world, world.project(), tmp_path / "l.yaml", stream=stream, tmp_path=tmp_path)
    assert result.returncode == 1
    assert f"source image {world.upstream.host}/nothere/app:1.0 does not exist (manifest unknown)" in result.stderr


def test_registry_down(world, tmp_path):
    down = f"127.0.0.1:{free_port()}"
    result = run_mirror(world, f"{down}/p", tmp_path / "l.yaml", "--retries", "2", "--retry-delay", "0", tmp_path=tmp_path)
    assert result.returncode == 1
    assert f"destination registry {down} is unreachable after 3 attempt(s)" in result.stderr
    assert "not started" in result.stderr  # the others are not tried against a dead registry
    stream = stream_of(tmp_path, f"{down}/team/app:1.0")
    source_down = run_mirror(world, world.project(), tmp_path / "l2.yaml", "--retries", "0", stream=stream, tmp_path=tmp_path)
    assert source_down.returncode == 1 and f"source registry {down} is unreachable" in source_down.stderr


def test_different_digest_at_destination_refused_without_force(world, tmp_path):
    target = world.project()
    destination = f"{target}/jupyterhub/k8s-hub:4.4.0"
    push(world.layout, "other", destination, creds=(USER, PASSWORD))
    stream = stream_of(tmp_path, f"{world.upstream.host}/jupyterhub/k8s-hub:4.4.0")
    refused = run_mirror(world, target, tmp_path / "l.yaml", stream=stream, tmp_path=tmp_path)
    assert refused.returncode == 1
    assert "already holds a different image" in refused.stderr and "--force" in refused.stderr
    assert sha256(harbor_raw(destination)) == world.layout.digests["other"]
    forced = run_mirror(world, target, tmp_path / "l.yaml", "--force", stream=stream, tmp_path=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert sha256(harbor_raw(destination)) == world.layout.digests["amd"]


def test_dry_run_reads_both_sides_and_prints_the_exact_commands_masked(world, tmp_path):
    target = world.project()
    present = f"{target}/jupyterhub/k8s-hub:4.4.0"
    push(world.layout, "amd", present, creds=(USER, PASSWORD))  # already there: no command for it
    lock = tmp_path / "l.yaml"
    result = run_mirror(world, target, lock, "--dry-run", "--dest-creds", f"{USER}:{PASSWORD}",
                        "--src-creds", "reader:Src-Secret-1", tmp_path=tmp_path, creds=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(UPSTREAM_IMAGES) - 1
    assert all(line.split()[0].endswith("skopeo") and line.split()[1:4] == ["copy", "--all", "--preserve-digests"] for line in lines)
    assert all("--dest-creds ***" in line and "--src-creds ***" in line for line in lines)
    # what a run would copy: the source by the digest it resolved just now, to the tag
    proxy = "jupyterhub/configurable-http-proxy"
    digest = upstream_digest(world, f"{proxy}:5.2.0")
    assert f"docker://{world.upstream.host}/{proxy}@{digest} docker://{target}/{proxy}:5.2.0" in result.stdout
    assert not any(f"docker://{present}" in line for line in lines)
    assert "1 already present" in result.stderr and f"{len(UPSTREAM_IMAGES) - 1} would copy" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr and "Src-Secret-1" not in result.stdout + result.stderr
    assert not lock.exists() and "lock file" not in result.stderr  # never written, never named
    assert harbor_raw(f"{target}/{proxy}:5.2.0") is None  # nothing copied


# --- the library with a fake skopeo (always runs) --------------------------------------------


class FakeRunner:
    """Answers skopeo calls from a script of (stdout, returncode, stderr) per verb."""

    def __init__(self, script: dict[str, list[tuple[bytes, int, str]]]) -> None:
        self.script = script
        self.calls: list[list[str]] = []

    def __call__(self, argv, *, timeout, pass_fds):
        self.calls.append(argv)
        verb = argv[1]
        out, code, err = self.script[verb].pop(0) if len(self.script[verb]) > 1 else self.script[verb][0]
        return subprocess.CompletedProcess(argv, code, out, err.encode())


def _image(source: str, destination: str) -> InventoryImage:
    return InventoryImage(parse_ref(source), parse_ref(destination), MOVE, "moved", (Usage("Deployment/x", "x", "containers"),))


MANIFEST = json.dumps({"schemaVersion": 2, "config": {"size": 100}, "layers": [{"size": 1000}, {"size": 24}]}).encode()


def test_transient_errors_are_retried_with_exponential_backoff(tmp_path):
    from jhub_ck8s.lock import LockFile

    unavailable = (b"", 1, 'time="x" level=fatal msg="reading manifest: received unexpected HTTP status: 503 Service Unavailable"')
    missing = (b"", 1, 'level=fatal msg="reading manifest 1 in h/x: manifest unknown: manifest unknown"')
    # source: 503, 503, then the manifest; destination: missing, then (after the copy) the same manifest
    runner = FakeRunner({"inspect": [unavailable, unavailable, (MANIFEST, 0, ""), missing, (MANIFEST, 0, "")], "copy": [(b"", 0, "")]})
    sleeps: list[float] = []
    lines: list[str] = []
    mirror = Mirror(Skopeo("skopeo", runner=runner), Access(), Access(), MirrorOptions(retries=3, retry_delay=0.5),
                    on_result=lambda result, *_: lines.append(result), sleep=sleeps.append)
    summary = mirror.run([_image("up.example/a:1", "harbor.example/p/a:1")], LockFile(str(tmp_path / "lock.yaml")))
    assert [r.status for r in summary.results] == [Status.COPIED], summary.results
    assert sleeps == [0.5, 1.0]
    assert summary.results[0].size == len(MANIFEST) + 1124
    copy = next(c for c in runner.calls if c[1] == "copy")
    assert copy[-2] == f"docker://up.example/a@{summary.results[0].digest}"  # copied by the resolved digest
    assert copy[-1] == "docker://harbor.example/p/a:1"
    assert lines[0].size == len(MANIFEST) + 1124


def test_auth_failure_stops_the_rest_and_hides_the_password(tmp_path):
    denied = (b"", 1, 'level=fatal msg="reading manifest 1 in harbor.example/p/a: unauthorized: authentication required (user robot:Hidden-Pw)"')
    runner = FakeRunner({"inspect": [(MANIFEST, 0, ""), denied], "copy": [(b"", 0, "")]})
    dest = Access({"harbor.example": Credentials("robot", "Hidden-Pw")})
    mirror = Mirror(Skopeo("skopeo", runner=runner), Access(), dest, MirrorOptions(jobs=1, retries=0))
    images = [_image("up.example/a:1", "harbor.example/p/a:1"), _image("up.example/b:1", "harbor.example/p/b:1")]
    summary = mirror.run(images, None)
    assert [r.status for r in summary.results] == [Status.FAILED, Status.NOT_STARTED]
    error = summary.results[0].problem.message
    assert "authentication failed" in error and "Hidden-Pw" not in error and "--dest-creds" in error
    assert not any(c[1] == "copy" for c in runner.calls)


def test_classify_and_mask():
    assert classify('level=fatal msg="pinging container registry h: Get \\"http://h/v2/\\": dial tcp h: connect: connection refused"')[0] == Failure.UNREACHABLE
    assert classify('msg="unauthorized: authentication required"')[0] == Failure.AUTH
    assert classify('msg="manifest unknown: manifest unknown"')[0] == Failure.MISSING
    assert classify("received unexpected HTTP status: 502 Bad Gateway")[0] == Failure.TRANSIENT
    # markers that cannot occur by chance in a random folder or file name (upper case, dashes, 32 hex)
    src_pw, dest_pw = f"Src-Secret-{uuid.uuid4().hex}", f"Dest-Secret-{uuid.uuid4().hex}"
    skopeo = Skopeo("skopeo", in_memory=False)  # auth files on disk, in a folder close() removes
    command = skopeo.copy_command(
        parse_ref("a.example/x:1"), parse_ref("b.example/p/x:1"),
        Access({"a.example": Credentials("u", src_pw)}), Access({"b.example": Credentials("v", dest_pw)}, tls_verify=False),
    )
    shown = command.display()
    assert "--src-creds *** " in shown and "--dest-creds *** " in shown and src_pw not in shown and dest_pw not in shown
    assert "--dest-tls-verify=false" in shown
    # the credentials are not on the command line but in private auth files
    argv = command.argv()
    assert not any(src_pw in a or dest_pw in a for a in argv)
    import base64 as b64
    import json as js
    import stat as st
    src_file = argv[argv.index("--src-authfile") + 1]
    dest_file = argv[argv.index("--dest-authfile") + 1]
    assert js.loads(Path(src_file).read_text()) == {"auths": {"a.example": {"auth": b64.b64encode(f"u:{src_pw}".encode()).decode()}}}
    assert js.loads(Path(dest_file).read_text())["auths"]["b.example"]["auth"] == b64.b64encode(f"v:{dest_pw}".encode()).decode()
    assert st.S_IMODE(os.stat(dest_file).st_mode) == 0o600
    folder = os.path.dirname(dest_file)
    assert folder == skopeo.auth_folder and st.S_IMODE(os.stat(folder).st_mode) == 0o700
    skopeo.close()
    assert not os.path.exists(folder)
    secret = f"no-colon-{uuid.uuid4().hex}"
    with pytest.raises(Exception) as caught:
        Credentials.parse(secret, "--dest-creds")
    assert secret not in str(caught.value)


def test_lock_file_merges_with_the_existing_lock(tmp_path):
    from jhub_ck8s.lock import LockFile

    path = tmp_path / "images.lock.yaml"
    old = locks.LockEntry("up.example/old:1", "sha256:" + "1" * 64, "harbor.example/p/old:1")
    path.write_text(locks.ImageLock((old,)).to_yaml())
    writer = LockFile(str(path))
    writer.prepare()
    writer.add(locks.LockEntry("up.example/new:1", "sha256:" + "2" * 64, "harbor.example/p/new:1"))
    loaded = locks.load(str(path))
    assert sorted(loaded.by_source()) == ["up.example/new:1", "up.example/old:1"]
    assert [p.name for p in tmp_path.iterdir()] == ["images.lock.yaml"]  # no temporary file left
    assert yaml.safe_load(path.read_text())["kind"] == "ImageLock"


def test_auth_files_are_safe_to_build_from_many_threads():
    """mirror builds commands from several threads at once; each gets a complete auth file."""
    from concurrent.futures import ThreadPoolExecutor

    access = Access({"harbor.example": Credentials("robot", "Token-1")})
    for _ in range(8):  # an unguarded writer races here about every other round
        skopeo = Skopeo("skopeo", in_memory=False)

        def build(i: int, skopeo: Skopeo = skopeo) -> str:
            argv = skopeo.inspect_command(parse_ref(f"harbor.example/p/x{i % 3}:1"), access).argv()
            return Path(argv[argv.index("--authfile") + 1]).read_text()

        with ThreadPoolExecutor(8) as pool:
            texts = list(pool.map(build, range(64)))
        skopeo.close()
        assert all(json.loads(t)["auths"]["harbor.example"]["auth"] for t in texts)


def test_lock_file_writers_merge_what_is_on_disk_under_a_folder_lock(tmp_path):
    """Two writers of one file (two runs) keep each other's entries; a writer waits for the lock."""
    import fcntl
    import threading

    from jhub_ck8s.lock import LockFile

    path = str(tmp_path / "images.lock.yaml")
    first, second = LockFile(path), LockFile(path)
    for n in range(3):
        first.add(locks.LockEntry(f"up.example/a{n}:1", "sha256:" + "1" * 64, f"harbor.example/p/a{n}:1"))
        second.add(locks.LockEntry(f"up.example/b{n}:1", "sha256:" + "2" * 64, f"harbor.example/p/b{n}:1"))
    assert len(locks.load(path).entries) == 6
    folder = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(folder, fcntl.LOCK_EX)  # as another run in the middle of its write
    writer = threading.Thread(target=first.add, args=(locks.LockEntry("up.example/c:1", "sha256:" + "3" * 64, "harbor.example/p/c:1"),))
    writer.start()
    # the handshake: the kernel lists the writer as waiting for the folder's lock
    waiting = f":{os.stat(tmp_path).st_ino} "
    deadline = time.monotonic() + 60
    while not any("->" in line and waiting in line for line in Path("/proc/locks").read_text().splitlines()):
        assert writer.is_alive() and time.monotonic() < deadline, "the writer did not wait for the folder lock"
        time.sleep(0.01)
    assert writer.is_alive() and len(locks.load(path).entries) == 6
    os.close(folder)
    writer.join(10)
    assert not writer.is_alive() and len(locks.load(path).entries) == 7


def test_a_lock_file_that_cannot_be_written_stops_the_run(tmp_path):
    """The folder disappears after the check (a removed mount, a cleaned-up workspace)."""
    from jhub_ck8s.lock import LockFile

    folder = tmp_path / "gone"
    folder.mkdir()
    lock = LockFile(str(folder / "images.lock.yaml"))
    missing = (b"", 1, 'level=fatal msg="reading manifest 1 in h/x: manifest unknown: manifest unknown"')
    runner = FakeRunner({"inspect": [(MANIFEST, 0, ""), missing, (MANIFEST, 0, "")], "copy": [(b"", 0, "")]})

    def remove_then_run(argv, **kwargs):
        shutil.rmtree(folder, ignore_errors=True)
        return runner(argv, **kwargs)

    mirror = Mirror(Skopeo("skopeo", runner=remove_then_run), Access(), Access(), MirrorOptions(jobs=1, retries=0))
    images = [_image("up.example/a:1", "harbor.example/p/a:1"), _image("up.example/b:1", "harbor.example/p/b:1")]
    summary = mirror.run(images, lock)
    assert [r.status for r in summary.results] == [Status.FAILED, Status.NOT_STARTED]
    assert summary.first_problem.message.startswith(f"--lock {folder / 'images.lock.yaml'}: cannot write it")
    assert not lock.written


def test_verify_states_a_problem_before_it_says_same_problem_as_above(capsys):
    """The problem was met first (in time) by an image that sorts last: the first line
    printed must state it, the later ones refer to it."""
    from jhub_ck8s.commands.mirror import _verify
    from jhub_ck8s.interrupts import Interrupts
    from jhub_ck8s.mirror import Problem, Verdict, VerifyResult
    from jhub_ck8s.registry_auth import Side

    problem = Problem("destination registry h.example is unreachable after 1 attempt(s): connection refused",
                      Side.DESTINATION, "h.example", Failure.UNREACHABLE)
    first_in_time = VerifyResult(_image("up.example/z:1", "h.example/p/z:1"), Verdict.NOT_CHECKED, problem.message, problem)
    later = VerifyResult(_image("up.example/a:1", "h.example/p/a:1"), Verdict.NOT_CHECKED, problem.message, problem, repeated=True)
    assert _verify([later, first_in_time], 2, False, Interrupts()) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"mirror: not checked h.example/p/a:1: {problem.message}"
    assert lines[1] == "mirror: not checked h.example/p/z:1: destination registry h.example: same problem as above"
