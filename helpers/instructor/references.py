"""The hidden tests' references, written once per assignment and inlined at release.

Each assignment may keep its references and comparisons in
``solutions/<assignment>/reference.py``, instructor-only code that is never
released (``CourseDirectory.ignore`` keeps it out of ``notebooks/``, the student
kit and nbgrader's autograded folders). A hidden test imports from it inside a
function::

    ### BEGIN HIDDEN TESTS
    def hidden_test_step():
        from reference import close, step_forward
        ...
    hidden_test_step()
    ### END HIDDEN TESTS

A reference module may itself import from a course-wide module of
:data:`SHARED_MODULES` (``from helpers.reference_compare import close, mismatch``):
the comparison is then written once for the whole course, and inlined like the
rest.

Run from ``solutions/`` (the instructor's notebook, ``kit.py release`` recording
the expected values) that is an ordinary import. At release,
:class:`InlineReferences` (first in nbgrader's ``generate_assignment`` pipeline,
before the gradebook stores the test cells) replaces the import line by the
source of the named definitions and of everything they use from the module,
indented in place. Under grading each hidden test then carries its own copy:
the student's kernel never sees ``reference.py``, and nothing the test defines
outlives its function.
"""
from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = ["REFERENCE_FILE", "ReferenceModuleError", "ReferenceModule", "inline_references", "InlineReferences"]

REFERENCE_FILE = "reference.py"
MODULE = REFERENCE_FILE[:-3]
IMPORT = re.compile(rf"^(?P<indent>[ \t]*)from {MODULE} import (?P<names>[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*)\s*(#.*)?$")
MENTION = re.compile(rf"\b(import {MODULE}\b|from {MODULE}\b)")
BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
#: Course-wide modules of hidden-test code that a reference module may import from; the release
#: inlines what it takes from them (an import left in a hidden test could be rebound by a submission).
SHARED_MODULES = ("helpers.reference_compare",)


class ReferenceModuleError(ValueError):
    """A reference module or an import of it that the release cannot inline."""


@dataclass(frozen=True)
class Definition:
    """One top-level statement of a reference module: the names it binds and uses, its lines."""
    binds: frozenset[str]
    uses: frozenset[str]
    lines: tuple[str, ...]


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    raise ReferenceModuleError(f"line {node.lineno}: a reference module holds only imports, def, class and "
                         f"constant assignments at its top level, not {type(node).__name__}")


class ReferenceModule:
    """A parsed reference.py: which top-level statements define which names."""

    def __init__(self, text: str, path: str = REFERENCE_FILE):
        self.path = path
        try:
            tree = ast.parse(text, filename=path)
        except SyntaxError as err:
            raise ReferenceModuleError(f"{path}: {err}") from err
        lines = text.splitlines()
        self.definitions: list[Definition] = []
        for index, node in enumerate(tree.body):
            if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # the module's docstring
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                continue
            if isinstance(node, ast.ImportFrom) and node.module in SHARED_MODULES:
                self._take_shared(node)
                continue
            if any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in ast.walk(node)):
                raise ReferenceModuleError(f"{path}, line {node.lineno}: no global or nonlocal in a reference module")
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            uses = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            self.definitions.append(Definition(frozenset(_bound_names(node)), frozenset(uses),
                                               tuple(lines[first - 1:node.end_lineno])))

    def _take_shared(self, node: ast.ImportFrom) -> None:
        """The definitions `node` imports from a shared module (and what they use), as if written here."""
        if any(alias.asname for alias in node.names):
            raise ReferenceModuleError(f"{self.path}, line {node.lineno}: import from {node.module} without `as`")
        spec = importlib.util.find_spec(node.module)
        if spec is None or not spec.origin:
            raise ReferenceModuleError(f"{self.path}, line {node.lineno}: no module {node.module}")
        shared = ReferenceModule(Path(spec.origin).read_text(encoding="utf-8"), spec.origin)
        for definition in shared.closure([alias.name for alias in node.names]):
            if definition not in self.definitions:  # e.g. `import torch`, which both modules have
                self.definitions.append(definition)

    def lines(self) -> list[str]:
        """Every line the module can inline, shared definitions included."""
        return [line for d in self.definitions for line in d.lines]

    def closure(self, names: list[str]) -> list[Definition]:
        """The definitions of `names` and of every module name they use, in the module's order."""
        known = {name for d in self.definitions for name in d.binds}
        missing = [name for name in names if name not in known]
        if missing:
            raise ReferenceModuleError(f"{self.path} defines no {', '.join(missing)}")
        wanted, todo = set(), list(names)
        while todo:
            name = todo.pop()
            if name in wanted:
                continue
            wanted.add(name)
            for d in self.definitions:
                if name in d.binds:
                    todo += [used for used in d.uses if used in known and used not in wanted]
        return [d for d in self.definitions if d.binds & wanted]

    def source(self, names: list[str], indent: str) -> list[str]:
        """The lines that define `names`, indented by `indent` (blank lines stay blank)."""
        return [indent + line if line.strip() else "" for d in self.closure(names) for line in d.lines]


def inline_references(source: str, module: ReferenceModule | None) -> str:
    """`source` with each `from reference import ...` of its hidden regions replaced by the definitions.

    An import of the module outside a hidden region, or in another form, is an
    error: it would reach the students or stay an import under grading.
    """
    out, hidden = [], False
    for number, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        if stripped in (BEGIN, END):
            hidden = stripped == BEGIN
        match = IMPORT.match(line)
        if match is None:
            if MENTION.search(line):
                raise ReferenceModuleError(f"line {number}: import the reference module only as "
                                     f"`from {MODULE} import name, ...` on one line: {stripped}")
            out.append(line)
            continue
        if not hidden:
            raise ReferenceModuleError(f"line {number}: `{stripped}` is outside a hidden-test region; the "
                                 f"reference module is instructor-only")
        if module is None:
            raise ReferenceModuleError(f"line {number}: `{stripped}` but the assignment has no {REFERENCE_FILE}")
        names = [name.strip() for name in match["names"].split(",") if name.strip()]
        out += module.source(names, match["indent"])
    return "\n".join(out)


def load_reference(folder: Path) -> ReferenceModule | None:
    """The reference module of an assignment's source folder, if it has one."""
    path = Path(folder) / REFERENCE_FILE
    return ReferenceModule(path.read_text(encoding="utf-8"), str(path)) if path.is_file() else None


class InlineReferences(NbGraderPreprocessor):
    """generate_assignment: inline the reference module into the hidden tests (see the module's doc)."""

    def preprocess(self, nb, resources):
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        self._module = load_reference(folder)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and MENTION.search(cell.source):
            try:
                cell.source = inline_references(cell.source, self._module)
            except ReferenceModuleError as err:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {cell_index}")
                raise ReferenceModuleError(f"{grade_id}: {err}") from None
        return cell, resources
