"""One self-contained HTML report of a transaction log: no network is
needed to view it (inline SVG plots, inline script for sortable tables)."""
from __future__ import annotations

import html
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
td.l,th.l{text-align:left}.note{color:#666;font-size:.9em}svg{background:#fff}
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
    head = "".join(f'<th class="{"l" if df[c].dtype == object else ""}">{html.escape(str(c))}</th>'
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


def _scale(v, lo, hi, a, b):
    v = np.asarray(v, dtype=float)
    return a + (v - lo) / (hi - lo if hi > lo else 1.0) * (b - a)


def _axes(w, h, m, xlabel, ylabel, xr, yr) -> str:
    out = [f'<line x1="{m}" y1="{h - m}" x2="{w - m / 2}" y2="{h - m}" stroke="#333"/>',
           f'<line x1="{m}" y1="{m / 2}" x2="{m}" y2="{h - m}" stroke="#333"/>',
           f'<text x="{w / 2}" y="{h - 6}" text-anchor="middle" font-size="12">{html.escape(xlabel)}</text>',
           f'<text x="12" y="{h / 2}" text-anchor="middle" font-size="12" '
           f'transform="rotate(-90 12 {h / 2})">{html.escape(ylabel)}</text>']
    for frac in (0, 0.5, 1):
        xv = xr[0] + frac * (xr[1] - xr[0])
        yv = yr[0] + frac * (yr[1] - yr[0])
        x = m + frac * (w - 1.5 * m)
        y = (h - m) - frac * (h - 1.5 * m)
        out.append(f'<text x="{x}" y="{h - m + 14}" text-anchor="middle" font-size="10">{xv:.3g}</text>')
        out.append(f'<text x="{m - 4}" y="{y + 3}" text-anchor="end" font-size="10">{yv:.3g}</text>')
    return "".join(out)


def _scatter(x, y, c, xlabel, ylabel, clabel, w=520, h=360, m=50) -> str:
    x, y, c = (np.asarray(a, float) for a in (x, y, c))
    if len(x) == 0:
        return '<p class="note">nothing to plot</p>'
    xr, yr, cr = (np.nanmin(x), np.nanmax(x)), (np.nanmin(y), np.nanmax(y)), (np.nanmin(c), np.nanmax(c))
    px = _scale(x, *xr, m, w - m / 2)
    py = _scale(y, *yr, h - m, m / 2)
    t = _scale(c, *cr, 0, 1)
    pts = "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="rgb({int(40 + 200 * k)},60,{int(220 - 180 * k)})" '
                  f'fill-opacity=".75"><title>{xlabel} {u:.4g}, {ylabel} {v:.4g}, {clabel} {z:.3g}</title></circle>'
                  for a, b, k, u, v, z in zip(px, py, t, x, y, c))
    legend = (f'<text x="{w - m / 2}" y="{m / 2 - 4}" text-anchor="end" font-size="11">colour: {clabel} '
              f'{cr[0]:.3g} (blue) .. {cr[1]:.3g} (red)</text>')
    return f'<svg width="{w}" height="{h}" role="img">{_axes(w, h, m, xlabel, ylabel, xr, yr)}{pts}{legend}</svg>'


def _lines(index, series: dict, xlabel, ylabel, bands: dict | None = None, w=520, h=300, m=50) -> str:
    n = len(index)
    vals = [np.asarray(v, float) for v in series.values()]
    for lo, hi in (bands or {}).values():
        vals += [np.asarray(lo, float), np.asarray(hi, float)]
    allv = np.concatenate(vals) if vals else np.array([0.0])
    yr = (min(0.0, np.nanmin(allv)), np.nanmax(allv))
    xs = _scale(np.arange(n), 0, max(n - 1, 1), m, w - m / 2)
    out = []
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    for i, (name, (lo, hi)) in enumerate((bands or {}).items()):
        top = _scale(hi, *yr, h - m, m / 2)
        bot = _scale(lo, *yr, h - m, m / 2)
        poly = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, top)) + " " + \
            " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs[::-1], bot[::-1]))
        out.append(f'<polygon points="{poly}" fill="#1f77b4" fill-opacity=".12"><title>{html.escape(name)}'
                   f'</title></polygon>')
    for i, (name, v) in enumerate(series.items()):
        ys = _scale(v, *yr, h - m, m / 2)
        pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys) if b == b)
        col = colours[i % len(colours)]
        out.append(f'<polyline points="{pts}" fill="none" stroke="{col}" stroke-width="2"/>')
        out.append(f'<text x="{w - m / 2}" y="{m / 2 + 12 * i}" text-anchor="end" font-size="11" '
                   f'fill="{col}">{html.escape(name)}</text>')
    return (f'<svg width="{w}" height="{h}" role="img">{_axes(w, h, m, xlabel, ylabel, (0, max(n - 1, 1)), yr)}'
            f'{"".join(out)}</svg>')


