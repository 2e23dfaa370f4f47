"""The hidden tests' reference modules: inlined at release, never released themselves."""
from __future__ import annotations

import textwrap

import nbformat
import numpy as np
import pytest
import torch
from IPython.core.inputtransformer2 import TransformerManager

from helpers import instructor
from helpers.instructor.references import (MENTION, ReferenceModule, ReferenceModuleError, inline_references,
                                           load_reference)
from helpers.reference_compare import close, mismatch

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
                assert not MENTION.search(out) and "reference_compare" not in out, "an import left to rebind"
                where = f"{path.name}:{cell.metadata.get('nbgrader', {}).get('grade_id')}"
                compile(TransformerManager().transform_cell(out), where, "exec")


SHARING = textwrap.dedent('''\
    import torch
    from helpers.reference_compare import close


    def same_twice(a):
        return close(torch.as_tensor(a), a, 0)
    ''')


def test_a_shared_comparison_is_inlined_with_what_it_uses_never_imported():
    out = inline_references(cell("    from reference import same_twice\n    assert same_twice([1.0, 2.0])"),
                            ReferenceModule(SHARING))
    assert "reference_compare" not in out, "a submission could rebind an imported comparison"
    assert "    def as_float64(" in out and "    def mismatch(" in out and "    def close(" in out
    assert out.count("import torch") == 1, "the import both modules have comes once"
    assert out.index("def mismatch") < out.index("def close") < out.index("def same_twice")
    exec(out, {})


@pytest.mark.parametrize("line, message", [
    ("from helpers.reference_compare import close as c", "without `as`"),
    ("from helpers.reference_compare import nothing_here", "defines no nothing_here"),
])
def test_shared_imports_the_release_cannot_inline_are_refused(line, message):
    with pytest.raises(ReferenceModuleError, match=message):
        ReferenceModule(line + "\n")


@pytest.mark.parametrize("got, want, tol, expected", [
    (np.array([[1.0], [2.0]]), torch.tensor([[1.0], [2.0]]), 0, None),
    (np.array([1.0, 2.0])[::-1], np.array([2.0, 1.0]), 0, None),     # negative strides, which torch refuses
    (torch.tensor([1.0, 2.0], requires_grad=True), [1.0, 2.0], 0, None),
    ([1000.0 + 5e-7], [1000.0], 1e-9, None),                            # relative to the largest |want|
    ([1.0 + 5e-7], [1.0], 1e-9, "is wrong in 1 of 1 entries (largest error 5e-07)"),
    (np.array([1.0, np.nan, 3.0]), [1.0, 2.0, 3.0], 1e-9, "is wrong in 1 of 3 entries (largest error inf)"),
    (np.array([1.0, 2.0]), np.array([[1.0], [2.0]]), 1e-9, "has shape (2,), want (2, 1)"),
    ("1.0", [1.0], 1e-9, "is a str, not an array of numbers"),
    (None, [1.0], 1e-9, "is a NoneType, not an array of numbers"),
    ([[1.0], [2.0, 3.0]], [1.0], 1e-9, "is a list, not an array of numbers"),
    (np.zeros((0, 3)), np.zeros((0, 3)), 0, None),
])
def test_the_shared_comparison_says_what_differs(got, want, tol, expected):
    assert mismatch(got, want, tol) == expected
    assert close(got, want, tol) is (expected is None)


def test_the_shared_comparison_can_ask_for_a_numpy_array():
    assert mismatch([1.0], [1.0], 0, numpy_only=True) == "is a list, not a numpy array"
    assert mismatch(np.array([1.0]), [1.0], 0, numpy_only=True) is None
