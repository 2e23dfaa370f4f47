"""The instructor commands refuse bad input with a clear message and lose nothing."""
from __future__ import annotations

import subprocess
import sys

import pytest

from helpers import instructor

A1 = "a1_rnn_forward"


def test_assignments_are_the_solution_folders(course_root):
    assert A1 in instructor.assignments(course_root)
    assert instructor.expected_prefix(A1) == "a1"


def test_unknown_assignment_lists_the_known_ones(tmp_path):
    with pytest.raises(instructor.GradingError, match=r"unknown assignment 'a9_nothing'.*a1_rnn_forward"):
        instructor.grade(tmp_path, "a9_nothing")


def test_missing_submissions_folder(tmp_path):
    with pytest.raises(instructor.GradingError, match=r"does not exist.*one sub-folder per student"):
        instructor.grade(tmp_path / "nowhere", A1)


def test_folder_without_notebooks_names_the_expected_layout(tmp_path, capsys):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "notes.txt").write_text("no notebook here")
    with pytest.raises(instructor.GradingError, match=r"no submissions for a1_rnn_forward.*rnn_forward\.ipynb"):
        instructor.grade(tmp_path, A1)
    assert "alice submitted no notebook named rnn_forward.ipynb" in capsys.readouterr().err


def test_both_submission_layouts_are_found(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "rnn_forward.ipynb").write_text("{}")
    (tmp_path / "bob" / A1).mkdir(parents=True)
    (tmp_path / "bob" / A1 / "rnn_forward.ipynb").write_text("{}")
    found = instructor.find_submissions(tmp_path, A1, ["rnn_forward"])
    assert found == {"alice": {"rnn_forward": tmp_path / "alice" / "rnn_forward.ipynb"},
                     "bob": {"rnn_forward": tmp_path / "bob" / A1 / "rnn_forward.ipynb"}}


@pytest.mark.slow
def test_failed_export_keeps_the_previous_csv(course_root, tmp_path):
    grades = tmp_path / "grades.csv"
    grades.write_text("student_id,raw_score\nalice,20\n")
    bad_db = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'gradebook.db'}"
    with pytest.raises(instructor.GradingError, match="export failed"):
        instructor.export_csv(course_root, bad_db, grades)
    assert grades.read_text() == "student_id,raw_score\nalice,20\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades.csv"], "a temporary file was left behind"


def test_cli_reports_errors_without_a_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "helpers.instructor", "grade", str(tmp_path / "nowhere"),
                           "-a", A1], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "rnn-kit: submissions folder" in proc.stderr and "Traceback" not in proc.stderr


# Naming conventions of `import` (fast: no nbgrader) -------------------------------------------

