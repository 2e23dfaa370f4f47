"""Course data: fetch, verify and load the two corpora, plus character vocabularies.

The corpora are never committed. ``data/manifest.json`` pins every file to an
upstream commit with its sha256 and size; :func:`fetch` downloads the files (or
copies them from a local mirror) and checks them, and every loader verifies
the files it reads, so a notebook never trains on a truncated or altered file.

Command line::

    python -m helpers.data fetch [corpus] [--mirror DIR] [--dest DIR] [--quiet]
    python -m helpers.data verify [corpus] [--dest DIR]

Environment variables: ``RNN_KIT_DATA_DIR`` (where the data lives, default
``<course>/data``), ``RNN_KIT_MIRROR`` (a local folder with the mirror layout to
copy from instead of downloading) and ``RNN_KIT_DATA_URL`` (a web folder with the
mirror layout to download from instead of the upstream URLs).

Installed from the student kit's wheel (Google Colab, Binder, a JupyterHub
image), there is no course folder: the manifest comes with the package, the
data folder defaults to a user folder (``~/.local/share/rnn-course-kit/data``;
``%LOCALAPPDATA%/rnn-course-kit/data`` on Windows), and :func:`verify` and the
loaders fetch missing files on first use (``RNN_KIT_FETCH_ON_USE=0`` turns that
off, ``=1`` turns it on in a course folder too).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import operator
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers import PACKAGE_DIR, course_folder

__all__ = [
    "CORPORA", "DataError", "data_dir", "user_data_dir", "fetch_on_use", "load_manifest", "fetch", "verify",
    "load_shakespeare", "CharVocab", "train_val_split", "Poem", "load_tang", "main",
]

#: Corpus names understood by :func:`fetch` and :func:`verify` (plus ``"all"``).
CORPORA = ("tinyshakespeare", "tang")
_COURSE = course_folder()
#: The manifest is part of the course folder, so it stays there even when the data moves; the
#: wheel carries a copy inside the package.
MANIFEST_PATH = _COURSE / "data" / "manifest.json" if _COURSE else PACKAGE_DIR / "manifest.json"
DATA_URL_ENV = "RNN_KIT_DATA_URL"
FETCH_ON_USE_ENV = "RNN_KIT_FETCH_ON_USE"
TANG_SUBSETS = ("all", "300")
_CHUNK = 1 << 20
_DOWNLOAD_TIMEOUT_S = 60
_FETCH_CMD = "`python3 kit.py data`" if _COURSE else "`python -m helpers.data fetch`"
_FIX = (f"run {_FETCH_CMD} (or set RNN_KIT_MIRROR to a local mirror folder "
        "to copy from it instead of downloading)")

# sha256 of files already hashed, keyed by (path, size, mtime_ns, inode): loaders
# verify on every call, and rehashing 60 MB of poems each time would be slow.
_HASH_CACHE: dict[tuple[str, int, int, int], str] = {}


class DataError(RuntimeError):
    """A data file is missing, corrupt or cannot be fetched; the message says how to fix it."""


# ---------------------------------------------------------------- locations


def data_dir() -> Path:
    """Return the data folder: ``$RNN_KIT_DATA_DIR`` if set, else ``data/`` of the course folder
    (checkout or student kit), else (installed from the wheel) :func:`user_data_dir`."""
    env = os.environ.get("RNN_KIT_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return _COURSE / "data" if _COURSE else user_data_dir()


def user_data_dir() -> Path:
    """The data folder of a user without a course folder: ``$XDG_DATA_HOME/rnn-course-kit/data``
    (default ``~/.local/share/rnn-course-kit/data``), or ``%LOCALAPPDATA%/rnn-course-kit/data``."""
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    else:
        base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "rnn-course-kit" / "data"


def fetch_on_use() -> bool:
    """Whether :func:`verify` and the loaders fetch missing or damaged files before reading them:
    ``$RNN_KIT_FETCH_ON_USE`` (1 or 0) if set, else only without a course folder (the wheel)."""
    value = os.environ.get(FETCH_ON_USE_ENV, "").strip()
    if value in ("0", "1"):
        return value == "1"
    return _COURSE is None


def load_manifest() -> dict:
    """Return ``data/manifest.json`` as a dict (``{"corpora": {name: {..., "files": [...]}}}``).

    Each file entry has ``path`` (relative to the data folder), ``url``,
    ``sha256`` and ``bytes``. Raises DataError if the manifest is unreadable.
    """
    try:
        manifest = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the data manifest {MANIFEST_PATH}: {exc}. It is part of "
                        "the repository: restore it with `git checkout data/manifest.json`.") from None
    _check_manifest(manifest, str(MANIFEST_PATH))
    return manifest


def _check_manifest(manifest, where: str) -> None:
    if not isinstance(manifest, Mapping) or not isinstance(manifest.get("corpora"), Mapping):
        raise DataError(f"manifest {where} has no 'corpora' mapping")
    for name, corpus in manifest["corpora"].items():
        files = corpus.get("files") if isinstance(corpus, Mapping) else None
        if not isinstance(files, list) or not all(
                isinstance(f, Mapping) and {"path", "sha256", "bytes"} <= set(f) for f in files):
            raise DataError(f"manifest {where}: corpus {name!r} needs a 'files' list of "
                            "objects with 'path', 'sha256' and 'bytes'")


def _check_corpus(corpus) -> tuple[str, ...]:
    """Turn the ``corpus`` argument into the tuple of corpus names it stands for."""
    valid = ("all",) + CORPORA
    if not isinstance(corpus, str):
        raise TypeError(f"corpus must be a string, one of {valid}; got "
                        f"{type(corpus).__name__} {corpus!r}")
    if corpus not in valid:
        raise ValueError(f"corpus must be one of {valid}; got {corpus!r}")
    return CORPORA if corpus == "all" else (corpus,)


def _entries(corpus, manifest) -> list[dict]:
    names = _check_corpus(corpus)
    if manifest is None:
        manifest = load_manifest()
    else:
        _check_manifest(manifest, "passed as manifest=")
    missing = [n for n in names if n not in manifest["corpora"]]
    if missing:
        raise DataError(f"the manifest has no corpus {missing[0]!r}")
    return [f for n in names for f in manifest["corpora"][n]["files"]]


def _as_dir(value, name: str) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or Path); got "
                        f"{type(value).__name__} {value!r}")
    return Path(value).expanduser()


def _dest(dest) -> Path:
    return data_dir() if dest is None else _as_dir(dest, "dest")


def _fix_hint(corpus: str, dest: Path) -> str:
    """What to run to repair ``dest``; names --dest when it is not the default folder."""
    if dest == data_dir():
        return f"To fix it, {_FIX}."
    return (f"To fix it, {_FIX}; for this folder: "
            f"`python3 -m helpers.data fetch {corpus} --dest {dest}` (add `--mirror DIR` to copy).")


# ---------------------------------------------------------------- checking


def _cache_key(path: Path) -> tuple[str, int, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_file(path: Path) -> str:
    """sha256 of ``path``, served from the in-memory cache while size/mtime/inode are unchanged."""
    key = _cache_key(path)
    if key not in _HASH_CACHE:
        _HASH_CACHE[key] = _hash_file(path)
    return _HASH_CACHE[key]


def _mismatch(size: int, digest_of, entry: Mapping) -> str | None:
    """None if the size and sha256 match ``entry``, else what is wrong."""
    if size != entry["bytes"]:  # cheap check first: no need to hash a truncated file
        return f"corrupt: {size} bytes, expected {entry['bytes']}"
    actual = digest_of()
    if actual != entry["sha256"]:
        return f"corrupt: sha256 {actual}, expected {entry['sha256']}"
    return None


def _problem(path: Path, entry: Mapping) -> str | None:
    """None if ``path`` matches ``entry``, else a short description such as 'missing'."""
    if not path.is_file():
        return "missing"
    return _mismatch(path.stat().st_size, lambda: _sha256_file(path), entry)


def _verify_entries(entries: list, dest: Path, corpus: str) -> list[Path]:
    paths = [dest / e["path"] for e in entries]
    problems = [(e["path"], p) for e, path in zip(entries, paths)
                if (p := _problem(path, e)) is not None]
    if problems:
        lines = "\n".join(f"  - {rel}: {what}" for rel, what in problems)
        raise DataError(f"{len(problems)} data file(s) in {dest} failed the check:\n{lines}\n"
                        + _fix_hint(corpus, dest))
    return paths


def verify(corpus: str = "all", *, dest=None, manifest: dict | None = None) -> list[Path]:
    """Check that every file of ``corpus`` is present in ``dest`` with the manifest's sha256.

    ``corpus`` is "all", "tinyshakespeare" or "tang"; ``dest`` defaults to
    :func:`data_dir`; ``manifest`` (a dict like :func:`load_manifest`'s) is a
    hook for tests. Returns the verified paths; raises DataError listing every
    missing or corrupt file and the command that repairs them.
    """
    return _ready(_entries(corpus, manifest), _dest(dest), corpus)


def _ready(entries: list, dest: Path, corpus: str) -> list[Path]:
    """Verify ``entries`` in ``dest``, fetching the missing or damaged ones first when
    :func:`fetch_on_use` says so."""
    if fetch_on_use():
        todo = [e for e in entries if _problem(dest / e["path"], e) is not None]
        if todo:
            print(f"Fetching {len(todo)} data file(s) of {corpus} into {dest} (first use; each is "
                  "checked against its sha256)", flush=True)
            _fetch_entries(todo, dest, None, None, quiet=True)
    return _verify_entries(entries, dest, corpus)


# ---------------------------------------------------------------- fetching


def fetch(corpus: str = "all", *, mirror=None, base_url: str | None = None, dest=None,
          quiet: bool = False, manifest: dict | None = None) -> list[Path]:
    """Put every file of ``corpus`` into ``dest`` (default :func:`data_dir`) and verify it.

    Files already present with the right sha256 are skipped. Otherwise the
    source is, in order: ``mirror`` (a folder with the data layout), then
    ``base_url`` (downloads ``base_url + "/" + quoted path``, e.g. from a web
    folder or a local HTTP server serving a mirror), then ``$RNN_KIT_MIRROR``,
    then ``$RNN_KIT_DATA_URL`` (a base URL, as ``base_url``), then the
    manifest's pinned upstream URL. Each file is written to a temp file
    beside its target, fsynced and hashed, and only then renamed into place, so
    a bad or half-written file never appears and never replaces a good one.
    ``manifest`` is a test hook (a dict like :func:`load_manifest`'s).
    Prints one line per file unless ``quiet``. Returns the paths of all files.
    """
    entries = _entries(corpus, manifest)
    if mirror is not None and base_url is not None:
        raise ValueError(f"give mirror or base_url, not both; got mirror={mirror!r}, "
                         f"base_url={base_url!r}")
    if base_url is not None and not isinstance(base_url, str):
        raise TypeError(f"base_url must be a string such as 'http://127.0.0.1:8000'; "
                        f"got {type(base_url).__name__} {base_url!r}")
    return _fetch_entries(entries, _dest(dest), mirror, base_url, quiet)


def _fetch_entries(entries: list, dest: Path, mirror, base_url: str | None, quiet: bool) -> list[Path]:
    if mirror is None and base_url is None:
        mirror = os.environ.get("RNN_KIT_MIRROR") or None  # explicit base_url beats the env
        if mirror is None:
            base_url = os.environ.get(DATA_URL_ENV) or None
    mirror = None if mirror is None else _as_dir(mirror, "mirror")
    if mirror is not None and not mirror.is_dir():
        raise DataError(f"the mirror folder {mirror} does not exist. Point --mirror / "
                        "RNN_KIT_MIRROR at a folder with the data layout (tinyshakespeare/, "
                        "chinese-poetry/), or unset it to download.")
    paths = []
    for i, entry in enumerate(entries, 1):
        target = dest / entry["path"]
        if _problem(target, entry) is None:
            status = "ok, already present"
        else:
            _fetch_one(entry, target, mirror, base_url)
            status = "copied from mirror" if mirror else "downloaded"
        if not quiet:
            print(f"[{i}/{len(entries)}] {entry['path']}: {status}", flush=True)
        paths.append(target)
    return paths


def _fetch_one(entry: Mapping, target: Path, mirror: Path | None, base_url: str | None) -> None:
    """Fetch one file into a temp file next to ``target``, check it, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            source = _copy_from(entry, mirror, base_url, out)
            out.flush()
            os.fsync(out.fileno())  # the bytes we hash are the bytes on disk
        # Hash the temp file itself (not the cache): this is the check that guards the target.
        problem = _mismatch(tmp.stat().st_size, lambda: _hash_file(tmp), entry)
        if problem is not None:
            raise DataError(f"{entry['path']} from {source} is {problem}; nothing was written to "
                            f"{target}. " + _bad_source_hint(mirror))
        os.chmod(tmp, 0o644)  # mkstemp makes it private; graded kernels read it as another user
        os.replace(tmp, target)  # atomic on the same filesystem
        _HASH_CACHE[_cache_key(target)] = entry["sha256"]  # just checked: skip a rehash
    finally:
        tmp.unlink(missing_ok=True)


def _bad_source_hint(mirror: Path | None) -> str:
    if mirror is not None:
        return (f"The mirror copy is damaged: repair the mirror {mirror}, or run {_FETCH_CMD} "
                "without --mirror / RNN_KIT_MIRROR to download it.")
    return (f"The download was damaged or the server sent another file: run {_FETCH_CMD} "
            "again, or copy from a local mirror (--mirror DIR or RNN_KIT_MIRROR=DIR).")


def _copy_from(entry: Mapping, mirror: Path | None, base_url: str | None, out) -> str:
    """Stream the file's bytes into ``out``; return a description of the source."""
    if mirror is not None:
        src = mirror / entry["path"]
        if not src.is_file():
            raise DataError(f"{entry['path']} is missing from the mirror: {src} does not exist. "
                            "Point --mirror / RNN_KIT_MIRROR at a complete mirror, or run "
                            f"{_FETCH_CMD} without them to download it.")
        with open(src, "rb") as fh:
            shutil.copyfileobj(fh, out, _CHUNK)
        return str(src)
    url = _url(entry, base_url)
    _download(url, out)
    return url


def _url(entry: Mapping, base_url: str | None) -> str:
    """The percent-encoded URL for ``entry`` (the manifest keeps the readable form)."""
    if base_url is not None:
        return base_url.rstrip("/") + "/" + urllib.parse.quote(entry["path"])
    parts = urllib.parse.urlsplit(entry["url"])
    return urllib.parse.urlunsplit(parts._replace(path=urllib.parse.quote(parts.path)))


def _download(url: str, out) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "rnn-course-kit"})
    hint = ("Check the connection and run it again; without internet access, copy from a "
            "local mirror instead: `python3 kit.py data --mirror DIR` or set RNN_KIT_MIRROR=DIR.")
    try:
        with urllib.request.urlopen(request, timeout=_DOWNLOAD_TIMEOUT_S) as response:
            shutil.copyfileobj(response, out, _CHUNK)
    except urllib.error.HTTPError as exc:
        raise DataError(f"download failed: {url} answered HTTP {exc.code} {exc.reason}. "
                        + hint) from None
    except (urllib.error.URLError, OSError) as exc:  # DNS, refused, reset, timeout
        reason = getattr(exc, "reason", exc)
        raise DataError(f"download failed: {url}: {reason}. " + hint) from None


