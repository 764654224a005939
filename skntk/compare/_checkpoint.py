"""``skntk compare``'s checkpoints: the progress file and ``--resume``.

Every finished (model, fold) is appended to ``progress.jsonl`` in ``--output``
(the file format is :class:`skntk.compare._report.ProgressFile`); ``--resume``
reuses the folds of a progress file whose settings and library versions match.
:func:`_prepare_output` readies the --output folder (presets included).
"""

import json
import os
from pathlib import Path

import numpy as np

from ._errors import EXIT_USAGE, CompareError
from ._models import TORCH_MODELS

PROGRESS_FILE = "progress.jsonl"
#: What a run writes in --output (the figures are PNGs).
_REPORT_FILES = ("results.json.", "results.csv.", PROGRESS_FILE + ".",
                 "learning_curve.png.", "agreement_width.png.", "gram_spectrum.png.",
                 "widths_sweep.png.", "report.html.")
#: The fields of a fold's result that the progress file keeps.
_RECORD_KEYS = ("model", "fold", "accuracy", "fit_time", "predict_time", "n_train",
                "n_test", "predictions", "warnings")
#: Kept too when a fold has them (the drift curves of a --widths net).
_OPTIONAL_KEYS = ("diagnostics",)
#: The settings a resumed run must share with the progress file, in the order
#: they are checked, and how the error message names them.
_RESUME_KEYS = {"dataset": "--dataset", "classes": "--classes", "quick": "--quick",
                "n_samples": "--n-train (rows used)", "cv": "--cv",
                "repeats": "--repeats",
                "random_state": "--random-state", "models": "--models",
                "activation": "--activation", "widths": "--widths",
                "torch_threads": "--torch-threads",
                "data_sha256": "the data (same name, different rows)"}
#: Library versions that must match for resumed folds to equal fresh ones.
_RESUME_VERSIONS = ("skntk", "python", "numpy", "scipy", "scikit-learn", "torch")


def _data_digest(X, y):
    import hashlib

    X = np.ascontiguousarray(X)
    h = hashlib.sha256(f"{X.dtype.str} {X.shape}".encode())
    h.update(X.tobytes())
    h.update(json.dumps(np.asarray(y).tolist()).encode())
    return h.hexdigest()


def _checkpoint_settings(args, data, models, n_folds, versions):
    """What the progress file records, to check that a --resume is compatible."""
    torch = any(m in TORCH_MODELS for m in models)
    return {
        "command": ["skntk", "compare", *args.argv],
        "dataset": data.name, "classes": args.classes, "quick": args.quick,
        "n_samples": int(len(data.y)), "cv": n_folds,
        # only when repeated: older progress files (no key) match --repeats 1
        **({"repeats": args.repeats} if getattr(args, "repeats", 1) != 1 else {}),
        "random_state": args.random_state, "models": list(models),
        # only with a sweep: older progress files (no key) match no --widths
        **({"widths": list(args.widths)} if getattr(args, "widths", None) else {}),
        # None for ReLU: progress files written before --activation resume
        "activation": (None if args.activation_spec.name == "relu"
                       else args.activation_spec.label),
        "torch_threads": args.torch_threads if torch else None,
        "data_sha256": _data_digest(data.X, data.y),
        "versions": {k: versions[k] for k in _RESUME_VERSIONS if k in versions},
    }


def _show(value):
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _resume_mismatch(old, new):
    """The first setting that differs, as a phrase; None if compatible."""
    for key, name in _RESUME_KEYS.items():
        if old.get(key) != new.get(key):
            if key == "data_sha256":
                return name
            return f"{name} {_show(old.get(key))}, this run has {_show(new.get(key))}"
    old_v, new_v = old.get("versions") or {}, new["versions"]
    for lib in _RESUME_VERSIONS:
        if lib in old_v and lib in new_v and old_v[lib] != new_v[lib]:
            return f"{lib} {old_v[lib]}, this run has {new_v[lib]}"
    return None


def checkpoint_record(res):
    """The part of a fold's result that the progress file keeps."""
    record = {key: res[key] for key in _RECORD_KEYS}
    record.update({key: res[key] for key in _OPTIONAL_KEYS if key in res})
    return record


def _load_checkpoint(path, settings, folds):
    """The finished (model, fold) results of a progress file that matches
    (the --widths sweep's model-folds included)."""
    from ._sweep import sweep_model

    models = set(settings["models"]) | {sweep_model(w)
                                        for w in settings.get("widths", ())}
    from ._report import read_progress

    advice = "use a new --output, or drop --resume to start over"
    try:
        header, records = read_progress(path)
    except (OSError, ValueError) as exc:
        raise CompareError(f"--resume: {path} {exc}; {advice}", EXIT_USAGE) from None
    if header is None:
        return None
    diff = _resume_mismatch(header, settings)
    if diff is not None:
        raise CompareError(f"--resume: {path} was written with {diff}; {advice}",
                           EXIT_USAGE)
    done = {}
    for r in records:
        try:
            m, k = r["model"], int(r["fold"])
            rec = checkpoint_record(r)
        except (KeyError, TypeError, ValueError):
            continue
        if m not in models or not 0 <= k < len(folds):
            continue
        rec["predictions"] = np.asarray(rec["predictions"])
        n_test = len(folds[k][1])
        if rec["n_test"] != n_test or len(rec["predictions"]) != n_test:
            continue
        done[m, k] = rec
    return done


def _prepare_output(path, keep_progress=False):
    """The --output folder, created, with an older run's report files removed."""
    outdir = Path(path)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CompareError(f"--output {path}: cannot create the folder "
                           f"({exc})") from None
    if not os.access(outdir, os.W_OK):
        raise CompareError(f"--output {path}: the folder is not writable")
    # An older report must not pass for this run's if this run is interrupted;
    # an older progress file is only reused with --resume.
    names = ("results.json", "results.csv", "report.html") + (() if keep_progress else
                                                (PROGRESS_FILE,))
    # So must the temporaries of a run killed in the middle of a write (the
    # file they were for is intact: the rename never happened).
    from ._report import temporary_name

    stale = [p.name for p in outdir.iterdir()
             if temporary_name(p.name) and p.name[1:].startswith(_REPORT_FILES)]
    for name in (*names, *stale):
        try:
            (outdir / name).unlink()
        except FileNotFoundError:
            pass
    return outdir