def _touch(path, text="{}"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_lms_names_give_student_ids(tmp_path):
    for name in ("smithalice_12345_67890_rnn_forward.ipynb", "jones.b_LATE_2_3_rnn_forward-2.ipynb",
                 "Zoë Müller_1001_assignsubmission_file_rnn_forward (1).ipynb",
                 "李白_1002_assignsubmission_file_homework.ipynb", "dan@uni.edu_anything.ipynb"):
        _touch(tmp_path / name)
    _touch(tmp_path / "Carol Smith_1003_assignsubmission_file_" / "my work.ipynb")
    _touch(tmp_path / "Carol Smith_1003_assignsubmission_onlinetext_" / "onlinetext.html")
    _touch(tmp_path / "eve" / "notes.txt")
    _touch(tmp_path / "report.pdf")
    scan = instructor.scan_submissions(tmp_path, A1, ["rnn_forward"])
    assert sorted(scan.found) == ["carol-smith", "dan@uni.edu", "jones.b", "moodle-1002", "smithalice",
                                  "zoe-muller"]
    assert all(list(files) == ["rnn_forward"] for files in scan.found.values())
    assert scan.missing == ["eve"]
    assert scan.warnings == ["ignored report.pdf: not a notebook or a student folder"]


def test_several_notebooks_need_their_names(tmp_path):
    _touch(tmp_path / "alice_12_part1_forward.ipynb")
    _touch(tmp_path / "alice_12_part2_loss-1.ipynb")
    _touch(tmp_path / "bob" / "part2_loss.ipynb")
    _touch(tmp_path / "carl_homework.ipynb")
    with pytest.raises(instructor.GradingError) as err:
        instructor.scan_submissions(tmp_path, A1, ["part1_forward", "part2_loss"])
    assert "carl_homework.ipynb: which notebook is it? The name must end with part1_forward.ipynb or " \
           "part2_loss.ipynb" in str(err.value)
    (tmp_path / "carl_homework.ipynb").unlink()
    scan = instructor.scan_submissions(tmp_path, A1, ["part1_forward", "part2_loss"])
    assert {s: sorted(f) for s, f in scan.found.items()} == {"alice": ["part1_forward", "part2_loss"],
                                                            "bob": ["part2_loss"]}


def test_symbolic_links_are_refused_before_anything_is_imported(tmp_path, course_root):
    """A link unpacked from a student's archive would make the import copy whatever it points at."""
    solution = course_root / "solutions" / A1 / "rnn_forward.ipynb"
    subs = tmp_path / "class"
    _touch(subs / "bob" / "rnn_forward.ipynb")
    (subs / "alice").mkdir()
    (subs / "alice" / "rnn_forward.ipynb").symlink_to(solution)
    (subs / "carol_rnn_forward.ipynb").symlink_to(solution)
    (subs / "dave").symlink_to(solution.parent, target_is_directory=True)
    with pytest.raises(instructor.GradingError) as err:
        instructor.scan_submissions(subs, A1, ["rnn_forward"])
    for where in ("alice/rnn_forward.ipynb: a symbolic link", "carol_rnn_forward.ipynb: a symbolic link",
                  "dave: a symbolic link"):
        assert where in str(err.value)


def test_two_moodle_students_with_one_name_are_refused(tmp_path):
    _touch(tmp_path / "Ann Lee_1_assignsubmission_file_rnn_forward.ipynb")
    _touch(tmp_path / "Ann Lee_2_assignsubmission_file_rnn_forward.ipynb")
    with pytest.raises(instructor.GradingError, match="both ann-lee's rnn_forward.ipynb; keep one"):
        instructor.scan_submissions(tmp_path, A1, ["rnn_forward"])


def test_a_student_folder_never_lends_another_assignments_notebook(tmp_path, course_root):
    others = [a for a in instructor.assignments(course_root) if a != A1]
    if not others:
        pytest.skip("only one assignment in the course")
    _touch(tmp_path / "alice" / others[0] / "work.ipynb")
    scan = instructor.scan_submissions(tmp_path, A1, ["rnn_forward"])
    assert scan.found == {} and scan.missing == ["alice"]


# The kit's nbgrader preprocessors on their own ------------------------------------------------

def test_hidden_tests_leave_the_feedback_but_the_failure_message_stays():
    import nbformat

    from helpers.grading_preprocessors import HideHiddenTests

    source = ('check_true("visible", True)\n### BEGIN HIDDEN TESTS\n_x = secret_input(42)\n'
              'assert _x == 3, "the answer is wrong for a secret input"\n### END HIDDEN TESTS')
    tb = ["\x1b[31mAssertionError\x1b[39m                 Traceback (most recent call last)",
          "Cell \x1b[32mIn[7], line 4\x1b[39m\n\x1b[32m      2\x1b[39m _x = secret_input(42)\n"
          "\x1b[32m----> 4\x1b[39m \x1b[38;5;28;01massert\x1b[39;00m _x == 3, "
          "\x1b[33m\"the answer is wrong for a secret input\"\x1b[39m\n      ^^^^^^^",
          "\x1b[31mAssertionError\x1b[39m: the answer is wrong for a secret input"]
    cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 1,
                                                                    "solution": False, "locked": True}})
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="x.py:2: RuntimeWarning: overflow\n"
                                           "  _x = secret_input(42)\n"),
                    nbformat.v4.new_output("error", ename="AssertionError",
                                           evalue="the answer is wrong for a secret input", traceback=tb)]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = HideHiddenTests().preprocess(nb, {})
    shown = nb.cells[0].source + "".join(o.get("text", "") + "".join(o.get("traceback", []))
                                         for o in nb.cells[0].outputs)
    assert "secret_input" not in shown and "assert _x == 3" not in shown and "^^^^" not in shown
    assert nb.cells[0].source == 'check_true("visible", True)\n# (hidden tests: not shown)'
    assert "AssertionError\x1b[39m: the answer is wrong for a secret input" in shown
    assert "RuntimeWarning: overflow" in shown


