"""The hidden tests' "one bug, one cell" rule: correct versions of earlier functions for one cell.

A test cell of a function that builds on earlier graded functions (``rnn_forward`` calls
``rnn_step_forward``) starts, inside its hidden block, by putting the assignment's reference
versions of those earlier functions into the notebook's namespace. The whole cell, visible checks
included, then runs on them, so a bug in an earlier function costs only the points of its own
cell; the function under test is always the student's. When the cell ends (IPython's
``post_run_cell`` event) the student's own definitions come back.

The references themselves live in each assignment's instructor-only ``reference.py``; this module
holds no answer and is not part of the student kit (the hidden tests run on the instructor's side
only). Patching it from a submission can only take the correct versions away from that
submission's own later cells.
"""
from __future__ import annotations

__all__ = ["use_for_this_cell", "use_earlier"]


def use_for_this_cell(namespace: dict, **functions) -> None:
    """Until the running cell ends, ``namespace`` (the notebook's ``globals()``) maps each given
    name to the given function; afterwards each name is the student's again (or absent, as before)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("use_for_this_cell runs inside an IPython kernel (a notebook's hidden test)")
    saved = {name: namespace[name] for name in functions if name in namespace}

    def restore(*args):
        for name in functions:
            namespace.pop(name, None)
        namespace.update(saved)
        shell.events.unregister("post_run_cell", restore)

    namespace.update(functions)
    shell.events.register("post_run_cell", restore)


def use_earlier(namespace: dict, graded: tuple, cell: str, **functions) -> None:
    """``use_for_this_cell`` with those of ``functions`` whose names come before ``cell`` in
    ``graded`` (the assignment's graded functions in notebook order): the test cell of ``cell``
    runs on correct versions of what it builds on, and on the student's ``cell`` itself."""
    earlier = graded[:graded.index(cell)]
    use_for_this_cell(namespace, **{name: function for name, function in functions.items() if name in earlier})
