"""Start-up shortcuts of the post-renderer keep their promises."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO

PYYAML_NON_PRINTABLE = "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]"


def test_the_spared_pyyaml_pattern_matches_exactly_the_same_characters():
    import yaml.reader

    import jhub_ck8s  # noqa: F401 -- seeds the pattern before yaml is imported (here: already was)

    ours = re.compile(
        "[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uD800-\uDFFF\uFFFE\uFFFF]"
    )
    theirs = re.compile(PYYAML_NON_PRINTABLE + "|(?!)")  # a different cache key: really compiled
    everything = "".join(map(chr, range(0x110000)))
    assert [m.start() for m in ours.finditer(everything)] == [m.start() for m in theirs.finditer(everything)]
    assert yaml.reader.Reader.NON_PRINTABLE.pattern in (PYYAML_NON_PRINTABLE, ours.pattern)


def test_a_fresh_post_renderer_process_uses_the_small_pattern_and_still_parses():
    code = (
        "import jhub_ck8s, yaml, yaml.reader, sys; "
        "assert yaml.reader.Reader.NON_PRINTABLE.pattern.startswith(chr(91) + chr(0)); "
        "assert yaml.load('a: b', Loader=yaml.SafeLoader) == {'a': 'b'}; "
        "bad = 'a: ' + chr(7)\n"
        "try:\n    yaml.load(bad, Loader=yaml.SafeLoader)\nexcept yaml.reader.ReaderError:\n    sys.exit(0)\n"
        "sys.exit(1)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_the_post_renderer_never_imports_dataclasses_or_argparse_for_a_run():
    """The modules a run needs stay light (a NamedTuple costs a tenth of a dataclass)."""
    code = (
        "import sys, io; sys.stdin = io.TextIOWrapper(io.BytesIO(b'kind: ConfigMap\\nmetadata: {name: a}\\n')); "
        "sys.stdout = io.StringIO(); sys.stderr = io.StringIO(); "
        "from jhub_ck8s.postrenderer import main; code = main(['-q']); "
        "heavy = [m for m in ('dataclasses', 'inspect', 'argparse', 'shutil', 'hashlib') if m in sys.modules]; "
        "sys.__stdout__.write(repr((code, heavy)))"
    )
    done = subprocess.run([sys.executable, "-S", "-c", code], cwd=REPO, capture_output=True, text=True, check=False,
                          env={"PYTHONPATH": f"{REPO}:{':'.join(p for p in sys.path if 'site-packages' in p)}"})
    assert done.stdout == "(0, [])", done.stderr


def test_a_plain_run_never_compiles_the_patterns_only_some_settings_need():
    """Regexes for pull-secret names and digests are compiled on first use, not at import."""
    code = (
        "import sys, io, re; sys.stdin = io.TextIOWrapper(io.BytesIO("
        "b'kind: Pod\\nmetadata: {name: a}\\nspec: {containers: [{name: c, image: \"a.b/c:1\"}]}\\n')); "
        "sys.stdout = io.StringIO(); sys.stderr = io.StringIO(); "
        "from jhub_ck8s.postrenderer import main; code = main(['-q', '--registry=h.example/p', '--mode=warn']); "
        "from jhub_ck8s import imageref, settings; "
        "compiled = {key[1] for key in re._cache}; "
        "sys.__stdout__.write(repr((code, [p for p in (settings._DNS1123, imageref._DIGEST) if p in compiled])))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.stdout == "(0, [])", done.stderr


def test_the_lazy_patterns_still_refuse_what_they_refused():
    from jhub_ck8s.errors import SettingsError
    from jhub_ck8s.imageref import ImageRefError, parse
    from jhub_ck8s.settings import read_layer

    assert parse("a.b/c@sha256:" + "0" * 64).digest == "sha256:" + "0" * 64
    try:
        parse("a.b/c@sha256:xyz")
    except ImageRefError:
        pass
    else:
        raise AssertionError("a bad digest was accepted")
    assert read_layer({"pullSecret": "pull-1"}, "t")["pull_secret"] == "pull-1"
    try:
        read_layer({"pullSecret": "Not_A_Name"}, "t")
    except SettingsError:
        pass
    else:
        raise AssertionError("a bad pull secret name was accepted")
