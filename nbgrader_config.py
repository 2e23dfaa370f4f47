"""nbgrader configuration of the course kit.

Instructors write every exercise once, in `solutions/` (nbgrader's *source*);
`python3 kit.py release` turns it into the student versions in `notebooks/`
(nbgrader's *release*). Everything grading produces (submissions, autograded
copies, feedback, the gradebook) lives under the git-ignored `grading/`.
"""
import os

c = get_config()  # noqa: F821  (nbgrader injects get_config)

c.CourseDirectory.course_id = "rnn-from-the-inside"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = os.path.join("grading", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("grading", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("grading", "feedback")
c.CourseDirectory.db_url = os.environ.get(
    "RNN_KIT_DB_URL",
    "sqlite:///" + os.path.join(c.CourseDirectory.root, "grading", "gradebook.db"),
)
# Only notebooks are released; data and weights come from helpers/. An assignment's reference.py
# (the hidden tests' references, instructor-only) is never copied: not into notebooks/, and not into
# the autograded folders, where nbgrader copies the source folder's other files and the student's
# kernel would see it.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "reference.py"]

# The stub each solution region becomes: the seed's marker, and a statement so
# that the cell stays valid Python (a comment alone is a SyntaxError).
c.ClearSolutions.code_stub = {"python": "#your code#\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"

# The release: nbgrader's generate_assignment pipeline, with two steps first, before the gradebook
# stores the test cells: the hidden tests' imports of the assignment's reference.py are inlined, so
# that the stored hidden tests are self-contained (helpers/instructor/references.py), and each visible
# test cell shows the recorded values its checks expect (helpers/instructor/release.py, ShowExpected).
c.GenerateAssignment.preprocessors = [
    "helpers.instructor.references.InlineReferences",
    "helpers.instructor.release.ShowExpected",
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearSolutions",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Grading runs real kernels: a cell that loops forever is interrupted, and a
# notebook cannot flood the gradebook or the feedback with output.
c.Execute.timeout = int(os.environ.get("RNN_KIT_CELL_TIMEOUT", "60"))
c.Execute.interrupt_on_timeout = True
c.Execute.allow_errors = True
c.Execute.raise_on_iopub_timeout = False
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

# nbgrader's autograde pipeline, with the kit's preprocessors. SandboxedExecute is nbgrader's Execute
# with every kernel in a bubblewrap sandbox (helpers/instructor/sandbox.py): no course, no gradebook,
# no classmates, no network, limits on memory, processes and files. Grading refuses to run where
# bubblewrap is missing; `--SandboxKernelManager.enabled=False` (kit.py's --no-sandbox) runs without it.
# The other preprocessors (helpers/grading_preprocessors.py):
# RestoreCells puts the gradebook's cells and flags back (deleted test cells included) where
# nbgrader's OverwriteCells crashes on unknown cells; CapOutput caps the characters of output per
# cell (LimitOutput counts lines only); PassFailTests: test cells pass or fail, no partial credit
# from an execute_result that a submission can publish itself.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "helpers.grading_preprocessors.RestoreCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    "helpers.instructor.sandbox.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "helpers.grading_preprocessors.CapOutput",
    "helpers.grading_preprocessors.PassFailTests",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.CapOutput.max_chars = 500_000
# The sandbox's limits per kernel (helpers/instructor/sandbox.py, SandboxKernelManager).
c.SandboxKernelManager.memory_limit = os.environ.get("RNN_KIT_SANDBOX_MEMORY", "4G")
c.SandboxKernelManager.max_processes = 256
c.SandboxKernelManager.max_file_size = "256M"
c.SandboxKernelManager.scratch_size = "256M"

# A student who deletes a test cell must not silently lose (or dodge) it.
c.OverwriteCells.add_missing_cells = True

# Feedback never shows the hidden tests (nbgrader does, upstream issue 917): their regions
# leave the cells, and output lines that quote hidden code leave the tracebacks.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "helpers.grading_preprocessors.HideHiddenTests",
]
