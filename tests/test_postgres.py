"""A PostgreSQL gradebook works: a real server, started here on 127.0.0.1, and `rnn-kit grade --db-url`.

The server binaries come from Debian's `postgresql` package (.ci/run installs it);
without them this test fails, it is not skipped. As root, the server runs as the
`postgres` user (PostgreSQL refuses to run as root).
"""
from __future__ import annotations

import csv
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from submissions import autograded_points, fill_release, solution_sources, write_submission

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("postgres")]

A1 = "a1_rnn_forward"
INTRUDER = """import socket
try:
    import psycopg2
    conn = psycopg2.connect(host="127.0.0.1", port={port}, user="kit", dbname="gradebook", connect_timeout=3)
    conn.cursor().execute("UPDATE grade SET manual_score = 0")
    conn.commit()
    print("ZEROED")
except Exception as err:
    print("no gradebook:", type(err).__name__, err)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    import psycopg2

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        pytest.fail("no PostgreSQL server under /usr/lib/postgresql/*/bin: install it with "
                    "`apt-get install -y postgresql` (.ci/run does)")
    bindir = Path(found[-1]).parent
    data = Path(tempfile.mkdtemp(prefix="rnn-kit-pg-"))   # in /tmp: reachable by the postgres user
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(data, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_user, bindir / "initdb", "-D", data / "db", "-U", "kit", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    port = _free_port()
    log = open(data / "server.log", "w")
    server = subprocess.Popen([*as_user, bindir / "postgres", "-D", data / "db", "-h", "127.0.0.1", "-p", str(port),
                               "-k", data, "-c", "fsync=off"], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=port, user="kit", dbname="postgres")
                break
            except psycopg2.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"PostgreSQL did not start: {(data / 'server.log').read_text()[-2000:]}")
                time.sleep(0.3)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE gradebook")
        conn.close()
        yield f"postgresql+psycopg2://kit@127.0.0.1:{port}/gradebook"
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


def test_grading_into_a_postgresql_gradebook(course_root, tmp_path, postgres_url):
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(course_root / "nbgrader_config.py", course)
    shutil.copytree(course_root / "solutions" / A1, course / "solutions" / A1)
    release = course_root / "notebooks" / A1 / "rnn_forward.ipynb"
    sources = solution_sources(course_root / "solutions" / A1 / "rnn_forward.ipynb")
    write_submission(tmp_path / "class", "alice", A1, "rnn_forward", fill_release(release, sources))
    write_submission(tmp_path / "class", "bob", A1, "rnn_forward", fill_release(release, None))
    # Mallory knows where the gradebook listens and tries to zero everyone's grades.
    port = int(postgres_url.rsplit(":", 1)[1].split("/")[0])
    intrude = INTRUDER.format(port=port) + sources["one_hot"]
    write_submission(tmp_path / "class", "mallory", A1, "rnn_forward",
                     fill_release(release, {**sources, "one_hot": intrude}))
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([sys.executable, "-m", "helpers.instructor", "grade", str(tmp_path / "class"), "-a", A1,
                           "--jobs", "2", "--db-url", postgres_url, "--csv", str(tmp_path / "grades.csv"),
                           "--course", str(course)], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "graded 3 of 3 submissions" in proc.stdout
    with open(tmp_path / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(handle)}
    full = autograded_points(course_root / "solutions" / A1 / "rnn_forward.ipynb")
    assert rows == {"alice": full, "bob": 0.0, "mallory": full}
    with Gradebook(postgres_url) as gb:   # the grades live in PostgreSQL ...
        assert gb.find_submission(A1, "alice").score == full
        assert {s.id for s in gb.students} == {"alice", "bob", "mallory"}
        assert all(g.manual_score is None for g in gb.find_submission_notebook("rnn_forward", A1, "alice").grades)
    printed = "".join(str(o.get("text", "")) for c in nbformat.read(
        course / "grading" / "autograded" / "mallory" / A1 / "rnn_forward.ipynb", as_version=4).cells
        if c.cell_type == "code" for o in c.outputs)
    assert "no gradebook:" in printed and "ZEROED" not in printed, printed[-2000:]
    assert not (course / "grading" / "gradebook.db").exists(), "... and no SQLite gradebook was made"
