import subprocess
import sys

import pandas as pd

from basketmine.cli import main

from conftest import DATASETS

GROCERIES = str(DATASETS / "groceries" / "groceries.csv")


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
