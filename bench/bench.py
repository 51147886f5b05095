#!/usr/bin/env python3
"""`make bench`: the post-renderer against the alternatives, as ratios measured in one run.

What it runs (issue 7), every case as a child process, timed wall-clock and with its
peak memory (max RSS from ``os.wait4`` of that child; for a helm call it is the largest
of helm and its post-renderer):

1. Helm overhead: ``helm template`` alone, ``+ --post-renderer`` ours, ``+`` a kustomize
   post-renderer that only renames the images (bench/kustomize-postrender.sh), on Helm 3
   and Helm 4 (Helm 4 through postrenderer/v1 plugins installed into temporary HELM_*
   dirs). The chart is built at run time from the ``full`` render of the upstream chart
   (../shared/fixtures/z2jh-4.4.0/template/full.yaml: each document becomes a template
   file at its ``# Source:`` path), or bench/chart/ when the fixtures are absent.
2. Streams of that render (its own size, 100, 1,000 and 10,000 documents: copies with a
   ``-cK`` suffix on every metadata.name, so each object is unique) through ours,
   ``kustomize build`` with the same ``images:`` entries (not at 10,000 unless --big,
   then once), and
3. a bare libyaml round trip (PyYAML CSafeLoader + CSafeDumper, load_all + dump_all).
4. Start-up: ours on a one-document stream vs ``python -c pass`` (the same venv Python).

Cases of one group alternate (the order rotates each round), after one unmeasured
warm-up run that also checks the output. It prints one Markdown table of measurements
and one of the goals, and exits 0 whatever they say: it measures, it does not gate.

Two floors go with the helm cases: ``cat`` as the post-renderer (what any post-renderer
costs helm: a fork, an exec, two pipes) and a Python pass-through (what a Python
post-renderer costs before it does anything: interpreter start-up plus the copy).

usage: .venv/bin/python bench/bench.py [--big] [--reps N] [--small-reps N] [--sizes 100,1000,10000]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from conftest import Z2JH  # noqa: E402  (the one definition of where the shared fixtures are)

FULL = Z2JH / "template" / "full.yaml"
OWN_CHART = REPO / "bench" / "chart"
TOOLS = Path(os.environ.get("JHUB_CK8S_TOOLS", REPO / ".tools")) / "bin"
PY = sys.executable  # the venv's python (make bench runs .venv/bin/python)
REGISTRY = "harbor.example.com/jupyterhub"
OURS_ARGS = [f"--registry={REGISTRY}", "--mode=warn"]
RELEASE = ["jhub", "-n", "jhub"]

ROUNDTRIP = (
    "import sys, yaml\n"
    "docs = list(yaml.load_all(sys.stdin.buffer.read().decode('utf-8'), Loader=yaml.CSafeLoader))\n"
    "sys.stdout.write(yaml.dump_all(docs, Dumper=yaml.CSafeDumper))\n"
)

POSTRENDERER_PLUGIN = """\
apiVersion: v1
type: postrenderer/v1
name: {name}
version: 0.0.1
runtime: subprocess
runtimeConfig:
  platformCommand:
    - command: "{command}"
