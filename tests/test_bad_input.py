"""Malformed logs and parameters, through the API and the command line: each
gives a clear error naming what is wrong (InvalidParameterError; exit 2 and
one line, no traceback) or a result whose cleaning report accounts for every
input row (rows read = lines used + rows dropped, merged or netted).  The
files go through every command; the Spark encoder takes the same frames in
tests/test_spark.py."""
import gzip

import numpy as np
import pandas as pd
import pytest

import basketmine as bm
from basketmine.cli import main

from conftest import DATASETS

SAMPLE = DATASETS / "online_retail" / "online_retail_sample.csv.gz"
T = ["2011-01-01 10:00", "2011-01-01 10:00", "2011-01-02 11:00", "2011-01-03 12:00"]


def lines(**over):
    base = {"b": ["1", "1", "2", "3"], "i": ["a", "b", "a", "c"], "c": ["x", "x", "y", "x"], "t": T,
            "q": [1, 2, 1, 3], "p": [1.0, 2.0, 1.5, 0.5]}
    base.update(over)
    return pd.DataFrame(base)


KW = dict(customer="c", time="t", quantity="q", price="p")

#: (name, frame, keyword arguments of from_frame)
FRAMES = [
    ("empty frame", lines().iloc[:0], KW),
    ("header only, no rows", pd.DataFrame(columns=["b", "i"]), {}),
    ("NaN basket ids", lines(b=["1", None, np.nan, "3"]), KW),
    ("NaN items", lines(i=["a", None, "a", np.nan]), KW),
    ("every item missing", lines(i=[None] * 4), KW),
    ("mixed item types", lines(i=["a", 1, 2.5, "c"]), KW),
    ("unhashable items", lines(i=[["a"], "b", "a", "c"]), KW),
    ("unhashable baskets", lines(b=[["1"], "1", "2", "3"]), KW),
    ("unhashable customers", lines(c=[{"x"}, "x", "y", "x"]), KW),
    ("duplicate lines", pd.concat([lines(), lines()]), KW),
    ("negative quantities", lines(q=[-1, 2, -1, 3]), KW),
    ("zero quantities", lines(q=[0, 0, 1, 3]), KW),
    ("NaN quantities", lines(q=[np.nan, 2, 1, 3]), KW),
    ("infinite quantities", lines(q=[np.inf, 2, -np.inf, 3]), KW),
    ("text quantities", lines(q=["one", "2", "x", "3"]), KW),
    ("NaN prices", lines(p=[np.nan, 2.0, np.nan, 1.0]), KW),
    ("infinite prices", lines(p=[np.inf, -np.inf, 1e308, 1.0]), KW),
    ("negative prices", lines(p=[-1.0, 2.0, -3.0, 1.0]), KW),
    ("unparseable dates", lines(t=["not a date", "2011-01-01", "??", "2011-01-03"]), KW),
    ("every date unparseable", lines(t=["x", "y", "z", "w"]), KW),
    ("mixed date formats", lines(t=["2011-01-01", "01/02/2011", "3 Jan 2011", "2011-01-04T10:00"]), KW),
    ("timezone-aware dates", lines(t=["2011-01-01 10:00+01:00", "2011-01-01 10:00+01:00",
                                      "2011-01-02 11:00+00:00", "2011-01-03 12:00-05:00"]), KW),
    ("times of day only", lines(t=["10:00", "10:00", "11:00", "12:00"]), KW),
    ("epoch seconds", lines(t=[1293876000, 1293876000, 1293966000, 1294056000]), KW),
    ("unicode and quotes in labels", lines(i=['café "au lait"', "naïve, tea", "日本茶", "a\nb"]), KW),
    ("labels with commas", lines(i=["PAPER CRAFT , LITTLE BIRDIE", "a", "b", "c"]), KW),
    ("missing column", lines(), dict(KW, price="UnitPrice")),
    ("basket column is None", lines(), {"customer": "c"}),
    ("net without customers", lines(), dict(time="t", quantity="q", cancellations="net")),
    ("unknown cancellations", lines(), dict(KW, cancellations="sometimes")),
    ("time pair of three", lines(), dict(KW, time=["t", "t", "t"])),
    ("bad date format", lines(), dict(KW, date_format="%Y/%d")),
    ("NaN customers", lines(c=[None, "x", np.nan, "x"]), KW),
    ("numeric ids", lines(b=[1, 1, 2, 3], c=[10.0, 10.0, 11.0, 10.0]), KW),
]