# ---------------------------------------------------------------- Tiny Shakespeare


def load_shakespeare(*, dest=None, manifest: dict | None = None) -> str:
    """Return Tiny Shakespeare as one ``str`` (1,115,394 characters, 65 distinct).

    Verifies the file first (DataError with the fix if missing or corrupt; fetched
    first when :func:`fetch_on_use`).
    ``dest`` defaults to :func:`data_dir`; ``manifest`` is a test hook.
    """
    (path,) = _ready(_entries("tinyshakespeare", manifest), _dest(dest), "tinyshakespeare")
    return path.read_text(encoding="utf-8")


class CharVocab:
    """A character-level vocabulary: character <-> integer index in ``range(len(vocab))``.

    Attributes: ``chars`` (list[str], index order), ``stoi`` (dict str -> int),
    ``itos`` (dict int -> str).
    """

    def __init__(self, chars: Iterable[str]):
        if isinstance(chars, str) or not isinstance(chars, Iterable):
            raise TypeError("chars must be a list of single characters (use "
                            f"CharVocab.from_text for a text); got {type(chars).__name__} "
                            f"{_short(chars)}")
        chars = list(chars)
        for i, ch in enumerate(chars):
            if not (isinstance(ch, str) and len(ch) == 1):
                raise TypeError(f"chars[{i}] must be a single character; got {_short(ch)}")
        if len(set(chars)) != len(chars):
            raise ValueError("chars must not repeat a character; got duplicates "
                             f"{sorted({c for c in chars if chars.count(c) > 1})}")
        if not chars:
            raise ValueError("chars must not be empty; got []")
        self.chars = chars
        self.stoi = {ch: i for i, ch in enumerate(chars)}
        self.itos = dict(enumerate(chars))

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        """Build the vocabulary of ``text``: its distinct characters, sorted (deterministic)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {type(text).__name__} {_short(text)}")
        if not text:
            raise ValueError("text must not be empty; got ''")
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        """Number of characters (same as ``len(vocab)``)."""
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    def __eq__(self, other) -> bool:
        return isinstance(other, CharVocab) and self.chars == other.chars

    __hash__ = None  # mutable attributes: not hashable

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters: {''.join(self.chars[:20])!r}...)"

    def encode(self, text: str) -> list[int]:
        """Return the index of each character of ``text`` (list[int], length ``len(text)``)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {type(text).__name__} {_short(text)}")
        try:
            return [self.stoi[ch] for ch in text]  # fast path: one dict lookup per character
        except KeyError as exc:
            ch = exc.args[0]
            raise ValueError(f"text has character {ch!r} at position {text.index(ch)} that is "
                             f"not in the vocabulary ({len(self)} characters)") from None

    def decode(self, indices) -> str:
        """Return the text for a 1-D sequence of ints (list, tuple, numpy array, tensor)."""
        if isinstance(indices, (str, bytes)) or not isinstance(indices, Iterable):
            raise TypeError("indices must be a sequence of ints; got "
                            f"{type(indices).__name__} {_short(indices)}")
        if hasattr(indices, "tolist") and hasattr(indices, "ndim"):  # numpy array, torch tensor
            if indices.ndim != 1:
                raise ValueError(f"indices must be 1-D; got shape {tuple(indices.shape)}")
            indices = indices.tolist()  # -> Python ints: much faster than element tensors
        return "".join(self.chars[self._index(v, pos)] for pos, v in enumerate(indices))

    def _index(self, value, pos: int) -> int:
        if isinstance(value, (bool, np.bool_)):
            raise TypeError(f"indices[{pos}] must be an int; got bool {value!r}")
        try:
            i = operator.index(value)
        except TypeError:
            raise TypeError(f"indices[{pos}] must be an int; got "
                            f"{type(value).__name__} {_short(value)}") from None
        if not 0 <= i < len(self.chars):
            raise ValueError(f"indices[{pos}] = {i} is out of range for a vocabulary of "
                             f"{len(self)} characters (valid: 0..{len(self) - 1})")
        return i


