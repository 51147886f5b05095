"""The acceptance test a person would run: a real browser, on the sandbox.

Everything the project promises ends in one moment: a user of a tenant's JupyterHub logs in and
gets a working notebook, on a platform that refuses anything unsafe. This module walks that
moment as a person does, in headless Chromium (Debian's ``chromium``, driven by Playwright from
PyPI with ``executable_path``: Playwright downloads no browser), against the release of
``test_workloads_spawn`` (the wrapper chart over the real upstream chart, through the
post-renderer, deployed by the plugin as the tenant; hub, proxy and user servers run by the
sandbox's stand-in kubelet; the same values: two profiles, the second with an option):

1. open ``/hub/login``, log in (dummy authenticator), see the profile form, pick the
   non-default profile and one of its options, start;
2. wait for JupyterLab, open a notebook, run a cell printing the user id, the group id,
   ``JUPYTERHUB_USER`` and ``JUPYTER_IMAGE_SPEC``: the page shows the pod's ``runAsUser`` and
   the profile's image relocated to the platform registry;
3. write a file in the home folder and read it back in a second cell;
4. stop the server from the hub's control panel: the pod is deleted, the server process ends;
5. negative control: the same journey on a release whose hub reads the values rendered WITHOUT
   the post-renderer ends on the hub's spawn error page, showing the Pod Security refusal.

Every step leaves a screenshot in ``test-screenshots/browser/`` (git ignores it); when a step
fails, its screenshot is taken and every path is printed. Needs what ``test_workloads_spawn``
needs plus ``make browser`` (part of ``make setup``); each missing piece skips with the reason.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, TOOLS
from test_e2e_helm import e2e_plugin  # noqa: F401 (a fixture the release needs)
from test_workloads_spawn import (  # noqa: F401 (world, release: fixtures)
    REGISTRY,
    Release,
    _singleuser,
    raw_release,
    release,
    wait_for,
    world,
)

pytestmark = pytest.mark.browser

SHOTS = REPO / "test-screenshots" / "browser"
TIMEOUT_MS = 90_000  # one page handshake: a spawn, JupyterLab's first load, a kernel's first start
PROFILE_IMAGE = f"{REGISTRY}/jupyter/r-notebook:r-4.3.1"  # profile "R", option "R 4.3" (test_workloads_spawn)


def _chromium() -> str | None:
    return shutil.which("chromium")


def _missing() -> str | None:
    if _chromium() is None:
        return "Debian's chromium is not installed: run make setup (make setup-debian; apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed in this venv: run make browser (part of make setup)"
    for path in (TOOLS / "hub-venv" / "bin" / "jupyter-lab", TOOLS / "hub-venv" / "share" / "jupyter" / "kernels" / "python3"):
        if not path.exists():
            return f"{path} not installed (JupyterLab and ipykernel for the user servers): run make sandbox-programs"
    return None


# --- screenshots --------------------------------------------------------------------------------


@dataclass
class Shots:
    """A screenshot of every step; on a failure, one more and the list of them all."""

    folder: Path
    paths: list[Path] = field(default_factory=list)

    def take(self, page: Any, name: str) -> Path:
        path = self.folder / f"{len(self.paths) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.paths.append(path)
        return path

    @contextlib.contextmanager
    def step(self, page: Any, name: str) -> Iterator[None]:
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self.take(page, f"{name}-FAILED")
            print(f"\nscreenshots of the browser journey, the last at the failure of step {name!r}:\n"
                  + "\n".join(f"  {p}" for p in self.paths))
            raise
        self.take(page, name)


@pytest.fixture(scope="module")
def browser(request) -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright (no browser of Playwright's own)."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    assert executable is not None
    version = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=60, check=False)
    said = (f"browser: {version.stdout.strip() or version.stderr.strip()} ({executable}), "
            f"driven by playwright {metadata.version('playwright')}")
    print(said)
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # shown even when output is captured
            reporter.write_line(f"\n{said}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def shots() -> Shots:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return Shots(SHOTS)


@dataclass
class Journey:
    """One person's visit: a browser context of its own (cookies), one page."""

    release: Release
    user: str
    page: Any
    pod: dict[str, Any] = field(default_factory=dict)
    server: Any = None  # the jupyterhub-singleuser process (test_workloads_spawn.Proc)

    @property
    def url(self) -> str:
        return self.release.proxy_url


