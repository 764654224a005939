"""How many bytes skntk may allocate (``SKNTK_MAX_MEMORY`` or the system's
available memory), and the MemoryError that refuses an allocation before it
starts swapping. Shared by the solvers (:mod:`skntk.linalg.memory`) and the
empirical features."""

import os
import re

__all__ = ["available_memory", "check_memory", "format_bytes"]

_UNITS = {"": 1, "B": 1, "K": 2**10, "KB": 10**3, "KIB": 2**10, "M": 2**20,
          "MB": 10**6, "MIB": 2**20, "G": 2**30, "GB": 10**9, "GIB": 2**30,
          "T": 2**40, "TB": 10**12, "TIB": 2**40}


def _parse_bytes(text):
    m = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    if m is None or m.group(2).upper() not in _UNITS:
        raise ValueError(f"SKNTK_MAX_MEMORY must be a size such as '8GiB' or "
                         f"'500MB', got {text!r}.")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def available_memory():
    """Bytes skntk may allocate: ``SKNTK_MAX_MEMORY`` if set, else the
    system's available memory (Linux ``MemAvailable``), else None (unknown)."""
    limit = os.environ.get("SKNTK_MAX_MEMORY")
    if limit:
        return _parse_bytes(limit)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024


def check_memory(nbytes, what, options):
    """Raise MemoryError before allocating ``nbytes`` that do not fit.

    ``options`` is a sentence listing what the user can change.
    """
    available = available_memory()
    if available is not None and nbytes > available:
        raise MemoryError(
            f"{what} needs about {format_bytes(nbytes)} but only "
            f"{format_bytes(available)} is available. {options}")