#: (name, call) of parameters at their edges
PARAMS = [
    ("support 0", lambda tm: bm.frequent_itemsets(tm, 0)),
    ("support negative", lambda tm: bm.frequent_itemsets(tm, -0.1)),
    ("support NaN", lambda tm: bm.frequent_itemsets(tm, float("nan"))),
    ("support as text", lambda tm: bm.frequent_itemsets(tm, "0.1")),
    ("support above 1", lambda tm: bm.frequent_itemsets(tm, 1.5)),
    ("max_len 0", lambda tm: bm.frequent_itemsets(tm, 1, max_len=0)),
    ("max_len huge", lambda tm: bm.frequent_itemsets(tm, 1, max_len=10**12)),
    ("target unknown", lambda tm: bm.frequent_itemsets(tm, 1, target="everything")),
    ("confidence 1.5", lambda tm: bm.association_rules(bm.frequent_itemsets(tm, 1), "confidence", 1.5)),
    ("metric unknown", lambda tm: bm.association_rules(bm.frequent_itemsets(tm, 1), "zest", 0.1)),
    ("threshold NaN", lambda tm: bm.association_rules(bm.frequent_itemsets(tm, 1), "lift", float("nan"))),
    ("within without unit", lambda tm: bm.follow_ups(tm, within="90")),
    ("within negative", lambda tm: bm.follow_ups(tm, within="-3D")),
    ("within as text", lambda tm: bm.follow_ups(tm, within="soon")),
    ("horizon without unit", lambda tm: bm.recommend(tm, horizon="30")),
    ("k 0", lambda tm: bm.recommend(tm, k=0)),
    ("asof before the log", lambda tm: bm.recommend(tm, asof="2000-01-01")),
    ("asof not a date", lambda tm: bm.recommend(tm, asof="someday")),
    ("unknown customer", lambda tm: bm.recommend(tm, customers=["nobody"], k=2)),
    ("cutoff outside", lambda tm: bm.models.features(tm, "1999-01-01")),
    ("model type unknown", lambda tm: bm.compare(tm, "2011-01-02", model_types=("tarot",))),
    ("exclude pattern broken", lambda tm: tm.exclude(pattern="(")),
    ("item unknown", lambda tm: tm.code_of(["zz"])),
    ("unfitted model", lambda tm: bm.value.BetaGeo().expected_purchases(10)),
]


class _quiet:
    def __enter__(self):
        import warnings
        self._c = warnings.catch_warnings()
        self._c.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._c.__exit__(*exc)


def accounted(tm: bm.TransactionMatrix) -> bool:
    rep = tm.report
    return rep.rows_in == tm.nnz + sum(r for _, r, a in rep.entries if a != "note")


@pytest.mark.parametrize("name, frame, kw", FRAMES, ids=[c[0] for c in FRAMES])
def test_malformed_frames_give_a_clear_error_or_an_accounted_result(name, frame, kw):
    try:
        with _quiet():
            basket = None if name == "basket column is None" else "b"
            tm = bm.TransactionMatrix.from_frame(frame, basket, "i", **kw)
    except bm.InvalidParameterError as exc:
        assert "parameter" in str(exc) or "TransactionMatrix" in str(exc), str(exc)
        return
    assert accounted(tm), tm.report