def _graph(rules: pd.DataFrame, w=520, h=420) -> str:
    """Items on a circle, an arrow per rule from antecedent items to the consequent."""
    if rules.empty:
        return '<p class="note">no rule to draw</p>'
    items = sorted({str(i) for s in list(rules["antecedents"]) + list(rules["consequents"]) for i in s})
    ang = np.linspace(0, 2 * np.pi, len(items), endpoint=False)
    r = min(w, h) / 2 - 70
    pos = {it: (w / 2 + r * np.cos(a), h / 2 + r * np.sin(a)) for it, a in zip(items, ang)}
    lift = rules["lift"].to_numpy(float)
    lw = _scale(lift, lift.min(), lift.max(), 1, 4)
    out = ['<defs><marker id="arr" markerWidth="8" markerHeight="8" refX="8" refY="3" orient="auto">'
           '<path d="M0,0 L8,3 L0,6 z" fill="#888"/></marker></defs>']
    for (a_set, c_set, li), width in zip(zip(rules["antecedents"], rules["consequents"], lift), lw):
        for a in a_set:
            for c in c_set:
                (x1, y1), (x2, y2) = pos[str(a)], pos[str(c)]
                out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#888" '
                           f'stroke-width="{width:.1f}" marker-end="url(#arr)"><title>{html.escape(str(a))} -> '
                           f'{html.escape(str(c))}, lift {li:.2f}</title></line>')
    for it, (x, y) in pos.items():
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#1f77b4"/>'
                   f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" font-size="10">'
                   f'{html.escape(it[:24])}</text>')
    return f'<svg width="{w}" height="{h}" role="img">{"".join(out)}</svg>'


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{html.escape(title)}</h2>{body}</section>'


def _skip(why: str) -> str:
    return f'<p class="note">not shown: {html.escape(why)}</p>'


