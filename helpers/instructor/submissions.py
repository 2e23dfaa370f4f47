"""Importing submissions: a class's notebooks, from a folder or an LMS's zip, into nbgrader's submitted/.

SUBMISSIONS is a folder or a .zip file (as downloaded from an LMS) holding

- one sub-folder per student: `alice/rnn_forward.ipynb`, or nbgrader's layout
  `alice/a1_rnn_forward/rnn_forward.ipynb`;
- flat files `<student>_<anything>.ipynb` (Canvas: `smithalice_12345_67890_rnn_forward.ipynb`,
  `smithalice_LATE_12345_67890_rnn_forward-1.ipynb`): the student id is the text before the
  first `_`;
- Moodle's `<Full Name>_<number>_assignsubmission_file_<file>` (a file, or a folder holding
  the file): the student id is the name in lower case with `-` between words (`alice-smith`).

An assignment with one notebook takes any notebook file name; with several, the
file name must end with the notebook's name (`..._rnn_forward.ipynb`, Canvas's
`-1` re-submission suffix and ` (1)` allowed). Names that give no student id, two
files for one student's notebook, and ids that are not letters, digits and
`. _ @ -` are refused with the list of all such problems, and nothing is imported.
The names are the rules of FOLDER_RULES and file_rules(), tried in order.
"""
from __future__ import annotations

import re
import shutil
import sys
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

from helpers import COURSE_ROOT
from helpers.instructor.course import (GRADING, GradingError, assignments, check_assignment, default_db_url, gradebook,
                                       notebook_names)

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
# Moodle: "Alice Smith_123456_assignsubmission_file_<file>" (or a folder "..._assignsubmission_file_");
# other submission plugins (onlinetext) give folders without notebooks.
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<number>\d+)_assignsubmission_[a-z]+_(?P<rest>.*)$")
# What an LMS or a browser appends to a file name it has seen before: "-1" (Canvas), " (1)".
COPY_SUFFIX_TEXT = r"(?:-\d+| \(\d+\))"
COPY_SUFFIX = re.compile(COPY_SUFFIX_TEXT + "$")
SKIPPED_NAMES = {"__MACOSX", "Thumbs.db", "desktop.ini"}


@dataclass
class Submissions:
    """What a folder of submissions holds for one assignment."""

    #: student id -> {notebook name -> file}
    found: dict[str, dict[str, Path]] = field(default_factory=dict)
    #: students with a folder but none of the assignment's notebooks
    missing: list[str] = field(default_factory=list)
    #: things worth telling the instructor that do not stop the import
    warnings: list[str] = field(default_factory=list)


