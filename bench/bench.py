#!/usr/bin/env python3
"""`make bench`: the post-renderer against what users would otherwise run, as ratios measured in one run.

Every case is a whole child process, timed wall-clock, with its peak memory (max RSS by
GNU time; for a helm call the larger of helm and its post-renderer). The input is made
at run time from ``bench/chart/``, a templated chart with the size and shape of the
upstream jupyterhub chart 4.4.0 (see its Chart.yaml), so that ``helm template`` does
real templating work:

1. Helm routes, Helm 3 and Helm 4, the ``full`` values: ``helm template`` alone, with
   ``cat`` and a Python pass-through as post-renderers (the floors), with ours, and with
   a kustomize post-renderer that only renames images (bench/kustomize-postrender.sh).
   Helm 3 gets executables (``--post-renderer PATH``); Helm 4 gets ``postrenderer/v1``
   plugins registered in a private plugins folder (``HELM_PLUGINS``), as
   ``jhub_ck8s/helm.py`` does for ours.
2. Start-up: ours on one document vs ``python -c pass``.
3. Releases: exactly what Helm hands a post-renderer (captured at run time): the ``full``
   release as Helm 4 (40 documents) and Helm 3 (34) pass it, the ``guide`` release as
   Helm 4 passes it (25): ours, the Python pass-through, a bare libyaml round trip
   (PyYAML CSafeLoader + CSafeDumper) and ``kustomize build`` with the same renames.
4. Scale: copies of the ``full`` render (``helm template``, hooks included) with unique
   names, 100 / 1,000 / 10,000 documents: ours, libyaml, kustomize (10,000 only with --big,
   once).
5. Shared labels (--big or --shared-labels): copies of the ``default`` render with unique
   names but the chart's own labels, so that every NetworkPolicy and PodDisruptionBudget
   selects the pods of every copy, at 25 and 50 MB: ours and libyaml.

Cases of one group alternate (the order rotates each round) after one unmeasured warm-up
run that also checks the output, so background load hits every case of a group alike.
The results (Markdown) go to stdout and, for a complete run, to bench/RESULTS.md, which
this script writes whole. It exits 0 whatever the goals say: it measures, it does not gate.

usage: .venv/bin/python bench/bench.py [--big] [--shared-labels] [--only GROUP,...] [--results FILE]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import site
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))  # the project itself (the helm manifest below)
from paths import Z2JH as FIXTURES  # noqa: E402  (the one definition of where the shared fixtures are)

CHART = REPO / "bench" / "chart"
RESULTS = REPO / "bench" / "RESULTS.md"
TOOLS = Path(os.environ.get("JHUB_CK8S_TOOLS", REPO / ".tools")) / "bin"
DEV_PY = sys.executable  # the developer venv's python (make bench runs .venv/bin/python)
REGISTRY = "harbor.example.com/jupyterhub"
OURS_ARGS = [f"--registry={REGISTRY}", "--mode=warn"]
RELEASE = ["jhub", "-n", "jhub"]
MB = 1_000_000

GROUPS = ("helm3", "helm4", "startup", "release", "scale", "shared")

ROUNDTRIP = (
    "import sys, yaml\n"
    "docs = list(yaml.load_all(sys.stdin.buffer.read().decode('utf-8'), Loader=yaml.CSafeLoader))\n"
    "sys.stdout.write(yaml.dump_all(docs, Dumper=yaml.CSafeDumper))\n"
)

# The same manifest jhub_ck8s/helm.py registers for one helm call (a private plugins folder).
from jhub_ck8s.helm import POSTRENDERER_MANIFEST as POSTRENDERER_PLUGIN  # noqa: E402

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
    cpu: list[float] = field(default_factory=list)  # user + system seconds, the process and its children
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.times)

    def median(self) -> float:
        return statistics.median(self.times)

    def peak_mib(self) -> float:
        return statistics.median(self.rss) / 1024


@dataclass
class Run:
    """What one benchmark run measured and on what: the writer's whole input."""

    args: argparse.Namespace
    cases: dict[str, Case] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)  # sentences describing the input
    versions: list[str] = field(default_factory=list)
    rounds: dict[str, int] = field(default_factory=dict)  # group label -> measured rounds
    load: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    skipped: list[str] = field(default_factory=list)  # why a group or case did not run

    def add(self, key: str, case: Case) -> Case:
        self.cases[key] = case
        return case


TIME = Path("/usr/bin/time")  # GNU time: -f %M gives the child's max RSS in KiB


def _time_works() -> bool:
    try:
        return subprocess.run([str(TIME), "-f", "%M", "true"], capture_output=True, check=True).stderr.strip().isdigit()
    except (OSError, subprocess.CalledProcessError):
        return False


TIME_OK = _time_works()