@contextlib.contextmanager
def visit(browser: Any, hub: Release, user: str) -> Iterator[Journey]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield Journey(hub, user, context.new_page())
    finally:
        context.close()


@pytest.fixture(scope="module")
def dora(browser, release) -> Iterator[Journey]:  # noqa: F811
    with visit(browser, release, "dora") as journey:
        yield journey


def log_in_and_pick(journey: Journey, shots: Shots, prefix: str) -> None:
    """Steps a person takes from the login page to pressing Start: profile "R", "R 4.3"."""
    page = journey.page
    with shots.step(page, f"{prefix}login"):
        page.goto(f"{journey.url}/hub/login")
        page.get_by_label("Username").fill(journey.user)
        page.get_by_label("Password").fill("anything")  # the dummy authenticator takes any password
    with shots.step(page, f"{prefix}profile-form"):
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/hub/spawn(/|$|\?)"))
        form = page.locator("#kubespawner-profiles-list")
        assert form.get_by_role("heading").all_inner_texts() == ["Data science", "R"]
        assert page.locator("#profile-item-scipy").is_checked(), "the default profile is not preselected"
    with shots.step(page, f"{prefix}profile-picked"):
        form.get_by_role("heading", name="R", exact=True).click()
        # (KubeSpawner's form labels the select "R version" for an id it never gives it)
        version = form.get_by_role("combobox").filter(has_text="R 4.3")
        assert form.get_by_text("R version", exact=True).is_visible()
        version.select_option(label="R 4.3")
        assert page.locator("#profile-item-r").is_checked()
        assert version.input_value() == "r43"


def run_cell(page: Any, code: str, index: int, last: str) -> str:
    """Type ``code`` into the notebook's cell ``index`` (the active one), run it, and return its
    output once the cell is done ("[n]", no longer "[*]") and shows ``last`` (what its last
    print starts with)."""
    cell = page.locator(".jp-Notebook .jp-CodeCell").nth(index)
    cell.locator(".cm-content").click()
    page.keyboard.insert_text(code)  # as pasted: no auto-indent, no auto-closed brackets
    page.keyboard.press("Shift+Enter")
    cell.locator(".jp-InputArea-prompt", has_text=re.compile(r"\[\d+\]")).wait_for()
    output = cell.locator(".jp-OutputArea-output").filter(has_text=last)
    output.wait_for()
    return output.inner_text()  # type: ignore[no-any-return]


def test_log_in_and_pick_a_profile_with_an_option(world, release, dora, shots):  # noqa: F811
    log_in_and_pick(dora, shots, "")
    with shots.step(dora.page, "jupyterlab"):
        dora.page.get_by_role("button", name="Start").click()
        # the hub's spawn page, then JupyterLab's launcher through the proxy
        dora.page.wait_for_url(re.compile(rf"/user/{dora.user}/lab"))
        dora.page.locator(".jp-LauncherCard[data-category='Notebook']").first.wait_for()
    answer = world.cluster.admin_api.get("v1", "Pod", f"jupyter-{dora.user}", release.namespace)
    assert answer.ok, answer.describe()
    dora.pod = answer.body
    assert dora.pod["spec"]["containers"][0]["image"] == PROFILE_IMAGE


