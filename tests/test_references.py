"""The hidden tests' reference modules: inlined at release, never released themselves."""
from __future__ import annotations

import textwrap

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from helpers import instructor
from helpers.instructor.references import (MENTION, ReferenceModule, ReferenceModuleError, inline_references,
                                           load_reference)

MODULE = ReferenceModule(textwrap.dedent('''\
    """Instructor-only references."""
    import numpy as np

    SCALE = 0.5


    def sigmoid(z):
        return SCALE * (1.0 + np.tanh(SCALE * z))


    @staticmethod
    def unused(z):
        return z


    def step(x):
        """One step."""
        return sigmoid(x) * 2
    '''))


def cell(body: str) -> str:
    return f"visible = 1\n### BEGIN HIDDEN TESTS\ndef hidden_test():\n{body}\nhidden_test()\n### END HIDDEN TESTS"


def test_an_import_becomes_the_definitions_it_needs_in_module_order():
    out = inline_references(cell("    from reference import step\n    assert step(0.0) == 1.0"), MODULE)
    namespace: dict = {}
    exec(out, namespace)
    assert "from reference" not in out and "unused" not in out
    assert out.index("import numpy") < out.index("SCALE = 0.5") < out.index("def sigmoid") < out.index("def step")
    assert "    def sigmoid(z):\n        return SCALE" in out, "indented at the import's level"
    assert set(namespace) == {"__builtins__", "visible", "hidden_test"}, "nothing else stays in globals"


def test_decorators_and_docstrings_come_along():
    out = inline_references(cell("    from reference import unused, step"), MODULE)
    assert "    @staticmethod\n    def unused(z):" in out and '"""One step."""' in out


@pytest.mark.parametrize("source, message", [
    ("from reference import step", "outside a hidden-test region"),
    (cell("    import reference"), "only as `from reference import"),
    (cell("    from reference import step as s"), "only as `from reference import"),
    (cell("    from reference import nothing_here"), "defines no nothing_here"),
])
def test_imports_the_release_cannot_inline_are_refused(source, message):
    with pytest.raises(ReferenceModuleError, match=message.replace("(", r"\(")):
        inline_references(source, MODULE)


def test_an_import_without_a_module_is_refused():
    with pytest.raises(ReferenceModuleError, match="has no reference.py"):
        inline_references(cell("    from reference import step"), None)


@pytest.mark.parametrize("text, message", [
    ("x = 1\nprint(x)\n", "not Expr"),
    ("def f():\n    global y\n    y = 1\n", "no global"),
    ("def f(:\n", "reference.py"),
])
def test_a_module_the_release_cannot_inline_is_refused(text, message):
    with pytest.raises(ReferenceModuleError, match=message):
        ReferenceModule(text)


@pytest.mark.parametrize("assignment", instructor.assignments())
def test_every_hidden_test_of_the_course_inlines_and_compiles(course_root, assignment):
    folder = course_root / "solutions" / assignment
    module = load_reference(folder)
    for path in sorted(folder.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and MENTION.search(cell.source):
                out = inline_references(cell.source, module)
                assert not MENTION.search(out)
                where = f"{path.name}:{cell.metadata.get('nbgrader', {}).get('grade_id')}"
                compile(TransformerManager().transform_cell(out), where, "exec")