def run_once(
    case: Case, stdout_path: Path | None = None, stderr_path: Path | None = None
) -> tuple[float, int, int, float]:
    """Run the case once; (wall seconds, max RSS KiB, exit code, CPU seconds).

    CPU time (user + system of the process and the children it waited for, from wait4)
    is shown beside wall time: on a shared machine it moves less with background load.

    Peak memory comes from GNU time (`-f %M`), which forks the command from its own small
    process: the ru_maxrss of a child forked straight from this Python would include this
    benchmark's own resident set, since Linux carries the pre-exec high-water mark across
    exec. Without /usr/bin/time the numbers are wait4's, floored at that.
    """
    fin = open(case.stdin, "rb") if case.stdin else subprocess.DEVNULL  # noqa: SIM115
    fout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115
    ferr = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL  # noqa: SIM115
    rss_file = Path(tempfile.gettempdir()) / f"jhub-ck8s-bench-rss.{os.getpid()}"
    cmd = [str(TIME), "-f", "%M", "-o", str(rss_file), *case.cmd] if TIME_OK else case.cmd
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=ferr, env=case.env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        for f in (fin, fout, ferr):
            if f is not subprocess.DEVNULL:
                f.close()
    rss = usage.ru_maxrss
    if TIME_OK:
        try:
            rss = int(rss_file.read_text().split()[-1])
            rss_file.unlink()
        except (OSError, ValueError, IndexError):
            pass
    return elapsed, rss, proc.returncode, usage.ru_utime + usage.ru_stime


def checked_run(case: Case, scratch: Path) -> tuple[float, int, int, float]:
    """Run once, keeping the output to check it: a failure or a missing `expect` sets case.error."""
    out, err = scratch / "checked.out", scratch / "checked.err"
    result = run_once(case, out, err)
    code = result[2]
    if code != 0:
        last = err.read_text(errors="replace").strip().splitlines()[-1:]
        case.error = f"exit {code}" + (f": {last[0][:200]}" if last else "")
    elif case.expect is not None:
        with open(out, "rb") as f:
            if case.expect.encode() not in f.read():
                case.error = f"output lacks {case.expect!r}"
    out.unlink(missing_ok=True)
    err.unlink(missing_ok=True)
    return result


def measure(run: Run, group: list[Case], reps: int, scratch: Path, label: str, *, warm_up: bool = True) -> None:
    """`reps` rounds of the group, the order rotating each round.

    With `warm_up`, every case first runs once unmeasured, its output checked; without
    (cases of a minute and more, where a warm-up would double the time), the first round
    is the checked one and counts.
    """
    live = []
    for case in group if warm_up else ():
        checked_run(case, scratch)
        if case.error:
            print(f"  ! {case.name}: {case.error}; not measured", file=sys.stderr)
        else:
            live.append(case)
    if not warm_up:
        live = list(group)
    started = time.perf_counter()
    for i in range(reps):
        order = live[i % len(live) :] + live[: i % len(live)] if live else []
        for case in order:
            if case.error:
                continue
            if i == 0 and not warm_up:
                elapsed, rss, code, cpu = checked_run(case, scratch)
            else:
                elapsed, rss, code, cpu = run_once(case)
                if code != 0:
                    case.error = f"exit {code} on run {i + 1}"
            case.times.append(elapsed)
            case.rss.append(rss)
            case.cpu.append(cpu)
    run.rounds[label] = reps
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


def copies(base: list[str], *, docs: int | None = None, size: int | None = None) -> str:
    """Copy 0 of a render as it is, then copies with `-cK` names (labels unchanged), until
    the stream has `docs` documents or at least `size` bytes."""
    out: list[str] = []
    total = 0
    copy = 0
    while (docs is not None and len(out) < docs) or (size is not None and total < size):
        for doc in base if copy == 0 else (rename(d, f"-c{copy}") for d in base):
            if docs is not None and len(out) >= docs:
                break
            out.append("---\n" + doc)
            total += len(out[-1].encode())
        copy += 1
    return "".join(out)


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


# The upstream chart code ConfigMap/hub carries (files/hub/ of the jupyterhub chart 4.4.0),
# elided in the shared fixtures: stand-ins of about the same size, in bytes of the file.
STAND_IN_FILES = {"jupyterhub_config.py": 20_000, "z2jh.py": 3_500}


def stand_in_python(filename: str, size: int) -> str:
    """Deterministic Python-shaped text of about `size` bytes (never run): defs, docstrings,
    calls with dicts and strings, comments with colons and quotes, indentation, blank lines;
    what a YAML scanner meets in the real files."""
    shapes = (
        "\ndef configure_section_{n}(c, get_config, set_config_if_not_none):",
        '    """Section {n} of {file}: reads chart values and sets traitlets."""',
        '    value_{n} = get_config("singleuser.extraSetting{n}", {{"key": "v-{n}"}})',
        '    set_config_if_not_none(c.KubeSpawner, "setting_{n}", "singleuser.s{n}")',
        "    if value_{n}:  # a comment: with a colon, 'quotes' and \"more\"",
        '        c.JupyterHub.tornado_settings["headers_{n}"] = [1, 2.5, None, True]',
    )
    lines = [f"# {filename}: generated stand-in for upstream chart code (benchmark input, never run)"]
    total = len(lines[0]) + 1
    i = 0
    while total < size:
        line = shapes[i % len(shapes)].format(n=f"{i:04d}", file=filename)
        lines.append(line)
        total += len(line) + 1
        i += 1
    return "\n".join(lines) + "\n"


