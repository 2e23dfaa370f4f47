"""How much the hidden tests repeat themselves, per assignment.

A hidden-test line is a non-blank line inside a `### BEGIN HIDDEN TESTS` region of a
solutions/ notebook, or a line of the assignment's instructor-only `reference.py`
(the references and comparisons the hidden tests import). It *repeats* when the
same text (leading and trailing blanks ignored) appears on another line of the
notebook or of its reference module.

    python3 kit.py run python bench/hidden_tests.py [--root COURSE]
"""
from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


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


if __name__ == "__main__":
    main()