def moodle_student_id(full_name: str, number: str) -> str:
    """Moodle's "Alice Smith" -> alice-smith (accents dropped); a name without latin letters -> moodle-<number>."""
    ascii_name = unicodedata.normalize("NFKD", full_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug or f"moodle-{number}"


@dataclass(frozen=True)
class NameRule:
    """One way a submission is named: a pattern on the file or folder name and the student id it gives
    (and, for a file, the part of the name that names the notebook), or why it gives none."""

    name: str
    pattern: re.Pattern
    student: Callable[[re.Match], str] | None = None
    notebook: Callable[[re.Match], str] = lambda m: ""
    refusal: str = ""            # str.format()ted with the file's `name` and the pattern's groups

    def apply(self, name: str) -> tuple[str, str] | str | None:
        """(student, notebook part) if the rule names this entry, the refusal if it refuses it, or None."""
        match = self.pattern.match(name)
        if match is None:
            return None
        if self.student is None:
            return self.refusal.format(name=name, **match.groupdict())
        return self.student(match), self.notebook(match)


def _moodle_student(match: re.Match) -> str:
    return moodle_student_id(match["name"], match["number"])


#: Student folders, tried in order.
FOLDER_RULES = (
    NameRule("Moodle folder", MOODLE, _moodle_student),
    NameRule("student folder", STUDENT_ID, lambda m: m[0]),
    NameRule("not a student id", re.compile(r"^(?P<folder>.*)$"),
             refusal="{name}/: not a student id (letters, digits and . _ @ - only); rename the folder"),
)
#: Flat notebook files, tried in order after the assignment's own check (see file_rules).
FILE_RULES = (
    NameRule("Moodle file", MOODLE, _moodle_student, lambda m: Path(m["rest"]).stem),
    NameRule("no underscore", re.compile(r"^[^_]*\.ipynb$"),
             refusal="{name}: not <student>_<anything>.ipynb, so no student id; rename it"),
    NameRule("<student>_<anything>.ipynb", re.compile(r"^(?P<student>[A-Za-z0-9][A-Za-z0-9.@-]*)_(?P<rest>.*)\.ipynb$"),
             lambda m: m["student"], lambda m: m["rest"]),
    NameRule("not a student id", re.compile(r"^(?P<student>[^_]*)_.*$"),
             refusal="{name}: {student!r} is not a student id (letters, digits and . @ - only); rename the file"),
)


def file_rules(notebooks: list[str]) -> tuple[NameRule, ...]:
    """FILE_RULES, with the Moodle rule first and then a refusal of names that start with a notebook's
    name (`rnn_forward_alice.ipynb` would otherwise be student `rnn`)."""
    names = "|".join(re.escape(n) for n in sorted(notebooks, key=len, reverse=True))
    notebook_first = NameRule("notebook name first", re.compile(rf"^(?:{names})(?:{COPY_SUFFIX_TEXT}|_.*)?\.ipynb$"),
                              refusal="{name}: starts with the notebook's name, so no student id; name it "
                                      "<student>_<anything>.ipynb")
    return (FILE_RULES[0], notebook_first, *FILE_RULES[1:])


def _named(entry_name: str, rules: tuple[NameRule, ...]) -> tuple[str, str] | str:
    return next(out for out in (rule.apply(entry_name) for rule in rules) if out is not None)


def which_notebook(stem: str, notebooks: list[str]) -> str | None:
    """The notebook a file stem names: the notebook's name, alone or after a `_`, with copy suffixes."""
    base = COPY_SUFFIX.sub("", stem)
    for name in sorted(notebooks, key=len, reverse=True):
        if base == name or base.endswith("_" + name):
            return name
    return None


def _notebooks_in(folder: Path, skip: set[str] = frozenset()) -> list[Path]:
    """Notebook files under `folder`, except in hidden folders and in the folders named in `skip`."""
    return sorted(p for p in folder.rglob("*.ipynb") if p.is_file() and not any(
        part.startswith(".") or part in SKIPPED_NAMES or part in skip
        for part in p.relative_to(folder).parent.parts) and not p.name.startswith("."))


def _linked(path: Path, folder: Path) -> bool:
    """Whether `path`, or a folder between `folder` and it, is a symbolic link."""
    return any(p.is_symlink() for p in [path, *path.parents] if p != folder and folder in p.parents)


def _files_for(folder: Path, notebooks: list[str], where: str, problems: list[str],
               skip: set[str] = frozenset()) -> dict[str, Path]:
    """A student's folder: {notebook -> file}; one file per notebook, named after it unless there is one notebook."""
    files = _notebooks_in(folder, skip)
    out: dict[str, list[Path]] = {}
    for path in files:
        if _linked(path, folder):
            problems.append(f"{where}{path.relative_to(folder)}: a symbolic link, not a notebook; it could "
                            "point at any file of yours (the solutions): ask for the file itself")
            continue
        name = which_notebook(path.stem, notebooks)
        if name is None and len(notebooks) == 1 and len(files) == 1:
            name = notebooks[0]  # one notebook in the assignment and one file: whatever its name
        if name is not None:
            out.setdefault(name, []).append(path)
    for name, paths in sorted(out.items()):
        if len(paths) > 1:
            problems.append(f"{where}: {len(paths)} files could be {name}.ipynb "
                            f"({', '.join(str(p.relative_to(folder)) for p in paths)}); keep one")
    if not out and files:
        problems.append(f"{where}: {len(files)} notebooks ({', '.join(p.name for p in files[:4])}"
                        f"{', ...' if len(files) > 4 else ''}), none named "
                        f"{' or '.join(n + '.ipynb' for n in notebooks)}; rename the one to grade "
                        "(or, if these are flat files <student>_<anything>.ipynb, import that folder itself)")
    return {name: paths[0] for name, paths in out.items()}


def scan_submissions(folder: Path, assignment: str, notebooks: list[str], *,
                     root: Path = COURSE_ROOT) -> Submissions:
    """Read a folder of submissions (layouts and names in the module docstring) without copying anything.

    Raises GradingError listing every file or folder whose student or notebook is unclear.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise GradingError(f"submissions folder {folder} does not exist: give the folder that holds one "
                           "sub-folder per student (or the flat files, or the LMS's .zip)")
    result, problems = Submissions(), []
    origin: dict[tuple[str, str], str] = {}
    # A student folder in nbgrader's layout may hold other assignments too: never look inside those.
    others = set(assignments(root)) - {assignment}
    rules = file_rules(notebooks)

    def add(student: str, files: dict[str, Path], where: str) -> None:
        for name, path in files.items():
            if (student, name) in origin:
                problems.append(f"{where} and {origin[student, name]} are both {student}'s {name}.ipynb; "
                                "keep one")
                continue
            origin[student, name] = where
            result.found.setdefault(student, {})[name] = path

    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in SKIPPED_NAMES:
            continue
        if entry.is_symlink():
            problems.append(f"{entry.name}: a symbolic link; it could point at any file of yours (the "
                            "solutions): import the real files")
            continue
        if entry.is_dir():
            named = _named(entry.name, FOLDER_RULES)
            if isinstance(named, str):
                problems.append(named)
                continue
            student = named[0]
            base = entry / assignment if (entry / assignment).is_dir() else entry
            files = _files_for(base, notebooks, f"{entry.name}/", problems, others)
            if files:
                add(student, files, f"{entry.name}/")
            elif not _notebooks_in(base, others):
                result.missing.append(student)
        elif entry.suffix == ".ipynb":
            named = _named(entry.name, rules)
            if isinstance(named, str):
                problems.append(named)
                continue
            student, rest = named
            name = which_notebook(rest, notebooks) or (notebooks[0] if len(notebooks) == 1 else None)
            if name is None:
                problems.append(f"{entry.name}: which notebook is it? The name must end with "
                                f"{' or '.join(n + '.ipynb' for n in notebooks)}")
                continue
            add(student, {name: entry}, entry.name)
        else:
            result.warnings.append(f"ignored {entry.name}: not a notebook or a student folder")
    if problems:
        raise GradingError(f"cannot tell whose submission some files in {folder} are; nothing was imported:\n  - "
                           + "\n  - ".join(problems)
                           + "\nNames accepted: see `rnn-kit import --help` or the README's instructor guide.")
    result.missing = sorted(set(result.missing) - set(result.found))
    return result


def find_submissions(folder: Path, assignment: str, notebooks: list[str]) -> dict[str, dict[str, Path]]:
    """Map student id -> {notebook name -> submitted file} for one assignment."""
    scan = scan_submissions(folder, assignment, notebooks)
    for student in scan.missing:
        print(f"warning: {student} submitted no notebook named "
              f"{', '.join(n + '.ipynb' for n in notebooks)}; graded as missing", file=sys.stderr)
    if not scan.found:
        raise GradingError(f"no submissions for {assignment} in {folder}: expected "
                           f"{folder}/<student>/{notebooks[0]}.ipynb or {folder}/<student>_{notebooks[0]}.ipynb")
    return scan.found


def _unzip(archive: Path, into: Path) -> Path:
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                parts = Path(member.filename).parts
                if member.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                    raise GradingError(f"{archive}: unsafe path {member.filename!r} in the zip file; nothing was "
                                       "imported")
            zf.extractall(into)
    except zipfile.BadZipFile as err:
        raise GradingError(f"{archive} is not a readable zip file ({err}): give the LMS's download as it came, "
                           "or the folder it unpacks to") from None
    return into


def _cell_ids(path: Path, graded_only: bool = False) -> tuple[set[str] | None, str | None]:
    """The nbgrader cell ids of a notebook file (only exercise and test cells with `graded_only`),
    or None and why the file cannot be read."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # noqa: BLE001 - any reason the file is not a notebook
        return None, f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}".rstrip(": ")
    metas = [c.get("metadata", {}).get("nbgrader", {}) for c in nb.cells]
    return {m.get("grade_id") for m in metas if not graded_only or m.get("grade") or m.get("solution")} - {None}, None


