import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import basketmine as bm
import pytest

from basketmine import cli
from basketmine.cli import main

from conftest import DATASETS

GROCERIES = str(DATASETS / "groceries" / "groceries.csv")
ROOT = Path(__file__).resolve().parents[1]


def test_rules_prints_a_readable_table(capsys):
    assert main(["rules", GROCERIES, "--min-support", "0.01", "--min-confidence", "0.5", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("15 rules from 333 frequent itemsets over 9835 baskets")
    assert "other vegetables" in out and "lift" in out


def test_rules_writes_csv_parquet_json(tmp_path):
    for ext in ("csv", "parquet", "json"):
        path = tmp_path / f"rules.{ext}"
        assert main(["rules", GROCERIES, "--min-support", "0.01", "--min-confidence", "0.5",
                     "-q", "-o", str(path)]) == 0
        df = {"csv": pd.read_csv, "parquet": pd.read_parquet, "json": pd.read_json}[ext](path)
        assert len(df) == 15 and "lift" in df.columns


def test_rules_top_k_and_measures(tmp_path):
    path = tmp_path / "best.csv"
    assert main(["rules", GROCERIES, "--min-support", "0.01", "--metric", "lift", "--top-k", "5",
                 "--measures", "lift,fisher_p_value", "-q", "-o", str(path)]) == 0
    df = pd.read_csv(path)
    assert len(df) >= 5 and df["lift"].min() > 3.0
    assert {"lift", "fisher_p_value"} <= set(df.columns) and "jaccard" not in df.columns
    assert main(["rules", GROCERIES, "--min-support", "0.01", "--measures", "all", "-q", "-o", str(path)]) == 0
    assert "casual_confidence" in pd.read_csv(path).columns


def test_rules_on_invoice_lines():
    path = str(DATASETS / "online_retail" / "online_retail_sample.csv.gz")
    assert main(["rules", path, "--basket", "InvoiceNo", "--item", "StockCode",
                 "--min-support", "0.02", "--min-confidence", "0.5", "-q"]) == 0


def test_bad_input_exits_2_with_one_line(capsys):
    assert main(["rules", GROCERIES, "--min-support", "1.5", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "'min_support'" in err and "Got 1.5" in err and "\n" not in err
    assert main(["rules", "no/such/file.csv"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_console_script_runs_as_a_module():
    r = subprocess.run([sys.executable, "-m", "basketmine", "rules", GROCERIES, "--min-support",
                        "0.02", "-q"], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert "rules from" in r.stdout


SAMPLE = str(DATASETS / "online_retail" / "online_retail_sample.csv.gz")
LINES = ["--basket", "InvoiceNo", "--item", "StockCode", "--customer", "CustomerID", "--time", "InvoiceDate",
         "--quantity", "Quantity", "--price", "UnitPrice", "-q"]


def test_sequences_prints_and_writes(tmp_path, capsys):
    assert main(["sequences", SAMPLE, *LINES, "--min-support", "0.03", "--top", "5"]) == 0
    out = capsys.readouterr().out
    assert "follow-ups within 90D" in out and "median days" in out
    path = tmp_path / "fu.parquet"
    assert main(["sequences", SAMPLE, *LINES, "--min-support", "0.03", "-o", str(path)]) == 0
    df = pd.read_parquet(path)
    assert {"antecedents", "consequent", "confidence", "lag_days_median"} <= set(df.columns) and len(df)


def test_value_writes_one_row_per_customer(tmp_path, capsys):
    path = tmp_path / "customers.csv"
    assert main(["value", SAMPLE, *LINES, "-o", str(path)]) == 0
    df = pd.read_csv(path)
    tm = bm.read_csv(SAMPLE, basket="InvoiceNo", item="StockCode", customer="CustomerID", time="InvoiceDate",
                     quantity="Quantity", price="UnitPrice")
    customers = set(tm.customer_labels[np.unique(tm.customer_codes[tm.customer_codes >= 0])].astype(int))
    assert df["customer"].is_unique and set(df["customer"]) == customers
    assert {"frequency", "recency", "T", "segment", "customer_class", "clv"} <= set(df.columns)
    err = capsys.readouterr().err
    assert err.count("63 baskets have no customer") == 1


def test_recommend_and_compare(tmp_path, capsys):
    path = tmp_path / "recs.json"
    assert main(["recommend", SAMPLE, *LINES, "--k", "2", "--customers", "12407", "12427",
                 "--exclude-purchased", "-o", str(path)]) == 0
    recs = pd.read_json(path, dtype={"customer": str})
    assert list(recs["customer"].unique()) == ["12407", "12427"] and not recs["bought_before"].any()
    assert main(["compare", SAMPLE, *LINES, "--cutoff", "2011-09-01", "--model-types", "clustering"]) == 0
    assert "k-means" in capsys.readouterr().out


def test_new_commands_reject_bad_input_with_one_line(capsys):
    assert main(["recommend", SAMPLE, "--basket", "InvoiceNo", "--item", "StockCode", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--customer" in err and "\n" not in err
    assert main(["compare", SAMPLE, *LINES, "--cutoff", "2001-09-01"]) == 2
    err = capsys.readouterr().err.strip()
    assert "'cutoff'" in err and "2001-09-01" in err and "\n" not in err
    assert main(["compare", SAMPLE, *LINES, "--cutoff", "2011-09-01", "--model-types", "tarot"]) == 2
    assert "'model_types'" in capsys.readouterr().err


FAST = ("rules", "sequences", "value")  # recommend, compare and report run above with the same options


@pytest.mark.parametrize("line", [e for e in cli.EXAMPLE_LINES if "datasets/" in e and e.split()[1] in FAST])
def test_help_examples_on_shipped_data_run(line, tmp_path, monkeypatch, capsys):
    """The --help examples that read the shipped datasets run as printed
    (from the repository root; files written with -o land in a temp dir)."""
    args = shlex.split(line)[1:] + ["-q"]
    if "-o" in args:
        i = args.index("-o") + 1
        args[i] = str(tmp_path / args[i])
    monkeypatch.chdir(ROOT)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.strip() or "-o" in args
    if "-o" in args:
        assert Path(args[args.index("-o") + 1]).stat().st_size > 0


@pytest.mark.parametrize("cmd,option", [("sequences", "--within"), ("recommend", "--horizon"),
                                        ("compare", "--horizon")])
def test_a_duration_without_a_unit_is_an_error_naming_the_units(capsys, cmd, option):
    """'90' would be read as 90 nanoseconds: exit 2 and name the units."""
    extra = ["--cutoff", "2011-09-01"] if cmd == "compare" else []
    assert main([cmd, SAMPLE, *LINES, *extra, option, "90", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "'90D' (days)" in err and "without a unit" in err and "\n" not in err


@pytest.mark.parametrize("text, value", [("0.01", 0.01), ("1.0", 1.0), ("1", 1), ("25", 25), ("2%", 0.02),
                                         (" 5 ", 5)])
def test_support_reads_as_in_python(text, value):
    """'1.0' is every basket (as min_support=1.0 in Python), '1' one basket."""
    got = cli._support(text)
    assert got == value and type(got) is type(value)


def test_a_bad_support_names_what_is_allowed(capsys):
    with pytest.raises(SystemExit) as e:
        main(["rules", GROCERIES, "--min-support", "lots", "-q"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--min-support" in err and "fraction of baskets" in err and "_support" not in err


def test_an_unknown_item_is_a_parameter_error_and_still_a_key_error():
    import basketmine as bm
    tm = bm.TransactionMatrix.from_baskets([["a", "b"], ["a"]])
    with pytest.raises(bm.InvalidParameterError, match="item 'z' is not in the vocabulary"):
        tm.code_of(["z"])
    with pytest.raises(KeyError):
        tm.code_of(["z"])


def test_a_missing_column_lists_the_columns_there(capsys):
    assert main(["rules", SAMPLE, "--basket", "Invoice", "--item", "StockCode", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "'basket' parameter" in err and "'Invoice'" in err and "'InvoiceNo'" in err and "\n" not in err


def test_recommend_before_the_log_exits_2_with_the_reason(capsys):
    assert main(["recommend", SAMPLE, *LINES, "--asof", "2000-01-01", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "'asof'" in err and "first basket" in err and "\n" not in err


def test_the_cleaning_report_is_on_stderr_unless_quiet(capsys):
    args = ["rules", SAMPLE, "--basket", "InvoiceNo", "--item", "StockCode", "--quantity", "Quantity",
            "--min-support", "0.05"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "47,928 rows read, 1,103 not used" in err and "negative quantity (return or cancellation)" in err
    assert main(args + ["-q"]) == 0
    assert "rows read" not in capsys.readouterr().err


def test_exclude_on_the_command_line(capsys):
    lines = [a for a in LINES if a != "-q"]
    args = ["recommend", SAMPLE, *lines, "--customers", "12407", "--k", "3", "--asof", "2011-09-01"]
    assert main(args) == 0
    assert "POST" in capsys.readouterr().out
    assert main(args + ["--exclude", "POST", "--exclude-pattern", "DOT|M|BANK CHARGES"]) == 0
    out, err = capsys.readouterr()
    assert "POST" not in out and "excluded item (exclude: 'POST'; pattern 'DOT|M|BANK CHARGES')" in err


def test_date_and_time_columns_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "bakery.csv"
    pd.DataFrame({"Date": ["30/10/2016", "31/10/2016", "13/11/2016"], "Time": ["09:58:11", "10:08:41", "10:13:03"],
                  "Transaction": ["1", "2", "3"], "Item": ["Bread", "Jam", "Bread"]}).to_csv(path, index=False)
    base = ["sequences", str(path), "--basket", "Transaction", "--item", "Item", "--customer", "Transaction",
            "--within", "7D", "--min-support", "1"]
    assert main(base + ["--time", "Time", "-q"]) == 2
    assert "times of day without dates" in capsys.readouterr().err
    assert main(base + ["--time", "Date", "--time", "Time", "--date-format", "%d/%m/%Y %H:%M:%S"]) == 0
    assert "2016-10-30 .. 2016-11-13" in capsys.readouterr().err


def test_itemsets_are_written_as_lists_not_joined_text(tmp_path):
    """A label holding a comma survives every output format."""
    odd = "PAPER CRAFT , LITTLE BIRDIE"
    rows = [(b, it) for b in range(20) for it in ([odd, "POST"] if b % 2 else [odd, "POST", "tea"])]
    log = tmp_path / "lines.csv"
    pd.DataFrame(rows, columns=["inv", "item"]).to_csv(log, index=False)
    for ext, read in (("csv", pd.read_csv), ("json", pd.read_json), ("parquet", pd.read_parquet)):
        path = tmp_path / f"rules.{ext}"
        assert main(["rules", str(log), "--basket", "inv", "--item", "item", "--min-support", "0.4",
                     "--min-confidence", "0.9", "-q", "-o", str(path)]) == 0
        df = read(path)
        ante = [json.loads(v) if ext == "csv" else list(v) for v in df["antecedents"]]
        cons = [json.loads(v) if ext == "csv" else list(v) for v in df["consequents"]]
        assert [odd] in ante and ["POST"] in cons
        assert all(isinstance(x, list) for x in ante + cons)


def test_follow_ups_default_to_lift_above_one_sorted_by_lift(tmp_path, capsys):
    path = tmp_path / "fu.csv"
    assert main(["sequences", SAMPLE, *LINES, "--min-support", "0.02", "-o", str(path)]) == 0
    df = pd.read_csv(path)
    assert len(df) and (df["lift"] > 1).all() and df["lift"].is_monotonic_decreasing
    assert main(["sequences", SAMPLE, *LINES, "--min-support", "0.02", "--min-lift", "0", "--sort", "confidence",
                 "-o", str(path)]) == 0
    every = pd.read_csv(path)
    assert len(every) >= len(df) and every["confidence"].is_monotonic_decreasing


def test_empty_results_give_the_hint_that_fits_the_log(tmp_path, capsys):
    assert main(["rules", GROCERIES, "--min-support", "0.2", "-q"]) == 0
    out = capsys.readouterr().out
    assert "the most frequent pair is in 7.4835% of baskets" in out and "--min-support at or below 0.07483" in out
    single = tmp_path / "single.csv"
    single.write_text("a\nb\na\n")
    assert main(["rules", str(single), "--min-support", "1", "-q"]) == 0
    assert "every basket holds a single item" in capsys.readouterr().out
    lines = tmp_path / "once.csv"
    pd.DataFrame({"b": ["1", "2", "3"], "i": ["x", "y", "x"], "t": ["2011-01-01", "2011-01-05", "2011-02-01"]}) \
        .to_csv(lines, index=False)
    assert main(["sequences", str(lines), "--basket", "b", "--item", "i", "--customer", "b", "--time", "t",
                 "--within", "7D", "--min-support", "1", "-q"]) == 0
    assert "every customer has a single basket" in capsys.readouterr().out


def test_outputs_and_thresholds_are_checked_before_the_work(tmp_path, capsys):
    assert main(["rules", GROCERIES, "-q", "-o", str(tmp_path / "rules.xlsx")]) == 2
    assert "must end in .csv, .parquet or .json" in capsys.readouterr().err
    assert main(["rules", GROCERIES, "-q", "-o", str(tmp_path / "no" / "such" / "rules.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["rules", GROCERIES, "-q", "--min-confidence", "1.5"]) == 2
    assert "--min-confidence must be in [0, 1]; got 1.5" in capsys.readouterr().err


def _bad_files(tmp_path):
    trunc = tmp_path / "trunc.csv.gz"
    trunc.write_bytes((DATASETS / "online_retail" / "online_retail_sample.csv.gz").read_bytes()[:300])
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(b"caf\xe9,th\xe9\nlait\n")
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"garbage\n")
    ok = tmp_path / "ok.parquet"
    pd.DataFrame({"a": ["1"], "b": ["x"]}).to_parquet(ok)
    big = tmp_path / "big.dat"
    big.write_text("1 2 3\n99999999999999999999999 2\n")
    lines = ["--basket", "a", "--item", "b"]
    return [([str(tmp_path)], "is a directory"),
            ([str(trunc), "--basket", "InvoiceNo", "--item", "StockCode"], "damaged or truncated archive"),
            ([str(latin)], "is not UTF-8 text"),
            ([str(empty), *lines], "not a readable Parquet file"),
            ([str(garbage), *lines], "not a readable Parquet file"),
            ([str(ok), "--basket", "a", "--item", "c"], "'item' parameter of read_parquet must name a column"),
            ([str(big)], "holds a number too large")]


def test_unreadable_files_exit_2_with_the_reason(tmp_path, capsys):
    for args, reason in _bad_files(tmp_path):
        assert main(["rules", *args, "-q"]) == 2, args
        err = capsys.readouterr().err.strip()
        assert reason in err and "\n" not in err and "Traceback" not in err, (args, err)


def test_a_closed_pipe_ends_quietly():
    cmd = f"{shlex.quote(sys.executable)} -m basketmine rules {shlex.quote(GROCERIES)} --min-support 0.001 " \
          f"--min-confidence 0.1 --top 100000 -q | head -1"
    done = subprocess.run(cmd, shell=True, capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.count("\n") == 1 and "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_line_columns_without_item_are_an_error(capsys):
    assert main(["rules", SAMPLE, "--basket", "InvoiceNo", "-q"]) == 2
    err = capsys.readouterr().err
    assert "--item" in err and "--basket" in err and "one basket per line" in err


def test_outputs_carry_the_cleaning_report_and_the_result_flags(tmp_path):
    path = tmp_path / "fu.csv"
    assert main(["sequences", SAMPLE, *LINES, "--min-support", "0.02", "-o", str(path)]) == 0
    meta = json.loads((tmp_path / "fu.csv.meta.json").read_text())
    tm = bm.read_csv(SAMPLE, basket="InvoiceNo", item="StockCode", customer="CustomerID", time="InvoiceDate",
                     quantity="Quantity", price="UnitPrice")
    assert meta["rows_in"] == 47928 and meta["rows_dropped"] == tm.report.rows_dropped
    assert [dict(zip(("reason", "rows", "action"), e)) for e in tm.report.entries] == meta["cleaning"]
    assert any(e["action"] == "netted" for e in meta["cleaning"])   # returns netted by default
    assert meta["result"]["truncated"] is False
    assert meta["result"]["n_customers"] == len(set(tm.customer_codes[tm.customer_codes >= 0]))
