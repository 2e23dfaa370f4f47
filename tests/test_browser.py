"""The student experience in a real browser: JupyterLab started for real on a student kit (the
notebooks and helpers students get, built by `rnn-kit student-kit`), driven by Playwright in
Debian's headless Chromium. Screenshots are kept in artifacts/browser/.

These tests fail (they never skip) when Chromium or Playwright is missing: `.ci/run`
installs Chromium, and the browser must be tested.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from helpers.data import fetch
from helpers.instructor import student_kit
from submissions import fill_release, solution_sources

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

CHROMIUM = Path(os.environ.get("RNN_KIT_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "browser"
# The machine's network is closed: keep Chromium from phoning home at every start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
TIMEOUT_MS = 120_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    def __init__(self, url: str, token: str, root: Path):
        self.url, self.token, self.root = url, token, root

    def notebook_url(self, relative: str) -> str:
        # A new, empty workspace per page: otherwise JupyterLab reopens the previous test's
        # notebook beside this one, and selectors find its (hidden) cells first.
        return f"{self.url}/lab/workspaces/{secrets.token_hex(6)}/tree/{relative}?token={self.token}&reset"


@pytest.fixture(scope="session")
def lab(course_root, tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a token, on a student kit of assignments 1 and 3: its notebooks,
    its helpers (on the kernel's path, as the kit's `kit.py setup` puts them) and its data folder."""
    where = tmp_path_factory.mktemp("lab")
    root = student_kit.build(["a1_rnn_forward", "a3_sampling"], out=where / "dist", quiet=True).folder
    # The sampling notebook is opened solved, as a student who finished it has it, so that all cells run.
    sampling = root / "notebooks" / "a3_sampling" / "sampling.ipynb"
    nbformat.write(fill_release(sampling, solution_sources(course_root / "solutions" / "a3_sampling" / "sampling.ipynb")),
                   sampling)
    fetch("tinyshakespeare", dest=root / "data", mirror=course_root / "data", quiet=True)
    home = where / "home"
    home.mkdir()
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RNN_KIT_")}
    env.update(HOME=str(home), JUPYTER_RUNTIME_DIR=str(home / "runtime"), PYTHONPATH=str(root),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), RNN_KIT_NO_PROGRESS="0",
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    # The kernels import the kit's helpers, not the repository's.
    imported = subprocess.run([sys.executable, "-c", "import helpers; print(helpers.__file__)"], env=env,
                              cwd=root / "notebooks", capture_output=True, text=True)
    assert imported.stdout.strip() == str(root / "helpers" / "__init__.py"), imported
    log = open(where / "jupyter.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start:\n{(where / 'jupyter.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield Lab(url, token, root)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser():
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"), full_page=False)
    context.close()


def open_notebook(page, lab: Lab, relative: str):
    page.goto(lab.notebook_url(relative))
    wait_until_ready(page)


def wait_until_ready(page):
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=TIMEOUT_MS)
    # The kernel is ready when the toolbar's status indicator says idle.
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=TIMEOUT_MS)


def cell_containing(page, text: str):
    cell = page.locator(".jp-Notebook .jp-Cell").filter(has_text=text).first
    cell.scroll_into_view_if_needed()
    return cell


def accept_kernel_dialog(page) -> None:
    """Under load JupyterLab sometimes asks which kernel to start: take the default (Python 3)."""
    dialog = page.locator(".jp-Dialog").filter(has_text="Select Kernel")
    if dialog.count():
        dialog.locator("button.jp-mod-accept").click()
        dialog.wait_for(state="detached")


RAN = r"\[\d+\]"
TAKEN = "el => /\\[(\\d+|\\*)\\]/.test(el.textContent) || !!document.querySelector('.jp-Dialog')"


def run_and_wait(page, start, prompt) -> None:
    """Call `start()` (which asks JupyterLab to run cells) until `prompt` shows a number.

    Under load JupyterLab's first connection to a new kernel sometimes never carries the request
    (the prompt stays `[ ]`, or a "Select Kernel" dialog opens): then reload the page, which
    reconnects to the same kernel (the state of cells already run is kept), and try again.
    """
    for _ in range(3):
        accept_kernel_dialog(page)
        start()
        try:
            page.wait_for_function(TAKEN, arg=prompt.element_handle(), timeout=30_000)
        except PlaywrightTimeout:
            page.reload()
            wait_until_ready(page)
            continue
        if page.locator(".jp-Dialog").count():
            continue
        page.wait_for_function("el => !/\\[\\*\\]/.test(el.textContent)", arg=prompt.element_handle(),
                               timeout=TIMEOUT_MS)
        if re.search(RAN, prompt.text_content() or ""):
            return
    raise AssertionError(f"the cell did not run; its prompt shows {prompt.text_content()!r}")


def run_cell(page, cell):
    """Select `cell`, run it with Shift+Enter and wait until its prompt shows a number."""
    def start():
        cell.locator(".jp-InputPrompt").click()
        page.keyboard.press("Shift+Enter")

    run_and_wait(page, start, cell.locator(".jp-InputArea-prompt"))


