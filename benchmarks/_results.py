"""Rows of (ours, baseline, ratio, target) recorded by every benchmark script.

Each ``bench_*.py`` calls :func:`record` where it compares a timing (or a
memory figure) with a baseline measured in the same process;
``benchmarks/run.py`` runs them all and prints the rows as one table.
"""

ROWS = []


def record(benchmark, case, ours, baseline_name, baseline, *, target=None,
           higher_is_better=False, unit="s"):
    """Store one comparison; ``ratio`` is ours / baseline (or the inverse when
    ``higher_is_better``, e.g. a speedup), and ``met`` checks it against
    ``target`` ("<= 1.3" or ">= 5")."""
    ratio = (baseline / ours) if higher_is_better else (ours / baseline)
    met = None
    if target is not None:
        op, value = target.split()
        met = ratio <= float(value) if op == "<=" else ratio >= float(value)
    ROWS.append(dict(benchmark=benchmark, case=case, ours=ours, baseline=baseline_name,
                     baseline_value=baseline, unit=unit, ratio=ratio,
                     ratio_is="baseline/ours" if higher_is_better else "ours/baseline",
                     target=target, met=met))
