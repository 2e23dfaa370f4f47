"""Instructor commands, on nbgrader's own machinery (no home-made grader), one module per step:

- course: the course's assignments, nbgrader on PATH, the gradebook;
- release: the student versions of solutions/, the visible tests' expected values, what is secret;
- references: the hidden tests' reference modules, inlined into the hidden tests at release;
- submissions: a class's notebooks from a folder or an LMS zip (the naming rules) into submitted/;
- sandbox: the bubblewrap sandbox every graded kernel runs in;
- grading: nbgrader autograde of a class, export, one notebook;
- feedback: HTML feedback without the hidden tests;
- cli: the `rnn-kit` command line (`python3 kit.py COMMAND`).
"""
from helpers.instructor.course import (GRADING, THREAD_VARIABLES, GradingError, assignments, check_assignment,
                                       default_db_url, environment, gradebook, kill_tree, nbgrader,
                                       notebook_names)
from helpers.instructor.feedback import leaked_lines, write_feedback
from helpers.instructor.grading import (DEFAULT_SUBMISSION_TIMEOUT, GRADE_ONE_STUDENT, SUBMISSION_TIMEOUT_ENV,
                                        autograde, export_csv, grade, grade_one, submission_timeout)
from helpers.instructor.release import expected_prefix, generate_release, record_expected, secret_lines
from helpers.instructor.sandbox import SandboxKernelManager, SandboxUnavailable, check_available
from helpers.instructor.submissions import (Submissions, find_submissions, guess_assignment, import_submissions,
                                            imported_students, register_students, scan_submissions,
                                            which_notebook)
from helpers.instructor.cli import main
