"""Tests for helpers.data: fetching, verification, loaders, vocabularies and the CLI.

They use real files only: the read-only mirror at ../shared/data (or
$RNN_KIT_MIRROR), small fake mirrors built in tmp_path, and a real HTTP server
on 127.0.0.1 for the download path.
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from helpers import COURSE_ROOT
from helpers import data as D

MIRROR = Path(os.environ.get("RNN_KIT_MIRROR") or COURSE_ROOT.parent / "shared" / "data")
SHAKESPEARE = "tinyshakespeare/input.txt"
POEM_300 = "chinese-poetry/全唐诗/唐诗三百首.json"
needs_mirror = pytest.mark.skipif(not (MIRROR / SHAKESPEARE).is_file(),
                                  reason=f"no local data mirror at {MIRROR}")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """The user's own data settings must not leak into the tests."""
    monkeypatch.delenv("RNN_KIT_MIRROR", raising=False)
    monkeypatch.delenv("RNN_KIT_DATA_DIR", raising=False)


def files_under(folder: Path) -> list[str]:
    """Every file below ``folder`` (temp files included), relative, sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def make_mirror(root: Path, files: dict[str, bytes]) -> dict:
    """Write ``files`` into a mirror-layout folder ``root`` and return a manifest for them.

    Paths starting with "chinese-poetry/" go to the "tang" corpus, others to
    "tinyshakespeare".
    """
    corpora = {name: {"files": []} for name in D.CORPORA}
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
        corpus = "tang" if rel.startswith("chinese-poetry/") else "tinyshakespeare"
        corpora[corpus]["files"].append({
            "path": rel, "url": f"https://example.invalid/{rel}",
            "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)})
    return {"corpora": corpora}


def poems_json(*titles: str) -> bytes:
    poems = [{"title": t, "author": "李白", "paragraphs": [f"{t}一句，", "二句。"], "id": t}
             for t in titles]
    return json.dumps(poems, ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------- manifest


def test_manifest_matches_mirror_checksums_and_pins_urls():
    manifest = D.load_manifest()
    assert set(manifest["corpora"]) == set(D.CORPORA)
    files = {f["path"]: f for c in manifest["corpora"].values() for f in c["files"]}
    assert len(files) == 61  # 58 poet.tang files + 唐诗三百首 + LICENSE + Shakespeare
    for corpus in manifest["corpora"].values():
        commit, repo = corpus["commit"], corpus["repository"]
        assert len(commit) == 40
        for f in corpus["files"]:
            assert f["url"].startswith(f"https://raw.githubusercontent.com/{repo}/{commit}/")
    assert manifest["corpora"]["tang"]["license"]["path"] == "chinese-poetry/LICENSE"
    sums = MIRROR / "SHA256SUMS"
    if sums.is_file():
        listed = {}
        for line in sums.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                digest, rel = line.split(None, 1)
                listed[rel.removeprefix("./")] = digest
        assert {p: f["sha256"] for p, f in files.items()} == listed


# ---------------------------------------------------------------- Tiny Shakespeare


@needs_mirror
def test_fetch_shakespeare_from_mirror_then_skip(tmp_path, capsys):
    paths = D.fetch("tinyshakespeare", mirror=MIRROR, dest=tmp_path)
    assert paths == [tmp_path / SHAKESPEARE]
    assert "copied" in capsys.readouterr().out
    assert D.verify("tinyshakespeare", dest=tmp_path) == paths
    text = D.load_shakespeare(dest=tmp_path)
    assert len(text) == 1_115_394 and len(set(text)) == 65
    assert paths[0].stat().st_mode & 0o777 == 0o644, "readable by others: graded kernels run as another user"
    mtime = paths[0].stat().st_mtime_ns
    D.fetch("tinyshakespeare", mirror=MIRROR, dest=tmp_path)
    assert paths[0].stat().st_mtime_ns == mtime
    assert "already present" in capsys.readouterr().out
    assert files_under(tmp_path) == [SHAKESPEARE]


@needs_mirror
def test_env_vars_choose_mirror_and_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_KIT_MIRROR", str(MIRROR))
    monkeypatch.setenv("RNN_KIT_DATA_DIR", str(tmp_path / "elsewhere"))
    assert D.data_dir() == tmp_path / "elsewhere"
    D.fetch("tinyshakespeare", quiet=True)
    assert len(D.load_shakespeare()) == 1_115_394


def test_data_dir_default(monkeypatch):
    assert D.data_dir() == COURSE_ROOT / "data"


# ---------------------------------------------------------------- Tang


@needs_mirror
def test_fetch_and_load_whole_tang_corpus(tmp_path):
    paths = D.fetch("tang", mirror=MIRROR, dest=tmp_path, quiet=True)
    assert len(paths) == 60 and all(p.is_file() for p in paths)
    poems = D.load_tang(dest=tmp_path)
    assert len(poems) == 57_607
    assert poems[0].author == "太宗皇帝" and poems[0].title == "帝京篇十首 一"
    assert poems[0].text.startswith("秦川雄帝宅，函谷壯皇居。\n")
    small = D.load_tang("300", dest=tmp_path)
    assert len(small) == 366 and all(isinstance(p, D.Poem) for p in small)
    assert all(isinstance(p.lines, tuple) for p in small)


def test_load_tang_reads_files_in_numeric_order(tmp_path):
    files = {f"chinese-poetry/全唐诗/poet.tang.{n}.json": poems_json(f"p{n}")
             for n in (10000, 2000, 0, 1000)}
    manifest = make_mirror(tmp_path / "mirror", files)
    D.fetch("tang", mirror=tmp_path / "mirror", dest=tmp_path / "d", manifest=manifest, quiet=True)
    poems = D.load_tang(dest=tmp_path / "d", manifest=manifest)
    assert [p.title for p in poems] == ["p0", "p1000", "p2000", "p10000"]
    assert poems[0] == D.Poem("p0", "李白", ("p0一句，", "二句。"), "p0")
    with pytest.raises(Exception):
        poems[0].title = "changed"  # frozen


def test_load_tang_300_verifies_only_its_file(tmp_path):
    files = {POEM_300: poems_json("a", "b"),
             "chinese-poetry/全唐诗/poet.tang.0.json": poems_json("c")}
    manifest = make_mirror(tmp_path / "mirror", files)
    dest = tmp_path / "d"
    (dest / POEM_300).parent.mkdir(parents=True)
    (dest / POEM_300).write_bytes(files[POEM_300])  # poet.tang.0.json stays absent
    assert [p.title for p in D.load_tang("300", dest=dest, manifest=manifest)] == ["a", "b"]
    with pytest.raises(D.DataError, match="poet.tang.0.json: missing"):
        D.load_tang("all", dest=dest, manifest=manifest)


def test_malformed_json_names_the_file(tmp_path):
    manifest = make_mirror(tmp_path, {POEM_300: b"[{\"title\": "})
    with pytest.raises(D.DataError, match="唐诗三百首.json is not valid JSON"):
        D.load_tang("300", dest=tmp_path, manifest=manifest)


# ---------------------------------------------------------------- corrupt and missing files


@pytest.fixture
def small(tmp_path):
    """A fake mirror with one good file, its manifest and an empty destination."""
    mirror, dest = tmp_path / "mirror", tmp_path / "dest"
    manifest = make_mirror(mirror, {SHAKESPEARE: b"To be, or not to be.\n"})
    dest.mkdir()
    return mirror, dest, manifest


def test_corrupt_mirror_file_leaves_nothing_behind(small):
    mirror, dest, manifest = small
    (mirror / SHAKESPEARE).write_bytes(b"To be, or NOT to be.\n")  # same size, other bytes
    with pytest.raises(D.DataError) as err:
        D.fetch("tinyshakespeare", mirror=mirror, dest=dest, manifest=manifest, quiet=True)
    message = str(err.value)
    assert SHAKESPEARE in message and "sha256" in message and "kit.py data" in message
    assert files_under(dest) == []


def test_good_file_is_never_replaced_by_corrupt_mirror_copy(small):
    mirror, dest, manifest = small
    good = (mirror / SHAKESPEARE).read_bytes()
    D.fetch("tinyshakespeare", mirror=mirror, dest=dest, manifest=manifest, quiet=True)
    (mirror / SHAKESPEARE).write_bytes(b"garbage")
    D.fetch("tinyshakespeare", mirror=mirror, dest=dest, manifest=manifest, quiet=True)
    assert (dest / SHAKESPEARE).read_bytes() == good
    # A stale file in dest stays as it was when the replacement is bad, too.
    (dest / SHAKESPEARE).write_bytes(b"stale")
    with pytest.raises(D.DataError, match="7 bytes, expected"):
        D.fetch("tinyshakespeare", mirror=mirror, dest=dest, manifest=manifest, quiet=True)
    assert (dest / SHAKESPEARE).read_bytes() == b"stale"
    assert files_under(dest) == [SHAKESPEARE]


def test_corrupt_dest_file_detected_by_verify_and_load(small):
    mirror, dest, manifest = small
    D.fetch("tinyshakespeare", mirror=mirror, dest=dest, manifest=manifest, quiet=True)
    assert D.load_shakespeare(dest=dest, manifest=manifest) == "To be, or not to be.\n"
    (dest / SHAKESPEARE).write_bytes(b"To be, or not to be?\n")
    os.utime(dest / SHAKESPEARE, ns=(1, 1))  # a new mtime, however coarse the clock
    for check in (D.verify, D.load_shakespeare):
        kwargs = {"dest": dest, "manifest": manifest}
        with pytest.raises(D.DataError) as err:
            check(**kwargs) if check is D.load_shakespeare else check("tinyshakespeare", **kwargs)
        message = str(err.value)
        assert f"{SHAKESPEARE}: corrupt: sha256" in message and "kit.py data" in message
    # fetch repairs it
    D.fetch("tinyshakespeare", mirror=mirror, dest=dest, manifest=manifest, quiet=True)
    assert D.verify("tinyshakespeare", dest=dest, manifest=manifest)


def test_missing_files(small, tmp_path):
    mirror, dest, manifest = small
    with pytest.raises(D.DataError) as err:
        D.load_shakespeare(dest=dest, manifest=manifest)
    assert f"{SHAKESPEARE}: missing" in str(err.value) and "kit.py data" in str(err.value)
    assert "--dest" in str(err.value)  # not the default folder: the hint names it
    (mirror / SHAKESPEARE).unlink()
    with pytest.raises(D.DataError) as err:
        D.fetch("tinyshakespeare", mirror=mirror, dest=dest, manifest=manifest, quiet=True)
    assert str(mirror / SHAKESPEARE) in str(err.value) and "missing from the mirror" in str(err.value)
    with pytest.raises(D.DataError, match="does not exist"):
        D.fetch("tinyshakespeare", mirror=tmp_path / "nope", dest=dest, manifest=manifest)
    assert files_under(dest) == []


def test_verify_lists_every_problem(tmp_path):
    manifest = make_mirror(tmp_path / "m", {SHAKESPEARE: b"abc", POEM_300: poems_json("x"),
                                            "chinese-poetry/LICENSE": b"MIT"})
    (tmp_path / "d" / "chinese-poetry").mkdir(parents=True)
    (tmp_path / "d" / "chinese-poetry" / "LICENSE").write_bytes(b"GPL")
    with pytest.raises(D.DataError) as err:
        D.verify(dest=tmp_path / "d", manifest=manifest)
    message = str(err.value)
    assert "3 data file(s)" in message
    assert f"{SHAKESPEARE}: missing" in message and f"{POEM_300}: missing" in message
    assert "chinese-poetry/LICENSE: corrupt" in message


# ---------------------------------------------------------------- HTTP downloads


@pytest.fixture
def http_mirror(tmp_path):
    """A ThreadingHTTPServer on 127.0.0.1 serving a small mirror-layout folder."""
    root = tmp_path / "served"
    files = {SHAKESPEARE: b"Hark!\n", POEM_300: poems_json("靜夜思")}
    manifest = make_mirror(root, files)

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root, manifest
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_download_via_base_url_including_non_ascii_path(http_mirror, tmp_path, monkeypatch):
    base_url, root, manifest = http_mirror
    monkeypatch.setenv("RNN_KIT_MIRROR", str(tmp_path / "ignored"))  # explicit base_url wins
    dest = tmp_path / "d"
    paths = D.fetch(base_url=base_url, dest=dest, manifest=manifest, quiet=True)
    assert files_under(dest) == sorted([SHAKESPEARE, POEM_300])
    assert [p.read_bytes() for p in paths] == [(root / SHAKESPEARE).read_bytes(),
                                               (root / POEM_300).read_bytes()]
    assert D.load_tang("300", dest=dest, manifest=manifest)[0].title == "靜夜思"


def test_download_404_and_bad_content(http_mirror, tmp_path):
    base_url, root, manifest = http_mirror
    dest = tmp_path / "d"
    (root / POEM_300).unlink()
    with pytest.raises(D.DataError) as err:
        D.fetch("tang", base_url=base_url, dest=dest, manifest=manifest, quiet=True)
    assert "404" in str(err.value)
    assert base_url + "/chinese-poetry/%E5%85%A8" in str(err.value)  # the URL, percent-encoded
    (root / SHAKESPEARE).write_bytes(b"Hush!\n")
    with pytest.raises(D.DataError, match="download was damaged"):
        D.fetch("tinyshakespeare", base_url=base_url, dest=dest, manifest=manifest, quiet=True)
    assert files_under(dest) == []


def test_unreachable_server_suggests_a_mirror(small):
    _, dest, manifest = small
    with socket.socket() as sock:  # a port that was free a moment ago: connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(D.DataError) as err:
        D.fetch("tinyshakespeare", base_url=f"http://127.0.0.1:{port}", dest=dest,
                manifest=manifest, quiet=True)
    assert f"http://127.0.0.1:{port}/{SHAKESPEARE}" in str(err.value)
    assert "RNN_KIT_MIRROR" in str(err.value)
    assert files_under(dest) == []


def test_manifest_urls_are_percent_encoded_for_download():
    entry = {"url": "https://raw.githubusercontent.com/o/r/c/全唐诗/唐诗三百首.json"}
    assert D._url(entry, None) == ("https://raw.githubusercontent.com/o/r/c/"
                                   "%E5%85%A8%E5%94%90%E8%AF%97/%E5%94%90%E8%AF%97%E4%B8%89"
                                   "%E7%99%BE%E9%A6%96.json")


# ---------------------------------------------------------------- CharVocab, split


def test_char_vocab_round_trip_and_determinism():
    text = "hello world\n"
    vocab = D.CharVocab.from_text(text)
    assert vocab.chars == sorted(set(text)) == [*"\n dehlorw"]
    assert len(vocab) == vocab.vocab_size == 9
    assert vocab.stoi["\n"] == 0 and vocab.itos[0] == "\n"
    assert vocab.decode(vocab.encode(text)) == text
    assert vocab.decode(np.array(vocab.encode(text), dtype=np.int64)) == text
    assert D.CharVocab.from_text("".join(reversed(text))) == vocab
    assert vocab.encode("") == [] and vocab.decode([]) == ""


def test_char_vocab_errors():
    vocab = D.CharVocab.from_text("abc")
    with pytest.raises(ValueError, match=r"'z' at position 2"):
        vocab.encode("abz")
    with pytest.raises(ValueError, match=r"indices\[1\] = 3 is out of range.*0\.\.2"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match=r"indices\[0\] = -1"):
        vocab.decode([-1])
    with pytest.raises(TypeError, match=r"indices\[1\] must be an int; got float 1.5"):
        vocab.decode([0, 1.5])
    with pytest.raises(TypeError, match="indices must be a sequence of ints; got str"):
        vocab.decode("ab")
    with pytest.raises(TypeError, match=r"text must be a str; got int 123"):
        D.CharVocab.from_text(123)
    with pytest.raises(ValueError, match="text must not be empty"):
        D.CharVocab.from_text("")
    with pytest.raises(TypeError, match="text must be a str; got list"):
        vocab.encode(["a"])


def test_train_val_split():
    assert D.train_val_split("abcdefghij") == ("abcdefghi", "j")
    assert D.train_val_split(list(range(10)), 0.3) == (list(range(7)), [7, 8, 9])
    train, val = D.train_val_split(np.arange(10), val_fraction=0.9)
    assert train.tolist() == [0] and val.tolist() == list(range(1, 10))
    with pytest.raises(ValueError, match=r"val_fraction must be strictly between 0 and 1; got 1\.5"):
        D.train_val_split("abc", 1.5)
    with pytest.raises(TypeError, match="val_fraction must be a number.*got str '0.1'"):
        D.train_val_split("abc", "0.1")
    with pytest.raises(ValueError, match="seq of length 3 .*empty validation"):
        D.train_val_split("abc", 1e-12)
    with pytest.raises(ValueError, match="seq of length 1 .*empty train"):
        D.train_val_split("a")
    with pytest.raises(TypeError, match="seq must be a sliceable sequence.*got int 5"):
        D.train_val_split(5)


def test_bad_arguments_name_what_was_given(tmp_path):
    with pytest.raises(TypeError, match="subset must be the string 'all' or '300'; got int 3"):
        D.load_tang(subset=3)
    with pytest.raises(ValueError, match="subset must be 'all' or '300'; got 'tang'"):
        D.load_tang("tang")
    with pytest.raises(ValueError) as err:
        D.fetch("shakespeare", dest=tmp_path)
    assert "corpus" in str(err.value) and "'tinyshakespeare'" in str(err.value)
    assert "'shakespeare'" in str(err.value)
    with pytest.raises(TypeError, match="corpus must be a string.*got int 1"):
        D.verify(1)
    with pytest.raises(TypeError, match="dest must be a path.*got int 5"):
        D.verify("tang", dest=5)


# ---------------------------------------------------------------- command line


@needs_mirror
def test_cli_fetch_and_verify(tmp_path, capsys):
    dest = str(tmp_path)
    assert D.main(["fetch", "tinyshakespeare", "--mirror", str(MIRROR), "--dest", dest]) == 0
    assert "1 file(s) OK" in capsys.readouterr().out
    assert D.main(["verify", "tinyshakespeare", "--dest", dest]) == 0


def test_cli_bad_mirror_exits_1_without_traceback(tmp_path, capsys):
    code = D.main(["fetch", "tinyshakespeare", "--mirror", str(tmp_path / "nope"),
                   "--dest", str(tmp_path / "d"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: the mirror folder") and "Traceback" not in err


def test_cli_subprocess_verify_missing(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(COURSE_ROOT))
    env.pop("RNN_KIT_DATA_DIR", None)
    result = subprocess.run([sys.executable, "-m", "helpers.data", "verify", "tinyshakespeare",
                             "--dest", str(tmp_path)], capture_output=True, text=True, env=env,
                            cwd=COURSE_ROOT, timeout=60)
    assert result.returncode == 1
    assert "tinyshakespeare/input.txt: missing" in result.stderr
    assert "kit.py data" in result.stderr and "Traceback" not in result.stderr
