"""``skntk compare --preset teacher``: "Learning Using NTK v2.0".

A linear SVC on the gradient features of one layer of a random three-layer
ReLU net at a time (W, then V, then u), on the labels of a random teacher
network; the notebook's printed errors beside skntk's.
"""

import numpy as np

from ._checkpoint import _prepare_output
from ._driver import _Progress
from ._errors import EXIT_OK
from ._presets import _preset_header, _write_preset
from ._significance import mcnemar_fields, p_cell

#: What "Learning Using NTK v2.0" printed: (train error, test error) of a linear
#: SVC on each layer's gradient features, and the 0-1 errors (train, test) of the
#: net before and after the layer is replaced by the SVC's hyperplane.
TEACHER_SEED = {
    "W": {"svc": (0.0, 0.31055), "net_before": (0.47, 0.57134),
          "net_after": (0.34, 0.44753)},
    "V": {"svc": (0.01, 0.3046), "net_before": (0.39, 0.43147),
          "net_after": (0.32, 0.41944)},
    "u": {"svc": (0.1, 0.30021), "net_before": (0.51, 0.44247),
          "net_after": (0.24, 0.36317)},
}



def _teacher_data(n_test):
    """The notebook's own draws (np.random.seed(124)): X, X_test, then the teacher."""
    from ..datasets import teacher_labels

    rs = np.random.RandomState(124)
    d, m, m_test = 25, 100, 100000
    X, X_test = rs.randn(d, m).T, rs.randn(d, m_test).T
    W, V = rs.randn(d, d) / np.sqrt(d), rs.randn(d, d) / np.sqrt(d)
    u = rs.randn(d) / np.sqrt(d)
    teacher = {"W": W, "V": V, "u": u}
    return (X, teacher_labels(X, teacher), X_test[:n_test],
            teacher_labels(X_test[:n_test], teacher))


def _predict(clf, features, X):
    """The SVC's labels on the gradient features of X, in chunks of 20000 rows."""
    return np.concatenate([clf.predict(features.transform(X[i:i + 20000]))
                           for i in range(0, len(X), 20000)])


def _error(clf, features, X, y):
    """The SVC's 0-1 error on the gradient features of X."""
    return float(np.mean(_predict(clf, features, X) != y))


def _layer(layer, seed, params, X, y, X_test, y_test):
    """One layer: its gradient features, the SVC, the net before and after.

    Returns the table rows, the layer's learned weights (the SVC's
    hyperplane), which the next layers start from, and the SVC's test labels.
    """
    from sklearn.svm import SVC

    from .. import EmpiricalNTKFeatures
    from ..datasets import teacher_labels

    features = EmpiricalNTKFeatures(
        (25, 25), layers=(layer,), parameterization="standard",
        init_params=dict(params), random_state=seed).fit(X)
    clf = SVC(kernel="linear", C=1.0).fit(features.transform(X), y)
    start = {"W": features.W_, "V": features.V_, "u": features.u_}
    learned = dict(start)
    learned[layer] = clf.coef_.reshape(start[layer].shape)
    test_pred = _predict(clf, features, X_test)
    ours = {
        "svc": (_error(clf, features, X, y), float(np.mean(test_pred != y_test))),
        "net_before": tuple(float(np.mean(teacher_labels(Z, start) != t))
                            for Z, t in ((X, y), (X_test, y_test))),
        "net_after": tuple(float(np.mean(teacher_labels(Z, learned) != t))
                           for Z, t in ((X, y), (X_test, y_test))),
    }
    rows = []
    for key, what in (("svc", "SVC on df/d{}"),
                      ("net_before", "net, {} at init"),
                      ("net_after", "net, {} = SVC hyperplane")):
        for i, split in enumerate(("train", "test")):
            rows.append({"quantity": f"{what.format(layer)}: {split} error",
                         "layer": layer, "seed": TEACHER_SEED[layer][key][i],
                         "skntk": ours[key][i]})
    return rows, learned[layer], test_pred


def _preset_teacher(args, started):
    """Learning Using NTK v2.0: a linear SVC on each layer's gradient features."""
    from .. import NTKClassifier
    from ._report import format_table

    outdir = _prepare_output(args.output)
    n_test = 10000 if args.quick else 100000
    X, y, X_test, y_test = _teacher_data(n_test)
    _preset_header(args,
                   f"teacher preset: the notebook's data (np.random.seed(124)): d=25, "
                   f"100 training samples, {n_test} test samples; labels "
                   f"sign(u' relu(V relu(W x))) of a random teacher")
    progress = _Progress(4, args.quiet)
    rows, params, svc_test = [], {}, {}
    try:
        for layer, seed in (("W", 0), ("V", 1), ("u", 2)):
            progress.describe(f"layer {layer}: gradient features + linear SVC")
            layer_rows, params[layer], svc_test[layer] = _layer(
                layer, seed, params, X, y, X_test, y_test)
            rows += layer_rows
            progress.update()
        progress.describe("analytic NTK (depth=2) for reference")
        ntk = NTKClassifier(alpha=1e-3, depth=2).fit(X, y)
        ntk_test = ntk.predict(X_test)
        ntk_err = float(np.mean(ntk_test != y_test))
        progress.update()
    finally:
        progress.close()
    for r in rows:  # each layer's SVC against the NTK on the same test samples
        if r["quantity"].startswith("SVC") and r["quantity"].endswith("test error"):
            r.update(mcnemar_fields(y_test, svc_test[r["layer"]], ntk_test))
            r["difference_vs_ntk"] = -r["difference_vs_ntk"]  # in error, not accuracy
    print(format_table(["0-1 error", "notebook", "skntk",
                        "SVC - NTK error points (McNemar)"],
                       [[r["quantity"], f"{r['seed']:.5g}", f"{r['skntk']:.5g}",
                         p_cell(r)] for r in rows]))
    print("for reference, NTKClassifier(depth=2, alpha=1e-3) test error: "
          f"{ntk_err:.5g}")
    if n_test < 100000:
        print(f"(--quick: test errors on the first {n_test} of the notebook's 100000 "
              "test samples)")
    report = _write_preset(outdir, args, started, "teacher", rows,
                           {"ntk_depth2_test_error": ntk_err, "n_test": n_test})
    print(f"report: {outdir / 'report.html'}, {outdir / 'results.json'} "
          f"({report['wall_time']:.0f}s)")
    return EXIT_OK
