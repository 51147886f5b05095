"""A large hub config (``Secret/hub`` ``values.yaml``) costs the post-renderer a few times its size.

Measured with tracemalloc (deterministic: the same code and data allocate the same),
for one pipeline run, the input stream included. The objects of the config itself take
about 2.6 times its text; what used to dominate (libyaml's node graph, about 20 times
the text, and the copies of the base64 and YAML text while writing it back) is gone.
Measured once with ``/usr/bin/time -v`` on a 29 MB values.yaml (a 39 MB stream): peak RSS
886 MB before, 337 MB after (the interpreter and the allocator's free lists included).
The process test below holds the whole post-renderer, as Helm runs it, to under 10 times
its values.yaml in peak RSS: 10.4x on 26 MB (11.0x on 33 MB) before the output and the
checksum were written from pieces (one copy of the base64 text, not four), 8.7x (8.3x) after.
"""

from __future__ import annotations

import subprocess
import sys
import tracemalloc

from conftest import REPO
from hubvalues import base_values, release

from jhub_ck8s import yamlio
from jhub_ck8s.pipeline import run


def _large_values(profiles: int = 3000) -> dict:
    values = base_values()
    values["singleuser"]["profileList"] = [
        {"display_name": f"profile {i}", "description": "x" * 200, "kubespawner_override": {
            "image": f"quay.io/jupyter/scipy-notebook:2024-{i:05d}", "cpu_limit": 2, "mem_limit": "4G",
            "environment": {f"VAR{j}": f"value-{i}-{j}" for j in range(10)}}}
        for i in range(profiles)
    ]
    return values


# argv: stdin file, stdout file, command...; prints the command's peak RSS in KiB (wait4),
# exits with its exit code after printing its stderr.
_MEASURE = """
import os, subprocess, sys
with open(sys.argv[1], "rb") as stdin, open(sys.argv[2], "wb") as stdout:
    child = subprocess.Popen(sys.argv[3:], stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
sys.stderr.write(errors.decode(errors="replace"))
print(usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_the_post_renderer_process_peaks_under_ten_times_a_26_mb_hub_config(tmp_path):
    """The issue's case, as Helm runs it: a 26 MB values.yaml, peak RSS of the whole process
    (interpreter, imports, input, output and the allocator's free lists) from wait4, in a
    process tree that holds nothing else."""
    values = _large_values(profiles=39_000)
    size = len(yamlio.dump(values, sort_keys=True))
    assert 25_000_000 < size < 28_000_000
    stream = tmp_path / "release.yaml"
    stream.write_text(release(values))
    del values
    # Started by a small process of its own: Linux carries a process's RSS high-water mark
    # across exec, so a child of this pytest process (hundreds of MB by now) would inherit it.
    measured = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(stream), str(tmp_path / "out.yaml"), sys.executable,
         str(REPO / "postrender.py"), "--registry=harbor.example.com/p", "--mode=warn", "-q"],
        capture_output=True, text=True, check=False, timeout=600,
    )
    assert measured.returncode == 0, measured.stderr[-2000:]
    peak = int(measured.stdout) * 1024  # KiB on Linux
    written = (tmp_path / "out.yaml").read_text()
    assert "harbor.example.com/p/jupyter/scipy-notebook:2024-38999" not in written  # base64, not plain
    assert written.count("checksum/secret") == 1 and "checksum/secret: before" not in written
    print(f"peak RSS {peak / 2**20:.0f} MiB, {peak / size:.1f}x the values.yaml")
    assert peak < 10 * size, f"peak RSS {peak / 2**20:.0f} MiB, {peak / size:.1f}x the {size / 2**20:.0f} MiB values.yaml"


def test_a_large_hub_config_peaks_under_ten_times_its_size():
    values = _large_values()
    size = len(yamlio.dump(values, sort_keys=True))
    assert size > 1_500_000
    run(release(base_values()))  # imports and first-use caches outside the measurement
    tracemalloc.start()
    try:
        text = release(values)
        result = run(text, flag_layer={"registry": "harbor.example.com/p", "mode": "warn"})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.report.table()
    assert result.stream is not None and result.stream.hub() is not None
    # every profile image was relocated, so the config really was decoded, changed and written back
    assert result.output.count("profile ") == 0  # base64 in the Secret: no plain text of the config
    assert sum(1 for f in result.report.findings if f.transform == "images") >= 3000
    assert peak < 10 * size, f"peak {peak / size:.1f}x the values.yaml"


def test_the_config_read_from_its_bytes_keeps_every_answer():
    """The hub config is parsed from its UTF-8 bytes (no str copy): same results, same errors."""
    import base64

    def secret(raw: bytes) -> str:
        return ("kind: Secret\napiVersion: v1\nmetadata: {name: hub, labels: {component: hub}}\n"
                f"data: {{values.yaml: {base64.b64encode(raw).decode()}}}\n")

    bad_utf8 = run(secret(b"a: \xff\xfe"))
    assert bad_utf8.exit_code == 2 and "not valid base64-encoded UTF-8 text" in bad_utf8.report.fatal
    bad_yaml = run(secret(b"a: [b\n"))
    assert bad_yaml.exit_code == 2 and "the decoded hub config is not valid YAML" in bad_yaml.report.fatal
    with_bom = run(secret(b"\xef\xbb\xbfsingleuser: {uid: 1000, name: \xc3\xa9}\n"))
    assert with_bom.exit_code == 0 and with_bom.stream is not None
    singleuser = with_bom.stream.hub().values["singleuser"]
    assert (singleuser["uid"], singleuser["name"]) == (1000, "\u00e9")
