"""The HTML report: every section present, self-contained, tables sortable,
sections the log cannot feed say why; the CLI writes it."""
import re
import warnings
from html.parser import HTMLParser

import pytest

import basketmine as bm
from basketmine.cli import main
from basketmine.report import SECTIONS, report

from conftest import DATASETS

SAMPLE = DATASETS / "online_retail" / "online_retail_sample.csv.gz"


class _Parse(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.tags, self.srcs = [], {}, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "section":
            self.ids.append(a.get("id"))
        for key in ("src", "href"):
            if a.get(key) and not a[key].startswith("#"):
                self.srcs.append(a[key])


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tm = bm.read_csv(SAMPLE, "InvoiceNo", "StockCode", customer="CustomerID", time="InvoiceDate",
                     quantity="Quantity", price="UnitPrice")
    path = tmp_path_factory.mktemp("report") / "report.html"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        text = report(tm, path, min_support=0.03)
    assert path.read_text(encoding="utf-8") == text
    return text


def test_every_section_present_and_self_contained(page):
    p = _Parse()
    p.feed(page)
    assert p.ids == list(SECTIONS)
    assert p.srcs == []  # nothing fetched from anywhere
    assert not re.search(r"https?://", page)
    assert p.tags["svg"] >= 4 and p.tags["table"] >= 6
    assert "not shown" not in page


def test_tables_are_sortable(page):
    assert page.count('class="sortable"') >= 5 and "addEventListener('click'" in page


def test_sections_without_data_say_why(tmp_path):
    tm = bm.read_baskets(DATASETS / "groceries" / "groceries.csv")
    text = report(tm, tmp_path / "g.html")
    p = _Parse()
    p.feed(text)
    assert p.ids == list(SECTIONS)
    assert text.count("not shown: the log has no customers") == 4


def test_cli_report(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(DATASETS / "groceries" / "groceries.csv"), "-o", str(out), "-q"]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["report", str(DATASETS / "groceries" / "groceries.csv"), "-q"]) == 2
    assert "-o" in capsys.readouterr().err
