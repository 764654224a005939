"""``report.html``: self-contained, and it opens in a real browser (Chromium).

The browser is Debian's ``chromium`` package driven by playwright (pointed at
that binary: ``playwright install`` downloads a browser and is never run). In
CI (``CI`` set) a missing browser is a failure, not a skip.
"""

import os
import re
import shutil

import numpy as np
import pytest
from _compare_cli import run as _run

from skntk.compare._html import render_html, write_html
from skntk.compare._significance import sentence, significance

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MODELS = ["ntk", "mlp", "svc-rbf"]


def _synthetic_report(folder):
    """A results.json-like dict with hand-made fold scores and two tiny figures."""
    rng = np.random.default_rng(0)
    scores = {"ntk": 0.95 + 0.01 * rng.standard_normal(6),
              "mlp": 0.94 + 0.01 * rng.standard_normal(6),
              "svc-rbf": 0.90 + 0.01 * rng.standard_normal(6)}
    section = significance(scores, [80] * 6, [20] * 6, MODELS)
    figures = {}
    for name in ("learning_curve", "gram_spectrum"):
        fig, ax = plt.subplots(figsize=(2, 1.5))
        ax.plot([0, 1], [0, 1])
        fig.savefig(folder / f"{name}.png")
        plt.close(fig)
        figures[name] = f"{name}.png"
    agreement = {"net": "mlp", "kernel": "ntk", "mean": 0.984, "std": 0.01,
                 "per_fold": [0.984] * 6}
    return {
        "settings": {"command": ["skntk", "compare", "--repeats", "2"], "cv": 3,
                     "repeats": 2, "models": MODELS,
                     "estimators": {m: {"description": f"<{m}>", "pipeline": m}
                                    for m in MODELS}},
        "versions": {"skntk": "0.0", "numpy": np.__version__},
        "data": {"name": "synthetic", "n_samples": 100, "n_features": 4,
                 "classes": [0, 1]},
        "summary": {m: {"accuracy_mean": float(s.mean()),
                        "accuracy_std": float(s.std()),
                        "fit_time_mean": 0.1, "predict_time_mean": 0.01,
                        "agreement_with_ntk_mean": None if m == "ntk" else 0.98}
                    for m, s in scores.items()},
        "significance": section, "agreement": agreement,
        "summary_text": sentence(section, agreement),
        "width_sweep": [{"width": 64, "accuracy_mean": 0.9, "accuracy_std": 0.01,
                         "agreement_with_ntk_mean": 0.95, "weight_change_mean": None,
                         "ntk_change_mean": None,
                         "vs_ntk": {"difference": -0.05, "p_value": 0.01}}],
        "figures": figures, "started": "2026-01-01T00:00:00+0000",
    }


def test_the_page_is_self_contained(tmp_path):
    report = _synthetic_report(tmp_path)
    page = render_html(report, tmp_path)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    # nothing is fetched: every src/href is inline data
    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert links and all(link.startswith("data:") for link in links)
    assert page.count("data:image/png;base64,") == 2
    assert "&lt;mlp&gt;" in page  # text is escaped, not markup
    # the plain-language summary, from the hand-made numbers
    text = report["summary_text"]
    assert text.startswith("The net (mlp) and its NTK (ntk) agree on 98.4% of "
                           "held-out predictions; the difference in accuracy, ")
    assert ("is significant at 5%" in text) == report["significance"]["pairs"][0][
        "significant"]
    assert text in page


def _chromium():
    path = shutil.which("chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        path = None
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI must test report.html in a browser: install Debian's "
                        "chromium and the test extra (playwright); see .ci/run")
        pytest.skip("no chromium + playwright here (apt-get install chromium; "
                    "pip install playwright); CI runs this test")
    return path


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # executable_path: Debian's chromium (never `playwright install`);
        # --no-sandbox: CI containers run as root
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield b
        b.close()


def _open(browser, path):
    page = browser.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in
            ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.goto(path.resolve().as_uri(), wait_until="load")
    images = page.eval_on_selector_all(
        "img", "els => els.map(e => [e.complete, e.naturalWidth])")
    rows = page.eval_on_selector_all("#models tbody tr", "els => els.length")
    summary = page.inner_text("#summary") if page.query_selector("#summary") else None
    page.close()
    return images, rows, summary, problems


def test_the_page_opens_in_chromium(tmp_path, browser):
    report = _synthetic_report(tmp_path)
    write_html(tmp_path / "report.html", report, tmp_path)
    images, rows, summary, problems = _open(browser, tmp_path / "report.html")
    assert len(images) == 2 and all(done and width > 0 for done, width in images)
    assert rows == len(MODELS)
    assert summary == report["summary_text"]
    assert problems == []


@pytest.mark.slow
def test_a_real_repeated_run_opens_in_chromium(tmp_path, capsys, browser):
    out = tmp_path / "report"
    code, stdout, err = _run(["compare", "--quick", "--models", "ntk,svc-rbf",
                              "--n-train", "60", "--cv", "2", "--repeats", "2",
                              "--output", str(out), "--quiet"], capsys)
    assert code == 0, err
    assert "report.html" in stdout
    images, rows, summary, problems = _open(browser, out / "report.html")
    assert images and all(done and width > 0 for done, width in images)
    assert rows == 2 and problems == []
