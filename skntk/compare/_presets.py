"""``skntk compare --preset``: two seed notebooks, their printed numbers beside ours.

What the presets share: the header line and the report they write. The
presets themselves are :mod:`._preset_tp5` (a shallow net and its NTK on
Fashion-MNIST Dress vs Shirt) and :mod:`._preset_teacher` (a linear SVC on
each layer's gradient features of a teacher network).
"""

import time

from . import _report


def _preset_header(args, what):
    if not args.quiet:
        print(what, flush=True)


def _write_preset(outdir, args, started, name, rows, extra):
    versions = _report.versions()
    report = {
        "schema_version": _report.SCHEMA_VERSION, "complete": True,
        "settings": {"command": ["skntk", "compare", *args.argv], "preset": name,
                     "random_state": args.random_state, "quick": args.quick},
        "versions": versions, "rows": rows, **extra,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "wall_time": time.time() - started,
    }
    _report.write_csv(outdir / "results.csv",
                      [r | {"preset": name, "skntk_version": versions["skntk"]}
                       for r in rows],
                      ["preset", "quantity", "seed", "skntk", "skntk_version",
                       "difference_vs_ntk", "p_value_vs_ntk", "test_vs_ntk"])
    from ._html import write_html

    write_html(outdir / "report.html", report, outdir)
    _report.write_json(outdir / "results.json", report)
    return report