def chart_copy(dest: Path) -> Path:
    """bench/chart with the generated files/hub/ stand-ins: what every helm case renders."""
    shutil.copytree(CHART, dest)
    (dest / "files" / "hub").mkdir(parents=True, exist_ok=True)
    for filename, size in STAND_IN_FILES.items():
        (dest / "files" / "hub" / filename).write_text(stand_in_python(filename, size), encoding="utf-8")
    return dest


def count_docs(text: str) -> int:
    return len(split_documents(text))


def size_mb(text: str) -> str:
    return f"{len(text.encode()) / MB:.2f} MB" if len(text) >= MB else f"{len(text.encode()) / 1000:.0f} KB"


def configmap_bytes(render: str) -> int:
    """Bytes of ConfigMap/hub in a render."""
    for doc in split_documents(render):
        if re.search(r"^kind: ConfigMap$", doc, re.M) and re.search(r"^  name: hub$", doc, re.M):
            return len(doc.encode())
    return 0


def shape_check(renders: dict[str, str]) -> str | None:
    """One sentence comparing our chart's renders with the recorded upstream ones, if present."""
    if not (FIXTURES / "template").is_dir():
        return None
    parts = []
    for values, text in renders.items():
        recorded = FIXTURES / "template" / f"{values}.yaml"
        if not recorded.is_file():
            continue
        theirs = recorded.read_text(encoding="utf-8")

        def objects(stream: str) -> set[tuple[str, str]]:
            found = set()
            for doc in split_documents(stream):
                kind = re.search(r"^kind: (\S+)", doc, re.M)
                name = re.search(r"^  name: (\S+)", doc, re.M)
                if kind and name:
                    found.add((kind[1], name[1]))
            return found

        same = "the same" if objects(text) == objects(theirs) else "NOT the same"
        parts.append(
            f"`{values}` {count_docs(text)} documents, {len(text.encode()):,} bytes "
            f"(recorded: {count_docs(theirs)}, {len(theirs.encode()):,} bytes with the two files elided; "
            f"{same} kinds and names)"
        )
    if not parts:
        return None
    return (
        "Against the recorded renders of the upstream chart in `../shared/fixtures/z2jh-4.4.0/template/`: "
        + "; ".join(parts)
        + "."
    )


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


def added_ms(a: Case | None, b: Case | None) -> float | None:
    """Median of a minus median of b, in milliseconds."""
    if a is None or b is None or not a.ok or not b.ok:
        return None
    return (a.median() - b.median()) * 1000


def rss_ratio(a: Case | None, b: Case | None) -> float | None:
    if a is None or b is None or not a.ok or not b.ok:
        return None
    return a.peak_mib() / b.peak_mib()


@dataclass
class Goals:
    """The rows of the goals table, each one line of Markdown."""

    rows: list[str] = field(default_factory=list)

    def goal(self, name: str, value: float | None, target: float, *, at_most: bool = True, unit: str = "x",
             why_missing: str = "not measured") -> None:
        sign = "≤" if at_most else "≥"
        if value is None:
            self.rows.append(f"| {name} | — | {sign} {target:g}{unit} | {why_missing} |")
            return
        shown = f"{value:.0f} {unit.strip()}" if unit.strip() == "ms" else f"{value:.2f}{unit}"
        holds = value <= target if at_most else value >= target
        if holds:
            result = "**holds**"
        elif unit.strip() == "ms":
            result = f"**misses** by {value - target:.0f} ms"
        else:
            result = f"**misses** by {(value / target if at_most else target / value):.2f}x"
        self.rows.append(f"| {name} | {shown} | {sign} {target:g}{unit} | {result} |")

    def info(self, name: str, value: float | None, note: str = "", unit: str = "x") -> None:
        if value is None:
            shown = "—"
        elif unit.strip() == "ms":
            shown = f"{value:.0f} ms"
        else:
            shown = f"{value:.2f}{unit}"
        self.rows.append(f"| {name} | {shown} | {note} | info |")


