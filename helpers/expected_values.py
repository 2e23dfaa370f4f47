"""The expected values of the visible tests: where they are stored, how, and record mode.

Expected values "computed by the kit" live in ``helpers/expected/<prefix>.json``;
a key such as ``"a1.softmax.basic"`` lives in ``a1.json`` (the part before the
first dot). Students read them through :func:`helpers.checks.check_expected`
and :func:`expected`; the release records them (:func:`record`).

Environment variables
---------------------
``RNN_KIT_EXPECTED_DIR``
    Directory holding the ``<prefix>.json`` files (default ``helpers/expected``
    inside the course checkout). Tests point it at a temporary directory.
``RNN_KIT_RECORD_EXPECTED``
    Record mode: when set to a (non-empty) directory path, ``check_expected``
    does not compare anything; it stores ``got`` under its key in
    ``<that dir>/<prefix>.json`` and prints ``recorded <key>``. The release
    runs the solution notebooks this way to regenerate the expected values.

File format: one JSON object per prefix, one key per line. An array entry is
``{"kind": "array", "container": "numpy"|"torch"|"list", "dtype": "float64",
"shape": [5, 1], "values": <nested list>}``; a scalar entry is
``{"kind": "scalar", "type": "float"|"int"|"bool"|"complex", "value": ...}``.
Floats are written with ``repr`` precision (exact round trip); nan and ±inf are
written as the strings ``"nan"``, ``"inf"``, ``"-inf"``; complex numbers as
``[real, imag]`` pairs. Files are replaced atomically, under a lock in record
mode (the notebooks of one assignment may record at once).
"""
from __future__ import annotations

import json
import numbers
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from helpers import COURSE_ROOT
from helpers.values import describe, is_tensor, tensor_to_numpy

__all__ = ["EXPECTED_DIR_ENV", "RECORD_ENV", "MissingExpectedValue", "expected_dir", "record_dir", "split_key",
           "shown_path", "load", "encode", "decode", "lookup", "expected", "record"]

EXPECTED_DIR_ENV = "RNN_KIT_EXPECTED_DIR"
RECORD_ENV = "RNN_KIT_RECORD_EXPECTED"
DEFAULT_EXPECTED_DIR = COURSE_ROOT / "helpers" / "expected"
KEY_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$")


class MissingExpectedValue(KeyError):
    """No stored expected value for a key; the message says how to regenerate."""

    def __str__(self):  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


def expected_dir() -> Path:
    """Directory of the ``<prefix>.json`` files (``$RNN_KIT_EXPECTED_DIR`` or
    ``helpers/expected``)."""
    override = os.environ.get(EXPECTED_DIR_ENV)
    return Path(override) if override else DEFAULT_EXPECTED_DIR


def record_dir():
    value = os.environ.get(RECORD_ENV)
    return Path(value) if value else None


def split_key(func, key) -> str:
    """Validate ``key`` and return its prefix (the file stem)."""
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise ValueError(f"{func}: `key` must look like 'a1.softmax.basic' (dot-separated "
                         f"letters, digits, _ or -), got {describe(key)}")
    return key.split(".", 1)[0]


def shown_path(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(COURSE_ROOT))
    except ValueError:
        return str(path)


_CACHE = {}  # path -> ((mtime_ns, size), entries)


