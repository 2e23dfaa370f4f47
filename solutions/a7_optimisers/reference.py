"""Instructor-only references for the hidden tests of assignment 7 (optimisers).

Never released: at release each hidden test's `from reference import ...` is replaced by the
definitions it names (helpers/instructor/references.py). The reference is torch.optim itself:
`against_torch` runs a student's step function and the matching torch.optim optimiser side by
side on the same random parameters and gradients, and compares them after every step. The
comparisons use torch operations only, so a submission that replaces np.allclose or
np.testing.* fools none of them.

A test case is a dict: `seed` (of the random problem), the optimiser's hyperparameters as
torch.optim takes them (`lr`, `momentum`, `eps`, `betas`), and optionally how the problem is
made (CASE_OPTIONS: number of steps, size of the gradients, share of zero gradients, gradient
arrays reused from step to step, a learning-rate schedule).
"""
import numpy as np
import torch

# How a case may change the problem, with the values it takes when the case does not say.
CASE_OPTIONS = {"steps": 20, "scale": 1.0, "zeros": 0.0, "reuse": False, "lrs": None}


def random_problem(seed):
    """A random set of parameters: (rng, shapes, params).

    - rng: the numpy Generator of `seed`, to draw the gradients from next
    - shapes: dict name -> shape, names "W0" (up to "W2") and "b", 1 to 3 dimensions of size 1 to 6
    - params: dict name -> float64 array of that shape, entries N(0, 1)
    """
    rng = np.random.default_rng(seed)
    names = [f"W{i}" for i in range(int(rng.integers(1, 4)))] + ["b"]
    shapes = {name: tuple(int(s) for s in rng.integers(1, 7, size=int(rng.integers(1, 4)))) for name in names}
    params = {name: rng.normal(0.0, 1.0, shape) for name, shape in shapes.items()}
    return rng, shapes, params


def random_gradients(rng, shapes, scale, zeros):
    """dict name -> float64 array of shapes[name]: entries N(0, scale²), each 0 with probability `zeros`."""
    return {name: rng.normal(0.0, scale, shape) * (rng.random(shape) >= zeros) for name, shape in shapes.items()}


def describe(name, case):
    """The case in words, for the assertion messages: 'adam_step (lr = 0.01, ...; 100 steps)'."""
    hyper = ", ".join(f"{key} = {value}" for key, value in case.items()
                      if key not in ("seed", *CASE_OPTIONS) and not (key == "lr" and "lrs" in case))
    how = {"steps": f"{case.get('steps')} steps", "scale": f"gradients of size {case.get('scale')}",
           "zeros": "sparse gradients: some weights see only zeros for a while",
           "reuse": "the same gradient arrays, refilled from step to step",
           "lrs": "a learning-rate schedule: lr changes between calls"}
    return f"{name} ({'; '.join([hyper] * bool(hyper) + [how[key] for key in CASE_OPTIONS if key in case])})"


def against_torch(name, student, torch_optimiser, cases, stateful=True):
    """Runs the student's step function and torch.optim's optimiser side by side, case by case.

    - name: the student's function's name, for the messages
    - student: called as student(params, grads, state, **hyper) (without state when not stateful);
      params and grads are dicts name -> float64 array
    - torch_optimiser: the name of the torch.optim class ("SGD", "Adagrad", "Adam")
    - cases: list of dicts, each with a seed, hyperparameters and CASE_OPTIONS (module docstring)

    After every step the student's parameters must equal torch's to 1e-10 of how far the
    parameters have moved, still be the arrays it was given (updated in place), and the
    gradients it was given must be unchanged. Fails with a message naming the case.
    """
    for case in cases:
        what = describe(name, case)
        options = {key: case.get(key, default) for key, default in CASE_OPTIONS.items()}
        hyper = {key: value for key, value in case.items() if key not in ("seed", *CASE_OPTIONS)}
        rng, shapes, params = random_problem(case["seed"])
        arrays = dict(params)
        tensors = {key: torch.tensor(p.copy(), requires_grad=True) for key, p in params.items()}
        start = {key: t.detach().clone() for key, t in tensors.items()}
        oracle = getattr(torch.optim, torch_optimiser)(list(tensors.values()), **hyper)
        state, buffers, given_all = {}, {key: np.zeros(s) for key, s in shapes.items()}, []
        for k in range(options["steps"]):
            grads = random_gradients(rng, shapes, options["scale"], options["zeros"])
            step_hyper = dict(hyper)
            if options["lrs"] is not None:
                step_hyper["lr"] = options["lrs"][k]
                for group in oracle.param_groups:
                    group["lr"] = options["lrs"][k]
            for key, grad in grads.items():
                tensors[key].grad = torch.tensor(grad)
            oracle.step()
            if options["reuse"]:  # the same gradient arrays, refilled in place every step (as p.grad in torch)
                for key, buffer in buffers.items():
                    buffer[...] = grads[key]
            source = buffers if options["reuse"] else {key: grad.copy() for key, grad in grads.items()}
            given = {key: source[key] for key in reversed(shapes)}  # keys in another order than params
            given_all.append((given, grads))
            student(*((params, given, state) if stateful else (params, given)), **step_hyper)
            moved = max((t.detach() - start[key]).abs().max().item() for key, t in tensors.items())
            for key, t in tensors.items():
                got = torch.as_tensor(np.asarray(arrays[key]), dtype=torch.float64)
                assert tuple(got.shape) == shapes[key], f"{what}: the shape of a parameter changed"
                if not (got - t.detach()).abs().max().item() <= 1e-10 * moved:
                    assert params[key] is arrays[key], (f"{what}: params must be updated in place; the dict now "
                                                        "holds new arrays and the arrays it was given did not change")
                    assert k > 0, f"{what}: the parameters are wrong after the first step"
                    assert False, (f"{what}: right after the first step but wrong after step {k + 1}: check how a "
                                   "later step combines the state with the new gradient, and that the state is "
                                   "kept, in place, from call to call")
            for seen, true in given_all[-1:] if options["reuse"] else given_all[-2:]:
                for key in shapes:
                    assert (torch.as_tensor(seen[key]) - torch.as_tensor(true[key])).abs().max().item() == 0, \
                        f"{what}: the step modified the gradients it was given"
