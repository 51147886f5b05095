"""The skopeo wrapper without registries: credentials parsing and binding, auth files,
failure classification. (Calls against real registries: test_mirror*.py.)"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from jhub_ck8s.errors import UserError
from jhub_ck8s.imageref import parse as parse_ref
from jhub_ck8s.interrupts import Interrupts
from jhub_ck8s.registry_auth import Access, Credentials, GivenCredentials, Side, bind, unused
from jhub_ck8s.skopeo import Cancelled, Failure, Skopeo, SkopeoError, classify


@pytest.mark.parametrize(
    ("text", "host", "user", "password"),
    [
        ("quay.io=reader:pw", "quay.io", "reader", "pw"),
        ("localhost:5000=u:p", "localhost:5000", "u", "p"),
        ("127.0.0.1:5000=u:p", "127.0.0.1:5000", "u", "p"),
        ("INDEX.docker.io=u:p", "docker.io", "u", "p"),
        ("robot$proj+ci:tok=en==", None, "robot$proj+ci", "tok=en=="),  # "=" in a password is not a host
        ("user:pa:ss", None, "user", "pa:ss"),
        ("harbor.example.com=robot$p+x:a=b", "harbor.example.com", "robot$p+x", "a=b"),
    ],
)
def test_credentials_are_parsed_with_or_without_a_host(text, host, user, password):
    given = GivenCredentials.parse(text, "--src-creds")
    assert (given.host, given.credentials.user, given.credentials.password) == (host, user, password)
    assert "password" not in repr(given)


def test_repr_never_shows_the_password():
    secret = f"Repr-Secret-{uuid.uuid4().hex}"
    assert secret not in repr(GivenCredentials.parse(f"quay.io=reader:{secret}", "--src-creds"))
    assert secret not in repr(Credentials("reader", secret)) + str(Credentials("reader", secret))


@pytest.mark.parametrize("text", ["no-colon-Secret-9", "quay.io=no-colon-Secret-9", ":Secret-9", "user:"])
def test_bad_credentials_are_refused_without_quoting_them(text):
    with pytest.raises(UserError) as caught:
        GivenCredentials.parse(text, "--dest-creds")
    assert "Secret-9" not in str(caught.value) and "USER:PASS" in str(caught.value)


def test_lines_hold_one_value_each():
    given = GivenCredentials.parse_lines("\nquay.io=a:b\n  ghcr.io=c:d  \n\n", "$JHUB_CK8S_SRC_CREDS")
    assert [g.host for g in given] == ["quay.io", "ghcr.io"]


def test_bind_puts_each_value_on_its_own_host():
    one = GivenCredentials.parse("robot:Tok-1", "--dest-creds")
    assert bind([one], ["harbor.example.com"], Side.DESTINATION) == {"harbor.example.com": one.credentials}
    assert bind([one], [], Side.DESTINATION) == {}
    scoped = [GivenCredentials.parse("quay.io=a:Pw-1", "--src-creds"), GivenCredentials.parse("ghcr.io=b:Pw-2", "--src-creds")]
    assert bind(scoped, ["quay.io", "docker.io"], Side.SOURCE) == {"quay.io": Credentials("a", "Pw-1"), "ghcr.io": Credentials("b", "Pw-2")}


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (["reader:Pw-1"], "talks to 2 source registries (docker.io, quay.io)"),
        (["reader:Pw-1", "quay.io=b:Pw-2"], "--src-creds HOST=USER:PASS"),
        (["quay.io=a:Pw-1", "quay.io=b:Pw-2"], "quay.io is given twice"),
    ],
)
def test_bind_refuses_what_could_reach_the_wrong_registry(given, says):
    with pytest.raises(UserError) as caught:
        bind([GivenCredentials.parse(g, "--src-creds") for g in given], ["quay.io", "docker.io"], Side.SOURCE)
    assert says in str(caught.value) and "Pw-" not in str(caught.value)


def test_in_memory_auth_files_hold_one_host_and_leave_nothing_on_disk():
    with Skopeo("skopeo", in_memory=True) as skopeo:
        token = f"Tok-{uuid.uuid4().hex}"
        access = Access({"harbor.example": Credentials("robot", token)})
        command = skopeo.inspect_command(parse_ref("harbor.example/p/x:1"), access)
        argv = command.argv()
        path = argv[argv.index("--authfile") + 1]
        assert path.startswith("/dev/fd/") and command.descriptors() == (int(path.rsplit("/", 1)[1]),)
        assert json.loads(Path(path).read_bytes()) == {"auths": {"harbor.example": {"auth": base64.b64encode(f"robot:{token}".encode()).decode()}}}
        assert token not in " ".join(argv) and "--creds ***" in command.display()
        assert skopeo.auth_folder is None
        other = skopeo.inspect_command(parse_ref("other.example/p/x:1"), access).argv()
        assert "--authfile" not in other  # no credentials for a host they are not bound to
    with pytest.raises(OSError):
        os.fstat(command.descriptors()[0])  # closed with the Skopeo


def test_classify_names_time_outs_and_tls():
    assert classify('msg="pinging container registry h: Get \\"https://h/v2/\\": net/http: TLS handshake timeout"')[0] is Failure.TIMEOUT
    assert classify('msg="pinging container registry h: Get \\"https://h/v2/\\": http: server gave HTTP response to HTTPS client"')[0] is Failure.TLS
    assert classify('msg="reading manifest 1 in h/x: denied: requested access to the resource is denied"')[0] is Failure.AUTH
    assert classify("")[0] is Failure.OTHER


def test_a_failed_copy_says_which_side_skopeo_named(tmp_path):
    messages = {
        "initializing source docker://up.example/a@sha256:1: reading manifest: unauthorized": Side.SOURCE,
        "trying to reuse blob sha256:2 at destination: checking whether a blob exists in harbor.example/p/a: unauthorized": Side.DESTINATION,
        "writing blob: uploading layer to harbor.example/p/a: received unexpected HTTP status: 500": Side.DESTINATION,
        "something else entirely": None,
    }
    for message, side in messages.items():
        def runner(argv, *, timeout, pass_fds, message=message):
            return subprocess.CompletedProcess(argv, 1, b"", f'level=fatal msg="{message}"'.encode())

        with Skopeo("skopeo", runner=runner) as skopeo, pytest.raises(SkopeoError) as caught:
            skopeo.copy(parse_ref("up.example/a:1"), parse_ref("harbor.example/p/a:1"), Access(), Access(), 10)
        assert caught.value.side is side, message


def test_a_call_past_its_time_out_is_killed_with_its_process_group(tmp_path):
    fake = tmp_path / "skopeo"
    pids = tmp_path / "pids"
    fake.write_text(f'#!/bin/sh\necho $$ > "{pids}"\nsleep 300\n')
    fake.chmod(0o755)
    with Skopeo(str(fake)) as skopeo:
        start = time.monotonic()
        with pytest.raises(SkopeoError) as caught:
            # 3 s: time for a loaded machine to start the script and write its pid
            skopeo.inspect(parse_ref("h.example/x:1"), Access(), 3)
        assert caught.value.kind is Failure.TIMEOUT and time.monotonic() - start < 30
    from registry_fixtures import processes_left_in_groups

    assert processes_left_in_groups({int(pids.read_text())}) == []


def test_cancel_kills_running_calls_and_refuses_new_ones(tmp_path):
    """The fake skopeo says it started (its pid in a file) before the test cancels, so the
    cancel meets a running call and must kill it: a call that never started would not count."""
    import threading

    fake, pids = tmp_path / "skopeo", tmp_path / "pids"
    fake.write_text(f'#!/bin/sh\necho $$ > "{pids}.tmp" && mv "{pids}.tmp" "{pids}"\nsleep 300\n')
    fake.chmod(0o755)
    with Skopeo(str(fake)) as skopeo:
        outcome: list[BaseException] = []

        def call() -> None:
            try:
                skopeo.inspect(parse_ref("h.example/x:1"), Access(), 600)
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=call)
        worker.start()
        deadline = time.monotonic() + 60
        while not pids.exists() and worker.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pids.exists(), "the fake skopeo never started"
        skopeo.cancel()
        worker.join(30)
        assert not worker.is_alive() and isinstance(outcome[0], Cancelled)
        from registry_fixtures import processes_left_in_groups

        assert processes_left_in_groups({int(pids.read_text())}) == []  # killed, group and all
        with pytest.raises(Cancelled):
            skopeo.inspect(parse_ref("h.example/x:1"), Access(), 600)


def test_auth_file_names_carry_nothing_about_the_credentials():
    """Without memfd the auth files are on disk, their names in ps and $TMPDIR: random names,
    not a digest of the host and password that anyone could test guesses against."""
    password = f"Guessable-{uuid.uuid4().hex}"
    creds = Credentials("robot", password)
    fingerprints = {
        hashlib.sha256(f"{host}\0robot:{password}".encode()).hexdigest()[:n]
        for host in ("harbor.example", "Harbor.Example") for n in (8, 16, 64)
    }
    names = []
    for _ in range(2):
        with Skopeo("skopeo", in_memory=False) as skopeo:
            argv = skopeo.inspect_command(parse_ref("harbor.example/p/x:1"), Access({"harbor.example": creds})).argv()
            path = argv[argv.index("--authfile") + 1]
            names.append(path)
            assert not any(f in path for f in fingerprints), path
            assert re.fullmatch(r"[0-9a-f]{16}\.json", os.path.basename(path)), path  # nothing but a random name
    assert os.path.basename(names[0]) != os.path.basename(names[1])  # the same credentials, another name


def test_skopeo_does_not_inherit_the_credentials_variables(tmp_path, monkeypatch):
    dest, src = f"harbor.example=robot:Dest-{uuid.uuid4().hex}", f"quay.io=r:Src-{uuid.uuid4().hex}"
    monkeypatch.setenv("JHUB_CK8S_DEST_CREDS", dest)
    monkeypatch.setenv("JHUB_CK8S_SRC_CREDS", src)
    monkeypatch.setenv("JHUB_CK8S_TEST_KEPT", "kept")
    fake, seen = tmp_path / "skopeo", tmp_path / "environment"
    fake.write_text(f'#!/bin/sh\nenv > "{seen}"\n')
    fake.chmod(0o755)
    with Skopeo(str(fake)) as skopeo:
        skopeo.inspect(parse_ref("h.example/x:1"), Access(), 60)
    environment = seen.read_text()
    assert "JHUB_CK8S_TEST_KEPT=kept" in environment  # the rest of the environment is passed on
    assert "JHUB_CK8S_DEST_CREDS" not in environment and "JHUB_CK8S_SRC_CREDS" not in environment
    assert dest.split(":")[-1] not in environment and src.split(":")[-1] not in environment


def test_interrupts_call_back_and_give_the_exit_code():
    code = (
        "import os, signal, sys, time\n"
        "from jhub_ck8s.interrupts import Interrupts\n"
        "with Interrupts() as interrupts:\n"
        "    called = []\n"
        "    interrupts.call(lambda: called.append(1))\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    deadline = time.monotonic() + 10\n"
        "    while not called and time.monotonic() < deadline: time.sleep(0.01)\n"
        "print(len(called), interrupts.name, interrupts.exit_code)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60)
    assert result.stdout.split() == ["1", "SIGTERM", str(128 + signal.SIGTERM)], result.stderr
    assert Interrupts().exit_code == 0


def test_a_signal_ignored_at_start_stays_ignored():
    """Under ``nohup`` SIGHUP is ignored: a hang-up must not become an interrupt."""
    code = (
        "import os, signal, time\n"
        "from jhub_ck8s.interrupts import Interrupts\n"
        "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
        "with Interrupts() as interrupts:\n"
        "    os.kill(os.getpid(), signal.SIGHUP)\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    deadline = time.monotonic() + 10\n"
        # a signal a process sends itself is handled before os.kill returns to Python code, so
        # a SIGHUP that was not ignored would be listed before the SIGINT that ends the wait
        "    while not interrupts.received and time.monotonic() < deadline: time.sleep(0.01)\n"
        "print(' '.join(s.name for s in interrupts.received), signal.getsignal(signal.SIGHUP) is signal.SIG_IGN)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60)
    assert result.stdout.split() == ["SIGINT", "True"], result.stderr


def test_hosts_are_compared_without_regard_to_case():
    """DNS names are case-insensitive: E.EXAMPLE and e.example are one registry, for
    credentials as for registryMap (one definition, ``imageref.host_key``)."""
    given = [GivenCredentials.parse("E.EXAMPLE=robot:Case-Secret-1", "--dest-creds")]
    bound = bind(given, ["e.example"], Side.DESTINATION)
    assert Access(bound).for_host("E.Example") == Credentials("robot", "Case-Secret-1")
    with pytest.raises(UserError) as caught:
        bind([*given, GivenCredentials.parse("e.example=other:Case-Secret-2", "--dest-creds")], ["e.example"], Side.DESTINATION)
    assert "given twice" in str(caught.value) and "Case-Secret" not in str(caught.value)
    assert unused(given, ["e.EXAMPLE"], Side.DESTINATION) == []


def test_credentials_for_a_host_the_run_never_contacts_are_named_never_shown():
    given = [GivenCredentials.parse("harbor.example=robot:Unused-Secret-1", "--dest-creds"),
             GivenCredentials.parse("harbr.example=robot:Unused-Secret-2", "$JHUB_CK8S_DEST_CREDS")]
    lines = unused(given, ["harbor.example"], Side.DESTINATION)
    assert len(lines) == 1 and lines[0].startswith("$JHUB_CK8S_DEST_CREDS: credentials for harbr.example are not used")
    assert "harbor.example" in lines[0] and "Unused-Secret" not in lines[0] and "robot" not in lines[0]


# skopeo 1.9.3's last line when two pushes of the same blobs raced in docker-registry 2.8
# (captured from four concurrent `skopeo copy` runs to one repository)
RACE = ('time="2026-12-04T05:37:00Z" level=fatal msg="writing manifest: uploading manifest 1 to '
        '127.0.0.1:5917/s8/x: errors:\\ndigest invalid\\nmanifest blob unknown: blob unknown to registry\\n"')


def test_a_race_on_blobs_is_worth_another_try_and_its_message_is_one_line():
    kind, detail = classify(RACE)
    assert kind is Failure.TRANSIENT and kind.retryable
    assert detail == ("writing manifest: uploading manifest 1 to 127.0.0.1:5917/s8/x: digest invalid; "
                      "manifest blob unknown: blob unknown to registry")
    quoted = classify('level=fatal msg="reading manifest 1 in h/x: a \\"quoted\\" word\\tand a \\\\ backslash"')[1]
    assert quoted == 'reading manifest 1 in h/x: a "quoted" word and a \\ backslash'