def train_val_split(seq, val_fraction: float = 0.1):
    """Split ``seq`` (str, list, tuple, numpy array, tensor) into contiguous ``(train, val)``.

    ``train`` is the first ``floor(len(seq) * (1 - val_fraction))`` items and
    ``val`` the rest, both the same type as ``seq`` (numpy slices are views).
    Contiguous, not shuffled: validation text must not overlap training text.
    """
    if isinstance(seq, Mapping) or not (hasattr(seq, "__len__") and hasattr(seq, "__getitem__")):
        raise TypeError("seq must be a sliceable sequence (str, list, numpy array); got "
                        f"{type(seq).__name__} {_short(seq)}")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float, np.floating)):
        raise TypeError(f"val_fraction must be a number between 0 and 1; got "
                        f"{type(val_fraction).__name__} {val_fraction!r}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be strictly between 0 and 1; got {val_fraction!r}")
    n = len(seq)
    # The epsilon absorbs float error such as 10 * (1 - 0.9) = 0.999...
    n_train = math.floor(n * (1 - val_fraction) + 1e-9)
    if n_train == 0 or n_train == n:
        raise ValueError(f"seq of length {n} with val_fraction={val_fraction!r} gives an empty "
                         f"{'train' if n_train == 0 else 'validation'} part; use a longer seq "
                         "or another val_fraction")
    return seq[:n_train], seq[n_train:]


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# ---------------------------------------------------------------- Tang poems


