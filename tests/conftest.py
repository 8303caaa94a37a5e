from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT / "datasets"
SHARED = ROOT.parent / "shared" / "datasets"


def shared(*parts) -> Path:
    """A file of ../shared/datasets, or skip the test saying why."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs the benchmark data {path} (../shared/datasets beside the repo)")
    return path
