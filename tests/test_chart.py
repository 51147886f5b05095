"""chart: reading the upstream chart's name and version from a folder or an archive."""

from __future__ import annotations

import tarfile

import pytest

from jhub_ck8s.chart import archive_info, chart_name, prepare
from jhub_ck8s.errors import UserError


def _archive(tmp_path, chart_yaml: str | None):
    folder = tmp_path / "src" / "jupyterhub"
    folder.mkdir(parents=True)
    if chart_yaml is not None:
        (folder / "Chart.yaml").write_text(chart_yaml)
    (folder / "values.yaml").write_text("{}\n")
    path = tmp_path / "jupyterhub-4.4.0.tgz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(folder, arcname="jupyterhub")
    return path, folder


def test_folder_and_archive_give_the_same_answer(tmp_path):
    path, folder = _archive(tmp_path, "name: jupyterhub\nversion: 4.4.0\n")
    assert archive_info(path) == archive_info(folder)
    assert archive_info(path).version == "4.4.0" and chart_name(folder) == "jupyterhub"


@pytest.mark.parametrize(
    ("chart_yaml", "message"),
    [(None, "no Chart.yaml at its top"), ("name: [\n", "Chart.yaml is not valid YAML"), ("- a\n", "Chart.yaml is not a mapping")],
)
def test_bad_archives_are_one_line_errors(tmp_path, chart_yaml, message):
    path, folder = _archive(tmp_path, chart_yaml)
    with pytest.raises(UserError, match=message):
        archive_info(path)
    assert chart_name(folder) == ""  # no readable chart: not the wrapper


def test_prepare_refuses_another_version(tmp_path):
    path, _ = _archive(tmp_path, "name: jupyterhub\nversion: 4.3.0\n")
    wrapper = tmp_path / "wrapper"
    wrapper.mkdir()
    (wrapper / "Chart.yaml").write_text("name: jupyterhub-ck8s\nversion: 0.1.0\n")
    with pytest.raises(UserError, match=r"holds jupyterhub 4\.3\.0, the wrapper chart pins 4\.4\.0"):
        prepare(wrapper, path, tmp_path / "work")