def goals_table(run: Run) -> list[str]:
    c = run.cases.get
    args = run.args
    g = Goals()
    big_hint = "not run (`make bench BIG=1`)"
    shared_hint = "not run (`make bench SHARED=1` or `BIG=1`)"

    # The small release, on the routes users run (issue 13).
    for major in ("3", "4"):
        g.goal(
            f"Helm {major}: `helm template` + ours / + kustomize post-renderer (full release)",
            ratio(c(f"h{major}+ours"), c(f"h{major}+k")),
            0.8,
        )
    for major in ("3", "4"):
        g.goal(
            f"Helm {major}: + ours minus + Python pass-through (added wall time, full release)",
            added_ms(c(f"h{major}+ours"), c(f"h{major}+py")),
            40,
            unit=" ms",
        )
    g.goal(
        "Ours minus Python pass-through, alone on the full release as Helm 4 passes it (40 docs)",
        added_ms(c("ours-full4"), c("py-full4")),
        40,
        unit=" ms",
    )
    for key, docs in (("full4", 40), ("guide4", 25)):
        g.goal(f"Ours / `kustomize build` at {docs} documents", ratio(c(f"ours-{key}"), c(f"k-{key}")), 0.6)
    g.goal("Start-up: ours on 1 document / `python -c pass`", ratio(c("ours1"), c("py")), 2.5)

    # What held before (issue 7) and must keep holding.
    sizes = args.sizes
    for n, target in ((1000, 4.0), (10000, 50.0)):
        if n in sizes:
            g.goal(
                f"`kustomize build` / ours at {n:,} documents (ours faster by)",
                ratio(c(f"k{n}"), c(f"ours{n}")),
                target,
                at_most=False,
                why_missing=big_hint if n > args.kustomize_max and not args.big else "not measured",
            )
    if 1000 in sizes and 10000 in sizes:
        g.goal("Scale: ours(10,000) / ours(1,000) time", ratio(c("ours10000"), c("ours1000")), 11)
    big = max(sizes) if sizes else None
    if big:
        g.goal(f"Time: ours / libyaml round trip at {big:,} documents", ratio(c(f"ours{big}"), c(f"yaml{big}")), 1.5)
        g.goal(
            f"Memory: ours / libyaml round trip, peak RSS at {big:,} documents",
            rss_ratio(c(f"ours{big}"), c(f"yaml{big}")),
            2,
        )
    if len(args.shared_sizes) == 2:
        lo, hi = sorted(args.shared_sizes)
        g.goal(
            f"Shared labels: ours({hi} MB) / ours({lo} MB) time",
            ratio(c(f"shared{hi}"), c(f"shared{lo}")),
            2.2,
            why_missing="not measured" if run_shared(args) else shared_hint,
        )

    # For reading the above.
    for major in ("3", "4"):
        g.info(f"Helm {major}: + ours / `helm template` alone", ratio(c(f"h{major}+ours"), c(f"h{major}")))
        g.info(f"Helm {major}: + kustomize post-renderer / alone", ratio(c(f"h{major}+k"), c(f"h{major}")))
        g.info(f"Helm {major}: + cat / alone (floor of any post-renderer)", ratio(c(f"h{major}+cat"), c(f"h{major}")))
        g.info(
            f"Helm {major}: + Python pass-through / alone (floor of a Python one)",
            ratio(c(f"h{major}+py"), c(f"h{major}")),
        )
    g.info(
        "Ours minus Python pass-through, alone on the full release as Helm 3 passes it (34 docs)",
        added_ms(c("ours-full3"), c("py-full3")),
        unit=" ms",
    )
    g.info("Ours / `kustomize build` at 34 documents (Helm 3 input)", ratio(c("ours-full3"), c("k-full3")))
    for key, label in (("full4", "40 documents"), ("full3", "34 documents"), ("guide4", "25 documents")):
        g.info(f"Ours / libyaml round trip at {label}", ratio(c(f"ours-{key}"), c(f"yaml-{key}")))
    g.info("Start-up through bin/jhub-ck8s (bash wrapper) / `python -c pass`", ratio(c("ours1bin"), c("py")))
    for n in sizes:
        if n not in (1000, 10000) and c(f"k{n}"):
            g.info(f"`kustomize build` / ours at {n:,} documents (ours faster by)", ratio(c(f"k{n}"), c(f"ours{n}")))
        if n != big:
            g.info(f"Ours / libyaml round trip at {n:,} documents", ratio(c(f"ours{n}"), c(f"yaml{n}")))
    if 1000 in sizes and 10000 in sizes:
        g.info("Scale: libyaml(10,000) / libyaml(1,000) time", ratio(c("yaml10000"), c("yaml1000")))
    if len(args.shared_sizes) == 2 and run_shared(args):
        lo, hi = sorted(args.shared_sizes)
        g.info(f"Shared labels: libyaml({hi} MB) / libyaml({lo} MB) time", ratio(c(f"yshared{hi}"), c(f"yshared{lo}")))
        g.info(f"Shared labels: ours / libyaml at {hi} MB", ratio(c(f"shared{hi}"), c(f"yshared{hi}")))

    return ["| goal | measured | target | result |", "|---|---:|---:|---|", *g.rows]


