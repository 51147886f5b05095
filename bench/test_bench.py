"""Checks of the benchmark's own writer and inputs (not part of `make test`: run
`.venv/bin/python -m pytest bench/test_bench.py`). No tool is run: the cases are made up.

bench/RESULTS.md once had text cut into the middle of another sentence, because parts of
it were spliced together by hand; now bench.py writes the whole file, and these tests hold
the writer to whole sentences and well-formed tables.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench


def fake_run(argv: list[str]) -> bench.Run:
    run = bench.Run(bench.parse_args(argv))
    run.load = [0.5, 0.7]
    run.versions = ["v3.17.2", "v4.3.1", "kustomize v5.8.2"]
    run.inputs = ["The chart is a made-up one for this test.", "Release streams are made up too."]
    run.rounds = {"helm 3": 3}
    timings = {
        "h3": 0.10, "h3+ours": 0.20, "h3+k": 0.25, "h3+py": 0.15, "h3+cat": 0.11,
        "h4": 0.10, "h4+ours": 0.30, "h4+k": 0.35, "h4+py": 0.20, "h4+cat": 0.12,
        "py": 0.02, "ours1": 0.06, "ours1bin": 0.07,
        "ours-full4": 0.10, "py-full4": 0.03, "yaml-full4": 0.05, "k-full4": 0.20,
        "ours-guide4": 0.09, "k-guide4": 0.12,
        "ours1000": 0.6, "yaml1000": 0.55, "k1000": 3.0,
        "ours10000": 6.0, "yaml10000": 5.8,
        "shared25": 10.0, "shared50": 25.0,
    }
    for key, seconds in timings.items():
        case = run.add(key, bench.Case(key, ["true"]))
        case.times = [seconds, seconds * 1.1, seconds * 0.9]
        case.cpu = [seconds] * 3
        case.rss = [20_000] * 3
    run.add("broken", bench.Case("broken", ["false"], error="exit 1: what went wrong"))
    return run


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def test_every_paragraph_is_whole_sentences_or_a_table() -> None:
    text = bench.results_markdown(fake_run([]), "make bench", time.perf_counter())
    assert text.endswith("\n") and not text.endswith("\n\n")
    for paragraph in paragraphs(text):
        if paragraph.startswith("#"):
            assert "\n" not in paragraph, paragraph
        elif paragraph.startswith("|"):
            rows = paragraph.splitlines()
            widths = {row.count("|") for row in rows if not re.search(r"\\\|", row)}
            assert len(widths) == 1, f"rows of different widths: {paragraph[:200]}"
            assert re.fullmatch(r"\|(-+:?\|)+", rows[1]), rows[1]
        else:
            assert "\n" not in paragraph, f"a paragraph broken over lines: {paragraph[:200]}"
            assert paragraph.endswith((".", ":")), f"ends mid-sentence: ...{paragraph[-120:]}"
            # a sentence spliced into another starts with a capital after a lower-case letter
            assert not re.search(r"[a-z][A-Z][a-z]+ \d", paragraph), paragraph


def test_goals_report_misses_and_holds_with_their_targets() -> None:
    rows = bench.goals_table(fake_run(["--big"]))
    by_name = {row.split(" | ")[0].lstrip("| "): row for row in rows[2:]}
    helm4 = by_name["Helm 4: `helm template` + ours / + kustomize post-renderer (full release)"]
    assert "0.86x" in helm4 and "≤ 0.8x" in helm4 and "**misses** by 1.07x" in helm4
    floor = by_name["Ours minus Python pass-through, alone on the full release as Helm 4 passes it (40 docs)"]
    assert "70 ms" in floor and "**misses** by 30 ms" in floor
    shared = by_name["Shared labels: ours(50 MB) / ours(25 MB) time"]
    assert "2.50x" in shared and "≤ 2.2x" in shared and "**misses**" in shared
    assert "**holds**" in by_name["`kustomize build` / ours at 1,000 documents (ours faster by)"]


def test_goals_say_how_to_measure_what_a_default_run_skips() -> None:
    run = fake_run([])
    del run.cases["shared25"], run.cases["shared50"]
    rows = "\n".join(bench.goals_table(run))
    assert "| Shared labels: ours(50 MB) / ours(25 MB) time | — | ≤ 2.2x | not run (`make bench SHARED=1` or `BIG=1`) |" in rows


def test_results_file_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "RESULTS.md"
    target.write_text("old text that must not survive\n")
    bench.write_results(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["RESULTS.md"]


def test_stand_ins_are_deterministic_and_about_their_size() -> None:
    for name, size in bench.STAND_IN_FILES.items():
        text = bench.stand_in_python(name, size)
        assert text == bench.stand_in_python(name, size)
        assert size <= len(text.encode()) < size + 200


def test_copies_rename_objects_and_keep_labels() -> None:
    base = bench.split_documents(
        "---\n# Source: x/templates/a.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: hub\n"
        "  labels:\n    component: hub\nspec:\n  selector:\n    component: hub\n"
    )
    text = bench.copies(base, docs=3)
    assert [m for m in re.findall(r"^  name: (\S+)$", text, re.M)] == ["hub", "hub-c1", "hub-c2"]
    assert text.count("    component: hub\n") == 6
    sized = bench.copies(base, size=1000)
    assert len(sized.encode()) >= 1000 and sized.count("kind: Service") == len(re.findall("^---$", sized, re.M))
