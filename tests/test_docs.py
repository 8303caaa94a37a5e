"""The documentation: the Sphinx build (warnings as errors), a complete API
reference, and an example that runs for every public function and class."""
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import basketmine as bm

ROOT = Path(__file__).resolve().parents[1]


def public_objects():
    """(dotted name, object) for everything the package exports."""
    spaces = [("basketmine", bm, bm.__all__), ("basketmine.value", bm.value, bm.value.__all__),
              ("basketmine.models", bm.models, bm.models.__all__), ("basketmine.report", bm.report, ["report"]),
              ("basketmine.plot", bm.plot, bm.plot.__all__)]
    seen = set()
    for prefix, mod, names in reversed(spaces):  # a subpackage's name wins over the re-export
        for name in names:
            obj = getattr(mod, name)
            if id(obj) in seen:  # bm.compare is bm.models.compare
                continue
            seen.add(id(obj))
            yield f"{prefix}.{name}", obj


def callables():
    return [(n, o) for n, o in public_objects()
            if inspect.isfunction(o) or (inspect.isclass(o) and not issubclass(o, BaseException))]


@pytest.mark.parametrize("name, obj", callables(), ids=[n for n, _ in callables()])
def test_every_public_function_and_class_has_an_example_that_runs(name, obj):
    doc = obj.__doc__ or ""
    assert "Examples\n" in doc and ">>>" in doc, f"{name} has no Examples section"
    # pytest --doctest-modules runs it; a skipped example would not count
    assert "+SKIP" not in doc, f"{name} skips its example"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    pytest.importorskip("sphinx", reason="sphinx is in the test extra: pip install -e '.[test]'")
    out = tmp_path_factory.mktemp("html")
    run = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                          str(ROOT / "docs"), str(out)], capture_output=True, text=True, cwd=ROOT)
    return run, out


def test_docs_build_with_warnings_as_errors(built):
    run, out = built
    assert run.returncode == 0, run.stderr
    assert {"index.html", "guide.html", "thresholds.html", "api.html"} <= {p.name for p in out.iterdir()}


def test_api_reference_lists_every_public_name(built):
    run, out = built
    assert run.returncode == 0, run.stderr
    ids = set(re.findall(r'<dt class="sig sig-object py" id="([^"]+)"', (out / "api.html").read_text()))
    missing = [name for name, _ in public_objects() if name not in ids]
    assert not missing, f"not in docs/api.rst: {missing}"
