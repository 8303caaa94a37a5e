"""A virtual environment with lifetimes 0.11.3, the customer-value peer.

lifetimes does not work beside pandas 3 (its summary gives recency > T), so it
gets its own venv with pandas 2.  Built once, reused afterwards:

    python benchmarks/lifetimes_env.py          # prints the venv's python

Location: ``$BASKETMINE_LIFETIMES_VENV`` or ``~/.cache/basketmine/lifetimes-venv``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PINS = ["lifetimes==0.11.3", "pandas>=2.2,<3", "numpy<2.3", "scipy<1.15"]


def venv_path() -> Path:
    return Path(os.environ.get("BASKETMINE_LIFETIMES_VENV",
                               Path.home() / ".cache" / "basketmine" / "lifetimes-venv"))


def ensure_env(path: Path | None = None) -> Path:
    """Create the venv if needed; return its python."""
    root = Path(path) if path is not None else venv_path()
    py = root / "bin" / "python"
    marker = root / ".basketmine-ready"
    if marker.exists() and marker.read_text() == repr(PINS):
        return py
    root.parent.mkdir(parents=True, exist_ok=True)
    steps = [[sys.executable, "-m", "venv", str(root)],
             [str(py), "-m", "pip", "install", "-q", *PINS],
             [str(py), "-c", "import lifetimes, pandas; assert pandas.__version__ < '3'"]]
    for cmd in steps:
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode:
            tail = (res.stdout + res.stderr)[-2000:]
            raise RuntimeError(f"building the lifetimes venv failed at {' '.join(cmd[:4])}:\n{tail}")
    marker.write_text(repr(PINS))
    return py


if __name__ == "__main__":
    print(ensure_env())
