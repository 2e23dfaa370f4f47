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
