"""environment.yml (conda) and pyproject.toml (pip) list the same packages."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml


def _normalise(requirement: str) -> str:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", requirement).groups()
    name = re.sub(r"[-_.]+", "-", name).lower()
    return name + "".join(sorted(spec.replace(" ", "").split(",")))


def _pyproject(course_root):
    return tomllib.loads((course_root / "pyproject.toml").read_text())["project"]


def _conda(course_root):
    return yaml.safe_load((course_root / "environment.yml").read_text())


def test_pip_packages_agree(course_root):
    project = _pyproject(course_root)
    wanted = {_normalise(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    pip = next(d["pip"] for d in _conda(course_root)["dependencies"] if isinstance(d, dict))
    listed = {_normalise(r) for r in pip if not r.startswith("-")}
    assert listed == wanted, (f"only in environment.yml: {sorted(listed - wanted)}; "
                              f"only in pyproject.toml: {sorted(wanted - listed)}")
    assert "-e ." in pip, "environment.yml must install the course's own helpers package"


def test_python_versions_agree(course_root):
    conda_python = next(d for d in _conda(course_root)["dependencies"]
                        if isinstance(d, str) and d.startswith("python"))
    version = conda_python.split("=", 1)[1]
    floor = _pyproject(course_root)["requires-python"].removeprefix(">=")
    assert tuple(map(int, version.split("."))) >= tuple(map(int, floor.split("."))), \
        f"environment.yml pins python {version}, pyproject.toml requires >= {floor}"


def test_torch_is_the_cpu_build_pinned(course_root):
    assert "torch==2.13.0" in _pyproject(course_root)["dependencies"]
    pip = next(d["pip"] for d in _conda(course_root)["dependencies"] if isinstance(d, dict))
    assert any("download.pytorch.org/whl/cpu" in line for line in pip), \
        "environment.yml must take PyTorch from the CPU index"


def test_kit_py_needs_only_the_standard_library(course_root):
    # -S: no site-packages, as on a fresh machine before the environment exists.
    proc = subprocess.run([sys.executable, "-I", "-S", str(course_root / "kit.py"), "--help"],
                          capture_output=True, text=True, cwd=course_root)
    assert proc.returncode == 0, proc.stderr
    assert "python3 kit.py lab" in proc.stdout and "python3 kit.py test" in proc.stdout