def report(tm: TransactionMatrix, path=None, *, title: str = "basketmine report", min_support=0.01,
           min_confidence: float = 0.3, within="90D", follow_up_support=0.01, cutoff=None, horizon="90D",
           top: int = 30, progress: bool = False) -> str:
    """Write one self-contained HTML page about the log and return it.

    Sections (ids in :data:`SECTIONS`): the cleaning report; top cross-sell
    rules (sortable table, support-confidence scatter coloured by lift); a
    rule graph of the top rules; top follow-ups within ``within`` with their
    lag quartiles; the Pareto curve and decile tables; the RFM grid and
    customer classes; the model comparison at ``cutoff`` (default: the end
    of the log minus ``horizon``); weekly forecasts with intervals for the
    top items.  A section that the log cannot feed (no customers, no
    prices, too short a log) says why instead.

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
    with Steps("report", 4, progress) as say:
        page = _page(tm, say, title=title, min_support=min_support, min_confidence=min_confidence,
                     within=within, follow_up_support=follow_up_support, cutoff=cutoff, horizon=horizon, top=top)
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
          top) -> str:
    import basketmine as bm

    parts = []
    rep = tm.report.to_frame()
    parts.append(_section("cleaning", "Cleaning report", f"<p>{html.escape(repr(tm))}</p>" + _table(rep)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        its = bm.frequent_itemsets(tm, min_support, max_itemsets=2_000_000)
        rules = bm.association_rules(its, "confidence", min_confidence)
    limits = _limits(caught)
    say(f"{len(rules)} rules")
    rules = rules.sort_values(["lift", "confidence"], ascending=False, kind="stable")
    shown = rules.head(top)[["antecedents", "consequents", "support", "confidence", "lift", "count"]]
    body = (limits + f"<p>{len(rules):,} rules with support &ge; {min_support} and confidence &ge; "
            f"{min_confidence}; the top {len(shown)} by lift. Click a column to sort.</p>" + _table(shown) +
            _scatter(rules["support"], rules["confidence"], rules["lift"], "support", "confidence", "lift"))
    parts.append(_section("rules", "Cross-sell rules", body))
    parts.append(_section("rule-graph", "Rule graph", _graph(rules.head(min(top, 20)))))
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
        view = fu.head(top)[["antecedents", "consequent", "customers", "confidence", "lift", "lag_days_q1",
                             "lag_days_median", "lag_days_q3"]]
        span = max(float(view["lag_days_q3"].max()) if len(view) else 1.0, 1.0)
        px = 290.0 / span
        lag = "".join(
            f'<div class="l"><span style="display:inline-block;width:240px">{html.escape(", ".join(map(str, a)))}'
            f' &rarr; {html.escape(str(c))}</span><svg width="300" height="12"><rect x="{q1 * px:.1f}" y="2" '
            f'width="{max((q3 - q1) * px, 1):.1f}" height="8" fill="#9ecae1"/><line x1="{m * px:.1f}" '
            f'x2="{m * px:.1f}" y1="0" y2="12" stroke="#08519c" stroke-width="2"/></svg></div>'
            for a, c, q1, m, q3 in zip(view["antecedents"], view["consequent"], view["lag_days_q1"],
                                       view["lag_days_median"], view["lag_days_q3"]))
        parts.append(_section("follow-ups", f"Follow-ups within {within}",
                              fu_limits + f"<p>{len(fu):,} follow-ups; the top {len(view)} by confidence, with the "
                              f"quartiles of the days from A to B (bars: 1st to 3rd quartile, line: median; "
                              f"scale 0 to {span:.0f} days).</p>" + _table(view) + lag))
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
        curve = _lines(pc.index if len(pc) < 400 else pc.index[:: max(1, len(pc) // 400)],
                       {"share of revenue": pc.iloc[:: max(1, len(pc) // 400), -1].to_numpy()},
                       "customers, by spend", "cumulative share")
        parts.append(_section("pareto", "Pareto curve and deciles", curve + _table(md, index=True) +
                              _table(pdec, index=True)))
        grid = pd.crosstab(r["R"], r["F"]).sort_index(ascending=False)
        grid.index = [f"R={i}" for i in grid.index]
        grid.columns = [f"F={c}" for c in grid.columns]
        parts.append(_section("rfm", "RFM grid and customer classes",
                              "<p>Customers per recency (rows) and frequency (columns) quintile.</p>" +
                              _table(grid, sortable=False, index=True) +
                              _table(bm.value.class_table(cls), index=True)))
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
            parts.append(_section("comparison", f"Model comparison (cut-off {pd.Timestamp(cut):%Y-%m-%d})",
                                  _table(t)))
        except InvalidParameterError as exc:
            parts.append(_section("comparison", "Model comparison", _skip(str(exc))))
        say("comparison")
    else:
        parts.append(_section("comparison", "Model comparison", _skip(no("customers", "times"))))
        say("no comparison")
    if comparison is not None and "forecasts" in comparison.plots:
        charts = []
        for unit, fc in list(comparison.plots["forecasts"].items())[:4]:
            series = {c: fc[c].to_numpy() for c in fc.columns if not c.endswith(("lower", "upper"))}
            # counts cannot fall below zero; the interval is drawn from 0 up
            bands = {c[:-6]: (np.maximum(fc[c].to_numpy(), 0.0), fc[c[:-6] + " upper"].to_numpy())
                     for c in fc.columns if c.endswith(" lower") and c[:-6] + " upper" in fc}
            charts.append(f"<h3>{html.escape(str(unit))}</h3>" +
                          _lines(fc.index, series, "holdout week", "baskets", dict(list(bands.items())[:1])))
        parts.append(_section("forecasts", "Weekly forecasts with 95% intervals", "".join(charts)))
    else:
        parts.append(_section("forecasts", "Weekly forecasts", _skip("no forecast could be made from this log")))
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>'
            f'<nav>{" | ".join(f"<a href=#{s}>{s}</a>" for s in SECTIONS)}</nav>'
            f'{"".join(parts)}<script>{_JS}</script></body></html>')
    return page