def cases_table(run: Run) -> list[str]:
    out = [
        "| case | runs | median s | min-max s | spread | median CPU s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for case in run.cases.values():
        if not case.times:
            out.append(f"| {case.name} | 0 | — | — | — | — | — ({case.error or 'not run'}) |")
            continue
        lo, hi, med = min(case.times), max(case.times), case.median()
        spread = f"±{(hi - lo) / 2 / med * 100:.0f}%" if len(case.times) > 1 else "—"
        err = f" ({case.error})" if case.error else ""
        out.append(
            f"| {case.name}{err} | {len(case.times)} | {fmt_s(med)} | {fmt_s(lo)}-{fmt_s(hi)} | {spread} "
            f"| {fmt_s(statistics.median(case.cpu))} | {case.peak_mib():.0f} |"
        )
    return out


def results_markdown(run: Run, command: str, finished: float) -> str:
    """The whole of bench/RESULTS.md: every paragraph is built here, nothing is spliced in."""
    args = run.args
    memory = (
        "Peak memory is the max RSS of the child (for a helm call, the larger of helm and its post-renderer), "
        "measured by GNU time."
        if TIME_OK
        else "Peak memory is wait4's max RSS of the child (no /usr/bin/time here: floored at the benchmark's own RSS)."
    )
    rounds = (
        f"Each case ran once unmeasured, its output checked, then {args.small_reps} measured rounds; at 10,000 "
        f"documents {args.reps} rounds and the shared-labels streams {args.shared_reps}, the first one checked, no "
        f"warm-up; `kustomize build` above {args.kustomize_max:,} documents once. The runs column counts them."
    )
    paragraphs = [
        "# Benchmark results",
        "Written whole by `bench/bench.py` on every complete run: `make bench`; `make bench SHARED=1` adds the "
        "shared-labels streams, `make bench BIG=1` those and `kustomize build` at 10,000 documents (once). A "
        "partial run (`bench/bench.py --only GROUP,...`) prints its results and leaves this file alone.",
        "## What is measured",
        "Every case is a whole process, timed wall-clock from start to exit, as a user or Helm runs it. "
        "The cases of one group alternate, the order rotating each round, after one unmeasured warm-up run "
        "per case that also checks the output (for the largest streams, the first measured run is the checked "
        "one), so that background load hits the compared commands alike; the tables "
        "show the median wall time of the measured rounds, their min-max, and the median CPU time (user + "
        "system, the process and its children: it moves less than wall time when other work shares the "
        f"machine; the goals are on wall time). {memory} "
        "Python runs as in a plugin install (`bin/install-plugin`): ours through a plugin-shaped folder with "
        "its own `bin/jhub-ck8s` and a `.plugin-venv` (same interpreter, the pinned packages, none of the "
        "developer venv's `.pth` hooks; the editable install's costs every Python start about 20 ms, see "
        "`python -c pass, developer .venv`), the code compiled to bytecode first as after a first run; the "
        "floors and the libyaml round trip use the same interpreter. "
        f"Ours runs as `{' '.join(OURS_ARGS)}`, all transforms on. The kustomize baseline only "
        "renames the images (`images:` entries for every image in the stream, the way ours renames them); "
        "`cat` and a Python pass-through (a Python script that copies stdin to stdout, same interpreter) are "
        "the floors of any post-renderer and of a Python one.",
        "## Input",
        *run.inputs,
        "## Latest run",
        f"Measured {datetime.date.today().isoformat()} with `{command}` on {os.cpu_count()} CPUs "
        f"({cpu_model()}), Linux {platform.release()}, Python {platform.python_version()}; "
        f"{', '.join(run.versions)}. {rounds}",
        "\n".join(cases_table(run)),
        "\n".join(goals_table(run)),
        f"Total benchmark time {finished - run.started:.0f} s. One-minute load average {run.load[0]:.1f} at the "
        f"start and {run.load[-1]:.1f} at the end, on {os.cpu_count()} CPUs: other work on the machine widens "
        "the spread of single cases; the ratios of alternating runs hold up better.",
    ]
    if run.skipped:
        paragraphs.append("Not run: " + "; ".join(run.skipped) + ".")
    if args.only:
        paragraphs.append(f"Partial run: only {', '.join(args.only)}.")
    return "\n\n".join(paragraphs) + "\n"


def write_results(path: Path, text: str) -> None:
    """Replace the file whole (a temporary file renamed over it), never half-written."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# --- the benchmark ---------------------------------------------------------------------


def run_shared(args: argparse.Namespace) -> bool:
    return (args.big or args.shared_labels) and "shared" in args.groups


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--big", action="store_true", help="also kustomize at 10,000 documents (once; ~15 min) and the shared-labels streams"
    )
    parser.add_argument("--shared-labels", action="store_true", help="the shared-labels streams without the rest of --big")
    parser.add_argument("--reps", type=int, default=5, help="measured rounds at >= 10,000 documents (default 5)")
    parser.add_argument("--small-reps", type=int, default=11, help="measured rounds of every smaller case (default 11)")
    parser.add_argument("--shared-reps", type=int, default=3, help="measured rounds of the shared-labels streams (default 3)")
    parser.add_argument("--sizes", default="100,1000,10000", help="scale streams, documents (default 100,1000,10000)")
    parser.add_argument("--shared-sizes", default="25,50", help="shared-labels streams, MB (default 25,50)")
    parser.add_argument("--kustomize-max", type=int, default=1000, help="largest scale stream kustomize runs on without --big")
    parser.add_argument("--only", default="", help=f"run only these groups ({', '.join(GROUPS)}); implies no RESULTS.md")
    parser.add_argument(
        "--results", default=None, help="write the results here (default: bench/RESULTS.md on a complete run; '-' for none)"
    )
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    args.shared_sizes = [int(s) for s in args.shared_sizes.split(",") if s]
    args.only = [g for g in args.only.split(",") if g]
    unknown = [g for g in args.only if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group {', '.join(unknown)} (known: {', '.join(GROUPS)})")
    args.groups = args.only or list(GROUPS)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    helm3, helm4, kustomize = TOOLS / "helm3", TOOLS / "helm4", TOOLS / "kustomize"
    missing = [str(p) for p in (helm3, helm4, kustomize) if not os.access(p, os.X_OK)]
    if missing:
        print(f"bench: missing {', '.join(missing)}; run `make setup`", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="jhub-ck8s-bench."))
    # A stopped run (SIGTERM) still removes its scratch folder.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    run = Run(args)
    run.load.append(os.getloadavg()[0])
    try:
        bench(run, scratch, helm3, helm4, kustomize)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    run.load.append(os.getloadavg()[0])
    run.versions = [
        tool_version([str(helm3), "version", "--short"]),
        tool_version([str(helm4), "version", "--short"]),
        "kustomize " + tool_version([str(kustomize), "version"]),
    ]
    given = sys.argv[1:] if argv is None else argv
    make_flags = {"--big": "BIG=1", "--shared-labels": "SHARED=1"}
    if set(given) <= set(make_flags):
        command = " ".join(["make bench", *(make_flags[flag] for flag in make_flags if flag in given)])
    else:
        command = " ".join([".venv/bin/python bench/bench.py", *given])
    text = results_markdown(run, command, time.perf_counter())
    print(text)
    target = args.results or ("-" if args.only else str(RESULTS))
    if target != "-":
        write_results(Path(target), text)
        print(f"bench: wrote {target}", file=sys.stderr)
    return 0


def helm_homes(scratch: Path) -> dict[str, dict[str, str]]:
    """One set of Helm folders per major: a Helm 3 must never see a v1 plugin manifest."""
    homes = {}
    for major in ("3", "4"):
        root = scratch / f"helm{major}"
        env = {
            "HELM_DATA_HOME": str(root / "data"),
            "HELM_CONFIG_HOME": str(root / "config"),
            "HELM_CACHE_HOME": str(root / "cache"),
            "HELM_PLUGINS": str(root / "plugins"),
        }
        for d in env.values():
            os.makedirs(d, exist_ok=True)
        homes[major] = os.environ | env
    return homes


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def plugin_layout(scratch: Path) -> tuple[Path, Path]:
    """A folder shaped like an installed plugin, and its Python: what users run.

    The plugin's own bin/jhub-ck8s and bin/_python (copies), the code (links to this
    checkout), and a ``.plugin-venv`` like the one bin/install-plugin makes: a plain venv of
    the same interpreter whose site-packages names the developer venv's site-packages in a
    .pth line, so the pinned packages import but the developer venv's own .pth hooks (the
    editable install's finder, which costs every Python start tens of ms) never run. The
    code is compiled to bytecode first, as it is after a plugin's first run (an environment
    with PYTHONDONTWRITEBYTECODE would otherwise compile it from source on every run).
    """
    root = scratch / "plugin"
    (root / "bin").mkdir(parents=True)
    for name in ("jhub-ck8s", "_python"):
        shutil.copy2(REPO / "bin" / name, root / "bin" / name)
    for name in ("postrender.py", "jhub_ck8s", "transforms"):
        (root / name).symlink_to(REPO / name)
    venv = root / ".plugin-venv"
    base = getattr(sys, "_base_executable", None) or DEV_PY
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    site_packages = next(venv.glob("lib/python*/site-packages"))
    (site_packages / "jhub-ck8s-bench-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "compileall", "-q", *(str(REPO / n) for n in ("jhub_ck8s", "transforms", "postrender.py"))],
        check=True,
    )
    return root, python


def bench(run: Run, scratch: Path, helm3: Path, helm4: Path, kustomize: Path) -> None:
    args = run.args
    homes = helm_homes(scratch)
    helms = {"3": helm3, "4": helm4}
    plugin_root, python = plugin_layout(scratch)

    # The post-renderers: ours, the kustomize baseline, the floors, and one that records
    # what helm hands a post-renderer.
    ours_bin = plugin_root / "bin" / "jhub-ck8s"
    kscript = scratch / "kustomize-postrender.sh"  # a copy with the exec bit, whatever the checkout did
    shutil.copyfile(REPO / "bench" / "kustomize-postrender.sh", kscript)
    kscript.chmod(0o755)
    passthrough = executable(
        scratch / "passthrough.py", f"#!{python}\nimport sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())\n"
    )
    capture = executable(scratch / "capture.sh", '#!/bin/sh\ntee "$BENCH_CAPTURE"\n')
    cat = shutil.which("cat") or "/bin/cat"
    post = {
        "ours": {"3": str(ours_bin), "4": "jhub-ck8s-private"},
        "k": {"3": str(kscript), "4": "kustomize-images"},
        "cat": {"3": cat, "4": "cat"},
        "py": {"3": str(passthrough), "4": "py-passthrough"},
        "capture": {"3": str(capture), "4": "capture"},
    }
    for key, name in ((k, v["4"]) for k, v in post.items()):
        command = {"ours": ours_bin, "k": kscript, "cat": cat, "py": passthrough, "capture": capture}[key]
        plugin_dir = Path(homes["4"]["HELM_PLUGINS"]) / name
        plugin_dir.mkdir()
        (plugin_dir / "plugin.yaml").write_text(POSTRENDERER_PLUGIN.format(name=name, command=command))

    chart = chart_copy(scratch / "chart")

    def template(major: str, values: str | None, *extra: str) -> list[str]:
        cmd = [str(helms[major]), "template", *RELEASE, str(chart)]
        if values:
            cmd += ["-f", str(chart / f"values-{values}.yaml")]
        return cmd + list(extra)

    def helm_output(major: str, values: str | None, *extra: str, env: dict[str, str] | None = None) -> str:
        res = subprocess.run(
            template(major, values, *extra), capture_output=True, text=True, env=env or homes[major], check=False
        )
        if res.returncode:
            raise SystemExit(f"bench: helm{major} template failed: {res.stderr.strip()}")
        return res.stdout

    def captured(major: str, values: str | None) -> str:
        path = scratch / f"captured-{major}-{values}.yaml"
        helm_output(major, values, "--post-renderer", post["capture"][major], env=homes[major] | {"BENCH_CAPTURE": str(path)})
        return path.read_text(encoding="utf-8")

    # Inputs: our chart rendered, and what each Helm hands a post-renderer.
    renders = {"full": helm_output("3", "full"), "default": helm_output("3", None), "guide": helm_output("3", "guide")}
    releases = {"full4": captured("4", "full"), "full3": captured("3", "full"), "guide4": captured("4", "guide")}
    n_images, images_yaml = image_entries(renders["full"])
    images_file = scratch / "kustomize-images.yaml"
    images_file.write_text(images_yaml)
    kenv = {"BENCH_KUSTOMIZE": str(kustomize), "BENCH_KUSTOMIZE_IMAGES": str(images_file)}

    def stream(key: str, text: str) -> Path:
        d = scratch / f"stream-{key}"
        d.mkdir()
        (d / "stream.yaml").write_text(text, encoding="utf-8")
        (d / "kustomization.yaml").write_text("resources: [stream.yaml]\n" + image_entries(text)[1])
        return d / "stream.yaml"

    base = split_documents(renders["full"])
    one = next(doc for doc in base if re.search(r"^kind: Deployment", doc, re.M))
    run.inputs += [
        "The chart is `bench/chart/`, templated (helpers, values, loops, `toYaml`, checksums of other "
        "templates, the merged values base64-encoded into `Secret/hub`), with the kinds, names, labels, "
        "selectors, images, hooks and sizes of the upstream jupyterhub chart 4.4.0 (z2jh). "
        f"Release `jhub` in namespace `jhub`. `full` values (`bench/chart/values-full.yaml`): every feature on, "
        f"{count_docs(renders['full'])} documents with hooks, {size_mb(renders['full'])} from `helm template`. "
        f"`guide` values: {count_docs(renders['guide'])} documents, {size_mb(renders['guide'])}. "
        f"Chart defaults (`default`): {count_docs(renders['default'])} documents, {size_mb(renders['default'])}.",
        "`ConfigMap/hub` carries, as upstream does (`.Files.Get`), the chart's `files/hub/jupyterhub_config.py` "
        "and `z2jh.py`. For that upstream code, `bench.py` writes generated, deterministic Python-shaped "
        f"stand-ins of about the same size into its copy of the chart "
        f"({', '.join(f'{name} {size:,} bytes' for name, size in STAND_IN_FILES.items())}; "
        f"`STAND_IN_FILES`): `ConfigMap/hub` is {configmap_bytes(renders['full']):,} bytes, about 25 KB more "
        "than in the shared fixtures, where the two files are elided.",
    ]
    check = shape_check(renders)
    if check:
        run.inputs.append(check)
    run.inputs.append(
        "Release streams are captured at run time from a post-renderer that records its stdin: "
        f"the full release as Helm 4 passes it ({count_docs(releases['full4'])} documents, hooks included, "
        f"{size_mb(releases['full4'])}), as Helm 3 passes it ({count_docs(releases['full3'])}, no hooks, "
        f"{size_mb(releases['full3'])}), and the guide release as Helm 4 passes it "
        f"({count_docs(releases['guide4'])}, {size_mb(releases['guide4'])}). Scale streams are copies of the "
        "full `helm template` output with a `-cK` suffix on every `metadata.name`. The one-document stream is "
        f"`Deployment/hub`. The kustomize baseline renames {n_images} images of the full release."
    )
    if run_shared(args):
        run.inputs.append(
            "Shared-labels streams: copies of the `default` render with unique names but the chart's own labels, "
            "so every NetworkPolicy and PodDisruptionBudget of every copy selects the pods of all copies, "
            f"cut at the first copy boundary past {' and '.join(f'{s} MB' for s in args.shared_sizes)} "
            "(1 MB = 10^6 bytes)."
        )
    print(f"bench: scratch {scratch}", file=sys.stderr)
    expect_ours = REGISTRY + "/"
    ours_cmd = [str(python), str(plugin_root / "postrender.py"), *OURS_ARGS]

    # 1. Helm routes.
    for major in ("3", "4"):
        if f"helm{major}" not in args.groups:
            continue
        env = homes[major] | kenv
        ours_args = [a for arg in OURS_ARGS for a in ("--post-renderer-args", arg)]
        tmpl = template(major, "full")
        group = [
            run.add(f"h{major}", Case(f"helm{major} template (full)", tmpl, env=env, expect="kind: Deployment")),
            run.add(
                f"h{major}+cat",
                Case(f"helm{major} template + cat (floor)", [*tmpl, "--post-renderer", post["cat"][major]], env=env,
                     expect="kind: Deployment"),
            ),
            run.add(
                f"h{major}+py",
                Case(f"helm{major} template + Python pass-through (floor)",
                     [*tmpl, "--post-renderer", post["py"][major]], env=env, expect="kind: Deployment"),
            ),
            run.add(
                f"h{major}+ours",
                Case(f"helm{major} template + ours", [*tmpl, "--post-renderer", post["ours"][major], *ours_args],
                     env=env, expect=expect_ours),
            ),
            run.add(
                f"h{major}+k",
                Case(f"helm{major} template + kustomize (images only)", [*tmpl, "--post-renderer", post["k"][major]],
                     env=env, expect=expect_ours),
            ),
        ]
        measure(run, group, args.small_reps, scratch, f"helm {major}")

    # 2. Start-up.
    if "startup" in args.groups:
        one_doc = stream("1", "---\n" + one)
        group = [
            run.add("py", Case("python -c pass", [str(python), "-c", "pass"])),
            run.add("devpy", Case("python -c pass, developer .venv (editable install)", [DEV_PY, "-c", "pass"])),
            run.add("ours1", Case("ours, 1 document (python postrender.py)", ours_cmd, stdin=one_doc, expect=expect_ours)),
            run.add(
                "ours1bin",
                Case("ours, 1 document (bin/jhub-ck8s)", [str(ours_bin), *OURS_ARGS], stdin=one_doc, expect=expect_ours),
            ),
        ]
        measure(run, group, args.small_reps, scratch, "start-up")

    # 3. Releases, as Helm hands them to a post-renderer.
    if "release" in args.groups:
        labels = {"full4": "full release, Helm 4 input", "full3": "full release, Helm 3 input",
                  "guide4": "guide release, Helm 4 input"}
        for key, text in releases.items():
            path = stream(key, text)
            n = count_docs(text)
            group = [
                run.add(f"ours-{key}", Case(f"ours, {n} docs ({labels[key]})", ours_cmd, stdin=path, expect=expect_ours)),
                run.add(
                    f"py-{key}", Case(f"Python pass-through, {n} docs", [str(python), str(passthrough)], stdin=path, expect="kind:")
                ),
                run.add(f"yaml-{key}", Case(f"libyaml round trip, {n} docs", [str(python), "-c", ROUNDTRIP], stdin=path,
                                             expect="kind:")),
                run.add(
                    f"k-{key}",
                    Case(f"kustomize build (images only), {n} docs", [str(kustomize), "build", str(path.parent)],
                         expect=expect_ours),
                ),
            ]
            measure(run, group, args.small_reps, scratch, f"{n} documents ({labels[key]})")

    # 4. Scale.
    if "scale" in args.groups:
        for n in args.sizes:
            path = stream(f"scale{n}", copies(base, docs=n))
            group = [
                run.add(f"ours{n}", Case(f"ours, {n:,} docs", ours_cmd, stdin=path, expect=expect_ours)),
                run.add(f"yaml{n}", Case(f"libyaml round trip, {n:,} docs", [str(python), "-c", ROUNDTRIP], stdin=path,
                                         expect="kind:")),
            ]
            if n <= args.kustomize_max:
                group.append(
                    run.add(
                        f"k{n}",
                        Case(f"kustomize build (images only), {n:,} docs", [str(kustomize), "build", str(path.parent)],
                             expect=expect_ours),
                    )
                )
            measure(run, group, args.reps if n >= 10000 else args.small_reps, scratch, f"{n:,} documents",
                    warm_up=n < 10000)
            if n > args.kustomize_max and args.big:
                case = run.add(
                    f"k{n}",
                    Case(f"kustomize build (images only), {n:,} docs, once", [str(kustomize), "build", str(path.parent)]),
                )
                elapsed, rss, code, cpu = run_once(case)
                if code:
                    case.error = f"exit {code}"
                case.times.append(elapsed)
                case.rss.append(rss)
                case.cpu.append(cpu)
                print(f"  kustomize {n}: {elapsed:.0f} s", file=sys.stderr)
            elif n > args.kustomize_max:
                run.skipped.append(f"`kustomize build` at {n:,} documents (`make bench BIG=1`)")

    # 5. Shared labels.
    if run_shared(args):
        default_docs = split_documents(renders["default"])
        group = []
        for size in args.shared_sizes:
            text = copies(default_docs, size=size * MB)
            path = stream(f"shared{size}", text)
            label = f"{size} MB ({count_docs(text):,} docs)"
            group += [
                run.add(f"shared{size}", Case(f"ours, shared labels, {label}", ours_cmd, stdin=path, expect=expect_ours)),
                run.add(
                    f"yshared{size}",
                    Case(f"libyaml round trip, shared labels, {label}", [str(python), "-c", ROUNDTRIP], stdin=path, expect="kind:"),
                ),
            ]
        measure(run, group, args.shared_reps, scratch, "shared labels", warm_up=False)
    elif "shared" in args.groups:
        run.skipped.append(
            f"the shared-labels streams ({', '.join(f'{s} MB' for s in args.shared_sizes)}; "
            "`make bench SHARED=1` or `BIG=1`, several minutes)"
        )


if __name__ == "__main__":
    sys.exit(main())
