"""How much the hidden tests repeat themselves, per assignment.

A hidden-test line is a non-blank line inside a `### BEGIN HIDDEN TESTS` region of a
solutions/ notebook, or a line of the assignment's instructor-only `reference.py`
(the references and comparisons the hidden tests import). It *repeats* when the
same text (leading and trailing blanks ignored) appears on another line of the
notebook or of its reference module.

Across the course, a line of one reference module (or of a course-wide module
they import from, such as helpers/reference_compare.py) repeats when another of
these modules has it too; import lines are left out of this count, since every
module imports numpy and torch.

    python3 kit.py run python bench/hidden_tests.py [--root COURSE]
"""
from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SHARED = ("helpers/reference_compare.py",)  # course-wide hidden-test code, inlined like reference.py


def hidden_lines(source: str) -> list[str]:
    """The lines inside the hidden-test regions of one cell."""
    out, inside = [], False
    for line in source.splitlines():
        if line.strip() == BEGIN:
            inside = True
        elif line.strip() == END:
            inside = False
        elif inside:
            out.append(line)
    return out


def assignment_figures(folder: Path) -> tuple[int, int]:
    """(hidden-test lines, those that repeat another line) of one solutions/ folder."""
    every, hidden = [], []
    for path in sorted(folder.glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            every += source.splitlines()
            hidden += hidden_lines(source)
    reference = folder / "reference.py"
    if reference.is_file():
        lines = reference.read_text(encoding="utf-8").splitlines()
        every += lines
        hidden += lines
    counts = collections.Counter(line.strip() for line in every if line.strip())
    kept = [line.strip() for line in hidden if line.strip()]
    return len(kept), sum(1 for line in kept if counts[line] > 1)


def course_figures(root: Path) -> tuple[int, int]:
    """(lines of the reference and shared modules, those that another of these modules has too)."""
    modules = sorted((root / "solutions").glob("*/reference.py"))
    modules += [root / name for name in SHARED if (root / name).is_file()]
    per_module = [{line.strip() for line in path.read_text(encoding="utf-8").splitlines()} for path in modules]
    code = [{line for line in lines if line and not line.startswith(("import ", "from "))} for lines in per_module]
    seen = collections.Counter(line for lines in code for line in lines)
    return sum(len(lines) for lines in code), sum(1 for lines in code for line in lines if seen[line] > 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args(argv)
    total = repeated = 0
    print(f"{'assignment':<20} {'hidden lines':>12} {'repeat':>7} {'share':>6}")
    for folder in sorted(p for p in (args.root / "solutions").iterdir() if p.is_dir()):
        n, r = assignment_figures(folder)
        total, repeated = total + n, repeated + r
        print(f"{folder.name:<20} {n:>12} {r:>7} {r / max(n, 1):>6.0%}")
    print(f"{'all':<20} {total:>12} {repeated:>7} {repeated / max(total, 1):>6.0%}")
    n, r = course_figures(args.root)
    print(f"{'across modules':<20} {n:>12} {r:>7} {r / max(n, 1):>6.0%}   (reference and shared modules, "
          "lines another module has too)")


if __name__ == "__main__":
    main()
