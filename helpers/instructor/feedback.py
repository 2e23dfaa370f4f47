"""Feedback: nbgrader's HTML feedback pages, without the hidden tests, checked before they leave."""
from __future__ import annotations

import html
import re
from pathlib import Path

from helpers import COURSE_ROOT
from helpers.instructor.course import GRADING, GradingError, check_assignment, default_db_url, nbgrader
from helpers.instructor.release import secret_lines

_TAG = re.compile(r"<[^>]+>")


def leaked_lines(page: str, secret: set[str]) -> list[str]:
    """The secret lines that an HTML page shows (as text, whatever its markup)."""
    from helpers.grading_preprocessors import quotes_hidden

    text = html.unescape(_TAG.sub("", page))
    return sorted({line.strip() for line in text.split("\n") if quotes_hidden(line, secret)}
                  | {line for line in secret if line in text})


def write_feedback(assignment: str, *, root: Path = COURSE_ROOT, db_url: str | None = None,
             students: list[str] | None = None) -> list[Path]:
    """nbgrader generate_feedback, with the hidden tests removed (nbgrader_config.py), then checked.

    Returns the HTML files. A page that still shows a hidden-test line is
    deleted and reported: it never reaches a student.
    """
    check_assignment(root, assignment)
    db_url = db_url or default_db_url(root)
    autograded = root / GRADING / "autograded"
    graded = sorted(p.name for p in autograded.iterdir() if any((p / assignment).glob("*.ipynb"))) \
        if autograded.is_dir() else []
    if not graded:
        raise GradingError(f"no autograded submissions of {assignment}: run `python3 kit.py grade -a {assignment}` "
                           "first")
    if students:
        unknown = sorted(set(students) - set(graded))
        if unknown:
            raise GradingError(f"no autograded {assignment} for {', '.join(unknown)}; autograded: {', '.join(graded)}")
    for student in students or [None]:
        args = ["generate_feedback", assignment, "--force"] + ([f"--student={student}"] if student else [])
        if nbgrader(root, db_url, *args, quiet=True).returncode:
            raise GradingError(f"nbgrader generate_feedback {assignment} failed (output above)")
    secret = secret_lines(root, assignment, ("HIDDEN TESTS",))
    pages, leaks = [], []
    for student in students or graded:
        for page in sorted((root / GRADING / "feedback" / student / assignment).glob("*.html")):
            shown = leaked_lines(page.read_text(encoding="utf-8"), secret)
            if shown:
                page.unlink()
                leaks.append(f"{student}/{page.name} (it showed {', '.join(map(repr, shown[:3]))})")
            else:
                pages.append(page)
    if leaks:
        raise GradingError("feedback that shows hidden tests was deleted: " + ", ".join(leaks)
                           + "; check HideHiddenTests in nbgrader_config.py")
    return pages