def test_output_is_cut_but_errors_stay_errors():
    import nbformat

    from helpers.grading_preprocessors import CapOutput

    cell = nbformat.v4.new_code_cell("print(...)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 5000),
                    nbformat.v4.new_output("display_data", data={"text/plain": "y" * 5000, "image/png": "z" * 5000}),
                    nbformat.v4.new_output("error", ename="AssertionError", evalue="e" * 5000,
                                           traceback=["t" * 5000])]
    capper = CapOutput(max_chars=1000)
    cell, _ = capper.preprocess_cell(cell, {}, 0)
    assert [o.output_type for o in cell.outputs] == ["stream", "display_data", "error"]
    assert sum(len(str(o)) for o in cell.outputs) < 3000
    assert "output cut by the autograder: this cell wrote 25,000 characters" in cell.outputs[0].text
    assert cell.outputs[2].ename == "AssertionError"
    small = nbformat.v4.new_code_cell("print(1)")
    small.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    assert capper.preprocess_cell(small, {}, 0)[0].outputs[0].text == "1\n"


def test_test_cells_take_no_partial_credit_from_results():
    import nbformat
    from nbgrader.utils import determine_grade

    from helpers.grading_preprocessors import PassFailTests

    meta = {"nbgrader": {"grade": True, "grade_id": "t", "points": 3, "solution": False, "locked": True}}
    cell = nbformat.v4.new_code_cell("check()", metadata=meta)
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "3.0"}, execution_count=1),
                    nbformat.v4.new_output("error", ename="AssertionError", evalue="wrong", traceback=[])]
    assert determine_grade(cell)[0] == 3.0, "nbgrader alone would give the points"
    cell, _ = PassFailTests().preprocess_cell(cell, {}, 0)
    assert determine_grade(cell)[0] == 0


def test_a_feedback_page_that_quotes_a_hidden_line_is_caught():
    secret = {'assert _x == 3, "the answer is wrong for a secret input"'}
    page = ('<pre><span class="k">assert</span> <span class="n">_x</span> == 3, '
            '<span class="s2">&quot;the answer is wrong for a secret input&quot;</span></pre>')
    assert instructor.leaked_lines(page, secret) == sorted(secret)
    assert instructor.leaked_lines("<pre>AssertionError: the answer is wrong for a secret input</pre>", secret) == []


def test_kit_py_runs_every_instructor_command(course_root):
    proc = subprocess.run([sys.executable, "-I", "-S", str(course_root / "kit.py"), "--help"],
                          capture_output=True, text=True)
    for command in ("release", "import", "grade", "export", "feedback", "grade-one"):
        assert f"python3 kit.py {command}" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "helpers.instructor", "--help"], capture_output=True, text=True)
    assert all(c in proc.stdout for c in ("import", "feedback", "grade-one", "export"))


def test_parallel_grading_sizes_thread_pools_and_keeps_the_instructors_choice(monkeypatch):
    for name in instructor.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    env = instructor.environment(threads=2)
    assert all(env[name] == "2" for name in instructor.THREAD_VARIABLES)
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    assert instructor.environment(threads=2)["OMP_NUM_THREADS"] == "7"
    assert "OPENBLAS_NUM_THREADS" not in instructor.environment()


def test_sizes_for_the_sandbox_limits():
    from helpers.instructor.sandbox import size_in_bytes

    assert size_in_bytes("4G") == size_in_bytes("4GiB") == 4 << 30
    assert size_in_bytes("256M") == 256 << 20 and size_in_bytes("64k") == 64 << 10 and size_in_bytes("1000") == 1000
    with pytest.raises(instructor.GradingError, match="not a size"):
        size_in_bytes("lots")


