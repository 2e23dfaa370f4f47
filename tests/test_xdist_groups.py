"""The suite relies on `--dist=loadgroup` keeping each `xdist_group` on one worker (one graded
class per assignment, order-dependent module fixtures). Check it on a small suite run for real."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PROBE = '''
import os, time, pytest

@pytest.mark.parametrize("group", [pytest.param(g, marks=pytest.mark.xdist_group(g)) for g in "abc"])
@pytest.mark.parametrize("i", range(4))
def test_probe(group, i):
    time.sleep(0.05)
    with open(os.environ["PROBE_LOG"], "a") as log:
        log.write(f"{group} {os.environ['PYTEST_XDIST_WORKER']}\\n")
'''


def test_each_group_runs_on_one_worker(tmp_path):
    here = Path(__file__).parent
    shutil.copy2(here / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_probe.py").write_text(PROBE)
    log = tmp_path / "probe.log"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist=loadgroup", "-q", "-p",
                           "no:cacheprovider", "test_probe.py"], cwd=tmp_path, capture_output=True, text=True,
                          env=dict(os.environ, PROBE_LOG=str(log)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    workers: dict[str, set[str]] = {}
    for line in log.read_text().splitlines():
        group, worker = line.split()
        workers.setdefault(group, set()).add(worker)
    assert sorted(workers) == ["a", "b", "c"]
    split = {g: sorted(w) for g, w in workers.items() if len(w) > 1}
    assert not split, f"groups spread over several workers: {split}"
