"""basketmine on Apache Spark: the same jobs, the same answers, past one machine.

A Spark DataFrame of invoice lines is encoded once with :func:`transactions`
(the same column options and cleaning rules as
:meth:`basketmine.TransactionMatrix.from_frame`, the cleaning report counted
in Spark), then mined:

- :func:`frequent_itemsets`: parallel FP-growth's item-based partitioning of
  conditional databases (Li et al. 2008).  Each frequent item, ranked by
  ascending support, belongs to one of ``n_groups`` groups; every basket
  sends each group the part of itself from that group's first item on, and
  each group runs basketmine's own Cython miner on what it received,
  keeping the itemsets whose least supported item is its own.  Every
  itemset is found in exactly one group, with its exact count.
- :func:`association_rules`: rules and their measures from those itemsets,
  by joins on the antecedent and the consequent.
- :func:`follow_ups`: "A then B within N days", by self-joins of each
  customer's lines.
- :func:`summary`: the value module's per-customer summary in Spark SQL;
  the small models (:class:`basketmine.value.BetaGeo` and the others) are
  fitted locally on its ``toPandas()``.

Results are Spark DataFrames with the local functions' columns, in the
local order; ``to_pandas(result)`` equals the local result on the same data
(arrays become frozensets).  pyspark is an optional dependency:
``pip install "basketmine[spark]"``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _itemsets
from ._validation import (FRACTION_OR_COUNT, NONE, InBody, Interval, InvalidParameterError, column_error,
                          user_stacklevel, validated)
from .itemset_array import ItemsetArray
from .itemsets import DEFAULT_MAX_ITEMSETS, MiningLimitError, _items_cap, kth_largest, method_for, min_count_of
from .itemsets import _SPEC as _ITEMSETS_SPEC
from .rules import _SPEC as _RULES_SPEC, RuleJob, _adjust, measures_from_counts
from .sequences import _FOLLOW_SPEC
from .value._summary import SUMMARY_SPEC
from .sequences import observation_end_ns, window
from .transactions import _CANCEL, CleaningReport, TransactionMatrix, _report_netting, _sorted_vocabulary, net_returns

__all__ = ["SparkResult", "SparkTransactions", "association_rules", "follow_ups", "frequent_itemsets", "summary",
           "to_pandas", "transactions"]

_INT32_MAX = np.iinfo(np.int32).max


def _pyspark(owner: str):
    """The pyspark modules, or a clear error naming the extra to install."""
    try:
        from pyspark.sql import DataFrame, functions as F, types as T
    except ImportError:
        raise ImportError(f"{owner} needs pyspark: pip install 'basketmine[spark]'") from None
    return DataFrame, F, T


# ----------------------------------------------------------------- results
class SparkResult:
    """A result on Spark, with the metadata a local result keeps in
    ``DataFrame.attrs`` (the same keys).

    ``df`` is the pyspark DataFrame (rows in the local order);
    :meth:`to_pandas` collects it into the local function's result type:
    itemset columns as :class:`~basketmine.ItemsetArray`, the same index,
    ``attrs`` set.  Other attributes (``count``, ``show``, ``columns``,
    ``write``...) are the DataFrame's.
    """

    def __init__(self, df, attrs: dict, *, sets: tuple = (), index=None):
        self.df = df
        self.attrs = dict(attrs)
        self._sets = tuple(sets)
        self._index = index

    def __getattr__(self, name):
        if name.startswith("_") or name in ("df", "attrs"):
            raise AttributeError(name)
        return getattr(self.df, name)

    def __repr__(self) -> str:
        keys = ", ".join(f"{k}={v!r}" for k, v in self.attrs.items() if k in ("n_baskets", "n_customers",
                                                                               "min_count"))
        return f"SparkResult({', '.join(self.df.columns)}; {keys})"

    def to_pandas(self) -> pd.DataFrame:
        """Collect to the driver as the local function's result."""
        pdf = self.df.toPandas()
        for col in self._sets:
            if col in pdf.columns:
                pdf[col] = pd.Series(ItemsetArray.from_sets(frozenset(v) for v in pdf[col]), index=pdf.index)
        if self._index is not None:
            pdf = pdf.set_index(self._index)
        pdf.attrs.update(self.attrs)
        return pdf


_SETS = ("itemsets", "antecedents", "consequents")


# ---------------------------------------------------------------- encoding
@dataclass
class SparkTransactions:
    """An encoded log on Spark: what :func:`transactions` built.

    Attributes
    ----------
    lines : pyspark.sql.DataFrame
        One row per basket x item (repeats merged): ``basket``, ``item``
        (int code into ``labels``), ``pos`` (the number of the basket's
        first input row, or of the line's when the log has neither
        customers nor times: a stable order) and, when given,
        ``customer``, ``time``, ``quantity``, ``price``, ``cost``.
        Persisted, as are the mined itemsets; call :meth:`unpersist` when
        done.
    labels : ndarray
        The item vocabulary in label order (code ``k`` is ``labels[k]``).
    n_baskets : int
    report : CleaningReport
        What became of every input row, counted in Spark.
    columns : tuple of str
        The optional columns present.
    item_counts : ndarray
        Baskets holding each item code.

    See ``examples/spark_cross_sell.py`` (run by the tests) for a whole job.
    """

    lines: object
    labels: np.ndarray
    n_baskets: int
    report: CleaningReport
    columns: tuple = field(default_factory=tuple)
    item_counts: np.ndarray | None = None
    _cached: object = field(default=None, repr=False)
    _owned: list = field(default_factory=list, repr=False)   # results cached by the mining calls

    def __repr__(self) -> str:
        extra = f", {', '.join(self.columns)}" if self.columns else ""
        return f"SparkTransactions({self.n_baskets} baskets, {len(self.labels)} items{extra})"

    def unpersist(self) -> None:
        """Release the cached lines and the results cached by the mining
        calls on them (a released result is recomputed if used again)."""
        for df in self._owned:
            df.unpersist()
        self._owned.clear()
        (self._cached if self._cached is not None else self.lines).unpersist()

    def to_local(self) -> TransactionMatrix:
        """The same log as a local :class:`~basketmine.TransactionMatrix`
        (collects every line to the driver: for small logs and tests)."""
        pdf = self.lines.toPandas()
        kw = {c: c for c in self.columns}
        pdf["item"] = self.labels[pdf["item"].to_numpy()]
        pdf = pdf.sort_values(["pos"], kind="stable")
        tm = TransactionMatrix.from_frame(pdf, "basket", "item", cancellations="keep", **kw)
        tm.report = self.report
        return tm



_ST = InBody("the SparkTransactions that basketmine.spark.transactions returns")
_COLUMN = InBody("None, or a column name of df")
_N = (NONE, Interval("int", 1, None, "left"))


@validated({"df": InBody("a pyspark.sql.DataFrame"), "basket": InBody("a column name of df"),
            "item": InBody("a column name of df"), "customer": _COLUMN, "time": _COLUMN, "quantity": _COLUMN,
            "price": _COLUMN, "cost": _COLUMN, "cancellations": _CANCEL}, "basketmine.spark.transactions")
def transactions(df, basket, item, customer=None, time=None, quantity=None, price=None, cost=None, *,
                 cancellations: str = "auto") -> SparkTransactions:
    """Encode a Spark DataFrame of invoice lines (one row per basket x item).

    The columns and the cleaning are those of
    :meth:`basketmine.TransactionMatrix.from_frame`: rows missing a basket
    id or an item, with an unreadable time or quantity or a zero quantity
    are dropped and counted; returns and cancellations (negative
    quantities) are netted against the same customer's earlier purchases
    of the item, dropped or kept as ``cancellations`` says (netting runs
    per customer and item, in parallel); an item repeated in a basket is
    merged (quantities added, price and cost quantity-weighted).  A
    basket's customer is that of its first row and its time the earliest;
    conflicts are counted as notes.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
    basket, item : str
        Column names of the basket (invoice) id and the item label.
    customer, time, quantity, price, cost : str, optional
        Column names.
    cancellations : {"auto", "net", "drop", "keep"}
        As in :meth:`~basketmine.TransactionMatrix.from_frame`: ``"auto"``
        nets when the customer, time and quantity columns are given.

    Returns
    -------
    SparkTransactions

    Notes
    -----
    Rows are numbered with ``monotonically_increasing_id``, which follows
    the order of the input's partitions; baskets with the same time keep
    that order, as locally they keep the row order.

    Examples
    --------
    See ``examples/spark_cross_sell.py``, which the tests run::

        import basketmine.spark as bms
        st = bms.transactions(spark.read.parquet("lines.parquet"), basket="InvoiceNo",
                              item="StockCode", customer="CustomerID", time="InvoiceDate",
                              quantity="Quantity", price="UnitPrice")
        print(st.report)
        rules = bms.association_rules(bms.frequent_itemsets(st, 0.01), "lift", 2.0)
    """
    owner = "basketmine.spark.transactions"
    DataFrame, F, T = _pyspark(owner)
    if not isinstance(df, DataFrame):
        raise InvalidParameterError(
            f"The 'df' parameter of {owner} must be a pyspark.sql.DataFrame. Got {type(df).__name__} instead.")
    auto = cancellations == "auto"
    if auto:
        cancellations = "drop" if customer is None or time is None or quantity is None else "net"
    if cancellations == "net" and (customer is None or time is None or quantity is None):
        raise InvalidParameterError(
            f"The 'cancellations' parameter of {owner} may be 'net' only with the customer, "
            f"time and quantity columns given. Got customer={customer!r}, time={time!r}, "
            f"quantity={quantity!r}.")
    cols = {"basket": basket, "item": item, "customer": customer, "time": time, "quantity": quantity,
            "price": price, "cost": cost}
    for name, col in cols.items():
        if (col is None and name in ("basket", "item")) or (col is not None and col not in df.columns):
            raise column_error(owner, name, col, df.columns)
    c = {name: F.col(col) for name, col in cols.items() if col is not None}
    x = df.select(*[c[n].alias(n) for n in c], F.monotonically_increasing_id().alias("pos"))
    if time is not None:
        x = x.withColumn("_t", F.expr("try_cast(`time` AS TIMESTAMP)"))  # unreadable: null, counted
    for name in ("quantity", "price", "cost"):
        if name in c:
            x = x.withColumn(f"_{name[0]}", F.expr(f"try_cast(`{name}` AS DOUBLE)"))  # non-numeric: null, counted
    # the reason each row is dropped, in from_frame's order (first that applies)
    reasons = [(F.col("basket").isNull(), f"missing basket id ({basket!r})"),
               (F.col("item").isNull(), f"missing item ({item!r})")]
    if time is not None:
        reasons.append((F.col("_t").isNull(), f"missing or unreadable time ({time!r})"))
    inf = float("inf")
    if quantity is not None:
        reasons += [(F.col("_q").isNull() | F.isnan("_q"), f"missing or non-numeric quantity ({quantity!r})"),
                    (F.col("_q").isin(inf, -inf), f"infinite quantity ({quantity!r})"),
                    (F.col("_q") == 0, "zero quantity")]
        if cancellations == "drop":
            reasons.append((F.col("_q") < 0, "negative quantity (return or cancellation)"
                            + ("; netting it needs the customer and time columns" if auto else "")))
    why = F.lit(None).cast("int")
    for k, (cond, _) in reversed(list(enumerate(reasons))):
        why = F.when(cond, F.lit(k)).otherwise(why)
    x = x.withColumn("_why", why)
    kept = F.col("_why").isNull()
    aggs = [F.count(F.lit(1)).alias("rows")]
    aggs += [F.sum(F.when(F.col("_why") == k, 1).otherwise(0)).alias(f"r{k}") for k in range(len(reasons))]
    if customer is not None:
        has_ids = F.col("_why").isNull() | (F.col("_why") >= 2)
        aggs.append(F.sum(F.when(has_ids & F.col("customer").isNull(), 1).otherwise(0)).alias("no_customer"))
    worth = [(name, col) for name, col in (("price", price), ("cost", cost)) if col is not None]
    for name, _ in worth:  # an infinite price would make every total infinite: read as missing, as locally
        v = F.col(f"_{name[0]}")
        x = x.withColumn(f"_inf_{name}", v.isin(inf, -inf))
        x = x.withColumn(f"_{name[0]}", F.when(v.isin(inf, -inf), F.lit(float("nan"))).otherwise(v))
        aggs.append(F.sum(F.when(kept & F.col(f"_inf_{name}"), 1).otherwise(0)).alias(f"inf_{name}"))
    if price is not None:
        aggs.append(F.sum(F.when(kept & (F.col("_p").isNull() | F.isnan("_p")), 1).otherwise(0))
                    .alias("no_price"))
    counts = x.agg(*aggs).first().asDict()
    report = CleaningReport(rows_in=int(counts["rows"]))
    for k, (_, reason) in enumerate(reasons):
        report.add(reason, int(counts[f"r{k}"] or 0))
        if k == 1 and customer is not None:  # counted among the rows with a basket and an item
            report.add(f"missing customer ({customer!r}); basket kept without customer",
                       int(counts["no_customer"] or 0), "note")
    for name, col in worth:
        report.add(f"infinite {name} ({col!r}); line kept with NaN {name}", int(counts[f"inf_{name}"] or 0), "note")
    if price is not None:
        report.add(f"missing or non-numeric price ({price!r}); line kept with NaN price",
                   int(counts["no_price"] or 0), "note")
    x = x.where(kept).drop(*[f"_inf_{name}" for name, _ in worth])
    netted = None
    if cancellations == "net":
        x, netted = _net(x, report, F, T)

    # the item vocabulary: small, sorted on the driver exactly as locally
    distinct = [r[0] for r in x.select("item").distinct().collect()]
    if not distinct:
        raise InvalidParameterError(
            f"The 'df' parameter of {owner} must hold at least one usable row; all "
            f"{report.rows_in} rows were dropped:\n{report!r}")
    labels, perm = _sorted_vocabulary(distinct, owner, "item")
    spark = df.sparkSession
    vocab = spark.createDataFrame([(v, int(k)) for v, k in zip(distinct, perm.tolist())],
                                  T.StructType([T.StructField("item", df.schema[item].dataType),
                                                T.StructField("_code", T.IntegerType())]))
    # one shuffle: every later step groups or joins by basket within a partition
    x = x.join(F.broadcast(vocab), "item").drop("item").withColumnRenamed("_code", "item").repartition("basket")

    # per basket: the first row's customer, the earliest time, and the conflicts
    bagg = [F.min("pos").alias("bpos")]
    if time is not None:
        bagg += [F.min("_t").alias("btime"), (F.min("_t") != F.max("_t")).alias("time_conflict")]
    if customer is not None:
        bagg += [F.min_by("customer", "pos").alias("bcustomer"),
                 ((F.countDistinct("customer") > 1) |
                  ((F.count("customer") > 0) & (F.count("customer") < F.count(F.lit(1))))).alias("cust_conflict")]
    w = F.col("_q") if quantity is not None else F.lit(1.0)
    lagg = [F.count(F.lit(1)).alias("_rows")]
    if quantity is not None:
        lagg.append(F.sum("_q").alias("quantity"))
    for name in ("price", "cost"):
        if name in c:
            v = F.col(f"_{name[0]}")
            bad = F.sum(F.when(v.isNull() | F.isnan(v), 1).otherwise(0)) > 0
            lagg.append(F.when(bad, F.lit(float("nan")))
                        .otherwise(F.sum(v * w) / F.sum(w)).alias(name))
    if customer is None and time is None:  # nothing per basket to spread over its lines
        lines = x.groupBy("basket", "item").agg(*lagg, F.min("pos").alias("bpos"))
    else:
        baskets = x.groupBy("basket").agg(*bagg)
        lines = x.groupBy("basket", "item").agg(*lagg).join(baskets, "basket")
    keep_cols = ["basket", "item", F.col("bpos").alias("pos")]
    if customer is not None:
        keep_cols.append(F.col("bcustomer").alias("customer"))
    if time is not None:
        keep_cols.append(F.col("btime").alias("time"))
    for name in ("quantity", "price", "cost"):
        if name in c:
            keep_cols.append(name)
    flags = [c for c, given in (("time_conflict", time), ("cust_conflict", customer)) if given is not None]
    # persisted once, partitioned by basket so that mining groups each basket's lines without a shuffle
    lines = lines.select(*keep_cols, "_rows", *flags).persist()
    per_basket = lines.groupBy("basket").agg(F.count(F.lit(1)).alias("_n"),
                                             *[F.max(f).cast("int").alias(f) for f in flags])
    b = per_basket.agg(F.count(F.lit(1)).alias("baskets"), *[F.sum(f).alias(f) for f in flags]).first().asDict()
    item_counts = np.zeros(len(labels), dtype=np.int64)
    n_rows = 0
    for code, cnt, rows in lines.groupBy("item").agg(F.count(F.lit(1)), F.sum("_rows")).collect():
        item_counts[code] = cnt
        n_rows += rows
    if time is not None:
        report.add("basket whose rows carry different times; earliest used", int(b["time_conflict"] or 0),
                   "note")
    report.add("item repeated in a basket", int(n_rows - item_counts.sum()), "merged")
    if customer is not None:
        report.add("basket whose rows name different customers; first used", int(b["cust_conflict"] or 0),
                   "note")
    if netted is not None:  # every later step reads the persisted lines
        netted.unpersist()
    out = lines.drop("_rows", *flags)
    present = tuple(n for n in ("customer", "time", "quantity", "price", "cost") if n in c)
    return SparkTransactions(out, labels, int(b["baskets"]), report, present, item_counts, lines)


def _net(x, report: CleaningReport, F, T):
    """Net returns against purchases as ``from_frame`` does.  Netting reads
    only one customer's rows of one item, so the rows go in buckets by
    customer, each netted at once by the local routine."""
    status_schema = T.StructType(x.schema.fields + [T.StructField("_net", T.IntegerType())])

    def net_bucket(pdf: pd.DataFrame) -> pd.DataFrame:
        pdf = pdf.sort_values("pos", kind="stable")
        cust = pd.factorize(pdf["customer"])[0]   # -1: no customer
        t = pdf["_t"].to_numpy("datetime64[ns]").view(np.int64)
        q, returned, unmatched, no_customer, _ = net_returns(
            cust, pd.factorize(pdf["item"])[0], t, pdf["_q"].to_numpy(np.float64), np.ones(len(pdf), bool))
        # 0 kept, 1 return netted, 2 return unmatched, 3 return without customer, 4 purchase emptied
        status = np.where(returned, 1, np.where(q <= 0, 4, 0))
        status[unmatched] = 2
        status[no_customer] = 3
        return pdf.assign(_q=q, _net=status.astype(np.int32))

    n = max(x.sparkSession.sparkContext.defaultParallelism, 1)
    bucket = F.when(F.col("customer").isNull(), F.lit(-1)).otherwise(F.pmod(F.hash("customer"), F.lit(n)))
    netted = x.withColumn("_bucket", bucket).groupBy("_bucket").applyInPandas(
        lambda pdf: net_bucket(pdf.drop(columns="_bucket")), status_schema).persist()
    counts = dict(netted.groupBy("_net").count().collect())
    _report_netting(report, sum(counts.get(k, 0) for k in (1, 2, 3)), counts.get(2, 0), counts.get(3, 0),
                    counts.get(4, 0))
    return netted.where(F.col("_net") == 0).drop("_net"), netted


def _need(owner: str, st) -> None:
    if not isinstance(st, SparkTransactions):
        raise InvalidParameterError(
            f"The 'st' parameter of {owner} must be the SparkTransactions that "
            f"basketmine.spark.transactions returns. Got {type(st).__name__} instead.")


# ---------------------------------------------------------------- itemsets
def mine_group(baskets, ranks, group: int, n_groups: int, m: int, min_count: int, min_len: int,
               max_len: int, cap: int):
    """Mine one group's conditional database (the PFP reducer).

    ``baskets``/``ranks`` are its lines: the basket key and the global rank
    (ascending support) of each item.  Returns ``(items, offsets, counts,
    stop)`` for the itemsets whose lowest-ranked item ``r`` has
    ``r % n_groups == group``, items as global ranks in ascending order,
    itemsets in the global depth-first order.
    """
    ranks = np.asarray(ranks, dtype=np.int32)
    b = pd.factorize(np.asarray(baskets), sort=False)[0]
    order = np.lexsort((ranks, b))
    b, ranks = b[order], np.ascontiguousarray(ranks[order])
    n_b = int(b.max()) + 1 if len(b) else 0
    indptr = np.zeros(n_b + 1, dtype=np.int64)
    np.cumsum(np.bincount(b, minlength=n_b), out=indptr[1:])
    item_count = np.bincount(ranks, minlength=m).astype(np.int64)
    roots = (np.arange(m) % n_groups == group).astype(np.uint8)
    status = np.zeros(4, dtype=np.int64)
    items, offsets, counts, _, stop = _itemsets.mine(
        indptr, ranks, item_count, min_count, min_len, max_len, cap, 0.0,
        method_for(n_b, item_count, min_count), status, order=np.arange(m, dtype=np.int32), roots=roots,
        max_items=_items_cap(cap))
    return items, offsets, counts, stop


@validated({**_ITEMSETS_SPEC, "st": _ST, "min_support": FRACTION_OR_COUNT, "n_groups": _N},
           "basketmine.spark.frequent_itemsets")
def frequent_itemsets(st: SparkTransactions, min_support, *, min_len: int = 1, max_len=None,
                      max_itemsets=None, n_groups=None):
    """Frequent itemsets on Spark, equal to :func:`basketmine.frequent_itemsets`.

    Parameters
    ----------
    st : SparkTransactions
    min_support : float in (0, 1] or int >= 1
        A fraction of the baskets, or a basket count.
    min_len, max_len : int
        Bounds on the number of items.
    max_itemsets : int, optional
        Cap per group (default 10 million); a group that reaches it raises
        :class:`~basketmine.MiningLimitError` (a distributed run does not
        return a partial collection).
    n_groups : int, optional
        Item groups (conditional databases mined in parallel); default four
        per core of the Spark context.

    Returns
    -------
    SparkResult
        ``support``, ``count``, ``itemsets`` (array of labels, least
        supported first), in the local order; ``attrs`` as the local
        result's (``n_baskets``, ``min_count``, ``target``, ``truncated``...).
    """
    owner = "basketmine.spark.frequent_itemsets"
    DataFrame, F, T = _pyspark(owner)
    _need(owner, st)
    if max_len is not None and max_len < min_len:
        raise InvalidParameterError(
            f"The 'max_len' parameter of {owner} must be >= min_len ({min_len}). Got {max_len} instead.")
    spark = st.lines.sparkSession
    n = st.n_baskets
    min_count = min_count_of(min_support, n)
    G = int(n_groups or 4 * spark.sparkContext.defaultParallelism)
    cap = DEFAULT_MAX_ITEMSETS if max_itemsets is None else int(max_itemsets)
    want_len = _INT32_MAX if max_len is None else int(max_len)

    counts = st.item_counts
    freq = np.flatnonzero(counts >= min_count)
    rank_to_code = freq[np.lexsort((freq, counts[freq]))].astype(np.int32)
    m = len(rank_to_code)
    label_t = _label_type(T, st.labels)
    if m == 0:
        out = spark.createDataFrame([], T.StructType([
            T.StructField("support", T.DoubleType()), T.StructField("count", T.LongType()),
            T.StructField("itemsets", T.ArrayType(label_t))]))
        return SparkResult(out, _itemset_attrs(n, min_count), sets=_SETS)
    ranks = spark.createDataFrame([(int(code), r, r % G) for r, code in enumerate(rank_to_code.tolist())],
                                  "item int, rank int, grp int")
    lines = st.lines.select("basket", "item").join(F.broadcast(ranks), "item")
    first = lines.groupBy("basket", "grp").agg(F.min("rank").alias("first"))
    # each basket sends group g its items from g's first item on (higher ranks)
    db = (lines.select("basket", "rank").join(first, "basket")
          .where(F.col("rank") >= F.col("first")).select("grp", "basket", "rank"))
    labels = st.labels
    out_schema = f"root int, seq long, count long, stop int, itemsets array<{label_t.simpleString()}>"

    def reduce_group(pdf: pd.DataFrame) -> pd.DataFrame:
        g = int(pdf["grp"].iloc[0])
        items, offsets, cnts, stop = mine_group(pdf["basket"].to_numpy(), pdf["rank"].to_numpy(), g, G, m,
                                                min_count, min_len, want_len, cap)
        codes = rank_to_code[items]
        sets = [labels[codes[a:b]].tolist() for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
        return pd.DataFrame({"root": items[offsets[:-1]] if len(cnts) else np.zeros(0, np.int32),
                             "seq": np.arange(len(cnts), dtype=np.int64), "count": cnts,
                             "stop": np.full(len(cnts), stop, dtype=np.int32), "itemsets": sets})

    mined = db.groupBy("grp").applyInPandas(reduce_group, out_schema).persist()
    st._owned.append(mined)
    stops = [r[0] for r in mined.where(F.col("stop") != 0).select("stop").distinct().collect()]
    if stops:
        mined.unpersist()
        raise MiningLimitError(
            f"{owner} stopped at {_itemsets.STOP_REASONS[stops[0]]} in a group; a distributed run returns "
            f"no partial collection. Raise min_support or max_itemsets, or set max_len.")
    out = (mined.orderBy("root", "seq")
           .select((F.col("count") / F.lit(float(n))).alias("support"), "count", "itemsets"))
    return SparkResult(out, _itemset_attrs(n, min_count), sets=_SETS)


def _itemset_attrs(n: int, min_count: int) -> dict:
    """frequent_itemsets' attrs, as the local run sets them (a distributed
    run is complete or raises)."""
    return {"n_baskets": n, "min_count": min_count, "target": "all", "top_k": None, "truncated": False,
            "stop_reason": None, "ancestors": {}}


def _label_type(T, labels):
    """The Spark type of the item labels (strings, or integers/floats)."""
    kinds = {type(v) for v in labels[:1000]}
    if kinds and all(issubclass(k, (int, np.integer)) and not issubclass(k, bool) for k in kinds):
        return T.LongType()
    if kinds and all(issubclass(k, (float, np.floating)) for k in kinds):
        return T.DoubleType()
    return T.StringType()


# ------------------------------------------------------------------- rules
@validated({**_RULES_SPEC, "itemsets": InBody("the Spark DataFrame that basketmine.spark.frequent_itemsets "
                                              "returns"), "n_slices": _N}, "basketmine.spark.association_rules")
def association_rules(itemsets, metric="confidence", min_threshold=None, *, measures=None, antecedents=None,
                      consequents=None, max_antecedent_len=None, max_consequent_len=None,
                      min_improvement=None, significance=None, correction="holm", top_k=None,
                      n_baskets=None, n_slices=None):
    """Rules from Spark itemsets, equal to :func:`basketmine.association_rules`.

    ``itemsets`` comes from :func:`frequent_itemsets`; the other parameters
    are those of the local function.  The itemsets are brought to the
    driver as flat item codes and broadcast; each of ``n_slices`` tasks
    (default: four per core) runs the local rule engine on its share of the
    itemsets (every ``n_slices``-th one) and computes the measures of its
    rules.  Only the kept rules' metric values (for ``top_k``) or counts
    (for the ``significance`` correction over all rules) come back to the
    driver.

    Returns
    -------
    SparkResult
        The local columns (``antecedents``/``consequents`` as arrays of
        labels in label order), in the local order; ``attrs`` as locally.
    """
    owner = "basketmine.spark.association_rules"
    DataFrame, F, T = _pyspark(owner)
    attrs = itemsets.attrs if isinstance(itemsets, SparkResult) else {}
    itemsets = itemsets.df if isinstance(itemsets, SparkResult) else itemsets
    if not isinstance(itemsets, DataFrame) or not {"count", "itemsets"} <= set(itemsets.columns):
        raise InvalidParameterError(
            f"The 'itemsets' parameter of {owner} must be the Spark DataFrame that "
            f"basketmine.spark.frequent_itemsets returns. Got {type(itemsets).__name__} instead.")
    n = n_baskets if n_baskets is not None else attrs.get("n_baskets")
    if n is None:
        raise InvalidParameterError(
            f"The 'n_baskets' parameter of {owner} is needed when the itemsets frame does not "
            f"carry it (frequent_itemsets sets df.attrs['n_baskets']).")
    n = int(n)
    label_t = itemsets.schema["itemsets"].dataType.elementType.simpleString()
    local = itemsets.select("itemsets", "count").toPandas()  # in the itemsets' order
    sets = ItemsetArray.from_sets(map(frozenset, local["itemsets"]))
    data = (sets._items, sets._offsets, local["count"].to_numpy(np.int64), sets._labels)
    options = dict(measures=measures, antecedents=antecedents, consequents=consequents,
                   max_antecedent_len=max_antecedent_len, max_consequent_len=max_consequent_len,
                   min_improvement=min_improvement, top_k=top_k)
    job = RuleJob(owner, *data, n, metric, min_threshold, **options)
    job.warn_unmatched()
    spark = itemsets.sparkSession
    S = int(n_slices or 4 * spark.sparkContext.defaultParallelism)
    shared = spark.sparkContext.broadcast(data)
    with_impr = job.want_improvement or min_improvement is not None
    columns = ["antecedents", "consequents"] + job.names + (["improvement"] if with_impr else []) + \
        ["antecedent_count", "consequent_count", "count"]
    schema = ", ".join(["iid long", "k long", f"antecedents array<{label_t}>", f"consequents array<{label_t}>"]
                       + [f"`{m}` double" for m in job.names] + (["improvement double"] if with_impr else [])
                       + ["antecedent_count long", "consequent_count long", "count long"])

    def label_lists(items, offsets, labels):
        return [labels[items[a:b]].tolist() for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]

    def work(batches):
        items, offsets, counts, labels = shared.value
        task = RuleJob(owner, items, offsets, counts, labels, n, metric, min_threshold, **options)
        for pdf in batches:
            for s in pdf["slice"].tolist():
                found = task.candidates(only=np.arange(s, len(counts), S, dtype=np.int64))
                if found.reason is not None:
                    raise MiningLimitError(f"{owner} stopped at {found.reason} in a slice; raise "
                                           f"min_threshold or set max_antecedent_len.")
                out = task.frame(found, label_lists)
                first = np.r_[0, np.flatnonzero(np.diff(found.sets)) + 1]
                k = np.arange(len(found)) - np.repeat(first, np.diff(np.r_[first, len(found)]))
                out.insert(0, "k", k.astype(np.int64))
                out.insert(0, "iid", found.sets)
                yield out

    slices = spark.createDataFrame([(i,) for i in range(S)], "slice int").repartition(S, "slice")
    rules = slices.mapInPandas(work, schema)
    if top_k is not None:
        kth = kth_largest(rules.select(F.col(f"`{metric}`")).toPandas()[metric].to_numpy(float), top_k)
        if kth is not None:
            rules = rules.where(F.col(f"`{metric}`") >= F.lit(float(kth)))
    if significance is not None:
        p = rules.select("iid", "k", "antecedent_count", "consequent_count", "count").toPandas()
        p = p.sort_values(["iid", "k"], kind="stable")
        pv = measures_from_counts(n, p["antecedent_count"].to_numpy(float), p["consequent_count"].to_numpy(float),
                                  p["count"].to_numpy(float), ["fisher_p_value"])["fisher_p_value"]
        p["adjusted_p_value"] = _adjust(np.asarray(pv, dtype=float), correction)
        adj = spark.createDataFrame(p[["iid", "k", "adjusted_p_value"]])
        rules = rules.join(adj, ["iid", "k"]).where(F.col("adjusted_p_value") <= F.lit(float(significance)))
        columns.append("adjusted_p_value")
    out = rules.orderBy("iid", "k").select(*[F.col(f"`{c}`") for c in columns])
    return SparkResult(out, {"n_baskets": int(n), "truncated": False, "stop_reason": None}, sets=_SETS)


# ------------------------------------------------------------------ pandas
@validated({"result": InBody("a SparkResult that a basketmine.spark function returns, or a Spark DataFrame")},
           "basketmine.spark.to_pandas")
def to_pandas(result) -> pd.DataFrame:
    """Collect a Spark result into the local function's result type (see
    :meth:`SparkResult.to_pandas`); a plain Spark DataFrame is collected
    with its label-array columns as itemsets."""
    if isinstance(result, SparkResult):
        return result.to_pandas()
    return SparkResult(result, {}, sets=_SETS).to_pandas()


# ------------------------------------------------------------------- value
@validated({**SUMMARY_SPEC, "st": _ST}, "basketmine.spark.summary")
def summary(st: SparkTransactions, observation_end=None, freq: str = "D", unit=None):
    """Each customer's repeat-purchase summary in Spark SQL, equal to
    :func:`basketmine.value.summary`.

    The summary has one row per customer, small enough to fit the models
    locally: ``bm.value.BetaGeo().fit(df.toPandas().set_index("customer"))``.
    Baskets without a customer or after ``observation_end`` are left out and
    counted in ``attrs``.

    Returns
    -------
    SparkResult
        ``customer`` (sorted; the index of :meth:`~SparkResult.to_pandas`)
        then the local columns: ``frequency``,
        ``recency``, ``T``, ``monetary_value`` (with prices),
        ``first_purchase``, ``last_purchase``, ``n_baskets``,
        ``total_spend`` (with prices).
    """
    from .value._summary import _UNIT_DAYS, _timestamp, last_instant

    owner = "basketmine.spark.summary"
    DataFrame, F, T = _pyspark(owner)
    _need(owner, st)
    for col in ("customer", "time"):
        if col not in st.columns:
            raise InvalidParameterError(
                f"The 'st' parameter of {owner} must carry {col}s; encode the log with {col}=<column>.")
    has_price = "price" in st.columns
    line = st.lines
    if has_price:
        q = F.col("quantity") if "quantity" in st.columns else F.lit(1.0)
        rev = q * F.col("price")
        line = line.withColumn("_rev", F.when(F.isnan(rev) | rev.isNull(), 0.0).otherwise(rev))
    aggs = [F.first("customer").alias("customer"), F.first("time").alias("time")]
    if has_price:
        aggs.append(F.sum("_rev").alias("rev"))
    baskets = line.groupBy("basket").agg(*aggs)
    with_c = baskets.where(F.col("customer").isNotNull())
    counts = baskets.agg(F.sum(F.col("customer").isNull().cast("int")).alias("guest"),
                         F.max(F.when(F.col("customer").isNotNull(), F.col("time"))).alias("last"),
                         F.min(F.when(F.col("customer").isNotNull(), F.col("time"))).alias("first")).first()
    without = int(counts["guest"] or 0)
    if without:
        warnings.warn(f"{owner}: {without} baskets have no customer and are left out.", UserWarning, stacklevel=user_stacklevel())
    if counts["first"] is None:
        raise InvalidParameterError(f"The 'st' parameter of {owner} must hold baskets with a customer; none has one.")
    first = pd.Timestamp(counts["first"])
    end = pd.Timestamp(counts["last"]) if observation_end is None else _timestamp(owner, "observation_end",
                                                                                 observation_end)
    if end < first.normalize():
        raise InvalidParameterError(
            f"The 'observation_end' parameter of {owner} must not fall before the first purchase "
            f"({first}). Got {observation_end!r} instead.")
    limit = F.lit(last_instant(end).to_pydatetime()).cast("timestamp")
    after = with_c.where(F.col("time") > limit).count()
    b = with_c.where(F.col("time") <= limit)
    days = F.datediff(F.to_date("time"), F.lit("1970-01-01").cast("date"))
    if freq == "D":
        ordinal = days
    elif freq == "W":
        ordinal = F.floor((days + 3) / 7)
    else:
        ordinal = (F.year("time") - 1970) * 12 + F.month("time") - 1

    def start_days(o):
        if freq == "D":
            return o.cast("double")
        if freq == "W":
            return (o * 7 - 3).cast("double")
        month = F.make_date(F.floor(o / 12) + 1970, F.pmod(o, F.lit(12)) + 1, F.lit(1))
        return F.datediff(month, F.lit("1970-01-01").cast("date")).cast("double")

    end_days = (pd.Timestamp(end.date()) - pd.Timestamp("1970-01-01")).days
    end_ord = {"D": end_days, "W": (end_days + 3) // 7,
               "M": (end.year - 1970) * 12 + end.month - 1}[freq]

    def span(o1, o2):
        if unit is None and freq == "M":
            return (o2 - o1).cast("double")
        return (start_days(o2) - start_days(o1)) / F.lit(float(_UNIT_DAYS[unit or freq]))

    per_aggs = [F.count(F.lit(1)).alias("n_b"), F.min("time").alias("t0"), F.max("time").alias("t1")]
    if has_price:
        per_aggs.append(F.sum("rev").alias("value"))
    periods = b.withColumn("ord", ordinal).groupBy("customer", "ord").agg(*per_aggs)
    cust_aggs = [F.count(F.lit(1)).alias("periods"), F.min("ord").alias("o_first"), F.max("ord").alias("o_last"),
                 F.min("t0").alias("first_purchase"), F.max("t1").alias("last_purchase"),
                 F.sum("n_b").alias("n_baskets")]
    if has_price:
        cust_aggs += [F.sum("value").alias("total_spend"), F.min_by("value", "ord").alias("first_value")]
    c = periods.groupBy("customer").agg(*cust_aggs)
    frequency = (F.col("periods") - 1).cast("long")
    cols = [F.col("customer"), frequency.alias("frequency"),
            span(F.col("o_first"), F.col("o_last")).alias("recency"),
            span(F.col("o_first"), F.lit(end_ord)).alias("T")]
    if has_price:
        cols.append(F.when(frequency > 0, (F.col("total_spend") - F.col("first_value")) / frequency)
                    .otherwise(0.0).alias("monetary_value"))
    cols += [F.col("first_purchase"), F.col("last_purchase"), F.col("n_baskets")]
    if has_price:
        cols.append(F.col("total_spend"))
    out = c.select(*cols).orderBy("customer")
    attrs = {"observation_end": end, "freq": freq, "unit": unit, "baskets_without_customer": without,
             "baskets_after_end": int(after)}
    return SparkResult(out, attrs, index="customer")


# --------------------------------------------------------------- follow-ups
@validated({**_FOLLOW_SPEC, "st": _ST}, "basketmine.spark.follow_ups")
def follow_ups(st: SparkTransactions, within="90D", min_support=0.01, min_confidence: float = 0.0, *,
               antecedents=None, consequents=None, min_gap=None, observation_end=None):
    """Follow-up rules "A then B within a window" on Spark, equal to
    :func:`basketmine.follow_ups` with single-item antecedents.

    Each customer's lines are joined with their own later lines inside the
    window (a join keyed by customer), so the work is spread by customer;
    counts, confidences, base rates and the exact lag quartiles (Spark's
    ``percentile``, linear as numpy's) follow the local definitions, the
    censoring at the end of the log included.

    Parameters
    ----------
    st : SparkTransactions
        With customers and times.
    within, min_support, min_confidence, antecedents, consequents, min_gap, observation_end
        As for :func:`basketmine.follow_ups`.

    Returns
    -------
    SparkResult
        The local columns (``antecedents`` an array of one label), strongest
        first as locally; ``attrs`` as locally.
    """
    owner = "basketmine.spark.follow_ups"
    DataFrame, F, T = _pyspark(owner)
    _need(owner, st)
    for col in ("customer", "time"):
        if col not in st.columns:
            raise InvalidParameterError(
                f"The 'st' parameter of {owner} must carry {col}s; encode the log with {col}=<column>.")
    w, mn = window(owner, within, min_gap)
    win = w.amount / 1e9  # seconds, as Spark's timestamps cast to double
    gap = ("baskets", 1) if mn is None else (mn.axis, mn.amount if mn.axis == "baskets" else mn.amount / 1e9)
    spark = st.lines.sparkSession
    code = {lab: i for i, lab in enumerate(st.labels.tolist())}

    def codes(name, labels):
        if labels is None:
            return None
        labels = [labels] if isinstance(labels, (str, bytes)) or not hasattr(labels, "__iter__") else list(labels)
        missing = [x for x in labels if x not in code]
        if missing:
            raise InvalidParameterError(
                f"The {name!r} parameter of {owner} must name items of the log; {missing[0]!r} is not one.")
        return [code[x] for x in labels]

    ante, cons = codes("antecedents", antecedents), codes("consequents", consequents)
    last = pd.Timestamp(st.lines.agg(F.max("time")).first()[0])
    end = pd.Timestamp(observation_end_ns(owner, observation_end, last.as_unit("ns").value))
    secs = F.col("time").cast("double")
    lines = st.lines.where(F.col("customer").isNotNull())
    baskets = lines.select("customer", "basket", "time", "pos").distinct()
    from pyspark.sql.window import Window

    order = Window.partitionBy("customer").orderBy("time", "pos")
    baskets = baskets.withColumn("idx", F.row_number().over(order)).withColumn("t", secs)
    n_customers = baskets.select("customer").distinct().count()
    guests = st.lines.where(F.col("customer").isNull()).select("basket").distinct().count()
    if guests:
        warnings.warn(f"{owner}: {guests} baskets have no customer and are left out.", UserWarning, stacklevel=user_stacklevel())
    min_count = min_count_of(min_support, n_customers)
    cutoff = (end - pd.Timestamp("1970-01-01")).total_seconds() - win
    li = lines.select("basket", "item").join(baskets.select("basket", "customer", "idx", "t"), "basket")
    eligible = baskets.where(F.col("t") <= F.lit(cutoff)).select("customer", F.col("idx").alias("ka"),
                                                                 F.col("t").alias("ta"))
    if eligible.limit(1).count() == 0:
        raise InvalidParameterError(
            f"The 'within' parameter of {owner} ({within!r}) is longer than the log allows: no basket was "
            f"bought that long before its end ({end}).")
    a_lines = li.where(F.col("t") <= F.lit(cutoff))
    if ante is not None:
        a_lines = a_lines.where(F.col("item").isin(ante))
    a_lines = a_lines.select("customer", F.col("idx").alias("ka"), F.col("t").alias("ta"), F.col("item").alias("a"))
    b_lines = li if cons is None else li.where(F.col("item").isin(cons))
    b_lines = b_lines.select("customer", F.col("idx").alias("kb"), F.col("t").alias("tb"), F.col("item").alias("b"))
    follows = (F.col("kb") > F.col("ka")) & (F.col("tb") - F.col("ta") <= F.lit(win))
    follows &= (F.col("kb") - F.col("ka") >= gap[1]) if gap[0] == "baskets" else \
        (F.col("tb") - F.col("ta") >= F.lit(gap[1]))
    # each customer's first B after an A, the lag from the latest A before it
    pairs = a_lines.join(b_lines, "customer").where(follows)
    hits = (pairs.groupBy("customer", "a", "b")
            .agg(F.min(F.struct(F.col("kb"), -F.col("ka"), (F.col("tb") - F.col("ta")).alias("lag"))).alias("h"))
            .select("a", "b", (F.col("h.lag") / 86400.0).alias("lag")))
    rules = hits.groupBy("a", "b").agg(F.count(F.lit(1)).alias("customers"),
                                       F.percentile("lag", F.array(F.lit(0.25), F.lit(0.5), F.lit(0.75)))
                                       .alias("q"))
    ante_n = a_lines.select("customer", "a").distinct().groupBy("a").agg(
        F.count(F.lit(1)).alias("antecedent_customers"))
    n_eligible = eligible.select("customer").distinct().count()
    base = (eligible.join(b_lines, "customer").where(follows).select("customer", "b").distinct()
            .groupBy("b").agg((F.count(F.lit(1)) / F.lit(float(n_eligible))).alias("base_rate")))
    conf = F.col("customers") / F.col("antecedent_customers")
    out = (rules.where(F.col("customers") >= min_count).join(ante_n, "a")
           .where(F.col("antecedent_customers") >= min_count).join(base, "b")
           .withColumn("confidence", conf).where(F.col("confidence") >= F.lit(float(min_confidence))))
    labels = st.labels
    label_t = _label_type(T, labels)
    lab = spark.createDataFrame([(i, v) for i, v in enumerate(labels.tolist())],
                                T.StructType([T.StructField("code", T.IntegerType()),
                                              T.StructField("label", label_t)]))
    la = F.broadcast(lab.select(F.col("code").alias("a"), F.col("label").alias("_a")))
    lb = F.broadcast(lab.select(F.col("code").alias("b"), F.col("label").alias("consequent")))
    out = (out.join(la, "a").join(lb, "b")
           .orderBy(F.col("confidence").desc(), F.col("customers").desc(), "a", "b")
           .select(F.array("_a").alias("antecedents"), "consequent", "customers", "antecedent_customers",
                   (F.col("customers") / F.lit(float(n_customers))).alias("support"), "confidence", "base_rate",
                   (F.col("confidence") / F.col("base_rate")).alias("lift"),
                   F.col("q")[0].alias("lag_days_q1"), F.col("q")[1].alias("lag_days_median"),
                   F.col("q")[2].alias("lag_days_q3")))
    attrs = {"n_customers": n_customers, "n_eligible_customers": n_eligible, "min_count": min_count,
             "within": pd.Timedelta(w.amount), "observation_end": end, "baskets_without_customer": guests}
    return SparkResult(out, attrs, sets=_SETS)
