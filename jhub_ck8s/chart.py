"""Finding the chart to render: the wrapper chart plus the upstream jupyterhub chart.

The wrapper chart depends on ``jupyterhub`` ``UPSTREAM_VERSION`` from ``UPSTREAM_REPOSITORY``
(the pin is written in ``wrapper-chart/Chart.yaml``, where Helm reads it; a test ties the two).
Offline, that dependency comes from a local archive or unpacked chart folder
(``--chart-archive`` or ``$JUPYTERHUB_CHART``): the wrapper chart is copied to a work
folder with it vendored under ``charts/``, which Helm renders without any network. The user's
checkout is never modified.
"""

from __future__ import annotations

import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UserError

if TYPE_CHECKING:
    from . import helm as helm_module

UPSTREAM_NAME = "jupyterhub"
UPSTREAM_VERSION = "4.4.0"
UPSTREAM_REPOSITORY = "https://hub.jupyter.org/helm-chart/"
ARCHIVE_ENV = "JUPYTERHUB_CHART"
WRAPPER_DIR = "wrapper-chart"


@dataclass(frozen=True)
class ChartInfo:
    name: str
    version: str


def _chart_yaml_text(path: Path) -> str:
    """The text of Chart.yaml at the top of a chart folder or archive; UserError if there is none."""
    from .inputs import decode, read_text

    if path.is_dir():
        if not (path / "Chart.yaml").is_file():
            raise UserError(f"{path}: not a Helm chart folder (no Chart.yaml)")
        return read_text(str(path / "Chart.yaml"))
    try:
        with tarfile.open(path, "r:gz") as archive:
            member = next(
                (m for m in archive.getmembers() if m.name.count("/") == 1 and m.name.endswith("/Chart.yaml")),
                None,
            )
            handle = archive.extractfile(member) if member is not None else None
            if member is None or handle is None:
                raise UserError(f"{path}: not a Helm chart archive (no Chart.yaml at its top)")
            data = handle.read()
    except (OSError, tarfile.TarError) as exc:
        raise UserError(f"{path}: cannot read the chart archive ({exc})") from None
    return decode(data, f"{path}: {member.name}")


def archive_info(path: Path) -> ChartInfo:
    """Name and version from a chart archive's (or folder's) Chart.yaml; UserError if it is not one."""
    from .documents import load_yaml

    text = _chart_yaml_text(path)
    try:
        meta = load_yaml(text)
    except Exception:  # any YAML error
        raise UserError(f"{path}: Chart.yaml is not valid YAML") from None
    if not isinstance(meta, dict):
        raise UserError(f"{path}: Chart.yaml is not a mapping")
    return ChartInfo(str(meta.get("name")), str(meta.get("version")))


def prepare(chart: Path, archive: Path | None, workdir: Path) -> Path:
    """The chart folder to hand to helm, with the upstream dependency in place.

    ``chart`` is the wrapper chart (or the user's own chart). With ``archive``, a copy
    is made with the archive vendored; without, the chart is used as it is and helm
    reports a missing dependency itself (see ``missing_dependency_message``).
    """
    if not chart.is_dir():
        raise UserError(f"chart {chart}: no such folder")
    if archive is None:
        return chart
    if not archive.exists():
        raise UserError(f"--chart-archive {archive}: no such file or folder")
    info = archive_info(archive)
    if info.name != UPSTREAM_NAME:
        raise UserError(f"--chart-archive {archive}: holds chart {info.name!r}, expected {UPSTREAM_NAME!r}")
    if info.version != UPSTREAM_VERSION:
        raise UserError(
            f"--chart-archive {archive}: holds {UPSTREAM_NAME} {info.version}, the wrapper chart pins "
            f"{UPSTREAM_VERSION}; download jupyterhub-{UPSTREAM_VERSION}.tgz"
        )
    copy = workdir / "chart" / chart.name
    shutil.copytree(chart, copy, ignore=shutil.ignore_patterns("charts"))
    (copy / "charts").mkdir()
    if archive.is_dir():  # an unpacked chart works as well as the archive
        shutil.copytree(archive, copy / "charts" / UPSTREAM_NAME)
    else:
        shutil.copy2(archive, copy / "charts" / f"{UPSTREAM_NAME}-{UPSTREAM_VERSION}.tgz")
    return copy


def fetch_upstream(helm: helm_module.Helm, workdir: Path) -> Path | None:
    """Pull the pinned upstream archive from its repository; None when it cannot be reached."""
    target = workdir / "pulled"
    target.mkdir(parents=True, exist_ok=True)
    result = helm.run(
        ["pull", UPSTREAM_NAME, "--repo", UPSTREAM_REPOSITORY, "--version", UPSTREAM_VERSION, "-d", str(target)],
        capture=True,
    )
    archive = target / f"{UPSTREAM_NAME}-{UPSTREAM_VERSION}.tgz"
    return archive if result.returncode == 0 and archive.is_file() else None


def chart_name(chart: Path) -> str:
    """The chart's name, or "" when the folder holds no readable chart."""
    try:
        return archive_info(chart).name
    except UserError:
        return ""


def has_dependency(chart: Path) -> bool:
    charts = chart / "charts"
    return (charts / UPSTREAM_NAME).is_dir() or any(charts.glob(f"{UPSTREAM_NAME}-*.tgz"))


def missing_dependency_message() -> str:
    return (
        f"the upstream chart {UPSTREAM_NAME} {UPSTREAM_VERSION} is not available: "
        f"{UPSTREAM_REPOSITORY} cannot be reached and no local archive was given; download "
        f"{UPSTREAM_NAME}-{UPSTREAM_VERSION}.tgz where it can be reached (helm pull {UPSTREAM_NAME} "
        f"--repo {UPSTREAM_REPOSITORY} --version {UPSTREAM_VERSION}) and pass --chart-archive FILE "
        f"or set {ARCHIVE_ENV}=FILE"
    )
