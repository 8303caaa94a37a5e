"""The HTML report: every section present, self-contained, tables sortable,
sections the log cannot feed say why; the CLI writes it."""
import re
import warnings
from html.parser import HTMLParser

import numpy as np

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
            if a.get(key) and not a[key].startswith(("#", "data:")):   # inline data is no fetch
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


def _browser():
    import shutil
    selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[test]')")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chrome or not driver:
        pytest.skip("needs Chromium and chromedriver (Debian: chromium chromium-driver; "
                    "sh .ci/install-browser installs them)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,2000"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    assert selenium.__version__
    return webdriver.Chrome(service=Service(driver), options=opts)


#: each figure of the sample's report and an axis label it must show
FIGURES = {"rules-scatter": "confidence", "rule-graph": "it also holds", "rule-matrix": "it also holds",
           "follow-up-lags": "days from the first purchase to the follow-up", "pareto": "share of revenue",
           "deciles": "revenue", "rfm": "frequency score (5: buys most often)", "roc": "false positive rate",
           "clusters": "median, as a share of the largest segment's", "forecast-0": "baskets per week"}

_BOXES = """
return Array.from(document.querySelectorAll(arguments[0] + ' text')).filter(function(t){
  return t.textContent.trim() !== '';}).map(function(t){
  var r = t.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, t.textContent];});
"""


def test_report_in_a_real_browser(page, tmp_path):
    """The page loads without console errors; every section shows, every
    figure is displayed with its axis labels; the rule graph's labels do not
    overlap; a table sorts; a full-page screenshot is written."""
    from selenium.webdriver.common.by import By

    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    browser = _browser()
    try:
        browser.get(path.as_uri())
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        for sid in SECTIONS:
            assert browser.find_element(By.ID, sid).is_displayed()
        for fig, label in FIGURES.items():
            el = browser.find_element(By.ID, f"fig-{fig}")
            assert el.is_displayed() and el.size["width"] > 200 and el.size["height"] > 150, fig
            texts = [t for *_, t in browser.execute_script(_BOXES, f"#fig-{fig}")]
            assert label in texts, (fig, texts[:20])
        for fig in ("#fig-rule-graph", "#fig-rule-matrix"):   # items, axis and colour-bar labels
            boxes = browser.execute_script(_BOXES, fig)
            overlaps = [(a[4], b[4]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
            assert len(boxes) > 10 and overlaps == [], (fig, overlaps[:5])
        table = browser.find_element(By.CSS_SELECTOR, "#rules table.sortable")
        heads = table.find_elements(By.TAG_NAME, "th")
        col = [h.text for h in heads].index("lift")

        def lifts():
            return [float(r.find_elements(By.TAG_NAME, "td")[col].get_attribute("data-v"))
                    for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
        heads[col].click()
        up = lifts()
        heads[col].click()
        down = lifts()
        assert up == sorted(up) and down == sorted(down, reverse=True) and len(up) > 1
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1200, height)
        shot = tmp_path / "report.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 100_000
    finally:
        browser.quit()


def test_a_skipped_section_names_only_what_the_log_lacks(tmp_path):
    """A log with customers and times but no prices: the value sections say
    "no prices", not "no customers, times and prices"."""
    tm = bm.read_csv(DATASETS / "online_retail" / "online_retail_sample.csv.gz", "InvoiceNo", "StockCode",
                     customer="CustomerID", time="InvoiceDate")
    tm = tm.between("2011-06-01", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = report(tm, tmp_path / "r.html", min_support=0.05)
    assert text.count("not shown: the log has no prices") == 2
    assert "no customers" not in text


def test_a_mining_limit_is_said_in_the_section_and_warned(tmp_path, monkeypatch):
    real = bm.frequent_itemsets

    def capped(*a, **k):
        warnings.warn("frequent_itemsets stopped at the itemset cap after 9 itemsets; the result is partial",
                      bm.MiningLimitWarning)
        return real(*a, **k)

    monkeypatch.setattr(bm, "frequent_itemsets", capped)
    tm = bm.read_baskets(DATASETS / "groceries" / "groceries.csv")
    with pytest.warns(bm.MiningLimitWarning, match="report: frequent_itemsets stopped at the itemset cap"):
        text = report(tm, tmp_path / "g.html")
    assert "<b>Partial:</b> frequent_itemsets stopped at the itemset cap" in text


def _section_html(page, sid):
    start = page.index(f'<section id="{sid}">')
    return page[start:page.index("</section>", start)]


def _first_table_rows(section):
    table = section[section.index("<table"):section.index("</table>")]
    return [r for r in re.findall(r"<tr>(.*?)</tr>", table) if "<td" in r]   # the body's rows


def test_rules_are_one_per_itemset_with_all_behind_a_toggle(page):
    sec = _section_html(page, "rules")
    rows = _first_table_rows(sec)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
    unions = [frozenset(c[0].split(", ")) | frozenset(c[1].split(", ")) for c in cells]
    assert len(unions) == len(set(unions)) > 1          # no two rows shuffle the same items
    assert '<p class="say">The strongest cross-sell: baskets holding' in sec
    assert re.search(r"<details><summary>show all [\d,]+ rules", sec)
    assert 'id="fig-rules-scatter"' in sec


def test_follow_ups_shown_are_the_trusted_ones(page):
    from scipy.stats import binom

    tm = bm.read_csv(SAMPLE, "InvoiceNo", "StockCode", customer="CustomerID", time="InvoiceDate",
                     quantity="Quantity", price="UnitPrice")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fu = bm.follow_ups(tm.select(tm.customer_codes >= 0), "90D", 0.01)
    # Benjamini-Hochberg by hand: the largest k with p_(k) <= k/m * alpha; keep those at or below p_(k)
    p = binom.sf(fu["customers"] - 1, fu["antecedent_customers"], fu["base_rate"])
    order = np.sort(p)
    m = len(p)
    ok = np.flatnonzero(order <= np.arange(1, m + 1) / m * 0.05)
    cut = order[ok[-1]] if len(ok) else -1.0
    trusted = fu[(p <= cut) & (fu["customers"] >= 10)]
    sec = _section_html(page, "follow-ups")
    assert f"Shown: the {len(trusted):,} of {len(fu):,} follow-ups bought by at least 10 customers" in sec
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in _first_table_rows(sec)]
    assert len(rows) == min(30, len(trusted)) > 0
    assert all(int(r[2].replace(",", "")) >= 10 for r in rows)
    assert '<p class="say">Customers who buy' in sec and 'id="fig-follow-up-lags"' in sec