def register_students(db_url: str, students: list[str]) -> None:
    """Put students in the gradebook (nbgrader's own API), so that the CSV lists them even without a grade."""
    with gradebook(db_url) as gb:
        for student in students:
            gb.update_or_create_student(student)


def import_submissions(source: Path, assignment: str, *, root: Path = COURSE_ROOT,
                       db_url: str | None = None) -> Submissions:
    """Copy a class's notebooks (folder or zip) into grading/submitted/<student>/<assignment>/.

    Nothing is copied unless every file's student and notebook are clear. A
    student already imported for this assignment is replaced (the newer download
    wins); other students stay.
    """
    check_assignment(root, assignment)
    source = Path(source)
    db_url = db_url or default_db_url(root)
    notebooks = notebook_names(root, assignment)
    with tempfile.TemporaryDirectory(prefix="rnn-kit-import-") as scratch:
        folder = _unzip(source, Path(scratch) / "unzipped") if source.is_file() else source
        scan = scan_submissions(folder, assignment, notebooks, root=root)
        if not scan.found:
            for student in scan.missing:
                print(f"warning: {student} submitted no notebook named "
                      f"{', '.join(n + '.ipynb' for n in notebooks)}", file=sys.stderr)
            raise GradingError(f"no submissions for {assignment} in {source}: expected "
                               f"<student>/{notebooks[0]}.ipynb or <student>_{notebooks[0]}.ipynb; "
                               "nothing was imported")
        expected_ids = set()
        for path in (root / "solutions" / assignment).glob("*.ipynb"):
            expected_ids |= _cell_ids(path, graded_only=True)[0] or set()
        for student, files in sorted(scan.found.items()):
            for name, path in sorted(files.items()):
                ids, error = _cell_ids(path)
                if ids is None:
                    scan.warnings.append(f"{student}: {path.name} is not a readable notebook ({error}); "
                                         "it will score 0")
                elif not ids & expected_ids:
                    scan.warnings.append(f"{student}: {path.name} holds none of {assignment}'s cells (a notebook "
                                         "of another assignment?); it will score 0")
        submitted = root / GRADING / "submitted"
        for student, files in sorted(scan.found.items()):
            staging = submitted / student / f".{assignment}.importing"
            if staging.exists():
                shutil.rmtree(staging)
            staging.mkdir(parents=True)
            for name, path in files.items():
                shutil.copyfile(path, staging / f"{name}.ipynb")
            target = submitted / student / assignment
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
    register_students(db_url, sorted(set(scan.found) | set(scan.missing)))
    for student in scan.missing:
        scan.warnings.append(f"{student} submitted no notebook named {', '.join(n + '.ipynb' for n in notebooks)}; "
                             "graded as missing (0)")
    return scan


def imported_students(root: Path, assignment: str) -> list[str]:
    """Students with a notebook of `assignment` in grading/submitted/."""
    submitted = root / GRADING / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if any((p / assignment).glob("*.ipynb")))


def guess_assignment(root: Path, notebook: Path) -> str:
    matches = [a for a in assignments(root) if which_notebook(notebook.stem, notebook_names(root, a))]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(assignments(root))
    if matches:
        raise GradingError(f"{notebook.name} could belong to {', '.join(matches)}: give -a ASSIGNMENT")
    raise GradingError(f"cannot tell the assignment of {notebook.name} from its name: give -a ASSIGNMENT "
                       f"(one of {known})")
