"""One self-contained HTML report of a transaction log: no network is
needed to view it (inline SVG plots, inline script for sortable tables)."""
from __future__ import annotations

import html
import re
import warnings

import numpy as np
import pandas as pd

from ._progress import Steps
from ._validation import Interval, InvalidParameterError, check, unitless_duration, user_stacklevel
from .transactions import TransactionMatrix

__all__ = ["SECTIONS", "report"]

#: Section ids of the report, in order.
SECTIONS = ("cleaning", "rules", "rule-graph", "follow-ups", "pareto", "rfm", "comparison", "forecasts")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}th{background:#f3f3f3;cursor:pointer}
td.l,th.l{text-align:left}.note{color:#666;font-size:.9em}svg{background:#fff;max-width:100%;height:auto}
.say{font-size:1.05em;background:#f6f8fb;border-left:4px solid #4c72b0;padding:.5em .8em}
figure.plot{margin:1em 0}details{margin:.5em 0}summary{cursor:pointer;color:#4c72b0}
"""

_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var body=t.tBodies[0],rows=Array.from(body.rows),asc=th.dataset.dir!=='asc';
      rows.sort(function(a,b){
        var x=a.cells[i].dataset.v||a.cells[i].textContent,y=b.cells[i].dataset.v||b.cells[i].textContent;
        var nx=parseFloat(x),ny=parseFloat(y);
        var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);
        return asc?c:-c;});
      rows.forEach(function(r){body.appendChild(r);});
      t.querySelectorAll('th').forEach(function(h){delete h.dataset.dir;});
      th.dataset.dir=asc?'asc':'desc';});});});
"""


def _table(df: pd.DataFrame, sortable: bool = True, digits: int = 3, index: bool = False) -> str:
    if index:
        df = df.reset_index()
    head = "".join(f'<th class="{"" if pd.api.types.is_numeric_dtype(df[c]) else "l"}">{html.escape(str(c))}</th>'
                   for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        cells = []
        for v in rec:
            if isinstance(v, (float, np.floating)):
                text = "" if v != v else f"{v:,.{digits}f}"
                cells.append(f'<td data-v="{v!r}">{text}</td>')
            elif isinstance(v, (int, np.integer)):
                cells.append(f'<td data-v="{v}">{v:,}</td>')
            else:
                if isinstance(v, (frozenset, set)):
                    v = ", ".join(sorted(map(str, v)))
                cells.append(f'<td class="l">{html.escape(str(v))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cls = ' class="sortable"' if sortable else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _figure(ax, name: str) -> str:
    """An Axes' figure as inline SVG: text kept as text (readable, searchable),
    ids salted by ``name`` so that figures on one page do not share them."""
    import io

    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name, "font.size": 9}):
        ax.figure.savefig(buf, format="svg", bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    # inline in HTML: no namespaces or metadata (their URIs name, never fetch, but the page holds no address)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg).replace("xlink:href", "href")
    return f'<figure class="plot" id="fig-{name}">{svg}</figure>'


def _say(text: str) -> str:
    """The section's plain-language sentence: what it shows and what to do with it."""
    return f'<p class="say">{text}</p>'


def _all(df: pd.DataFrame, what: str, limit: int = 2000) -> str:
    """The full table behind a "show all" toggle (the first ``limit`` rows)."""
    more = f" (the first {limit:,})" if len(df) > limit else ""
    return (f"<details><summary>show all {len(df):,} {what}{more}</summary>"
            f"{_table(df.head(limit))}</details>")


def _best_per_itemset(rules: pd.DataFrame) -> pd.DataFrame:
    """One rule per itemset (antecedent and consequent together): the one
    with the highest lift, then confidence.  Rules that only shuffle the same
    items between the two sides are one finding."""
    key = [frozenset(a) | frozenset(c) for a, c in zip(rules["antecedents"], rules["consequents"])]
    order = rules.assign(_k=key).sort_values(["lift", "confidence"], ascending=False, kind="stable")
    return order[~order["_k"].duplicated()].drop(columns="_k")


def _trusted(fu: pd.DataFrame, min_customers: int, significance: float) -> pd.DataFrame:
    """Follow-ups bought by at least ``min_customers`` customers and more
    often than the base rate: a one-sided binomial test of the customers
    against the antecedent's customers at the base rate, Benjamini-Hochberg
    adjusted over every follow-up, at ``significance``."""
    from scipy.stats import binom

    from .rules import _adjust

    if fu.empty:
        return fu.assign(p_adjusted=pd.Series(dtype=float))
    p = binom.sf(fu["customers"].to_numpy() - 1, fu["antecedent_customers"].to_numpy(), fu["base_rate"].to_numpy())
    adj = _adjust(np.asarray(p, dtype=float), "fdr_bh")
    out = fu.assign(p_adjusted=adj)
    return out[(out["customers"] >= min_customers) & (out["p_adjusted"] <= significance)]


def _weeks(days: float) -> str:
    return f"{days / 7:.0f}" if days >= 14 else f"{days:.0f} days"


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{html.escape(title)}</h2>{body}</section>'


def _skip(why: str) -> str:
    return f'<p class="note">not shown: {html.escape(why)}</p>'


def report(tm: TransactionMatrix, path=None, *, title: str = "basketmine report", min_support=0.01,
           min_confidence: float = 0.3, within="90D", follow_up_support=0.01, cutoff=None, horizon="90D",
           top: int = 30, min_customers: int = 10, significance: float = 0.05, progress: bool = False) -> str:
    """Write one self-contained HTML page about the log and return it.

    Each section opens with a plain sentence saying what it shows and what
    to do with it; its figures are :mod:`basketmine.plot`'s, inline as SVG
    (text kept as text).  Sections (ids in :data:`SECTIONS`): the cleaning
    report; cross-sell rules, one per itemset (the one with the highest
    lift; every rule behind "show all"), with the support-confidence
    scatter coloured by lift; the rule graph of the top 30 and the grouped
    matrix; the follow-ups within ``within`` that at least
    ``min_customers`` customers bought and that beat the base rate (a
    one-sided binomial test, Benjamini-Hochberg adjusted at
    ``significance``), with their lags; the Pareto curve and deciles; the
    RFM grid and customer classes; the model comparison at ``cutoff``
    (default: the end of the log minus ``horizon``) with ROC curves and
    segment profiles; weekly forecasts with intervals for the top items.
    A section that the log cannot feed (no customers, no prices, too short
    a log) says why instead.  The page needs no network.

    Examples
    --------
    >>> import os, tempfile
    >>> import basketmine as bm
    >>> tm = bm.read_baskets("datasets/groceries/groceries.csv")
    >>> path = os.path.join(tempfile.mkdtemp(), "report.html")
    >>> page = bm.report.report(tm, path, min_support=0.02)
    >>> os.path.getsize(path) == len(page.encode("utf-8"))
    True
    >>> [s for s in bm.report.SECTIONS if f'id="{s}"' in page] == list(bm.report.SECTIONS)
    True
    >>> "the log has no customers" in page
    True
    """
    owner = "report"
    if not isinstance(tm, TransactionMatrix):
        raise InvalidParameterError(
            f"The 'tm' parameter of {owner} must be a TransactionMatrix. Got {type(tm).__name__} instead.")
    check(owner, "top", top, Interval("int", 1, None, "left"))
    check(owner, "min_customers", min_customers, Interval("int", 1, None, "left"))
    check(owner, "significance", significance, Interval("float", 0, 1, "right"))
    from .plot import _offscreen
    with Steps("report", 4, progress) as say, _offscreen():
        page = _page(tm, say, title=title, min_support=min_support, min_confidence=min_confidence,
                     within=within, follow_up_support=follow_up_support, cutoff=cutoff, horizon=horizon, top=top,
                     min_customers=min_customers, significance=significance)
    if path is not None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(page)
    return page


def _limits(caught) -> str:
    """Mining limits met while building a section: warned again, and said in the section."""
    from .itemsets import MiningLimitWarning
    msgs = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, MiningLimitWarning)))
    for m in msgs:
        warnings.warn(f"report: {m}", MiningLimitWarning, stacklevel=user_stacklevel())
    return "".join(f'<p class="partial"><b>Partial:</b> {html.escape(m)}</p>' for m in msgs)


def _page(tm, say, *, title, min_support, min_confidence, within, follow_up_support, cutoff, horizon,
          top, min_customers, significance) -> str:
    import basketmine as bm

    from . import plot as bmp

    parts = []
    rep = tm.report.to_frame()
    dropped = tm.report.rows_dropped
    parts.append(_section("cleaning", "Cleaning report", _say(
        f"{tm.report.rows_in:,} rows were read and became {tm.n_baskets:,} baskets of {tm.n_items:,} items; "
        f"{dropped:,} rows were not used. Each reason is counted below: check that none of them is a surprise.")
        + f'<p class="note">{html.escape(repr(tm))}</p>' + _table(rep)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        its = bm.frequent_itemsets(tm, min_support, max_itemsets=2_000_000)
        rules = bm.association_rules(its, "confidence", min_confidence)
    limits = _limits(caught)
    say(f"{len(rules)} rules")
    rules = rules.sort_values(["lift", "confidence"], ascending=False, kind="stable")
    cols = ["antecedents", "consequents", "support", "confidence", "lift", "count"]
    best = _best_per_itemset(rules)
    if len(rules):
        r0 = best.iloc[0]
        lead = _say(f"The strongest cross-sell: baskets holding <b>{html.escape(bmp._label(r0['antecedents'], None))}</b> also "
                    f"hold <b>{html.escape(bmp._label(r0['consequents'], None))}</b> in {r0['confidence']:.0%} of cases, "
                    f"{r0['lift']:.1f} times as often as baskets in general. Place or suggest such items together.")
        body = (lead + limits + f"<p>{len(rules):,} rules with support &ge; {min_support} and confidence &ge; "
                f"{min_confidence}, from {len(best):,} itemsets. Below, one rule per itemset (the one with the "
                f"highest lift), the top {min(top, len(best))}; click a column to sort.</p>"
                + _table(best.head(top)[cols]) + _all(rules[cols], "rules")
                + _figure(bmp.rules_scatter(rules), "rules-scatter"))
        graph = best.head(min(top, 30))
        parts.append(_section("rules", "Cross-sell rules", body))
        parts.append(_section("rule-graph", "Rule graph", _say(
            "Each line joins items in a basket (left) to an item they bring along (right); brighter lines are "
            "stronger rules, thicker ones more common. Items with many lines are the hubs of cross-selling.")
            + _figure(bmp.rules_graph(graph), "rule-graph") + _figure(bmp.rules_matrix(rules), "rule-matrix")))
    else:
        parts.append(_section("rules", "Cross-sell rules", limits + _skip(
            f"no rule has support >= {min_support} and confidence >= {min_confidence}")))
        parts.append(_section("rule-graph", "Rule graph", _skip("no rule to draw")))
    has_customers = tm.customer_codes is not None and tm.times is not None
    has_prices = tm.price is not None
    lacking = [w for w, ok in (("customers", tm.customer_codes is not None), ("times", tm.times is not None),
                               ("prices", has_prices)) if not ok]

    def no(*needs) -> str:
        """Why a section needing ``needs`` is skipped: only what this log lacks."""
        miss = [n for n in needs if n in lacking]
        return "the log has no " + (" and ".join(miss) if len(miss) < 3 else f"{miss[0]}, {miss[1]} and {miss[2]}")
    if has_customers:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fu = bm.follow_ups(tm.select(tm.customer_codes >= 0), within=within, min_support=follow_up_support)
        fu_limits = _limits(caught)
        say(f"{len(fu)} follow-ups")
        sure = _trusted(fu, min_customers, significance).sort_values(["lift", "customers"], ascending=False,
                                                                      kind="stable")
        trust = (f"Shown: the {len(sure):,} of {len(fu):,} follow-ups bought by at least {min_customers} customers "
                 f"and more often than after any purchase (one-sided binomial test against the base rate, "
                 f"Benjamini-Hochberg adjusted, at {significance}).")
        fcols = ["antecedents", "consequent", "customers", "confidence", "base_rate", "lift", "lag_days_q1",
                 "lag_days_median", "lag_days_q3", "p_adjusted"]
        if len(sure):
            cross = [c not in {str(i) for i in a} for a, c in zip(sure["antecedents"], sure["consequent"].astype(str))]
            f0 = sure[cross].iloc[0] if any(cross) else sure.iloc[0]   # a cross-item follow-up leads, if any
            lead = _say(f"Customers who buy <b>{html.escape(bmp._label(f0['antecedents'], None))}</b> tend to buy "
                        f"<b>{html.escape(str(f0['consequent']))}</b> "
                        + (f"within {_weeks(f0['lag_days_q1'])}&ndash;{_weeks(f0['lag_days_q3'])} weeks"
                           if f0["lag_days_q1"] >= 14 else
                           f"within {f0['lag_days_q1']:.0f}&ndash;{f0['lag_days_q3']:.0f} days")
                        + f" ({f0['confidence']:.0%} of them, {f0['lift']:.1f} times the base rate): a reminder "
                          f"in that window reaches them when they are ready.")
            body = (lead + fu_limits + f"<p>{trust}</p>" + _table(sure.head(top)[fcols[:-1]])
                    + _figure(bmp.follow_up_lags(sure, top=min(top, 20)), "follow-up-lags")
                    + _all(fu[fcols[:-1]], "follow-ups, untested"))
        else:
            body = fu_limits + f"<p>{trust}</p>" + _skip("no follow-up passes that test on this log") \
                + (_all(fu[fcols[:-1]], "follow-ups, untested") if len(fu) else "")
        parts.append(_section("follow-ups", f"Follow-ups within {within}", body))
    else:
        parts.append(_section("follow-ups", "Follow-ups", _skip(no("customers", "times"))))
        say("no follow-ups")
    if has_customers and has_prices:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pc = bm.value.pareto_curve(tm)
            md = bm.value.monetary_deciles(tm)
            pdec = bm.value.purchase_deciles(tm)
            r = bm.value.rfm(tm)
            cls = bm.value.customer_classes(tm)
        share = float(np.interp(0.2, pc["customer_share"], pc["revenue_share"]))
        parts.append(_section("pareto", "Pareto curve and deciles", _say(
            f"The top 20% of customers bring {share:.0%} of revenue, and the top tenth alone "
            f"{md['revenue'].iloc[0] / max(md['revenue'].sum(), 1e-12):.0%}: losing one of them costs more than "
            f"winning an average customer brings.")
            + _figure(bmp.pareto(pc), "pareto") + _figure(bmp.deciles(md), "deciles")
            + _table(md, index=True) + _table(pdec, index=True)))
        lapsed = int(((r["R"] <= 2) & (r["F"] >= 4)).sum())
        champions = int(((r["R"] == r["R"].max()) & (r["F"] == r["F"].max())).sum())
        parts.append(_section("rfm", "RFM grid and customer classes", _say(
            f"{champions:,} customers bought both most recently and most often (top right); {lapsed:,} who used to "
            f"buy often have not bought lately (frequency 4&ndash;5, recency 1&ndash;2): win them back first.")
            + _figure(bmp.rfm_grid(r), "rfm") + _table(bm.value.class_table(cls), index=True)))
        say("customer value")
    else:
        why = no("customers", "times", "prices")
        parts.append(_section("pareto", "Pareto curve and deciles", _skip(why)))
        parts.append(_section("rfm", "RFM grid and customer classes", _skip(why)))
        say("no customer value")
    comparison = None
    if has_customers:
        unitless_duration("report", "horizon", horizon)
        cut = pd.Timestamp(tm.times.max()) - pd.Timedelta(horizon) if cutoff is None else cutoff
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                comparison = bm.compare(tm, cut, horizon=horizon,
                                        model_types=("classification", "regression", "time series", "clustering"))
            t = comparison.table
            judged = t[t["baseline_value"].notna() & t["value"].notna()]
            lower = judged["metric"].str.contains("mae|rmse|mase|smape|log_loss", regex=True)
            wins = int(np.where(lower, judged["value"] < judged["baseline_value"],
                                judged["value"] > judged["baseline_value"]).sum())
            figs = "".join(_figure(f(comparison), name) for name, f, key in
                           (("roc", bmp.roc, "churn_roc"), ("clusters", bmp.cluster_profiles, "segments"))
                           if key in comparison.plots)
            parts.append(_section("comparison", f"Model comparison (cut-off {pd.Timestamp(cut):%Y-%m-%d})", _say(
                f"Each model learned from the log before the cut-off and was judged on the {horizon} after it, "
                f"against a simple baseline: {wins} of {len(judged)} scores beat their baseline. Trust a model "
                f"for a decision only where it does.") + figs + _table(t)))
        except InvalidParameterError as exc:
            parts.append(_section("comparison", "Model comparison", _skip(str(exc))))
        say("comparison")
    else:
        parts.append(_section("comparison", "Model comparison", _skip(no("customers", "times"))))
        say("no comparison")
    if comparison is not None and comparison.plots.get("forecasts"):
        charts = "".join(_figure(bmp.forecast(comparison, unit), f"forecast-{k}")
                         for k, unit in enumerate(list(comparison.plots["forecasts"])[:4]))
        parts.append(_section("forecasts", "Weekly forecasts with 95% intervals", _say(
            "Weekly baskets of the top items over the holdout (black) with each model's forecast and its 95% "
            "interval: plan stock from the interval's top, not the line.") + charts))
    else:
        parts.append(_section("forecasts", "Weekly forecasts", _skip("no forecast could be made from this log")))
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>'
            f'<nav>{" | ".join(f"<a href=#{s}>{s}</a>" for s in SECTIONS)}</nav>'
            f'{"".join(parts)}<script>{_JS}</script></body></html>')
    return page
