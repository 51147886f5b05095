"""``mirror`` under faults, against the real registries of ``world`` (conftest.py) and two
stand-ins on 127.0.0.1: a server that answers 401 to everything and logs the headers it
got (``DenyingServer``) and a listener that accepts connections and never answers
(``SilentListener``). Where a fault needs timing (a copy that hangs, a failure that comes
late), a wrapper script stands in front of the real skopeo and says so.

Every test that writes to "harbor" uses its own project, so the tests do not meet.
"""

from __future__ import annotations

import base64
import json
import shutil
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import REPO, run_postrender
from mirror_world import (
    MULTI,
    UPSTREAM_IMAGES,
    env_for,
    harbor_raw,
    mirror_args,
    run_mirror,
    stream_of,
)
from registry_fixtures import (
    PASSWORD,
    USER,
    DenyingServer,
    SilentListener,
    StallingRegistry,
    blob_file,
    build_unique_image,
    delete_manifest,
    free_port,
    inspect_raw,
    processes_in_groups,
    processes_left_in_groups,
    push,
    sha256,
)

from jhub_ck8s import lock as locks
from jhub_ck8s.mirror import MirrorOptions

FAST = ("--retries", "0", "--retry-delay", "0")
HUB = "jupyterhub/k8s-hub:4.4.0"
PROXY = "jupyterhub/configurable-http-proxy:5.2.0"


@pytest.fixture
def deny():
    server = DenyingServer()
    yield server
    server.stop()


@pytest.fixture
def silent():
    listener = SilentListener()
    yield listener
    listener.stop()


def sent_credentials(server: DenyingServer) -> set[str]:
    """USER:PASS pairs the server was sent (skopeo sends an empty ":" when it has none: left out)."""
    pairs = {base64.b64decode(value.split()[1]).decode() for value in server.authorizations()}
    return pairs - {":"}


def progress(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("mirror: [")]


def lock_matches_destination(lock: Path) -> list[locks.LockEntry]:
    """Every entry of the lock file is at its destination with its digest; the entries."""
    entries = list(locks.load(str(lock)).entries)
    for entry in entries:
        raw = harbor_raw(entry.destination)
        assert raw is not None and sha256(raw) == entry.digest, entry
    return entries


def wrapper(tmp_path: Path, body: str) -> Path:
    """A stand-in for skopeo: ``body`` (sh), then the real skopeo with the same arguments."""
    path = tmp_path / "skopeo-wrapper"
    path.write_text(f"#!/bin/sh\n{body}\nexec {shutil.which('skopeo')} \"$@\"\n")
    path.chmod(0o755)
    return path