def test_wrong_answer_gets_a_friendly_message(page, lab):
    open_notebook(page, lab, "notebooks/a1_rnn_forward/rnn_forward.ipynb")
    for marker in ("import numpy as np", "text = load_shakespeare()"):
        run_cell(page, cell_containing(page, marker))
    exercise = cell_containing(page, "def softmax(y):")
    # Type a softmax without the max shift where the stub is, as a student would.
    exercise.locator(".cm-line", has_text="raise NotImplementedError()").click()
    page.keyboard.press("End")
    page.keyboard.press("Shift+Home")
    # insert_text: the editor's bracket auto-closing would double typed parentheses.
    page.keyboard.insert_text("return np.exp(y) / np.sum(np.exp(y))")
    assert "return np.exp(y) / np.sum(np.exp(y))" in exercise.locator(".cm-content").inner_text()
    run_cell(page, exercise)
    test_cell = cell_containing(page, _first_line(lab, "notebooks/a1_rnn_forward/rnn_forward.ipynb", "test_softmax"))
    run_cell(page, test_cell)
    output = test_cell.locator(".jp-OutputArea").inner_text()
    page.screenshot(path=str(ARTIFACTS / "a1-friendly-message.png"))
    assert "CheckFailed" in output, output
    assert "softmax(y + 1000)" in output and "nan" in output, output
    assert "Subtract max(y) first" in output, "the hint is not shown:\n" + output
    assert "Traceback" not in output and "checks.py" not in output, "the kit's internals are shown:\n" + output
    assert "✓ a1.softmax.small" in output, "the checks before the failing one should pass:\n" + output


def _first_line(lab, notebook: str, grade_id: str) -> str:
    """The opening comment of a graded cell, as the student's copy has it: the text to find it by."""
    nb = nbformat.read(lab.root / notebook, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return cell.source.split("\n", 1)[0]


def _run_all(page):
    """Run > Run All Cells, and wait until the first code cell has run."""
    def start():
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

    run_and_wait(page, start, page.locator(".jp-Notebook .jp-CodeCell .jp-InputArea-prompt").first)


def _wait_for_redraw(page, cell, before: dict) -> None:
    page.wait_for_function(
        """([cell, old]) => {
            const img = cell.querySelector('.widget-output img');
            const readout = cell.querySelector('.widget-readout');
            const info = cell.querySelector('.widget-html');
            const sample = cell.querySelector(".widget-output [data-mime-type='application/vnd.jupyter.stdout'] pre");
            // The kernel sends the chart, the sample and the entropy line one after another.
            return img && readout && info && sample && img.getAttribute('src') !== old.image
                && readout.textContent.trim() !== old.temperature && info.innerText !== old.info
                && sample.textContent !== old.sample;
        }""", arg=[cell.element_handle(), before], timeout=TIMEOUT_MS)


def _explorer_state(cell) -> dict:
    return {"image": cell.locator(".widget-output img").first.get_attribute("src"),
            "sample": cell.locator(".widget-output [data-mime-type='application/vnd.jupyter.stdout'] pre")
                          .first.text_content(),
            "info": cell.locator(".widget-html").first.inner_text(),
            "temperature": cell.locator(".widget-readout").first.inner_text()}


def test_temperature_slider_redraws_the_plot_and_the_sample(page, lab):
    open_notebook(page, lab, "notebooks/a3_sampling/sampling.ipynb")
    _run_all(page)
    cell = cell_containing(page, "explorer = temperature_explorer(")
    # The whole notebook runs first (a few seconds to a minute): wait for the widget's chart.
    try:
        cell.locator(".widget-output img").first.wait_for(state="attached", timeout=4 * TIMEOUT_MS)
    finally:
        (ARTIFACTS / "a3-slider-cell.html").write_text(cell.inner_html())
    cell.scroll_into_view_if_needed()
    before = _explorer_state(cell)
    page.screenshot(path=str(ARTIFACTS / "a3-slider-before.png"))
    assert before["image"].startswith("data:image/png"), before["image"][:80]
    assert float(before["temperature"]) == 1.0, before
    assert before["sample"].strip(), "no sample text under the chart"
    assert "entropy" in before["info"], before["info"]

    # Move the slider with the keyboard, as a student using it without a mouse does: End puts
    # the handle at the highest temperature (a drag lands wherever JupyterLab has scrolled to).
    handle = cell.locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.keyboard.press("End")
    # The kernel redraws once the new value arrives; the chart is a new <img> each time, so look
    # it up afresh while waiting.
    try:
        _wait_for_redraw(page, cell, before)
    except PlaywrightTimeout:
        pass  # the assertions below say what did not change
    after = _explorer_state(cell)
    page.screenshot(path=str(ARTIFACTS / "a3-slider-after.png"))
    hotter = float(after["temperature"])
    assert hotter == 10.0, f"End should move the slider to its highest temperature, readout {after['temperature']}"
    assert after["image"] != before["image"], "the distribution plot did not change"
    assert after["sample"] != before["sample"], "the sample did not change"
    entropy = [float(re.search(r"entropy ([\d.]+) nats", s["info"]).group(1)) for s in (before, after)]
    assert entropy[1] > entropy[0], f"a higher temperature must flatten the distribution: {entropy}"


def test_no_news_prompt_greets_the_student(page, lab):
    """The course's environment answers JupyterLab's "Jupyter news?" question (kit.py setup's overrides)."""
    url = f"{lab.url}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={lab.token}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        settings = json.load(resp)
    # overrides.json changes the schema's defaults, which the server sends with the settings
    assert settings["schema"]["properties"]["fetchNews"]["default"] == "false", settings["schema"]["properties"]
    open_notebook(page, lab, "notebooks/a1_rnn_forward/rnn_forward.ipynb")
    page.wait_for_timeout(3000)  # the prompt comes as a toast shortly after the start
    assert page.get_by_text("official Jupyter news").count() == 0
