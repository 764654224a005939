"""``report.html``: the report of ``skntk compare`` as one self-contained page.

Everything is in the file: the figures are embedded as base64 PNG, the style
is inline, there is no script and no link to the network, so the page opens
from disk, offline, and can be mailed as it is. It is rendered from the
``results.json`` dictionary (and the figure files beside it).
"""

import base64
import html
from pathlib import Path

from ._report import atomic_write_text
from ._significance import PAIR_HEADER, pair_cells

__all__ = ["render_html", "write_html"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 64em; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #888; }
.summary { background: #f3f6fa; border-left: 4px solid #4a78b0; padding: 0.6em 1em; }
figure { margin: 1em 0; } img { max-width: 100%; height: auto; }
figcaption, .small { color: #555; font-size: 0.88em; }
code { background: #f4f4f4; padding: 0 0.2em; }
"""


def _e(value):
    return html.escape("" if value is None else str(value))


def _table(header, rows, table_id=None):
    attr = f' id="{_e(table_id)}"' if table_id else ""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(path, name):
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return (f'<figure><img alt="{_e(name)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(name)}</figcaption></figure>")


def _models_section(report):
    summary = report["summary"]
    versus = {p["a"]: p for p in (report.get("significance") or {}).get("pairs", [])
              if p["b"] == "ntk"}
    rows = []
    for m, s in summary.items():
        agree = s.get("agreement_with_ntk_mean")
        pair = versus.get(m)
        cells = pair_cells(pair) if pair else ["-"] * len(PAIR_HEADER)
        rows.append([m, f"{s['accuracy_mean']:.4f} ± {s['accuracy_std']:.4f}",
                     f"{s['fit_time_mean']:.2f}s", f"{s['predict_time_mean']:.3f}s",
                     "-" if agree is None else f"{agree:.4f}", *cells])
    header = ["model", "accuracy (mean ± std)", "fit time", "predict time",
              "agrees with ntk"] + [
        "vs ntk: " + h.replace("a - b", "model - ntk").replace(
            "P(b>a)/P(rope)/P(a>b)", "P(ntk better) / P(equivalent) / P(model better)")
        for h in PAIR_HEADER]
    return "<h2>Models</h2>" + _table(header, rows, "models")


def _pairs_section(report):
    section = report.get("significance")
    if not section or not section["pairs"]:
        return ""
    rows = [[f"{p['a']} vs {p['b']}", *pair_cells(p)] for p in section["pairs"]]
    defs = "".join(f"<li><code>{_e(k)}</code>: {_e(v)}</li>"
                   for k, v in section["definitions"].items())
    return ("<h2>Significance: every pair of models</h2>"
            f"<p class=\"small\">{_e(section['test'])}, level "
            f"{section['alpha']:g}; {_e(section['bayesian'])}, region of practical "
            f"equivalence ±{100 * section['rope']:g} accuracy points. "
            "Differences in accuracy points (a - b).</p>"
            + _table(["pair (a vs b)", *PAIR_HEADER], rows, "pairs")
            + f"<ul class=\"small\">{defs}</ul>")


def _sweep_section(report):
    from ._sweep import sweep_table

    rows = report.get("width_sweep")
    if not rows:
        return ""
    lines = sweep_table(rows).splitlines()
    header = [h for h in lines[0].split("  ") if h.strip()]
    cells = [[c for c in ln.split("  ") if c.strip()] for ln in lines[2:]]
    return ("<h2>Width sweep</h2><p class=\"small\">The net (mlp) at each width on "
            "the same folds; vs ntk: net minus kernel accuracy, corrected resampled "
            "t-test.</p>" + _table([h.strip() for h in header],
                                   [[c.strip() for c in r] for r in cells], "sweep"))


def _preset_section(report):
    rows = report.get("rows") or []
    if not rows:
        return ""
    keys = [k for k in dict.fromkeys(k for r in rows for k in r) if k != "layer"]
    return "<h2>Results</h2>" + _table(keys, [[r.get(k) for k in keys] for r in rows],
                                       "models")


def render_html(report, folder=None):
    """The page for a ``results.json`` dictionary; figures read from ``folder``.

    Parameters
    ----------
    report : dict
        What ``skntk compare`` writes to results.json (a ``--preset``'s too).
    folder : path-like, default=None
        Where the figure files named in ``report["figures"]`` are; None leaves
        the figures out.

    Returns
    -------
    page : str

    Examples
    --------
    >>> page = render_html({"settings": {"command": ["skntk", "compare"]},
    ...                     "versions": {"skntk": "0"}, "summary": {}})
    >>> page.startswith("<!DOCTYPE html>") and "<script" not in page
    True
    """
    settings = report.get("settings", {})
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             '<link rel="icon" href="data:,">',
             "<title>skntk compare report</title>", f"<style>{_STYLE}</style>",
             "</head><body><h1>skntk compare: a net against its NTK</h1>"]
    data = report.get("data")
    if data:
        parts.append(f"<p>{_e(data.get('name'))}: {_e(data.get('n_samples'))} "
                     f"samples, {_e(data.get('n_features'))} features, "
                     f"{len(data.get('classes', []))} classes.</p>")
    if report.get("summary_text"):
        parts.append(f'<p class="summary" id="summary">{_e(report["summary_text"])}'
                     "</p>")
    if "summary" in report:
        parts.append(_models_section(report))
    parts.append(_preset_section(report))
    parts.append(_pairs_section(report))
    parts.append(_sweep_section(report))
    figures = report.get("figures") or {}
    if folder is not None and figures:
        parts.append("<h2>Figures</h2>")
        for key, name in figures.items():
            path = Path(folder) / name
            if path.is_file():
                parts.append(_figure(path, key.replace("_", " ")))
    shown = {k: v for k, v in settings.items() if k not in ("estimators",
                                                            "definitions")}
    parts.append("<h2>Settings</h2>" + _table(
        ["setting", "value"], [[k, " ".join(v) if k == "command" else v]
                               for k, v in shown.items()], "settings"))
    for name, est in (settings.get("estimators") or {}).items():
        parts.append(f"<p class=\"small\"><b>{_e(name)}</b>: "
                     f"{_e(est.get('description'))}<br><code>"
                     f"{_e(est.get('pipeline'))}</code></p>")
    parts.append("<h2>Versions</h2>" + _table(
        ["library", "version"], list((report.get("versions") or {}).items()),
        "versions"))
    parts.append(f"<p class=\"small\">Started {_e(report.get('started'))}; "
                 f"results.json and results.csv hold every fold.</p>")
    parts.append("</body></html>\n")
    return "\n".join(p for p in parts if p)


def write_html(path, report, folder):
    """Write :func:`render_html`'s page to ``path``, atomically."""
    atomic_write_text(path, render_html(report, folder))