def wait_for(condition, what: str, process: subprocess.Popen | None = None, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the run ended before {what}: {process.stderr.read() if process.stderr else ''}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# --- credentials ---------------------------------------------------------------------------------


def test_unscoped_source_credentials_are_refused_with_two_source_registries(world, deny, tmp_path):
    stream = stream_of(tmp_path, f"{world.upstream.host}/{HUB}", f"{deny.host}/team/app:1.0")
    for extra, env in ((("--src-creds", "reader:Src-Secret-1"), {}), ((), {"JHUB_CK8S_SRC_CREDS": "reader:Src-Secret-1"})):
        result = run_mirror(world, world.project(), tmp_path / "l.yaml", *extra, stream=stream, env=env, tmp_path=tmp_path)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, lines
        assert "2 source registries" in lines[0] and "HOST=USER:PASS" in lines[0]
        assert deny.host in lines[0] and world.upstream.host in lines[0]
        assert "Src-Secret-1" not in result.stderr
    assert deny.headers == []  # refused before any registry was asked anything


def test_credentials_reach_only_their_registry_and_a_refusing_source_fails_only_its_images(world, deny, tmp_path):
    """The refusing source sorts first and --jobs 1 runs in order: its failure must not stop the rest."""
    healthy_host = f"localhost:{world.upstream.port}"  # "localhost" sorts after "127.0.0.1"
    healthy = [f"{healthy_host}/{HUB}", f"{healthy_host}/{PROXY}"]
    refused = [f"{deny.host}/team/a:1.0", f"{deny.host}/team/b:1.0"]
    stream = stream_of(tmp_path, *healthy, *refused)
    lock = tmp_path / "images.lock.yaml"
    env = {"JHUB_CK8S_SRC_CREDS": f"{healthy_host}=up-reader:Up-Secret-1\n{deny.host}=deny-reader:Deny-Secret-2"}
    result = run_mirror(world, world.project(), lock, "--jobs", "1", *FAST, stream=stream, env=env, tmp_path=tmp_path)
    assert result.returncode == 1, result.stderr
    assert sent_credentials(deny) == {"deny-reader:Deny-Secret-2"}  # its own credentials, never the other registry's
    assert "4 images: 2 copied, 0 already present, 2 failed in" in result.stderr
    assert "not started" not in result.stderr
    for image in refused:
        assert any(image in line and f"source registry {deny.host}: authentication failed" in line for line in progress(result))
    assert sorted(e.source for e in lock_matches_destination(lock)) == sorted(healthy)
    assert "Up-Secret-1" not in result.stderr and "Deny-Secret-2" not in result.stderr


def test_an_auth_file_keyed_by_host_reaches_only_that_host(world, deny, tmp_path):
    authfile = tmp_path / "auth.json"
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    authfile.write_text(json.dumps({"auths": {world.harbor.host: {"auth": token}}}))
    stream = stream_of(tmp_path, f"{world.upstream.host}/{HUB}", f"{deny.host}/team/app:1.0")
    result = run_mirror(world, world.project(), tmp_path / "l.yaml", "--authfile", str(authfile), *FAST,
                        stream=stream, tmp_path=tmp_path, creds=False)
    assert result.returncode == 1 and "1 copied" in result.stderr and "1 failed" in result.stderr, result.stderr
    assert deny.headers and sent_credentials(deny) == set()


def test_dest_creds_from_stdin_never_reach_a_command_line(world, tmp_path):
    argv_log = tmp_path / "argv.log"
    recorder = wrapper(tmp_path, f'echo "$@" >> "{argv_log}"')
    target = world.project()
    stream = stream_of(tmp_path, f"{world.upstream.host}/{HUB}")
    command = mirror_args(world, target, tmp_path / "l.yaml", "--dest-creds", "-", stream=stream)
    assert PASSWORD not in " ".join(command)
    result = subprocess.run(command, input=f"{world.harbor.host}={USER}:{PASSWORD}\n", capture_output=True, text=True,
                            cwd=REPO, env=env_for(tmp_path, JHUB_CK8S_SKOPEO=str(recorder)), check=False, timeout=300)
    assert result.returncode == 0, result.stderr
    assert harbor_raw(f"{target}/{HUB}") is not None
    calls = argv_log.read_text()
    assert "\ncopy " in f"\n{calls}" and PASSWORD not in calls and "--dest-authfile /dev/fd/" in calls
    both = run_mirror(world, target, tmp_path / "l.yaml", "--dest-creds", "-", "--from", "-", tmp_path=tmp_path, creds=False)
    assert both.returncode == 2 and "both read stdin" in both.stderr
    empty = subprocess.run(command, input="", capture_output=True, text=True, cwd=REPO, env=env_for(tmp_path), check=False)
    assert empty.returncode == 2 and "--dest-creds -: stdin held no credentials" in empty.stderr


def test_images_lock_output_binds_credentials_too(world, deny, tmp_path):
    stream = stream_of(tmp_path, f"{world.upstream.host}/{HUB}", f"{deny.host}/team/app:1.0")
    command = [sys.executable, "-m", "jhub_ck8s.cli", "images", "--from", str(stream), "--registry", world.project(),
               "--output", "lock", "--src-tls-verify=false", "--src-creds", "reader:Src-Secret-1"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env_for(tmp_path), check=False)
    assert result.returncode == 2 and "2 source registries" in result.stderr and result.stdout == ""
    assert deny.headers == []


def test_upper_and_lower_case_hosts_are_one_registry(tmp_path):
    """E.EXAMPLE and e.example are one registry (DNS names ignore case): the same image,
    not a collision, and registryMap sends both where it says."""
    stream = stream_of(tmp_path, "E.EXAMPLE/apps/x:1.0", "e.example/apps/x:1.0")
    config = tmp_path / "settings.yaml"
    config.write_text("registryMap: {E.Example: harbor.example.com/e}\n")
    result = subprocess.run([sys.executable, "-m", "jhub_ck8s.cli", "images", "--from", str(stream), "--registry",
                             "harbor.example.com/main", "--config", str(config), "-o", "json"],
                            capture_output=True, text=True, cwd=REPO, env=env_for(tmp_path), check=False)
    assert result.returncode == 0, result.stderr
    destinations = {image["destination"] for image in json.loads(result.stdout)["images"]}
    assert destinations == {"harbor.example.com/e/apps/x:1.0"}


def test_credentials_for_a_host_the_run_never_contacts_are_warned_about(world, tmp_path):
    stream = stream_of(tmp_path, f"{world.upstream.host}/{HUB}")
    secret = f"Typo-Secret-{uuid.uuid4().hex}"
    env = {"JHUB_CK8S_DEST_CREDS": f"{world.harbor.host}={USER}:{PASSWORD}\nharbr.example={USER}:{secret}"}
    result = run_mirror(world, world.project(), tmp_path / "l.yaml", "--dry-run", stream=stream, env=env,
                        tmp_path=tmp_path, creds=False)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "harbr.example" in warnings[0] and "not used" in warnings[0], result.stderr
    assert secret not in result.stderr and PASSWORD not in result.stderr


# --- interrupts and time-outs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sig", "auth_files_on_disk"),
    [(signal.SIGINT, False), (signal.SIGTERM, True), (signal.SIGHUP, True)],
    ids=["SIGINT-in-memory-auth", "SIGTERM-auth-files-on-disk", "SIGHUP-auth-files-on-disk"],
)
def test_a_signal_stops_the_run_kills_skopeo_and_keeps_the_lock_true(world, tmp_path, sig, auth_files_on_disk):
    """The first copy is quick, every later one hangs: the signal comes while copies run."""
    first, groups = tmp_path / "first-copy", tmp_path / "groups"
    slow = wrapper(tmp_path, f'if [ "$1" = copy ] && ! mkdir "{first}" 2>/dev/null; then echo $$ >> "{groups}"; sleep 300; fi')
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    target, lock = world.project(), tmp_path / "images.lock.yaml"
    command = mirror_args(world, target, lock, "--jobs", "3")
    if auth_files_on_disk:  # as on a system without memfd: the auth files are real files
        command[1:3] = ["-c", "import os, sys; del os.memfd_create; from jhub_ck8s.cli import main; sys.exit(main(sys.argv[1:]))"]
    env = env_for(tmp_path, JHUB_CK8S_DEST_CREDS=f"{USER}:{PASSWORD}", JHUB_CK8S_SKOPEO=str(slow), TMPDIR=str(tmpdir))
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # The steady state: the first image is done and all three workers hang. Signalling
        # earlier races the worker that has just finished the first copy and is starting the
        # next one (it would count as started after the signal, though it was not).
        wait_for(lambda: lock.exists() and groups.exists() and len(groups.read_text().split()) == 3,
                 "one image was done and three copies hung", process)
        assert bool(list(tmpdir.glob("jhub-ck8s-auth-*"))) is auth_files_on_disk
        hung = {int(pid) for pid in groups.read_text().split()}
        assert processes_in_groups(hung)
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + sig, stderr
    assert stdout == ""
    assert f"interrupted by {sig.name}" in stderr and "not done:" in stderr
    assert "interrupted" in stderr and "not started" in stderr
    assert len(groups.read_text().split()) == len(hung)  # nothing new started after the signal
    assert processes_left_in_groups(hung) == []  # the hung copies were killed with their process groups
    assert list(tmpdir.glob("jhub-ck8s-auth-*")) == []  # no credentials left behind
    kept = lock_matches_destination(lock)  # the lock lists only what is really there
    assert 1 <= len(kept) < len(UPSTREAM_IMAGES)
    rerun = run_mirror(world, target, lock, tmp_path=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert len(lock_matches_destination(lock)) == len(UPSTREAM_IMAGES)


@pytest.mark.parametrize("command", ["mirror --verify", "images --output lock"])
def test_a_signal_ends_a_check_that_waits_for_a_silent_registry(world, silent, tmp_path, command):
    if command == "mirror --verify":
        args = mirror_args(world, f"{silent.host}/p", tmp_path / "l.yaml", "--verify")
    else:
        stream = stream_of(tmp_path, f"{silent.host}/team/app:1.0")
        args = [sys.executable, "-m", "jhub_ck8s.cli", "images", "--from", str(stream), "--output", "lock",
                "--src-tls-verify=false", "--registry", world.project()]
    process = subprocess.Popen(args, cwd=REPO, env=env_for(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(silent.held) >= 1, "skopeo reached the silent registry", process)
        start = time.monotonic()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert time.monotonic() - start < 10  # not the 30 s time-out, nor its retries
    assert process.returncode == 128 + signal.SIGTERM and stdout == ""
    assert "interrupted by SIGTERM" in stderr


def test_a_destination_that_speaks_no_tls_stops_the_run_with_the_fix(world, tmp_path):
    result = run_mirror(world, world.project(), tmp_path / "l.yaml", "--dest-tls-verify=true", tmp_path=tmp_path)
    assert result.returncode == 1
    full = [line for line in progress(result) if "TLS problem" in line]
    assert len(full) == 1 and "--dest-tls-verify=false" in full[0] and f"destination registry {world.harbor.host}" in full[0]
    assert "not started" in result.stderr


def test_an_always_unavailable_source_is_retried_then_fails_only_its_images(world, tmp_path):
    unavailable = DenyingServer(status=503)
    try:
        healthy = f"localhost:{world.upstream.port}/{HUB}"
        stream = stream_of(tmp_path, f"{unavailable.host}/team/a:1.0", healthy)
        result = run_mirror(world, world.project(), tmp_path / "l.yaml", "--jobs", "1", "--retries", "2",
                            "--retry-delay", "0", stream=stream, tmp_path=tmp_path)
        assert result.returncode == 1
        assert f"source registry {unavailable.host} kept failing after 3 attempt(s)" in result.stderr
        assert "2 images: 1 copied, 0 already present, 1 failed" in result.stderr
        assert len({h.get("user-agent") for h in unavailable.headers}) == 1 and len(unavailable.headers) >= 3
    finally:
        unavailable.stop()


def test_a_destination_that_never_answers_stops_the_run_after_its_retries(world, silent, tmp_path):
    lock = tmp_path / "images.lock.yaml"
    start = time.monotonic()
    result = run_mirror(world, f"{silent.host}/p", lock, "--timeout", "2", "--retries", "1", "--retry-delay", "0",
                        "--jobs", "2", tmp_path=tmp_path)
    assert time.monotonic() - start < 60
    assert result.returncode == 1
    full = [line for line in progress(result) if "did not answer in time after 2 attempt(s)" in line]
    assert len(full) == 1 and f"destination registry {silent.host}" in full[0] and "--timeout" in full[0]
    assert f"{len(UPSTREAM_IMAGES) - 2} not started" in result.stderr
    assert not lock.exists() and str(lock) not in result.stderr and "lock file" not in result.stderr


def test_a_copy_that_hangs_while_both_registries_answer_fails_only_that_image(world, tmp_path):
    """The hub's copy hangs (a huge image, a stalled blob), yet both registries answer a
    manifest read right after: the image is the problem, not a registry. It is killed at
    --copy-timeout and not retried (the budget is spent); the other image is still copied."""
    groups = tmp_path / "groups"
    hang = wrapper(tmp_path, f'case "$*" in copy*k8s-hub*) echo $$ >> "{groups}"; sleep 300;; esac')
    hub, proxy = f"{world.upstream.host}/{HUB}", f"{world.upstream.host}/{PROXY}"
    lock = tmp_path / "l.yaml"
    start = time.monotonic()
    result = run_mirror(world, world.project(), lock, "--copy-timeout", "2", "--jobs", "1", "--retries", "2",
                        "--retry-delay", "0", stream=stream_of(tmp_path, hub, proxy),
                        env={"JHUB_CK8S_SKOPEO": str(hang)}, tmp_path=tmp_path)
    assert time.monotonic() - start < 60
    assert result.returncode == 1
    assert "2 images: 1 copied, 0 already present, 1 failed" in result.stderr and "not started" not in result.stderr
    line = next(line for line in progress(result) if "failed" in line)
    assert f"copy of {hub} to " in line and "after 1 attempt(s)" in line and "no answer within 2s" in line
    assert "both registries answer" in line and "--copy-timeout" in line
    assert "destination registry" not in result.stderr and "source registry" not in result.stderr
    assert len(groups.read_text().split()) == 1  # not retried
    assert processes_left_in_groups({int(pid) for pid in groups.read_text().split()}) == []
    assert [e.source for e in lock_matches_destination(lock)] == [proxy]


@pytest.mark.parametrize("side", ["source", "destination"])
def test_a_copy_that_hangs_because_a_registry_went_silent_blames_that_registry(world, tmp_path, side):
    """The copy hangs and one registry no longer answers a manifest read: that one is
    blamed. A silent source fails only its images; a silent destination stops the run."""
    began = tmp_path / "copy-began"
    silent = world.upstream.host if side == "source" else world.harbor.host
    hang = wrapper(tmp_path, f"""case "$*" in
  copy*) touch "{began}"; sleep 300;;
  inspect*{silent}*) [ -e "{began}" ] && sleep 300;;
esac""")
    stream = stream_of(tmp_path, f"{world.upstream.host}/{HUB}", f"{world.upstream.host}/{PROXY}")
    result = run_mirror(world, world.project(), tmp_path / "l.yaml", "--copy-timeout", "2", "--timeout", "2",
                        "--jobs", "1", *FAST, stream=stream, env={"JHUB_CK8S_SKOPEO": str(hang)}, tmp_path=tmp_path)
    assert result.returncode == 1
    line = next(line for line in progress(result) if "failed" in line)
    assert f"{side} registry {silent} did not answer in time" in line and "--copy-timeout" in line
    other = "destination" if side == "source" else "source"
    assert f"{other} registry" not in result.stderr
    # a silent destination dooms the next image; a silent source dooms its own registry's images
    assert "1 not started" in result.stderr, result.stderr


def test_a_destination_that_takes_no_uploads_is_called_stalled_and_stops_the_run(world, tmp_path):
    """It answers every read (an empty registry) and never an upload. A small image's copy
    is given the time its size needs at --min-rate, at least --copy-timeout-min (4 s here),
    not --copy-timeout's 1800 s; when it runs out while both registries answer reads and
    the source serves its blobs, the destination is stalled: the run stops, as for a
    destination that does not answer at all."""
    stalling = StallingRegistry()
    try:
        lock = tmp_path / "images.lock.yaml"
        start = time.monotonic()
        result = run_mirror(world, f"{stalling.host}/p", lock, "--copy-timeout-min", "4", "--jobs", "1", *FAST,
                            tmp_path=tmp_path, creds=False)
        elapsed = time.monotonic() - start
    finally:
        stalling.stop()
    assert stalling.uploads, "no copy reached the upload"  # the fault was met
    assert result.returncode == 1, result.stderr
    assert elapsed < 120  # 4 s for the one copy that ran (and the probes), not 1800 s per image
    full = [line for line in progress(result) if "takes no uploads" in line]
    assert len(full) == 1 and f"destination registry {stalling.host} answers reads but takes no uploads" in full[0]
    assert "did not finish within 4s" in full[0] and "--min-rate" in full[0]
    assert "large, or a slow link" not in result.stderr
    assert f"{len(UPSTREAM_IMAGES) - 1} not started" in result.stderr
    assert not lock.exists()


def test_the_time_out_of_a_copy_grows_with_the_image():
    options = MirrorOptions(copy_timeout=1800, min_rate=100_000, copy_timeout_min=120)
    assert options.copy_budget(849) == 120  # a tiny image: the floor
    assert options.copy_budget(50_000_000) == 500  # 50 MB at 100 kB/s
    assert options.copy_budget(10_000_000_000) == 1800  # a huge one: --copy-timeout


@pytest.mark.parametrize("fault", ["never answers", "refuses connections"])
def test_a_dead_source_registry_fails_only_its_own_images(world, silent, tmp_path, fault):
    dead = silent.host if fault == "never answers" else f"127.0.0.1:{free_port()}"
    healthy = f"localhost:{world.upstream.port}/{HUB}"  # sorts after the dead ones
    stream = stream_of(tmp_path, f"{dead}/team/a:1.0", f"{dead}/team/b:1.0", healthy)
    lock = tmp_path / "images.lock.yaml"
    start = time.monotonic()
    result = run_mirror(world, world.project(), lock, "--jobs", "1", "--timeout", "2", "--retries", "1",
                        "--retry-delay", "0", stream=stream, tmp_path=tmp_path)
    assert time.monotonic() - start < 60
    assert result.returncode == 1
    assert "3 images: 1 copied, 0 already present, 1 failed, 1 not started" in result.stderr
    words = "did not answer in time" if fault == "never answers" else "is unreachable"
    assert sum(f"source registry {dead} {words} after 2 attempt(s)" in line for line in progress(result)) == 1
    assert [e.source for e in lock_matches_destination(lock)] == [healthy]


def test_a_destination_refusing_the_credentials_is_reported_once(world, deny, tmp_path):
    lock = tmp_path / "images.lock.yaml"
    env = {"JHUB_CK8S_DEST_CREDS": f"{deny.host}=robot:Dest-Secret-3"}
    result = run_mirror(world, f"{deny.host}/p", lock, "--jobs", "4", *FAST, env=env, tmp_path=tmp_path, creds=False)
    assert result.returncode == 1
    assert sum("authentication failed" in line for line in progress(result)) == 1
    assert "Dest-Secret-3" not in result.stderr
    assert sent_credentials(deny) == {"robot:Dest-Secret-3"}
    assert result.stderr.splitlines()[-1].startswith("error: ") and "authentication failed" in result.stderr.splitlines()[-1]
    assert not lock.exists() and "lock file" not in result.stderr


def test_the_first_problem_is_the_first_in_time(world, tmp_path):
    """"aaa" sorts first, but its call waits until mirror has printed the "zzz" failure's
    progress line (printed after the failure is recorded), so "zzz" fails first in time
    however slowly the machine runs: a handshake through mirror's own stderr, no sleep."""
    progress = tmp_path / "mirror-stderr"
    early, delayed = f"{world.upstream.host}/zzz/missing:1.0", f"{world.upstream.host}/aaa/missing:1.0"
    late = wrapper(tmp_path, f'''case "$*" in
  *aaa*) until grep -q "] failed .*zzz/missing" "{progress}"; do sleep 0.05; done;;
esac''')
    stream = stream_of(tmp_path, delayed, early)
    environment = env_for(tmp_path, JHUB_CK8S_DEST_CREDS=f"{USER}:{PASSWORD}", JHUB_CK8S_SKOPEO=str(late))
    with progress.open("w") as stderr:
        result = subprocess.run(mirror_args(world, world.project(), tmp_path / "l.yaml", *FAST, stream=stream),
                                stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=REPO, env=environment,
                                check=False, timeout=300)
    lines = progress.read_text().splitlines()
    assert result.returncode == 1, lines
    assert [line.split()[3].rstrip(":") for line in lines if line.startswith("mirror: [")] == [early, delayed], lines
    assert f"first problem: source image {early} does not exist" in lines[-1]


# --- races and integrity ----------------------------------------------------------------------------


def test_two_sources_for_one_destination_are_refused_everywhere(world, deny, tmp_path):
    target = world.project()
    first, second = f"{world.upstream.host}/apps/x:1.0", f"{deny.host}/apps/x:1.0"
    stream = stream_of(tmp_path, first, second)
    images = subprocess.run([sys.executable, "-m", "jhub_ck8s.cli", "images", "--from", str(stream), "--registry", target],
                            capture_output=True, text=True, cwd=REPO, env=env_for(tmp_path), check=False)
    mirror = run_mirror(world, target, tmp_path / "l.yaml", stream=stream, tmp_path=tmp_path)
    rendered = run_postrender(["--registry", target], stream.read_text())
    for code, stdout, stderr in ((images.returncode, images.stdout, images.stderr),
                                 (mirror.returncode, mirror.stdout, mirror.stderr),
                                 (rendered.returncode, rendered.stdout.decode(), rendered.stderr.decode())):
        assert code == 2 and stdout == "", stderr
        line = next(line for line in stderr.splitlines() if "both map to" in line)
        assert first in line and second in line and f"{target}/apps/x:1.0" in line and "registryMap" in line
    assert deny.headers == [] and harbor_raw(f"{target}/apps/x:1.0") is None  # nothing was read or copied
    # the fix the message names
    config = tmp_path / "settings.yaml"
    config.write_text(f"registryMap: {{{deny.host}: {world.harbor.host}/other}}\n")
    fixed = subprocess.run([sys.executable, "-m", "jhub_ck8s.cli", "images", "--from", str(stream), "--registry", target,
                            "--config", str(config)], capture_output=True, text=True, cwd=REPO, env=env_for(tmp_path), check=False)
    assert fixed.returncode == 0, fixed.stderr
    assert f"{world.harbor.host}/other/apps/x:1.0" in fixed.stdout


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_one_tag_pinned_to_two_digests_is_copied_once_and_the_other_fails(world, tmp_path, force):
    """``dup:1.0`` and ``dup:1.0@sha256:<another image>`` share one destination tag. The
    inventory cannot know they differ until both are resolved, so ``mirror`` runs them one
    after the other (never both finding the tag missing) and fails the second: one tag cannot
    hold two images, not even with --force."""
    repository = f"{world.upstream.host}/apps/dup"
    push(world.layout, "amd", f"{repository}:1.0")
    push(world.layout, "other", f"{repository}:other")
    other = world.layout.digests["other"]
    tagged, pinned = f"{repository}:1.0", f"{repository}:1.0@{other}"
    target = world.project()
    lock = tmp_path / "images.lock.yaml"
    extra = ("--force",) if force else ()
    result = run_mirror(world, target, lock, "--jobs", "2", *FAST, *extra, stream=stream_of(tmp_path, tagged, pinned),
                        tmp_path=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "2 images: 1 copied, 0 already present, 1 failed" in result.stderr
    line = next(line for line in progress(result) if "would hold two images" in line)
    assert f"{target}/apps/dup:1.0" in line and world.layout.digests["amd"] in line and other in line
    assert "registryMap" in line
    entries = lock_matches_destination(lock)  # one entry (whichever ran first), and the tag holds it
    assert len(entries) == 1 and entries[0].destination.startswith(f"{target}/apps/dup:1.0")
    tag = harbor_raw(f"{target}/apps/dup:1.0")
    assert tag is not None and sha256(tag) == entries[0].digest


def test_a_collision_with_a_runtime_image_names_its_key_not_its_value(tmp_path):
    hub_values = "singleuser:\n  image: {name: b.example/apps/x, tag: '1.0'}\n"
    stream = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: hub}\ntype: Opaque\n"
        f"data: {{values.yaml: {base64.b64encode(hub_values.encode()).decode()}}}\n---\n"
        + stream_of(tmp_path, "a.example/apps/x:1.0").read_text()
    )
    result = run_postrender(["--registry", "harbor.example.com/jh"], stream)
    assert result.returncode == 2 and result.stdout == b""
    message = result.stderr.decode()
    assert "a.example/apps/x:1.0 and Secret/hub values.yaml: singleuser.image both map to" in message
    assert "b.example" not in message


def test_concurrent_runs_sharing_one_lock_file_keep_every_entry(world, tmp_path):
    target, lock = world.project(), tmp_path / "images.lock.yaml"
    names = sorted(UPSTREAM_IMAGES)
    halves = [names[: len(names) // 2], names[len(names) // 2 :]]
    streams = [stream_of(tmp_path, *(f"{world.upstream.host}/{name}" for name in half)) for half in halves]
    env = env_for(tmp_path, JHUB_CK8S_DEST_CREDS=f"{USER}:{PASSWORD}")
    runs = [subprocess.Popen(mirror_args(world, target, lock, "--jobs", "1", stream=stream), cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for stream in streams]
    for run in runs:
        _, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr
    assert sorted(e.source for e in lock_matches_destination(lock)) == [f"{world.upstream.host}/{n}" for n in names]


@pytest.mark.parametrize("retries", [1, 0])
def test_a_race_with_another_push_is_retried_and_said_in_one_line(world, tmp_path, retries):
    """Two runs pushing the same blobs at once: the registry may answer the manifest with
    "manifest blob unknown" (seen in a fault run, and in four concurrent skopeo copies). The
    first copy here fails with skopeo's own message for it; the retry copies the image. With
    no retries left, the failure is one line, without Go's quoting (no literal \\n)."""
    target, lock = world.project(), tmp_path / "images.lock.yaml"
    failed, message = tmp_path / "failed-once", tmp_path / "race-message"
    name = f"{target}/{HUB}".rsplit(":", 1)[0]
    message.write_text(f'time="x" level=fatal msg="writing manifest: uploading manifest 4.4.0 to {name}: errors:\\n'
                       'digest invalid\\nmanifest blob unknown: blob unknown to registry\\n"\n')
    racy = wrapper(tmp_path, f'if [ "$1" = copy ] && mkdir "{failed}" 2>/dev/null; then cat "{message}" >&2; exit 1; fi')
    stream = stream_of(tmp_path, f"{world.upstream.host}/{HUB}")
    result = run_mirror(world, target, lock, "--retries", str(retries), "--retry-delay", "0", stream=stream,
                        env={"JHUB_CK8S_SKOPEO": str(racy)}, tmp_path=tmp_path)
    assert failed.exists()  # the race was played
    assert "\\n" not in result.stderr
    if retries:
        assert result.returncode == 0, result.stderr
        assert "1 copied" in result.stderr and [e.source for e in lock_matches_destination(lock)] == [f"{world.upstream.host}/{HUB}"]
    else:
        assert result.returncode == 1
        line = next(line for line in progress(result) if "failed" in line)
        assert f"destination registry {world.harbor.host} kept failing after 1 attempt(s)" in line, line
        assert "digest invalid; manifest blob unknown: blob unknown to registry" in line


def test_a_deleted_index_child_fails_verify_and_is_copied_again(world, tmp_path):
    target, lock = world.project(), tmp_path / "images.lock.yaml"
    stream = stream_of(tmp_path, f"{world.upstream.host}/{MULTI}")
    assert run_mirror(world, target, lock, stream=stream, tmp_path=tmp_path).returncode == 0
    repository = f"{target}/{MULTI}".split("/", 1)[1].rsplit(":", 1)[0]
    index = json.loads(harbor_raw(f"{target}/{MULTI}"))
    child = next(m for m in index["manifests"] if m["platform"]["architecture"] == "arm64")["digest"]
    delete_manifest(world.harbor, repository, child)
    assert harbor_raw(f"{world.harbor.host}/{repository}@{child}") is None
    verify = run_mirror(world, target, lock, "--verify", stream=stream, tmp_path=tmp_path)
    assert verify.returncode == 1
    assert f"mirror: incomplete {target}/{MULTI}: 1 of 2 platform manifests of the index are missing: {child} (linux/arm64)" in verify.stderr
    again = run_mirror(world, target, lock, stream=stream, tmp_path=tmp_path)
    assert again.returncode == 0 and "1 copied, 0 already present" in again.stderr, again.stderr
    assert sha256(harbor_raw(f"{world.harbor.host}/{repository}@{child}")) == child
    assert run_mirror(world, target, lock, "--verify", stream=stream, tmp_path=tmp_path).returncode == 0


def test_a_lost_layer_blob_fails_verify_and_a_rerun_copies_it_again(world, tmp_path):
    """The manifest is there but a layer's bytes are gone from the registry's storage (a
    garbage collection, a storage fault): the image cannot be pulled. verify names the
    blob; a rerun does not call the image present but copies it again, which repairs it."""
    layout = build_unique_image(tmp_path / "image", f"unique {uuid.uuid4().hex}\n")
    source = f"{world.upstream.host}/lost/blob-{uuid.uuid4().hex[:8]}:1.0"
    push(layout, "unique", source)
    manifest = json.loads(inspect_raw(source))
    layer, config = manifest["layers"][0]["digest"], manifest["config"]["digest"]
    target, lock = world.project(), tmp_path / "images.lock.yaml"
    stream = stream_of(tmp_path, source)
    assert run_mirror(world, target, lock, stream=stream, tmp_path=tmp_path).returncode == 0
    assert run_mirror(world, target, lock, "--verify", stream=stream, tmp_path=tmp_path).returncode == 0
    stored = blob_file(world.folder / "harbor" / "data", layer)
    assert stored.exists(), stored
    stored.unlink()
    destination = f"{target}/{source.split('/', 1)[1]}"
    verify = run_mirror(world, target, lock, "--verify", stream=stream, tmp_path=tmp_path)
    assert verify.returncode == 1, verify.stderr
    assert f"mirror: incomplete {destination}: 1 blob(s) are missing: {layer} (layer 1)" in verify.stderr
    assert config not in verify.stderr
    for extra in ((), ("--force",)):
        dry = run_mirror(world, target, lock, "--dry-run", *extra, stream=stream, tmp_path=tmp_path)
        assert dry.returncode == 0 and "1 would copy" in dry.stderr and "already present" in dry.stderr, dry.stderr
        assert "1 already present" not in dry.stderr
    again = run_mirror(world, target, lock, stream=stream, tmp_path=tmp_path)
    assert again.returncode == 0 and "1 copied, 0 already present" in again.stderr, again.stderr
    assert stored.exists()
    assert run_mirror(world, target, lock, "--verify", stream=stream, tmp_path=tmp_path).returncode == 0


def test_verify_says_what_is_really_wrong_with_the_destination(world, silent, tmp_path):
    closed = f"127.0.0.1:{free_port()}"
    cases = [
        (f"{closed}/p", ("--retries", "1", "--retry-delay", "0"), {}, f"destination registry {closed} is unreachable after 2 attempt(s)"),
        (world.project(), FAST, {"JHUB_CK8S_DEST_CREDS": f"{USER}:Wrong-Pa55"}, f"destination registry {world.harbor.host}: authentication failed"),
        (f"{silent.host}/p", ("--timeout", "1", *FAST), {}, f"destination registry {silent.host} did not answer in time"),
    ]
    for target, flags, env, why in cases:
        result = run_mirror(world, target, tmp_path / "l.yaml", "--verify", *flags, env=env, tmp_path=tmp_path)
        assert result.returncode == 1, result.stderr
        assert "mirror: missing" not in result.stderr and "run helm ck8s-jupyter mirror" not in result.stderr
        checked = [line for line in result.stderr.splitlines() if line.startswith("mirror: not checked")]
        assert sum(why in line for line in checked) == 1
        assert why in checked[0] and all("same problem as above" in line for line in checked[1:]), checked
        assert result.stderr.splitlines()[-1].startswith(f"error: verify could not check {len(UPSTREAM_IMAGES)} of") and why in result.stderr.splitlines()[-1]
        assert "Wrong-Pa55" not in result.stderr


# --- the lock file --------------------------------------------------------------------------------


def test_a_bad_lock_path_is_refused_before_the_first_copy(world, tmp_path):
    target = world.project()
    broken = tmp_path / "broken.lock.yaml"
    broken.write_text("kind: [not a lock\n")
    folder = tmp_path / "a-folder.yaml"
    folder.mkdir()
    for lock, says in ((tmp_path / "missing" / "images.lock.yaml", f"the folder {tmp_path / 'missing'} does not exist"),
                       (broken, "not valid YAML"), (folder, "is a folder")):
        result = run_mirror(world, target, lock, tmp_path=tmp_path)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.splitlines()) == 1 and says in result.stderr
    assert all(harbor_raw(f"{target}/{name}") is None for name in UPSTREAM_IMAGES)  # nothing was copied


@pytest.fixture
def immutable():
    """``chattr +i`` on paths, undone at the end; skips where the file system or the user cannot."""
    marked: list[Path] = []

    def mark(path: Path) -> None:
        result = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            pytest.skip(f"chattr +i is not possible here (needs root and ext4/xfs/btrfs): {result.stderr.strip()}")
        marked.append(path)

    yield mark
    for path in marked:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_lock_file_that_cannot_be_written_is_refused_before_the_first_copy(world, tmp_path, immutable, what):
    """Permission bits say yes (root); the write itself says no. Found by a fault run: four
    images were pushed, then "0 copied, 4 failed"."""
    target = world.project()
    folder = tmp_path / "locks"
    folder.mkdir()
    lock = folder / "images.lock.yaml"
    if what == "file":
        lock.write_text(locks.ImageLock(()).to_yaml())
        before = lock.read_bytes()
        immutable(lock)
    else:
        immutable(folder)
    result = run_mirror(world, target, lock, tmp_path=tmp_path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(f"error: --lock {lock}: "), result.stderr
    assert ("cannot write it" if what == "file" else "is not writable") in result.stderr
    assert all(harbor_raw(f"{target}/{name}") is None for name in UPSTREAM_IMAGES)  # nothing was copied
    if what == "file":
        assert lock.read_bytes() == before
    else:
        assert list(folder.iterdir()) == []


def test_the_lock_file_keeps_its_mode_and_a_new_one_follows_the_umask(world, tmp_path):
    stream = stream_of(tmp_path, f"{world.upstream.host}/{HUB}")
    kept = tmp_path / "kept.lock.yaml"
    kept.write_text(locks.ImageLock(()).to_yaml())
    kept.chmod(0o640)
    assert run_mirror(world, world.project(), kept, stream=stream, tmp_path=tmp_path).returncode == 0
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and len(locks.load(str(kept)).entries) == 1
    new = tmp_path / "new.lock.yaml"
    result = subprocess.run(mirror_args(world, world.project(), new, stream=stream), capture_output=True, text=True, cwd=REPO,
                            env=env_for(tmp_path, JHUB_CK8S_DEST_CREDS=f"{USER}:{PASSWORD}"), check=False, umask=0o027)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(new.stat().st_mode) == 0o640
    assert f"lock file {new}" in result.stderr


# --- dry run ---------------------------------------------------------------------------------------


def test_a_dry_run_meets_the_destination_as_a_real_run_would(world, tmp_path):
    closed = f"127.0.0.1:{free_port()}"
    down = run_mirror(world, f"{closed}/p", tmp_path / "l.yaml", "--dry-run", *FAST, tmp_path=tmp_path)
    assert down.returncode == 1 and f"destination registry {closed} is unreachable" in down.stderr
    assert down.stdout == ""
    target = world.project()
    push(world.layout, "other", f"{target}/{HUB}", creds=(USER, PASSWORD))
    conflict = run_mirror(world, target, tmp_path / "l.yaml", "--dry-run", tmp_path=tmp_path)
    assert conflict.returncode == 1 and f"destination {target}/{HUB} already holds a different image" in conflict.stderr
    assert len(conflict.stdout.splitlines()) == len(UPSTREAM_IMAGES) - 1
    assert f"docker://{target}/{HUB}" not in conflict.stdout  # no command for the refused one