@dataclass(frozen=True)
class Poem:
    """One Tang poem: ``lines`` holds the upstream ``paragraphs`` (often two verses each)."""

    title: str
    author: str
    lines: tuple[str, ...]
    id: str

    @property
    def text(self) -> str:
        """The lines joined with newlines."""
        return "\n".join(self.lines)


_POET_FILE = re.compile(r"poet\.tang\.(\d+)\.json")
_300_FILE = "唐诗三百首.json"


def _tang_files(subset: str, entries: list) -> list:
    """The manifest entries of ``subset``; "all" in numeric order (0, 1000, ..., 57000)."""
    if subset == "300":
        chosen = [e for e in entries if e["path"].rsplit("/", 1)[-1] == _300_FILE]
    else:
        numbered = [(int(m.group(1)), e) for e in entries
                    if (m := _POET_FILE.fullmatch(e["path"].rsplit("/", 1)[-1]))]
        chosen = [e for _, e in sorted(numbered, key=lambda pair: pair[0])]
    if not chosen:
        raise DataError(f"the manifest lists no files for the Tang subset {subset!r}")
    return chosen


def load_tang(subset: str = "all", *, dest=None, manifest: dict | None = None) -> list[Poem]:
    """Return the Tang poems as a list of :class:`Poem`.

    ``subset``: "all" (全唐诗, 57,607 poems from the 58 poet.tang.N.json files,
    in file order) or "300" (唐诗三百首, 366 poems). Verifies only the files it
    reads. ``dest`` defaults to :func:`data_dir`; ``manifest`` is a test hook.
    """
    if not isinstance(subset, str):
        raise TypeError(f"subset must be the string 'all' or '300'; got "
                        f"{type(subset).__name__} {subset!r}")
    if subset not in TANG_SUBSETS:
        raise ValueError(f"subset must be 'all' or '300'; got {subset!r}")
    files = _tang_files(subset, _entries("tang", manifest))
    paths = _ready(files, _dest(dest), "tang")
    return [poem for path in paths for poem in _read_poems(path)]