"""


# --- running and measuring -------------------------------------------------------------


@dataclass
class Case:
    name: str
    cmd: list[str]
    stdin: Path | None = None
    env: dict[str, str] | None = None
    expect: str | None = None  # a string the output must contain (checked on the warm-up run)
    times: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)  # KiB
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.times)

    def median(self) -> float:
        return statistics.median(self.times)

    def peak_mib(self) -> float:
        return statistics.median(self.rss) / 1024


LOAD: list[float] = []
TIME = Path("/usr/bin/time")  # GNU time: -f %M gives the child's max RSS in KiB


def run_once(case: Case, stdout_path: Path | None = None) -> tuple[float, int, int]:
    """Run the case once; (seconds, max RSS KiB, exit code).

    Peak memory comes from GNU time (`-f %M`), which forks the command from its own small
    process: the ru_maxrss of a child forked (or vforked) straight from this Python would
    include this benchmark's own resident set, since Linux carries the pre-exec high-water
    mark across exec. Without /usr/bin/time the numbers are wait4's, floored at that.
    """
    fin = open(case.stdin, "rb") if case.stdin else subprocess.DEVNULL  # noqa: SIM115
    fout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115
    rss_file = Path(tempfile.gettempdir()) / f"jhub-ck8s-bench-rss.{os.getpid()}"
    cmd = [str(TIME), "-f", "%M", "-o", str(rss_file), *case.cmd] if TIME_OK else case.cmd
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=subprocess.DEVNULL, env=case.env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        for f in (fin, fout):
            if f is not subprocess.DEVNULL:
                f.close()
    rss = usage.ru_maxrss
    if TIME_OK:
        try:
            rss = int(rss_file.read_text().split()[-1])
            rss_file.unlink()
        except (OSError, ValueError, IndexError):
            pass
    return elapsed, rss, proc.returncode


def _time_works() -> bool:
    try:
        return subprocess.run([str(TIME), "-f", "%M", "true"], capture_output=True, check=True).stderr.strip().isdigit()
    except (OSError, subprocess.CalledProcessError):
        return False


TIME_OK = _time_works()


def warm_up(case: Case, scratch: Path) -> None:
    out = scratch / "warmup.out"
    _t, _rss, code = run_once(case, out)
    if code != 0:
        case.error = f"exit {code}"
    elif case.expect is not None:
        with open(out, "rb") as f:
            if case.expect.encode() not in f.read():
                case.error = f"output lacks {case.expect!r}"
    out.unlink(missing_ok=True)


def measure(group: list[Case], reps: int, scratch: Path, label: str) -> None:
    """Warm up and check every case, then `reps` rounds, the order rotating each round."""
    live = []
    for case in group:
        warm_up(case, scratch)
        if case.error:
            print(f"  ! {case.name}: {case.error}; not measured", file=sys.stderr)
        else:
            live.append(case)
    started = time.perf_counter()
    for i in range(reps):
        order = live[i % len(live) :] + live[: i % len(live)] if live else []
        for case in order:
            elapsed, rss, code = run_once(case)
            if code != 0:
                case.error = f"exit {code} on run {i + 1}"
            case.times.append(elapsed)
            case.rss.append(rss)
    print(f"  {label}: {reps} rounds in {time.perf_counter() - started:.0f} s", file=sys.stderr)


# --- inputs --------------------------------------------------------------------------


def split_documents(text: str) -> list[str]:
    """Documents of a helm stream, each with its leading comments, empty ones dropped."""
    docs, current = [], []
    for line in text.splitlines():
        if line.rstrip() == "---" or line.startswith("--- "):
            docs.append(current)
            current = []
        else:
            current.append(line)
    docs.append(current)
    out = []
    for lines in docs:
        body = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
        if body:
            out.append("\n".join(lines).strip("\n") + "\n")
    return out


_NAME = re.compile(r"^(  name: *)(\"?)([^\"\s]+)(\"?)(\s*)$")


def rename(doc: str, suffix: str) -> str:
    """Add a suffix to the object's metadata.name (the first `  name:` under `metadata:`)."""
    lines = doc.split("\n")
    in_meta = False
    for i, line in enumerate(lines):
        if line.startswith("metadata:"):
            in_meta = True
        elif in_meta and line and not line.startswith(" ") and not line.startswith("#"):
            in_meta = False
        elif in_meta:
            match = _NAME.match(line)
            if match:
                lines[i] = f"{match[1]}{match[2]}{match[3]}{suffix}{match[4]}{match[5]}"
                break
    return "\n".join(lines)


def synthesize(base: list[str], n: int) -> str:
    """n documents: copy 0 of the render as it is, then copies with `-cK` names."""
    docs: list[str] = []
    copy = 0
    while len(docs) < n:
        docs.extend(base if copy == 0 else (rename(d, f"-c{copy}") for d in base))
        copy += 1
    return "".join("---\n" + d for d in docs[:n])


_IMAGE = re.compile(r"^\s*(?:- )?image: *[\"']?([^\"'\s]+)", re.M)