def load(path: Path) -> dict:
    """Entries of one expected-values file ({} when it does not exist)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _CACHE.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ValueError(f"expected values file {shown_path(path)} is not valid JSON ({err}): "
                         f"regenerate with `python3 kit.py release`") from None
    if not isinstance(entries, dict):
        raise ValueError(f"expected values file {shown_path(path)} must hold a JSON object, "
                         f"got {type(entries).__name__}")
    _CACHE[path] = (stamp, entries)
    return entries


def _special_floats(values, decode):
    """Map nan/±inf to strings (decode=False) or back (decode=True), recursively."""
    if isinstance(values, list):
        return [_special_floats(v, decode) for v in values]
    if decode:
        return float(values) if isinstance(values, str) else values
    if isinstance(values, float) and not np.isfinite(values):
        return "nan" if values != values else ("inf" if values > 0 else "-inf")
    return values


def encode(got) -> dict:
    """A JSON-ready record of ``got`` (numbers, arrays, tensors, lists)."""
    if isinstance(got, (bool, np.bool_)):
        return {"kind": "scalar", "type": "bool", "value": bool(got)}
    if isinstance(got, numbers.Number) and not isinstance(got, np.ndarray):
        value = got.item() if isinstance(got, np.generic) else got
        if isinstance(value, numbers.Integral):
            return {"kind": "scalar", "type": "int", "value": int(value)}
        if isinstance(value, complex):
            parts = [_special_floats(float(value.real), False),
                     _special_floats(float(value.imag), False)]
            return {"kind": "scalar", "type": "complex", "value": parts}
        return {"kind": "scalar", "type": "float", "value": _special_floats(float(value), False)}
    if is_tensor(got):
        container, arr = "torch", tensor_to_numpy(got)
    elif isinstance(got, np.ndarray):
        container, arr = "numpy", got
    elif isinstance(got, (list, tuple)):
        container, arr = "list", np.asarray(got) if _is_rectangular(got) else None
    else:
        container, arr = None, None
    if arr is None or arr.dtype.kind not in "biufc":
        raise TypeError(f"check_expected: cannot record `got` = {describe(got)}: only numbers, "
                        f"numpy arrays, torch tensors and (nested) lists of numbers are stored")
    values = np.stack([arr.real, arr.imag], axis=-1) if arr.dtype.kind == "c" else arr
    return {"kind": "array", "container": container, "dtype": arr.dtype.name,
            "shape": list(arr.shape), "values": _special_floats(values.tolist(), False)}


def _is_rectangular(value) -> bool:
    try:
        np.asarray(value)
    except (ValueError, TypeError):
        return False
    return True


def decode(key, record):
    """The stored value: ndarray (dtype, shape restored) or python scalar."""
    try:
        if record["kind"] == "scalar":
            value = _special_floats(record["value"], True)
            kind = record["type"]
            if kind == "complex":
                return complex(value[0], value[1])
            return {"bool": bool, "int": int, "float": float}[kind](value)
        dtype, shape = np.dtype(record["dtype"]), tuple(record["shape"])
        values = _special_floats(record["values"], True)
        if dtype.kind == "c":
            pairs = np.array(values, dtype=np.float64).reshape(shape + (2,))
            return (pairs[..., 0] + 1j * pairs[..., 1]).astype(dtype)
        return np.array(values, dtype=dtype).reshape(shape)
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise ValueError(f"stored expected value {key!r} is malformed ({err!r}): "
                         f"regenerate with `python3 kit.py release`") from None


def lookup(func, key):
    """(record, value) stored under ``key``; record mode also reads its own files."""
    prefix = split_key(func, key)
    places = [expected_dir() / f"{prefix}.json"]
    recording = record_dir()
    if recording is not None:
        places.insert(0, recording / f"{prefix}.json")
    for path in places:
        entries = load(path)
        if key in entries:
            return entries[key], decode(key, entries[key])
    raise MissingExpectedValue(
        f"no expected value {key!r} in {shown_path(places[-1])}: "
        f"regenerate with `python3 kit.py release`")


def expected(key):
    """The value stored for ``key`` (e.g. ``"a1.softmax.basic"``).

    Returns an ndarray with the stored dtype and shape (also for values that
    were recorded from a torch tensor or a list), or a python scalar.
    Raises :class:`MissingExpectedValue` (a KeyError) when the key is not stored.
    """
    return lookup("expected", key)[1]


def _write_atomic(path: Path, entries: dict) -> None:
    """Write ``entries`` (one key per line, sorted) via a temp file + os.replace."""
    lines = [f"{json.dumps(k, ensure_ascii=False)}: "
             f"{json.dumps(entries[k], separators=(',', ':'), allow_nan=False)}"
             for k in sorted(entries)]
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; every kernel reads it (graded ones as another user)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def record(key, got) -> None:
    """Merge ``got`` into ``$RNN_KIT_RECORD_EXPECTED/<prefix>.json``."""
    prefix = split_key("check_expected", key)
    stored = encode(got)
    directory = record_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{prefix}.json"
    lock = _lock_directory(directory)  # notebooks of one assignment may run in parallel
    try:
        _CACHE.pop(path, None)
        entries = dict(load(path))
        entries[key] = stored
        _write_atomic(path, entries)
    finally:
        if lock is not None:
            os.close(lock)  # closing the descriptor releases the flock
    print(f"recorded {key}")


def _lock_directory(directory: Path):
    try:
        import fcntl
    except ImportError:  # Windows: no locking, recording is a build step anyway
        return None
    fd = os.open(directory, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd
