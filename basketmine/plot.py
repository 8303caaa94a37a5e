"""Plots of basketmine's results, on matplotlib.

Each function takes a result (a rules or follow-ups frame, a value table, a
fitted model, a :class:`~basketmine.models.Comparison`) and an optional
``ax``, draws on it (on a new figure sized for the content when ``ax`` is
None) and returns the Axes, ready for a slide::

    import basketmine.plot as bmp
    ax = bmp.rules_scatter(rules)
    ax.figure.savefig("rules.png", dpi=150, bbox_inches="tight")

matplotlib is imported when the first plot is drawn, not with the
package.  ``examples/plots.py`` saves every plot to PNG.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd

from ._validation import NONE, InBody, Interval, InvalidParameterError, Options, validated

__all__ = ["calibration", "cluster_profiles", "deciles", "follow_up_lags", "follow_ups_scatter", "forecast",
           "frequency_recency", "pareto", "recommender_cutoffs", "rfm_grid", "roc", "rules_graph",
           "rules_matrix", "rules_scatter"]

_AX = InBody("None, or a matplotlib Axes to draw on")
_N = Interval("int", 1, None, "left")
_RULE_MEASURES = ("support", "confidence", "lift", "leverage", "conviction", "count")


_OFFSCREEN = False   # the report draws on Figures of its own, without pyplot's global state


@contextlib.contextmanager
def _offscreen():
    """New figures are made without pyplot (no backend, no figure list)."""
    global _OFFSCREEN
    before, _OFFSCREEN = _OFFSCREEN, True
    try:
        yield
    finally:
        _OFFSCREEN = before


def _mpl():
    """matplotlib and the parts the plots use, imported on first use."""
    import matplotlib
    import matplotlib.cm
    import matplotlib.colors
    import matplotlib.ticker
    return matplotlib


def _percent():
    return _mpl().ticker.FuncFormatter(lambda v, _: f"{v:.0%}")


def _axes(ax, size):
    if ax is None:
        if _OFFSCREEN:
            from matplotlib.figure import Figure
            return Figure(figsize=size, layout="constrained").add_subplot()
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=size, layout="constrained")
        return ax
    if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
        raise InvalidParameterError(f"The 'ax' parameter must be None or a matplotlib Axes. Got {type(ax).__name__}.")
    return ax


def _need(owner: str, df, columns, what: str):
    if not isinstance(df, pd.DataFrame) or not set(columns) <= set(df.columns):
        raise InvalidParameterError(
            f"The first parameter of {owner} must be {what} (a DataFrame with columns "
            f"{', '.join(columns)}). Got {type(df).__name__}"
            + (f" with columns {list(df.columns)[:8]}" if isinstance(df, pd.DataFrame) else "") + ".")
    if df.empty:
        raise InvalidParameterError(f"The first parameter of {owner} must hold at least one row; it is empty.")


def _label(items, width: int | None = 40) -> str:
    """``a, b`` for a set of items, shortened to ``width`` characters (None: whole)."""
    text = ", ".join(sorted(str(i).strip() for i in items)) if not isinstance(items, str) else items.strip()
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def _rule_label(a, c, width: int = 60) -> str:
    return _label(f"{{{_label(a, width // 2)}}} → {{{_label(c if not isinstance(c, str) else [c], width // 2)}}}",
                  width)


def _top(df: pd.DataFrame, by: str, n: int) -> tuple[pd.DataFrame, bool]:
    if len(df) <= n:
        return df, False
    return df.sort_values(by, ascending=False, kind="stable").head(n), True


# ------------------------------------------------------------------ rules
@validated({"rules": InBody("an association_rules frame"), "x": Options(_RULE_MEASURES),
            "y": Options(_RULE_MEASURES), "color": Options(_RULE_MEASURES), "ax": _AX})
def rules_scatter(rules: pd.DataFrame, x: str = "support", y: str = "confidence", color: str = "lift", *, ax=None):
    """Each rule a point: ``x`` against ``y``, coloured by ``color`` (arulesViz's
    default plot: support, confidence, lift).

    Examples
    --------
    >>> import basketmine as bm, basketmine.plot as bmp
    >>> g = bm.read_baskets("datasets/groceries/groceries.csv")
    >>> rules = bm.association_rules(bm.frequent_itemsets(g, 0.01), "confidence", 0.3)
    >>> ax = bmp.rules_scatter(rules)
    >>> ax.get_title(), ax.get_xlabel(), ax.get_ylabel()
    ('125 rules', 'support', 'confidence')
    """
    _need("rules_scatter", rules, ["antecedents", "consequents", x, y, color], "an association_rules frame")
    ax = _axes(ax, (6.4, 4.8))
    order = np.argsort(rules[color].to_numpy(), kind="stable")   # strongest drawn last, on top
    pts = ax.scatter(rules[x].to_numpy()[order], rules[y].to_numpy()[order], c=rules[color].to_numpy()[order],
                     cmap="viridis", s=18, alpha=0.85, edgecolors="none")
    ax.figure.colorbar(pts, ax=ax, label=color)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{len(rules):,} rules")
    ax.grid(True, alpha=0.3)
    return ax


@validated({"rules": InBody("an association_rules frame"), "measure": Options(_RULE_MEASURES),
            "k": _N, "n_consequents": _N, "ax": _AX})
def rules_matrix(rules: pd.DataFrame, measure: str = "lift", *, k: int = 10, n_consequents: int = 12, ax=None):
    """A grouped matrix: consequents (rows) against groups of antecedents
    (columns).  The antecedents are grouped by their lead item, the one in
    the most rules (``k`` groups, the rest in one "other" group; "+…" marks
    a group holding antecedents of more items); a circle's size is the
    cell's summed support and its colour the mean ``measure``.

    Examples
    --------
    >>> import basketmine as bm, basketmine.plot as bmp
    >>> g = bm.read_baskets("datasets/groceries/groceries.csv")
    >>> rules = bm.association_rules(bm.frequent_itemsets(g, 0.01), "confidence", 0.3)
    >>> ax = bmp.rules_matrix(rules, k=5)
    >>> ax.get_title()
    '125 rules in 16 cells (size: support)'
    """
    _need("rules_matrix", rules, ["antecedents", "consequents", "support", measure], "an association_rules frame")
    df = rules.assign(_c=[_label(c, 30) for c in rules["consequents"]])
    # each antecedent's lead item: the one in the most rules
    freq = pd.Series([i for a in df["antecedents"] for i in a]).value_counts()
    lead = [max(a, key=lambda i: (freq[i], str(i))) for a in df["antecedents"]]
    df["_g"] = lead
    groups = df.groupby("_g")["support"].sum().sort_values(ascending=False, kind="stable")
    keep = set(groups.index[:k])
    more = {g for g, a in zip(lead, df["antecedents"]) if len(a) > 1}   # groups with longer antecedents
    df["_g"] = [(_label([g], 24) + (" +…" if g in more else "")) if g in keep else "other" for g in lead]
    cons = df.groupby("_c")["support"].sum().sort_values(ascending=False, kind="stable").index[:n_consequents]
    df = df[df["_c"].isin(cons)]
    cells = df.groupby(["_c", "_g"]).agg(support=("support", "sum"), value=(measure, "mean"),
                                         rules=("support", "size")).reset_index()
    cols = list(dict.fromkeys(cells.sort_values("support", ascending=False, kind="stable")["_g"]))
    cols = [c for c in cols if c != "other"] + (["other"] if "other" in cols else [])
    rows = list(cons)
    ax = _axes(ax, (max(6.4, 0.55 * len(cols) + 3.5), max(3.2, 0.35 * len(rows) + 2)))
    xs = cells["_g"].map({c: i for i, c in enumerate(cols)}).to_numpy()
    ys = cells["_c"].map({r: i for i, r in enumerate(rows)}).to_numpy()
    size = 600 * cells["support"].to_numpy() / max(cells["support"].max(), 1e-12)
    pts = ax.scatter(xs, ys, s=np.maximum(size, 12), c=cells["value"].to_numpy(), cmap="viridis",
                     edgecolors="0.3", linewidths=0.5)
    ax.figure.colorbar(pts, ax=ax, label=f"mean {measure}")
    ax.set_xticks(range(len(cols)), cols, rotation=90)   # upright boxes: neighbours never overlap
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlim(-0.6, len(cols) - 0.4)
    ax.set_ylim(len(rows) - 0.4, -0.6)
    ax.set_xlabel("if a basket holds (grouped by the lead item; +…: with other items)")
    ax.set_ylabel("it also holds")
    ax.set_title(f"{len(df):,} rules in {len(cells):,} cells (size: support)")
    ax.grid(True, alpha=0.2)
    return ax


@validated({"rules": InBody("an association_rules frame"), "measure": Options(_RULE_MEASURES),
            "max_rules": _N, "ax": _AX})
def rules_graph(rules: pd.DataFrame, measure: str = "lift", *, max_rules: int = 30, ax=None):
    """Items as nodes, rules as edges: the antecedents' items in a column on
    the left, the consequents' on the right, an edge from each antecedent
    item to each consequent item coloured by ``measure`` and as wide as the
    rule's support.  One label per row, a row per label: labels never
    overlap.  Above ``max_rules`` rules the strongest by ``measure`` are
    drawn, and the title says so.

    Examples
    --------
    >>> import basketmine as bm, basketmine.plot as bmp
    >>> g = bm.read_baskets("datasets/groceries/groceries.csv")
    >>> rules = bm.association_rules(bm.frequent_itemsets(g, 0.01), "confidence", 0.3)
    >>> ax = bmp.rules_graph(rules)
    >>> ax.get_title()
    'the 30 rules with the highest lift of 125'
    """
    _need("rules_graph", rules, ["antecedents", "consequents", "support", measure], "an association_rules frame")
    df, cut = _top(rules, measure, max_rules)
    left = sorted({str(i) for a in df["antecedents"] for i in a})
    right = sorted({str(i) for c in df["consequents"] for i in c})
    n = max(len(left), len(right))
    ax = _axes(ax, (9.0, max(3.0, 0.28 * n + 1.2)))
    ly = {v: (i + 0.5) * n / len(left) for i, v in enumerate(left)}
    ry = {v: (i + 0.5) * n / len(right) for i, v in enumerate(right)}
    vals = df[measure].to_numpy(dtype=float)
    lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
    cmap = _mpl().colormaps["viridis"]
    wide = df["support"].to_numpy(dtype=float)
    wide = 0.6 + 3.4 * (wide - wide.min()) / max(wide.max() - wide.min(), 1e-12)
    t = np.linspace(0, 1, 30)
    for (a, c, v, w) in sorted(zip(df["antecedents"], df["consequents"], vals, wide), key=lambda r: r[2]):
        colour = cmap(0.5 if hi == lo else (v - lo) / (hi - lo))
        for i in a:
            for j in c:
                y0, y1 = ly[str(i)], ry[str(j)]
                ax.plot(t, y0 + (y1 - y0) * (3 * t ** 2 - 2 * t ** 3), color=colour, lw=w, alpha=0.75,
                        solid_capstyle="round")
    ax.scatter([0] * len(left), list(ly.values()), s=20, color="0.2", zorder=3)
    ax.scatter([1] * len(right), list(ry.values()), s=20, color="0.2", zorder=3)
    size = float(np.clip(0.7 * 72 * (ax.figure.get_figheight() - 1.2) / max(n, 1), 5, 9))
    for v, y in ly.items():
        ax.text(-0.02, y, _label([v], 34), ha="right", va="center", fontsize=size)
    for v, y in ry.items():
        ax.text(1.02, y, _label([v], 34), ha="left", va="center", fontsize=size)
    sm = _mpl().cm.ScalarMappable(cmap=cmap, norm=_mpl().colors.Normalize(lo, hi if hi > lo else lo + 1))
    ax.figure.colorbar(sm, ax=ax, label=measure, shrink=0.8)
    ax.set_xlim(-0.75, 1.75)
    ax.set_ylim(n, 0)
    ax.set_xticks([0, 1], ["if a basket holds", "it also holds"])
    ax.set_yticks([])
    ax.xaxis.tick_top()
    for side in ("left", "right", "bottom", "top"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"the {len(df)} rules with the highest {measure} of {len(rules):,}" if cut
                 else f"{len(df)} rules (edge width: support)", pad=18)
    return ax


# -------------------------------------------------------------- follow-ups
@validated({"follow_ups": InBody("a follow_ups frame"), "top": _N, "ax": _AX})
def follow_up_lags(follow_ups: pd.DataFrame, *, top: int = 15, ax=None):
    """When the follow-up comes: for each rule (the ``top`` by lift) the
    middle half of the lags (first to third quartile) as a bar and the
    median as a tick, on one day axis.

    Examples
    --------
    >>> import basketmine as bm, basketmine.plot as bmp
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", "InvoiceNo", "Description",
    ...                  customer="CustomerID", time="InvoiceDate", quantity="Quantity", price="UnitPrice")
    >>> fu = bm.follow_ups(tm, "90D", 0.03)
    >>> ax = bmp.follow_up_lags(fu, top=10)
    >>> ax.get_title()
    'the 10 follow-ups with the highest lift of 19'
    """
    cols = ["antecedents", "consequent", "lift", "customers", "lag_days_q1", "lag_days_median", "lag_days_q3"]
    _need("follow_up_lags", follow_ups, cols, "a follow_ups frame")
    df, cut = _top(follow_ups, "lift", top)
    labels = [_rule_label(a, c, 56) + f"  ({n} customers)" for a, c, n in
              zip(df["antecedents"], df["consequent"], df["customers"])]
    ax = _axes(ax, (5.0 + 0.075 * max(map(len, labels)), max(2.6, 0.32 * len(df) + 1.3)))
    y = np.arange(len(df))
    ax.barh(y, df["lag_days_q3"] - df["lag_days_q1"], left=df["lag_days_q1"], height=0.55, color="#4c72b0",
            alpha=0.75, label="middle half of the lags")
    ax.scatter(df["lag_days_median"], y, marker="|", s=260, color="black", zorder=3, label="median")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_ylim(len(df) - 0.5, -0.5)
    ax.set_xlabel("days from the first purchase to the follow-up")
    ax.set_xlim(left=0)
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=2, fontsize=8, frameon=False)
    ax.set_title(f"the {len(df)} follow-ups with the highest lift of {len(follow_ups):,}" if cut
                 else f"{len(df)} follow-ups")
    return ax


@validated({"follow_ups": InBody("a follow_ups frame"), "ax": _AX})
def follow_ups_scatter(follow_ups: pd.DataFrame, *, ax=None):
    """Each follow-up a point: confidence against lift, as large as its
    number of customers; lift 1 (no better than any purchase) is marked.

    Examples
    --------
    >>> import basketmine as bm, basketmine.plot as bmp
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", "InvoiceNo", "Description",
    ...                  customer="CustomerID", time="InvoiceDate", quantity="Quantity", price="UnitPrice")
    >>> ax = bmp.follow_ups_scatter(bm.follow_ups(tm, "90D", 0.03))
    >>> ax.get_title()
    '19 follow-ups (size: customers)'
    """
    _need("follow_ups_scatter", follow_ups, ["confidence", "lift", "customers"], "a follow_ups frame")
    ax = _axes(ax, (6.4, 4.6))
    n = follow_ups["customers"].to_numpy(dtype=float)
    ax.scatter(follow_ups["lift"], follow_ups["confidence"], s=10 + 190 * n / max(n.max(), 1), alpha=0.6,
               color="#4c72b0", edgecolors="white", linewidths=0.5)
    ax.axvline(1.0, color="0.4", ls="--", lw=1)
    ax.text(1.0, 1.0, " lift 1", transform=ax.get_xaxis_transform(), va="top", fontsize=8, color="0.3")
    ax.set_xlabel("lift (how much likelier than after any purchase)")
    ax.set_ylabel("confidence (share of customers who follow up)")
    ax.set_title(f"{len(follow_ups):,} follow-ups (size: customers)")
    ax.grid(True, alpha=0.3)
    return ax


# ------------------------------------------------------------------ value
@validated({"curve": InBody("a value.pareto_curve frame"), "mark": Interval("real", 0, 1, "neither"), "ax": _AX})
def pareto(curve: pd.DataFrame, *, mark: float = 0.2, ax=None):
    """The Lorenz curve of revenue: the share of revenue brought by the top
    customers, with the share of the top ``mark`` (20%) marked.

    Examples
    --------
    >>> import basketmine as bm, basketmine.plot as bmp
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", "InvoiceNo", "Description",
    ...                  customer="CustomerID", time="InvoiceDate", quantity="Quantity", price="UnitPrice")
    >>> ax = bmp.pareto(bm.value.pareto_curve(tm))
    >>> [t.get_text() for t in ax.texts]
    ['top 20% bring 75% of revenue']
    """
    _need("pareto", curve, ["customer_share", "revenue_share"], "a value.pareto_curve frame")
    ax = _axes(ax, (5.6, 4.6))
    x, y = curve["customer_share"].to_numpy(), curve["revenue_share"].to_numpy()
    at = float(np.interp(mark, x, y))
    ax.plot(x, y, color="#4c72b0", lw=2, label="top customers first")
    ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1, label="every customer alike")
    ax.plot([mark, mark, 0], [0, at, at], color="#c44e52", lw=1)
    ax.annotate(f"top {mark:.0%} bring {at:.0%} of revenue", (mark, at), xytext=(mark + 0.08, at - 0.12),
                arrowprops={"arrowstyle": "->", "color": "#c44e52"}, color="#c44e52", fontsize=9)
    ax.xaxis.set_major_formatter(_percent())
    ax.yaxis.set_major_formatter(_percent())
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("customers, top spenders first")
    ax.set_ylabel("share of revenue")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"Pareto curve ({len(curve) - 1:,} customers)")
    return ax


@validated({"table": InBody("a value.monetary_deciles or purchase_deciles frame"), "ax": _AX})
def deciles(table: pd.DataFrame, *, ax=None):
    """Revenue (or purchases) of each tenth of the customers, top first, with
    each bar's share of the total.

    Examples
    --------
    >>> import basketmine as bm, basketmine.plot as bmp
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", "InvoiceNo", "Description",
    ...                  customer="CustomerID", time="InvoiceDate", quantity="Quantity", price="UnitPrice")
    >>> ax = bmp.deciles(bm.value.monetary_deciles(tm))
    >>> [t.get_text() for t in ax.texts][:3]      # each tenth's share of revenue
    ['64%', '11%', '8%']
    """
    value = "revenue" if "revenue" in getattr(table, "columns", []) else "purchases"
    _need("deciles", table, ["customers", value], "a value.monetary_deciles or purchase_deciles frame")
    ax = _axes(ax, (6.4, 4.2))
    v = table[value].to_numpy(dtype=float)
    bars = ax.bar(np.arange(len(table)), v, color="#4c72b0")
    share = v / max(v.sum(), 1e-12)
    ax.bar_label(bars, [f"{s:.0%}" for s in share], fontsize=8, padding=2)
    ax.set_xticks(np.arange(len(table)), [str(i) for i in table.index])
    ax.set_xlabel(f"{table.index.name or 'decile'} of customers (1: top {value})")
    ax.set_ylabel(value)
    ax.yaxis.set_major_formatter(_mpl().ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_title(f"{value} by tenth of customers")
    return ax


@validated({"table": InBody("a value.rfm frame"), "value": Options(("customers", "monetary")), "ax": _AX})
def rfm_grid(table: pd.DataFrame, value: str = "customers", *, ax=None):
    """The RFM grid as a heat map: recency score (columns) against frequency
    score (rows); each cell's customers, or their mean monetary value.

    Examples
    --------
    >>> import basketmine as bm, basketmine.plot as bmp
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", "InvoiceNo", "Description",
    ...                  customer="CustomerID", time="InvoiceDate", quantity="Quantity", price="UnitPrice")
    >>> ax = bmp.rfm_grid(bm.value.rfm(tm))
    >>> ax.images[0].get_array().shape, ax.get_title()
    ((5, 5), 'RFM grid: customers per cell')
    """
    _need("rfm_grid", table, ["R", "F", "monetary"], "a value.rfm frame")
    grid = (table.groupby(["F", "R"]).size() if value == "customers"
            else table.groupby(["F", "R"])["monetary"].mean()).unstack("R")
    grid = grid.reindex(index=sorted(grid.index, reverse=True), columns=sorted(grid.columns))
    ax = _axes(ax, (5.8, 4.6))
    im = ax.imshow(grid.to_numpy(dtype=float), cmap="Blues", aspect="auto")
    ax.figure.colorbar(im, ax=ax, label="customers" if value == "customers" else "mean monetary value")
    ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [str(r) for r in grid.index])
    hi = np.nanmax(grid.to_numpy(dtype=float))
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = grid.iat[i, j]
            if v == v:
                ax.text(j, i, f"{v:,.0f}", ha="center", va="center", fontsize=8,
                        color="white" if v > 0.6 * hi else "black")
    ax.set_xlabel("recency score (5: bought most recently)")
    ax.set_ylabel("frequency score (5: buys most often)")
    ax.set_title("RFM grid: " + ("customers per cell" if value == "customers" else "mean monetary value"))
    return ax


@validated({"model": InBody("a fitted value.BetaGeo or ParetoNBD"),
            "summary": InBody("the value.summary frame the model was fitted on"),
            "kind": Options(("expected", "alive")), "t": Interval("real", 0, None, "neither"),
            "max_frequency": (NONE, _N), "ax": _AX})
def frequency_recency(model, summary: pd.DataFrame, kind: str = "expected", *, t: float = 1.0,
                      max_frequency=None, ax=None):
    """The frequency/recency matrix (lifetimes' best-known plots): for a
    customer as old as the oldest in ``summary``, with ``frequency`` repeat
    purchases and the last at age ``recency``, the expected purchases in the
    next ``t`` periods (``kind="expected"``) or the probability that they
    are still a customer (``"alive"``).  Periods are the summary's.

    Examples
    --------
    >>> import basketmine as bm, basketmine.plot as bmp
    >>> cd = bm.read_cdnow("datasets/cdnow/CDNOW_sample.txt")
    >>> s = bm.value.summary(cd, unit="W")
    >>> ax = bmp.frequency_recency(bm.value.BetaGeo().fit(s), s, "alive")
    >>> ax.get_title()
    'probability alive by frequency and recency'
    """
    if not hasattr(model, "params_"):
        raise InvalidParameterError("The 'model' parameter of frequency_recency must be a fitted BetaGeo or "
                                    "ParetoNBD (call fit first).")
    _need("frequency_recency", summary, ["frequency", "recency", "T"], "a value.summary frame")
    T = float(summary["T"].max())
    top = int(max_frequency if max_frequency is not None else max(summary["frequency"].quantile(0.99), 1))
    f = np.arange(0, top + 1)
    r = np.linspace(0, T, 41)
    F, R = np.meshgrid(f, r, indexing="ij")
    X = pd.DataFrame({"frequency": F.ravel(), "recency": np.where(F.ravel() == 0, 0.0, R.ravel()),
                      "T": np.full(F.size, T)})
    z = model.expected_purchases(t, X) if kind == "expected" else model.probability_alive(X)
    Z = np.asarray(z, dtype=float).reshape(F.shape)
    ax = _axes(ax, (6.0, 4.8))
    im = ax.imshow(Z, origin="lower", aspect="auto", cmap="viridis", extent=(0, T, -0.5, top + 0.5))
    label = f"expected purchases in the next {t:g} periods" if kind == "expected" else "P(still a customer)"
    ax.figure.colorbar(im, ax=ax, label=label)
    ax.set_xlabel(f"recency: age at the last purchase (periods; customers {T:.0f} periods old)")
    ax.set_ylabel("frequency: repeat purchases")
    ax.yaxis.set_major_locator(_mpl().ticker.MaxNLocator(integer=True))
    ax.set_title(("expected purchases" if kind == "expected" else "probability alive")
                 + " by frequency and recency")
    return ax


@validated({"backtest": InBody("a value.Backtest"), "ax": _AX})
def calibration(backtest, *, ax=None):
    """Calibration against the holdout: mean purchases predicted and bought
    in the holdout by calibration-period frequency.

    Examples
    --------
    >>> import basketmine as bm, basketmine.plot as bmp
    >>> cd = bm.read_cdnow("datasets/cdnow/CDNOW_sample.txt")
    >>> bt = bm.value.calibration_holdout(cd, "1997-09-30", "1998-06-30", unit="W")
    >>> ax = bmp.calibration(bt)
    >>> len(ax.patches) == 2 * len(bt.by_frequency)
    True
    """
    tab = getattr(backtest, "by_frequency", None)
    _need("calibration", tab, ["actual", "predicted", "customers"], "a value.Backtest (its by_frequency table)")
    ax = _axes(ax, (6.4, 4.2))
    x = np.arange(len(tab))
    ax.bar(x - 0.2, tab["actual"], width=0.4, label="bought in the holdout", color="#4c72b0")
    ax.bar(x + 0.2, tab["predicted"], width=0.4, label="predicted", color="#dd8452")
    ax.set_xticks(x, [str(i) for i in tab.index])
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("mean purchases per customer in the holdout")
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_title(f"{type(backtest.model).__name__}: predicted against the holdout")
    return ax


# ----------------------------------------------------------------- models
def _plots(comparison, key: str, owner: str):
    plots = getattr(comparison, "plots", None)
    if not isinstance(plots, dict) or key not in plots:
        raise InvalidParameterError(
            f"The 'comparison' parameter of {owner} must be a models.Comparison holding {key!r} "
            f"(compare with the model type that makes it). "
            f"Got {type(comparison).__name__}" + (f" with {sorted(plots)}" if isinstance(plots, dict) else "") + ".")
    return plots[key]


@validated({"comparison": InBody("a models.Comparison with the classification model type"), "ax": _AX})
def roc(comparison, *, ax=None):
    """ROC curves of the purchase-in-holdout classifiers and BG/NBD's
    P(purchase), with each one's area under the curve.

    Examples
    --------
    >>> import basketmine as bm, basketmine.plot as bmp
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", "InvoiceNo", "Description",
    ...                  customer="CustomerID", time="InvoiceDate", quantity="Quantity", price="UnitPrice")
    >>> cmp = bm.compare(tm, "2011-09-01", model_types=("classification",))
    >>> [line.get_label() for line in bmp.roc(cmp).lines][-2:]
    ['BG/NBD (AUC 0.72)', 'chance']
    """
    curves = _plots(comparison, "churn_roc", "roc")
    ax = _axes(ax, (5.4, 5.0))
    for name, c in curves.items():
        fpr, tpr = c["fpr"].to_numpy(dtype=float), c["tpr"].to_numpy(dtype=float)
        auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
        ax.plot(c["fpr"], c["tpr"], lw=1.8, label=f"{name} (AUC {auc:.2f})")
    ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1, label="chance")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.set_title("who buys in the holdout: ROC")
    return ax


@validated({"comparison": InBody("a models.Comparison with the time series model type"),
            "series": InBody("None (the first series), or a series label"), "ax": _AX})
def forecast(comparison, series=None, *, ax=None):
    """One series' weekly actuals with each model's forecast and its 95%
    interval (where the model gives one).

    Examples
    --------
    >>> import basketmine as bm, basketmine.plot as bmp
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", "InvoiceNo", "Description",
    ...                  customer="CustomerID", time="InvoiceDate", quantity="Quantity", price="UnitPrice")
    >>> cmp = bm.compare(tm, "2011-09-01", model_types=("time series",))
    >>> bmp.forecast(cmp).get_title()
    'forecast of WHITE HANGING HEART T-LIGHT HOLDER (bands: 95% intervals)'
    """
    data = _plots(comparison, "forecasts", "forecast")
    if not data:
        raise InvalidParameterError("The 'comparison' parameter of forecast holds no forecast series.")
    key = next(iter(data)) if series is None else series
    if key not in data:
        raise InvalidParameterError(f"The 'series' parameter of forecast must be one of {list(data)[:10]}. "
                                    f"Got {series!r}.")
    d = data[key]
    ax = _axes(ax, (8.0, 4.2))
    x = pd.to_datetime(d.index)
    ax.plot(x, d["actual"].to_numpy(), color="black", lw=2, marker="o", ms=3, label="actual")
    for name in [c for c in d.columns if c != "actual" and not c.endswith((" lower", " upper"))]:
        line, = ax.plot(x, d[name].to_numpy(), lw=1.4, label=name)
        if f"{name} lower" in d and f"{name} upper" in d:
            ax.fill_between(x, d[f"{name} lower"], d[f"{name} upper"], color=line.get_color(), alpha=0.12)
    ax.set_xlabel("week of the holdout")
    ax.set_ylabel("baskets per week")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, ncols=2)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"forecast of {_label([key], 40)} (bands: 95% intervals)")
    ax.figure.autofmt_xdate()
    return ax


@validated({"comparison": InBody("a models.Comparison with the clustering model type"), "ax": _AX})
def cluster_profiles(comparison, *, ax=None):
    """Each customer segment's median recency, baskets, spend and basket
    size, scaled to the largest segment's, with its size.

    Examples
    --------
    >>> import basketmine as bm, basketmine.plot as bmp
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", "InvoiceNo", "Description",
    ...                  customer="CustomerID", time="InvoiceDate", quantity="Quantity", price="UnitPrice")
    >>> cmp = bm.compare(tm, "2011-09-01", model_types=("clustering",))
    >>> bmp.cluster_profiles(cmp).get_ylabel()
    "median, as a share of the largest segment's"
    """
    prof = _plots(comparison, "segments", "cluster_profiles")["profile"]
    cols = [c for c in ("recency_days", "baskets", "spend", "basket_size", "active_in_holdout") if c in prof]
    scaled = prof[cols] / prof[cols].abs().max().replace(0, 1)
    ax = _axes(ax, (7.2, 4.2))
    width = 0.8 / len(scaled)
    x = np.arange(len(cols))
    for k, (seg, row) in enumerate(scaled.iterrows()):
        ax.bar(x + (k - (len(scaled) - 1) / 2) * width, row.to_numpy(dtype=float), width,
               label=f"segment {seg} ({int(prof.loc[seg, 'customers'])} customers)")
    ax.set_xticks(x, [c.replace("_", " ") for c in cols])
    ax.set_ylabel("median, as a share of the largest segment's")
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_title("customer segments (k-means) by profile")
    return ax


@validated({"table": InBody("recommendation_benchmark tables with a cutoff column, concatenated"),
            "metric": InBody("a metric of the table (recall, ndcg, hit_rate...)"),
            "mode": Options(("any", "new")), "ax": _AX})
def recommender_cutoffs(table: pd.DataFrame, metric: str = "recall", mode: str = "any", *, ax=None):
    """A recommendation metric by cut-off, one line per model (the
    recommender drawn bold, its baselines thin): ``table`` is
    :func:`~basketmine.models.recommendation_benchmark`'s tidy output at
    several cut-offs, each with a ``cutoff`` column; ``mode`` is its
    ``"any"`` (any item) or ``"new"`` (items new to the customer).

    Examples
    --------
    >>> import pandas as pd, basketmine.plot as bmp
    >>> table = pd.DataFrame({"cutoff": ["2011-03-01", "2011-05-01"] * 2, "mode": "any",
    ...                       "model": ["recommender"] * 2 + ["tifu_knn"] * 2, "metric": "recall",
    ...                       "value": [0.16, 0.17, 0.15, 0.16]})
    >>> [line.get_label() for line in bmp.recommender_cutoffs(table).lines]
    ['recommender', 'tifu_knn']
    """
    _need("recommender_cutoffs", table, ["cutoff", "model", "mode", "metric", "value"],
          "recommendation_benchmark tables with a cutoff column")
    rows = table[(table["metric"] == metric) & (table["mode"] == mode)]
    if rows.empty:
        raise InvalidParameterError(
            f"The 'metric' parameter of recommender_cutoffs must be a metric of the table in mode {mode!r} "
            f"({', '.join(sorted(map(str, table['metric'].unique())))}). Got {metric!r}.")
    ax = _axes(ax, (7.0, 4.2))
    wide = rows.pivot_table(index="cutoff", columns="model", values="value", aggfunc="mean").sort_index()
    for name in wide.columns:
        bold = str(name) == "recommender"
        ax.plot(pd.to_datetime(wide.index), wide[name].to_numpy(), marker="o", lw=2.4 if bold else 1.2,
                label=str(name), zorder=3 if bold else 2)
    dates = pd.to_datetime(wide.index)
    ax.set_xticks(dates, [f"{d:%Y-%m-%d}" for d in dates])
    ax.set_xlabel("cut-off")
    ax.set_ylabel(f"{metric} ({'any item' if mode == 'any' else 'new items'})")
    ax.legend(fontsize=8, ncols=2)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"{metric} by cut-off: the recommender and its baselines")
    ax.figure.autofmt_xdate()
    return ax