def image_entries(text: str) -> tuple[int, str]:
    """Kustomize `images:` entries renaming every image of the stream the way ours does."""
    names = sorted({re.sub(r"(@sha256:.*|:[^:/]+)$", "", ref) for ref in _IMAGE.findall(text)})
    lines = ["images:"]
    for name in names:
        first, _, rest = name.partition("/")
        if not rest:  # Docker Hub short name
            path = f"library/{name}"
        elif "." in first or ":" in first or first == "localhost":
            path = rest
        else:
            path = name
        lines += [f"- name: {name}", f"  newName: {REGISTRY}/{path}"]
    return len(names), "\n".join(lines) + "\n"


def chart_from_render(render: str, dest: Path) -> None:
    """A chart whose templates print the render again: one file per `# Source:` path."""
    files: dict[str, list[str]] = {}
    for doc in split_documents(render):
        match = re.search(r"^# Source: [^/]+/(templates/\S+)$", doc, re.M)
        path = match[1] if match else "templates/rest.yaml"
        body = "\n".join(ln for ln in doc.splitlines() if not ln.startswith("# Source:"))
        files.setdefault(path, []).append(body.replace("{{", '{{ "{{" }}') + "\n")
    (dest / "templates").mkdir(parents=True)
    (dest / "Chart.yaml").write_text(
        "apiVersion: v2\nname: jupyterhub\nversion: 4.4.0\nappVersion: 5.5.0\n"
        "description: the recorded full render of jupyterhub 4.4.0, as templates (benchmark input)\n"
    )
    for path, docs in files.items():
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("---\n".join(docs))


# --- report ----------------------------------------------------------------------------


def tool_version(cmd: list[str], env: dict[str, str] | None = None) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=env)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def fmt_s(seconds: float) -> str:
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}"


def ratio(a: Case | None, b: Case | None) -> float | None:
    if a is None or b is None or not a.ok or not b.ok:
        return None
    return a.median() / b.median()