def test_the_sandbox_command_shows_only_what_the_kernel_needs(tmp_path):
    from helpers.instructor import sandbox

    course = tmp_path / "course"
    cwd = course / "grading" / "autograded" / "alice" / "a1"
    readable = sandbox.python_paths() + sandbox.course_paths()
    common = dict(cwd=cwd, files=tmp_path / "files", sockets=tmp_path / "sockets", env={"PATH": "/usr/bin"},
                  readable=readable, memory=1 << 30, processes=64, file_size=1 << 20, scratch=1 << 20)
    for uid in (None, 1_900_000_007):
        cmd = sandbox.command(["python", "-m", "ipykernel_launcher"], uid=uid, **common)
        for flag in ("--unshare-net", "--unshare-pid", "--clearenv", "--die-with-parent", "--new-session"):
            assert flag in cmd
        sources = {cmd[i + 1] for i, arg in enumerate(cmd) if arg in ("--bind", "--ro-bind", "--ro-bind-try")}
        assert not any(str(course) == s or s.startswith(f"{course}/") for s in sources), "no part of the course"
        assert str(tmp_path / "files") in sources and str(tmp_path / "sockets") in sources
        assert cmd[cmd.index("--chdir") + 1] == str(cwd)
        assert [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--setenv"] == ["PATH"]
        assert "--nproc=64" in cmd and f"--as={1 << 30}" in cmd
        assert ("--unshare-user" in cmd) == (uid is None)
        assert (f"--reuid={uid}" in cmd) == (uid is not None)
        assert cmd[-3:] == ["python", "-m", "ipykernel_launcher"]
    cmd = sandbox.command(["python"], uid=None, seccomp=tmp_path / "filter", **common)
    assert cmd[:5] == ["/bin/sh", "-c", 'exec 9<"$1" && shift && exec "$@"', "sandbox", str(tmp_path / "filter")]
    assert cmd[cmd.index("--seccomp") + 1] == "9"


def test_the_sandbox_refuses_to_show_the_course(tmp_path):
    from helpers.instructor.sandbox import check_hidden

    course = tmp_path / "course"
    check_hidden([tmp_path / "env", course / ".venv"], [course, course / "grading" / "gradebook.db"])
    with pytest.raises(instructor.GradingError, match="keep the course"):
        check_hidden([tmp_path], [course])


def test_the_seccomp_program_refuses_new_sessions_and_foreign_system_calls():
    import struct

    from helpers.instructor.sandbox import SETSID, X32_BIT, no_new_sessions_filter

    assert no_new_sessions_filter("sparc") is None
    for machine, (arch, setsid) in SETSID.items():
        raw = no_new_sessions_filter(machine)
        program = [struct.unpack_from("=HBBI", raw, i) for i in range(0, len(raw), 8)]

        def run(nr, audit_arch):   # a classic-BPF interpreter for the few instructions the program uses
            pc, acc = 0, None
            while True:
                code, jt, jf, k = program[pc]
                if code == 0x20:
                    acc = {0: nr, 4: audit_arch}[k]
                elif code in (0x15, 0x35):
                    taken = acc == k if code == 0x15 else acc >= k
                    pc += jt if taken else jf
                elif code == 0x06:
                    return "allow" if k == 0x7FFF0000 else "EPERM"
                pc += 1

        assert run(setsid, arch) == "EPERM"
        assert run(setsid + 1, arch) == "allow" and run(0, arch) == "allow"
        assert run(X32_BIT + setsid, arch) == "EPERM"
        assert run(0, 0x40000003) == "EPERM"        # i386 through int 0x80


@pytest.mark.parametrize("flag, kit_weights", [([], False), (["--weights"], True)])
def test_release_replaces_the_kits_models_only_when_asked(monkeypatch, course_root, flag, kit_weights):
    """`kit.py release` runs the solutions with a scratch weights folder unless given --weights."""
    from helpers.instructor import cli, release

    seen = {}
    monkeypatch.setattr(release, "record_expected", lambda only, weights_dir: seen.update(weights=weights_dir))
    monkeypatch.setattr(release, "generate_release", lambda only: course_root / "notebooks")
    assert cli.main(["release", "a2_rnn_backprop", *flag]) == 0
    assert (seen["weights"] == course_root / "helpers" / "weights") is kit_weights