@pytest.mark.parametrize("name, call", PARAMS, ids=[c[0] for c in PARAMS])
def test_parameters_at_their_edges_give_a_clear_error_or_an_answer(name, call):
    tm = bm.TransactionMatrix.from_frame(lines(), "b", "i", **KW)
    try:
        with _quiet():
            call(tm)
    except bm.InvalidParameterError as exc:
        assert "parameter" in str(exc) or "fit" in str(exc) or "vocabulary" in str(exc), str(exc)


def _files(tmp):
    out = []

    def add(name, data: bytes, suffix=".csv", extra=("--basket", "b", "--item", "i")):
        path = tmp / f"{len(out)}{suffix}"
        path.write_bytes(data)
        out.append((name, [str(path), *extra]))

    good = lines().rename(columns={"b": "b", "i": "i"}).to_csv(index=False).encode()
    add("empty file", b"")
    add("header only", b"b,i\n")
    add("one basket per line", b"a,b\nc\n\n", extra=())
    add("latin-1 text", b"b,i\n1,caf\xe9\n", extra=("--basket", "b", "--item", "i"))
    add("wrong delimiter", good.replace(b",", b";"))
    add("truncated gzip", gzip.compress(good)[:20], suffix=".csv.gz")
    add("fake gzip", b"not gzip at all", suffix=".csv.gz")
    add("0-byte parquet", b"", suffix=".parquet")
    add("garbage parquet", b"PAR1 garbage", suffix=".parquet")
    add("FIMI with a huge number", b"1 2\n99999999999999999999999\n", suffix=".dat", extra=())
    add("FIMI with text", b"1 2\nthree\n", suffix=".dat", extra=())
    add("labels with quotes and newlines", b'b,i\n1,"a ""b"""\n1,"c\nd"\n2,e\n')
    add("duplicate lines", good + good.split(b"\n", 1)[1])
    out.append(("a directory", [str(tmp)]))
    out.append(("a missing file", [str(tmp / "none.csv")]))
    return out


#: every command, with the options its job needs beyond the file's own
COMMANDS = {
    "rules": ["--min-support", "1"],
    "sequences": ["--customer", "c", "--time", "t", "--within", "30D", "--min-support", "1"],
    "value": ["--customer", "c", "--time", "t", "--quantity", "q", "--price", "p"],
    "recommend": ["--customer", "c", "--time", "t", "--horizon", "30D"],
    "compare": ["--customer", "c", "--time", "t", "--cutoff", "2011-01-02", "--horizon", "30D"],
    "report": ["--customer", "c", "--time", "t", "--quantity", "q", "--price", "p"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_malformed_files_through_every_command(command, tmp_path, capsys):
    outcomes = {}
    for name, args in _files(tmp_path):
        extra = list(COMMANDS[command])
        if "--basket" not in args:   # basket-per-line and FIMI files have no columns to name
            pairs = zip(extra[::2], extra[1::2])
            extra = [x for o, v in pairs if o not in ("--customer", "--time", "--quantity", "--price")
                     for x in (o, v)]
        if command == "report":
            extra = extra + ["-o", str(tmp_path / f"{len(outcomes)}.html")]
        code = main([command, *args, *extra, "-q"])
        err = capsys.readouterr().err.strip()
        assert code in (0, 2), (name, code, err)
        assert "Traceback" not in err, (name, err)
        if code == 2:
            assert err.startswith(f"basketmine {command}: error: ") and "\n" not in err, (name, err)
        outcomes[name] = code
    assert len(outcomes) >= 15 and 2 in outcomes.values()


@pytest.mark.parametrize("option, value", [("--min-support", "lots"), ("--min-support", "0"),
                                           ("--within", "90"), ("--min-confidence", "2")])
def test_bad_options_on_the_command_line(option, value, capsys):
    cmd = "sequences" if option == "--within" else "rules"
    args = [cmd, str(SAMPLE), "--basket", "InvoiceNo", "--item", "StockCode", "--customer", "CustomerID",
            "--time", "InvoiceDate", option, value, "-q"]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own check
        code = exc.code
    assert code == 2
    assert "Traceback" not in capsys.readouterr().err