def rss_ratio(a: Case | None, b: Case | None) -> float | None:
    if a is None or b is None or not a.ok or not b.ok:
        return None
    return a.peak_mib() / b.peak_mib()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", action="store_true", help="also kustomize at 10,000 documents (once; ~15 min)")
    parser.add_argument("--reps", type=int, default=5, help="measured runs per case at >= 10,000 docs (default 5)")
    parser.add_argument(
        "--small-reps", type=int, default=11, help="measured runs of every other case: helm, start-up (default 11)"
    )
    parser.add_argument("--sizes", default="100,1000,10000", help="synthetic stream sizes (default 100,1000,10000)")
    parser.add_argument("--kustomize-max", type=int, default=1000, help="largest size kustomize runs on without --big")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]

    helm3, helm4, kustomize = TOOLS / "helm3", TOOLS / "helm4", TOOLS / "kustomize"
    missing = [str(p) for p in (helm3, helm4, kustomize) if not os.access(p, os.X_OK)]
    if missing:
        print(f"bench: missing {', '.join(missing)} (run `make setup`); those cases are skipped", file=sys.stderr)

    scratch = Path(tempfile.mkdtemp(prefix="jhub-ck8s-bench."))
    started = time.perf_counter()
    LOAD.append(os.getloadavg()[0])
    try:
        return _bench(args, sizes, scratch, helm3, helm4, kustomize, started)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _bench(args, sizes, scratch: Path, helm3: Path, helm4: Path, kustomize: Path, started: float) -> int:
    # Helm homes: one set per major (a Helm 3 must never see a v1 plugin manifest).
    homes = {}
    for major in ("3", "4"):
        root = scratch / f"helm{major}"
        env = {
            "HELM_DATA_HOME": str(root / "data"),
            "HELM_CONFIG_HOME": str(root / "config"),
            "HELM_CACHE_HOME": str(root / "cache"),
            "HELM_PLUGINS": str(root / "data" / "plugins"),
        }
        for d in env.values():
            os.makedirs(d, exist_ok=True)
        homes[major] = os.environ | env

    # Inputs.
    if FULL.is_file():
        render = FULL.read_text()
        chart = scratch / "chart"
        chart_from_render(render, chart)
        source = f"`{FULL.relative_to(REPO.parent)}` (recorded `full` render, JupyterHub chart 4.4.0)"
    else:
        chart = OWN_CHART
        out = subprocess.run(
            [str(helm3), "template", *RELEASE, str(chart)], capture_output=True, text=True, env=homes["3"], check=True
        )
        render = out.stdout
        source = "`bench/chart/` rendered by helm 3 (the shared fixtures are absent)"
    base = split_documents(render)
    n_images, images_yaml = image_entries(render)
    images_file = scratch / "kustomize-images.yaml"
    images_file.write_text(images_yaml)

    kenv = os.environ | {"BENCH_KUSTOMIZE": str(kustomize), "BENCH_KUSTOMIZE_IMAGES": str(images_file)}
    # A copy with the exec bit, whatever the checkout did to the mode.
    kscript = scratch / "kustomize-postrender.sh"
    shutil.copyfile(REPO / "bench" / "kustomize-postrender.sh", kscript)
    kscript.chmod(0o755)
    ours_bin = REPO / "bin" / "jhub-ck8s"

    streams: dict[int, Path] = {}
    for n in [1, len(base), *sizes]:
        d = scratch / f"stream-{n}"
        d.mkdir(exist_ok=True)
        if n == 1:
            one = next((doc for doc in base if re.search(r"^kind: Deployment", doc, re.M)), base[0])
            text = "---\n" + one
        else:
            text = synthesize(base, n)
        (d / "stream.yaml").write_text(text)
        (d / "kustomization.yaml").write_text("resources: [stream.yaml]\n" + images_yaml)
        streams[n] = d / "stream.yaml"

    # The floors: a Python post-renderer that copies stdin to stdout (same venv Python).
    passthrough = scratch / "passthrough.py"
    passthrough.write_text(f"#!{PY}\nimport sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())\n")
    passthrough.chmod(0o755)
    cat = shutil.which("cat") or "/bin/cat"

    # Helm 4 plugins: ours from the repo, the kustomize baseline and the floors.
    plugins = [REPO / "helm-postrenderer"]
    for name, command in (("kustomize-images", kscript), ("cat", cat), ("py-passthrough", passthrough)):
        plugins.append(scratch / f"plugin-{name}")
        plugins[-1].mkdir()
        (plugins[-1] / "plugin.yaml").write_text(POSTRENDERER_PLUGIN.format(name=name, command=command))
    if os.access(helm4, os.X_OK):
        for plugin in plugins:
            res = subprocess.run(
                [str(helm4), "plugin", "install", str(plugin)], capture_output=True, text=True, env=homes["4"]
            )
            if res.returncode:
                print(f"bench: helm4 plugin install {plugin} failed: {res.stderr.strip()}", file=sys.stderr)

    cases: dict[str, Case] = {}

    def add(key: str, case: Case) -> Case:
        cases[key] = case
        return case

    expect_ours = REGISTRY + "/"
    print(f"bench: scratch {scratch}; inputs from {source}", file=sys.stderr)

    # 1. Helm overhead.
    for major, helm, post_ours, post_k, post_cat, post_py in (
        ("3", helm3, str(ours_bin), str(kscript), cat, str(passthrough)),
        ("4", helm4, "jhub-ck8s", "kustomize-images", "cat", "py-passthrough"),
    ):
        if not os.access(helm, os.X_OK):
            continue
        tmpl = [str(helm), "template", *RELEASE, str(chart)]
        ours_args = [a for arg in OURS_ARGS for a in ("--post-renderer-args", arg)]
        group = [
            add(f"h{major}", Case(f"helm{major} template", tmpl, env=homes[major], expect="kind: Deployment")),
            add(
                f"h{major}+cat",
                Case(
                    f"helm{major} template + cat (floor)",
                    [*tmpl, "--post-renderer", post_cat],
                    env=homes[major],
                    expect="kind: Deployment",
                ),
            ),
            add(
                f"h{major}+py",
                Case(
                    f"helm{major} template + Python pass-through (floor)",
                    [*tmpl, "--post-renderer", post_py],
                    env=homes[major],
                    expect="kind: Deployment",
                ),
            ),
            add(
                f"h{major}+ours",
                Case(
                    f"helm{major} template + ours",
                    [*tmpl, "--post-renderer", post_ours, *ours_args],
                    env=homes[major],
                    expect=expect_ours,
                ),
            ),
        ]
        if os.access(kustomize, os.X_OK):
            group.append(
                add(
                    f"h{major}+k",
                    Case(
                        f"helm{major} template + kustomize (images only)",
                        [*tmpl, "--post-renderer", post_k],
                        env=homes[major] | {k: kenv[k] for k in kenv if k.startswith("BENCH_")},
                        expect=expect_ours,
                    ),
                )
            )
        measure(group, args.small_reps, scratch, f"helm {major}")

    # 4. Start-up.
    group = [
        add("py", Case("python -c pass", [PY, "-c", "pass"])),
        add(
            "ours1",
            Case(
                "ours, 1 document (python postrender.py)",
                [PY, str(REPO / "postrender.py"), *OURS_ARGS],
                stdin=streams[1],
                expect=expect_ours,
            ),
        ),
        add(
            "ours1bin",
            Case("ours, 1 document (bin/jhub-ck8s)", [str(ours_bin), *OURS_ARGS], stdin=streams[1], expect=expect_ours),
        ),
    ]
    measure(group, args.small_reps, scratch, "start-up")

    # 2 + 3. Streams.
    for n in [len(base), *sizes]:
        group = [
            add(
                f"ours{n}",
                Case(
                    f"ours, {n} docs",
                    [PY, str(REPO / "postrender.py"), *OURS_ARGS],
                    stdin=streams[n],
                    expect=expect_ours,
                ),
            ),
            add(
                f"yaml{n}",
                Case(f"libyaml round trip, {n} docs", [PY, "-c", ROUNDTRIP], stdin=streams[n], expect="kind:"),
            ),
        ]
        if os.access(kustomize, os.X_OK) and n <= args.kustomize_max:
            group.append(
                add(
                    f"k{n}",
                    Case(
                        f"kustomize build (images only), {n} docs",
                        [str(kustomize), "build", str(streams[n].parent)],
                        expect=expect_ours,
                    ),
                )
            )
        measure(group, args.reps if n >= 10000 else args.small_reps, scratch, f"{n} documents")
    big_k = [n for n in sizes if n > args.kustomize_max]
    if args.big and os.access(kustomize, os.X_OK):
        for n in big_k:
            case = add(
                f"k{n}",
                Case(
                    f"kustomize build (images only), {n} docs, once", [str(kustomize), "build", str(streams[n].parent)]
                ),
            )
            elapsed, rss, code = run_once(case)
            if code:
                case.error = f"exit {code}"
            case.times.append(elapsed)
            case.rss.append(rss)
            print(f"  kustomize {n}: {elapsed:.0f} s", file=sys.stderr)

    versions = [
        tool_version([str(helm3), "version", "--short"], homes["3"]),
        tool_version([str(helm4), "version", "--short"], homes["4"]),
        "kustomize " + tool_version([str(kustomize), "version"]),
    ]
    report(cases, args, sizes, base, n_images, source, started, versions)
    return 0


