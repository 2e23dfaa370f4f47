"""A kernel that dies before it runs anything is the machine's fault: the student is graded again."""
from __future__ import annotations

import json
import sys

import pytest

from helpers import instructor

pytestmark = pytest.mark.slow

# Dies on its first launch, before it could answer kernel_info; an ipykernel on every later one.
LAUNCHER = """\
import os, sys
log = sys.argv[1]
with open(log, "a") as f:
    f.write("launch\\n")
if open(log).read().count("launch") == 1:
    sys.exit(1)
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *sys.argv[2:]])
"""


def test_a_kernel_that_dies_at_start_is_retried(course_root, tmp_path, monkeypatch):
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (tmp_path / "launcher.py").write_text(LAUNCHER)
    launches = tmp_path / "launches.log"
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(tmp_path / "launcher.py"), str(launches), "-f", "{connection_file}"],
        "display_name": "Python 3 (dies once)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))   # searched before every other kernel folder

    # The sandbox shows a kernel nothing of tmp_path, where this kernel spec's launcher and its log live:
    # the retry is the grader's, whatever starts the kernel, so this one runs without it.
    report = instructor.grade_one(course_root / "solutions" / "a1_rnn_forward" / "rnn_forward.ipynb",
                                  "a1_rnn_forward", root=course_root, sandbox=False)

    assert launches.read_text().count("launch") == 2, "the kernel was started once more after it died"
    assert report["graded"], report["error"]
    auto = [c for c in report["cells"].values() if c["autograded"]]
    assert sum(c["score"] for c in auto) == sum(c["max_score"] for c in auto) > 0
