import runpy
import shutil
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, capsys, tmp_path, monkeypatch):
    if path.name == "plots.py":   # it writes ./plots: keep that out of the tree
        monkeypatch.chdir(tmp_path)
    if path.name.startswith("spark_"):
        if shutil.which("java") is None:
            pytest.skip("needs Java for pyspark (Java 17 is on the CI machines)")
        pytest.importorskip("pyspark", reason="pyspark is in the spark and test extras")
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert out.strip()
    if path.name.startswith("spark_"):
        assert "equal to the local ones: True" in out