def test_jupyterlab_runs_a_cell_as_the_pods_user(world, release, dora, shots):  # noqa: F811
    if not dora.pod:
        pytest.skip("needs JupyterLab of the test above")
    page = dora.page
    with shots.step(page, "notebook"):
        page.locator(".jp-LauncherCard[data-category='Notebook']").first.click()
        page.locator(".jp-Notebook .jp-CodeCell .cm-content").first.wait_for()
        # the kernel's handshake: JupyterLab does not run a cell while the kernel is "initializing";
        # the status bar says "Idle" once it has started and connected
        page.get_by_text("Python 3 (ipykernel) | Idle", exact=True).wait_for()
    with shots.step(page, "cell-output"):
        text = run_cell(page, 'import os\n'
                              'print("uid", os.getuid(), "gid", os.getgid())\n'
                              'print("JUPYTERHUB_USER", os.environ["JUPYTERHUB_USER"])\n'
                              'print("JUPYTER_IMAGE_SPEC", os.environ["JUPYTER_IMAGE_SPEC"])', 0, "JUPYTER_IMAGE_SPEC")
    pod = dora.pod
    container = next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")
    security = {**(pod["spec"].get("securityContext") or {}), **(container.get("securityContext") or {})}
    server = _singleuser(pod)
    gid = int(server.status("Gid")[1])  # the pod's runAsGroup, or the image's group when it sets none
    assert gid == security.get("runAsGroup", gid)
    lines = text.splitlines()
    assert f"uid {security['runAsUser']} gid {gid}" in lines, text
    assert f"JUPYTERHUB_USER {dora.user}" in lines, text
    assert f"JUPYTER_IMAGE_SPEC {PROFILE_IMAGE}" in lines, text
    dora.server = server


def test_a_file_written_in_home_is_read_back(world, release, dora, shots):  # noqa: F811
    if dora.server is None:
        pytest.skip("needs the notebook of the test above")
    page, token = dora.page, uuid.uuid4().hex
    with shots.step(page, "file-written"):
        written = run_cell(page, 'from pathlib import Path; note = Path.home() / "note.txt"; '
                                 f'print(note, note.write_text("{token}"))', 1, "/")
        assert written.strip() == f"/home/jovyan/note.txt {len(token)}", written
    with shots.step(page, "file-read"):
        read = run_cell(page, 'print("read back:", Path("/home/jovyan/note.txt").read_text())', 2, "read back:")
        assert read.strip() == f"read back: {token}", read
    # and it is in the pod's home as the server sees it (its own mount namespace)
    assert dora.server.read("/home/jovyan/note.txt").decode() == token


def test_stop_the_server_from_the_control_panel(world, release, dora, shots):  # noqa: F811
    if dora.server is None:
        pytest.skip("needs the notebook of the tests above")
    page = dora.page
    with shots.step(page, "control-panel"):
        page.goto(f"{dora.url}/hub/home")
        page.get_by_role("button", name="Stop My Server").wait_for()
    with shots.step(page, "server-stopped"):
        page.get_by_role("button", name="Stop My Server").click()
        page.get_by_role("button", name="Start My Server").wait_for()
    wait_for(f"{dora.user}'s server process to end", lambda: not Path(f"/proc/{dora.server.pid}").exists(), world.alive)
    wait_for(f"{dora.user}'s pod to be gone", lambda: world.cluster.admin_api.get(
        "v1", "Pod", f"jupyter-{dora.user}", release.namespace).status == 404, world.alive)


def assert_refusal(text: str) -> None:
    """What a person reads: the spawn failed, and the API server's Pod Security refusal (the
    hub shows the API server's JSON answer, its quotes escaped)."""
    plain = text.replace('\\"', '"')
    assert "Spawn failed" in plain, text[-3000:]
    assert 'pods "jupyter-erin" is forbidden: violates PodSecurity "restricted:latest"' in plain, text[-3000:]
    assert 'privileged (container "block-cloud-metadata" must not set securityContext.privileged=true)' in plain, \
        text[-3000:]


def test_without_the_post_renderer_the_spawn_error_page_shows_the_refusal(world, release, browser, shots):  # noqa: F811
    """Negative control: the hub of a release rendered WITHOUT the post-renderer; a person
    picks the same profile and reads the Pod Security refusal on the hub's page."""
    raw = raw_release(world)
    with visit(browser, raw, "erin") as journey:
        log_in_and_pick(journey, shots, "raw-")
        page = journey.page
        with shots.step(page, "raw-spawn-failed"):
            page.get_by_role("button", name="Start").click()
            # the spawn page turns its progress bar red and shows the failure and the event log
            # (reloaded, it says only "Spawn failed" and offers to relaunch)
            page.get_by_text("violates PodSecurity").first.wait_for()
            assert_refusal(page.locator("body").inner_text())
    assert world.cluster.admin_api.get("v1", "Pod", "jupyter-erin", raw.namespace).status == 404