def _read_poems(path: Path) -> list[Poem]:
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path} is not valid JSON ({exc}). To fix it, delete it and {_FIX}."
                        ) from None
    if not isinstance(records, list):
        raise DataError(f"{path} should hold a JSON list of poems; got {type(records).__name__}")
    return [_poem(rec, path, i) for i, rec in enumerate(records)]


def _poem(rec, path: Path, i: int) -> Poem:
    try:
        lines = rec["paragraphs"]
        if not all(isinstance(x, str) for x in lines) or isinstance(lines, str):
            raise TypeError("paragraphs must be a list of strings")
        return Poem(title=str(rec["title"]), author=str(rec["author"]),
                    lines=tuple(lines), id=str(rec.get("id", f"{path.name}#{i}")))
    except (KeyError, TypeError) as exc:
        raise DataError(f"{path}: poem #{i} is malformed ({exc!r}); expected an object with "
                        "'title', 'author' and 'paragraphs'") from None


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status (1 with a message on a data error)."""
    parser = argparse.ArgumentParser(prog="python -m helpers.data",
                                     description="Fetch or verify the course corpora.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("fetch", "download (or copy) and verify"), ("verify", "check sha256")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("corpus", nargs="?", default="all", choices=("all",) + CORPORA)
        cmd.add_argument("--dest", help=f"data folder (default: $RNN_KIT_DATA_DIR or {data_dir()})")
    fetch_cmd = sub.choices["fetch"]
    fetch_cmd.add_argument("--mirror", help="copy from this local mirror folder "
                                            "(default: $RNN_KIT_MIRROR, else download)")
    fetch_cmd.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            paths = fetch(args.corpus, mirror=args.mirror, dest=args.dest, quiet=args.quiet)
        else:
            paths = verify(args.corpus, dest=args.dest)
    except (DataError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not getattr(args, "quiet", False):
        print(f"{args.command}: {len(paths)} file(s) OK in {_dest(args.dest)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