def report(cases, args, sizes, base, n_images, source, started, versions) -> None:
    c = cases.get
    out = []
    cmd = "make bench" + (" BIG=1" if args.big else "")
    out.append(
        f"Measured {datetime.date.today().isoformat()} with `{cmd}` on {os.cpu_count()} CPUs "
        f"({cpu_model()}), Linux {platform.release()}, Python {platform.python_version()}; "
        f"{', '.join(versions)}."
    )
    out.append(
        f"Input: {source}, {len(base)} documents ({n_images} images renamed by the kustomize baseline); "
        f"synthetic streams are copies of it with unique names. Ours: `--registry={REGISTRY} --mode=warn`, "
        "all transforms on. Times are wall-clock seconds of the whole process, runs alternating; "
        + (
            "peak memory is the max RSS of the child (of helm and its post-renderer, the larger; measured by GNU time)."
            if TIME_OK
            else "peak memory is wait4's max RSS of the child (no /usr/bin/time: floored at the benchmark's own RSS)."
        )
    )
    out.append("")
    out.append("| case | runs | median s | min-max s | spread | peak RSS MiB |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for case in cases.values():
        if not case.times:
            out.append(f"| {case.name} | 0 | — | — | — | — ({case.error}) |")
            continue
        lo, hi, med = min(case.times), max(case.times), case.median()
        spread = f"±{(hi - lo) / 2 / med * 100:.0f}%" if len(case.times) > 1 else "—"
        err = f" ({case.error})" if case.error else ""
        out.append(
            f"| {case.name}{err} | {len(case.times)} | {fmt_s(med)} | {fmt_s(lo)}-{fmt_s(hi)} | {spread} "
            f"| {case.peak_mib():.0f} |"
        )
    out.append("")

    def verdict(value: float | None, target: float, *, at_most: bool) -> str:
        if value is None:
            return "not measured"
        holds = value <= target if at_most else value >= target
        if holds:
            return "**holds**"
        miss = value / target if at_most else target / value
        return f"**misses** by {miss:.2f}x"

    rows = []

    def goal(name: str, value: float | None, target: float, *, at_most: bool = True, unit: str = "x") -> None:
        shown = "—" if value is None else f"{value:.2f}{unit}"
        sign = "≤" if at_most else "≥"
        rows.append(f"| {name} | {shown} | {sign} {target:g}{unit} | {verdict(value, target, at_most=at_most)} |")

    def info(name: str, value: float | None, note: str = "") -> None:
        shown = "—" if value is None else f"{value:.2f}x"
        rows.append(f"| {name} | {shown} | {note} | info |")

    goal("Helm 3: `helm template` + ours / `helm template`", ratio(c("h3+ours"), c("h3")), 1.3)
    goal("Helm 4: `helm template` + ours / `helm template`", ratio(c("h4+ours"), c("h4")), 1.3)
    for major in ("3", "4"):
        info(
            f"Helm {major}: + kustomize (images only) / alone",
            ratio(c(f"h{major}+k"), c(f"h{major}")),
            "2.0x in the issue" if major == "3" else "",
        )
        info(f"Helm {major}: + cat / alone (floor of any post-renderer)", ratio(c(f"h{major}+cat"), c(f"h{major}")))
        info(
            f"Helm {major}: + Python pass-through / alone (floor of a Python one)",
            ratio(c(f"h{major}+py"), c(f"h{major}")),
        )
    for n in [len(base), *sizes]:
        if c(f"k{n}") and c(f"k{n}").ok:
            target = {1000: 4.0, 10000: 50.0}.get(n)
            name = f"kustomize / ours at {n} documents (ours faster by)"
            if target:
                goal(name, ratio(c(f"k{n}"), c(f"ours{n}")), target, at_most=False)
            else:
                info(name, ratio(c(f"k{n}"), c(f"ours{n}")))
        elif n in (10000,):
            rows.append(
                f"| kustomize / ours at {n} documents (ours faster by) | — | ≥ 50x | not run (`make bench BIG=1`) |"
            )
    if 1000 in sizes and 10000 in sizes:
        goal("Scale: ours(10,000) / ours(1,000) time", ratio(c("ours10000"), c("ours1000")), 11)
        info("Scale: libyaml(10,000) / libyaml(1,000) time", ratio(c("yaml10000"), c("yaml1000")))
    big = max(sizes) if sizes else None
    if big:
        goal(
            f"Memory: ours / libyaml round trip, peak RSS at {big} documents",
            rss_ratio(c(f"ours{big}"), c(f"yaml{big}")),
            2,
        )
        goal(
            f"Transforms: ours / libyaml round trip, time at {big} documents",
            ratio(c(f"ours{big}"), c(f"yaml{big}")),
            1.5,
        )
    for n in [len(base), *sizes]:
        if n != big:
            info(f"ours / libyaml round trip, time at {n} documents", ratio(c(f"ours{n}"), c(f"yaml{n}")))
    goal("Start-up: ours on 1 document / `python -c pass`", ratio(c("ours1"), c("py")), 4)
    info("Start-up through bin/jhub-ck8s (bash wrapper) / `python -c pass`", ratio(c("ours1bin"), c("py")))

    out.append("| goal | measured | target | result |")
    out.append("|---|---:|---:|---|")
    out.extend(rows)
    out.append("")
    LOAD.append(os.getloadavg()[0])
    out.append(
        f"Total benchmark time: {time.perf_counter() - started:.0f} s; 1-minute load average "
        f"{LOAD[0]:.1f} at the start, {LOAD[-1]:.1f} at the end (on {os.cpu_count()} CPUs: "
        "other work on the machine widens the spread; the ratios of alternating runs hold up better)."
    )
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
