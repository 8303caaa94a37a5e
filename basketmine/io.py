"""Readers and writers: CSV / Parquet invoice lines, basket-per-line text,
FIMI transactions and SPMF sequences, all into a TransactionMatrix."""
from __future__ import annotations

import functools
import gzip
import os
import zlib

import numpy as np
import pandas as pd

from . import _encode
from ._validation import NONE, InBody, InvalidParameterError, Kind, column_error, validated
from .transactions import _CANCEL, CleaningReport, TransactionMatrix

__all__ = ["read_baskets", "read_cdnow", "read_csv", "read_fimi", "read_parquet", "read_spmf",
           "write_fimi", "write_spmf"]

_LINE_COLS = ("customer", "time", "quantity", "price", "cost")


def _file_errors(fn):
    """A reader whose file cannot be read (a directory, a damaged archive, another text
    encoding, a corrupt Parquet file) raises InvalidParameterError saying so, not the
    library's own error."""
    owner = fn.__name__

    @functools.wraps(fn)
    def reader(path, *args, **kwargs):
        where = os.fspath(path)
        if os.path.isdir(where):
            raise InvalidParameterError(
                f"The 'path' parameter of {owner} must name a file. Got {where!r}, which is a directory.")
        try:
            return fn(path, *args, **kwargs)
        except InvalidParameterError:
            raise
        except UnicodeDecodeError as exc:
            raise InvalidParameterError(
                f"{owner}: {where!r} is not UTF-8 text ({exc.reason} at byte {exc.start}); convert it to UTF-8"
                + (", or give encoding='latin-1' (or the file's encoding)" if owner == "read_csv" else "")
                + ".") from None
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise InvalidParameterError(f"{owner}: {where!r} is a damaged or truncated archive ({exc}).") from None
        except OverflowError as exc:
            raise InvalidParameterError(f"{owner}: {where!r} holds a number too large to read ({exc}).") from None
        except OSError as exc:
            raise InvalidParameterError(f"{owner}: cannot read {where!r}: {exc.strerror or exc}.") from None
        except Exception as exc:
            if type(exc).__module__.startswith("pyarrow"):  # a file Parquet cannot open
                raise InvalidParameterError(
                    f"{owner}: {where!r} is not a readable Parquet file ({str(exc).splitlines()[0]}).") from None
            raise
    return reader


def _open_text(path, owner: str):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InvalidParameterError(
            f"The 'path' parameter of {owner} must name an existing file. Got {path!r} instead.")
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, "rt", encoding="utf-8")


def _wanted(basket, item, cols: dict) -> list:
    """The columns to read (``time`` may be a [date, time] pair)."""
    out = []
    for c in (basket, item, *cols.values()):
        out += [x for x in (c if isinstance(c, (list, tuple)) else [c]) if x is not None]
    return list(dict.fromkeys(out))


def _check_columns(owner: str, basket, item, cols: dict, present) -> None:
    """A column asked for that the file does not have: an error listing those it has."""
    for name, col in {"basket": basket, "item": item, **cols}.items():
        for c in (col if isinstance(col, (list, tuple)) else [col]):
            if c is not None and c not in present:
                raise column_error(owner, name, c, present)


def _lines_frame(df: pd.DataFrame, owner: str, basket, item, kw: dict, cancellations, date_format=None):
    if basket is None or item is None:
        raise InvalidParameterError(
            f"{owner} reads invoice lines and needs both the 'basket' and 'item' columns "
            f"(columns here: {', '.join(map(repr, df.columns[:20]))}). For one basket per line "
            f"use read_baskets.")
    return TransactionMatrix.from_frame(df, basket, item, cancellations=cancellations, date_format=date_format,
                                        **kw)


_COLUMN = InBody("None, or a column name of the file")

# read_csv and read_parquet: the columns of invoice lines and how to read them
_LINES_SPEC = {
    "basket": _COLUMN,
    "item": _COLUMN,
    "customer": _COLUMN,
    "time": InBody("None, a column name of the file, or a [date, time] pair of them"),
    "quantity": _COLUMN,
    "price": _COLUMN,
    "cost": _COLUMN,
    "cancellations": _CANCEL,
    "date_format": (NONE, Kind(str, "a str")),
}

_READ_CSV_SPEC = {"path": InBody("a path to a readable CSV file (.gz read transparently)"), **_LINES_SPEC}


@validated(_READ_CSV_SPEC)
@_file_errors
def read_csv(path, basket=None, item=None, customer=None, time=None, quantity=None, price=None,
             cost=None, *, cancellations="auto", date_format=None, **read_kw) -> TransactionMatrix:
    """Read a CSV of invoice lines (one row per basket x item).

    Column parameters are as in :meth:`TransactionMatrix.from_frame`; other
    keywords go to :func:`pandas.read_csv`.  Only the named columns are read.
    Basket, item and customer ids are read as text so that codes such as
    ``"85123A"`` and ``"00123"`` survive.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> tm
    TransactionMatrix(1952 baskets, 3244 items, 45333 lines, 493 customers, 2010-12-01 .. 2011-12-09)
    >>> tm.report.rows_dropped
    207
    """
    owner = "read_csv"
    cols = {"customer": customer, "time": time, "quantity": quantity, "price": price, "cost": cost}
    wanted = _wanted(basket, item, cols)
    text_cols = {c: str for c in (basket, item, customer) if c is not None}
    with _open_text(path, owner) as fh:
        try:
            df = pd.read_csv(fh, usecols=wanted or None, dtype=text_cols, **read_kw)
        except ValueError as exc:
            header = _header(path, owner, read_kw)
            if header is not None:
                _check_columns(owner, basket, item, cols, header)
            raise InvalidParameterError(f"{owner}: cannot read {os.fspath(path)!r}: {exc}") from None
    return _lines_frame(df, owner, basket, item, cols, cancellations, date_format)


def _header(path, owner: str, read_kw: dict):
    """The file's column names, or None when even those cannot be read."""
    try:
        with _open_text(path, owner) as fh:
            return list(pd.read_csv(fh, nrows=0, **{k: v for k, v in read_kw.items() if k != "nrows"}).columns)
    except (ValueError, OSError, InvalidParameterError):
        return None


_READ_PARQUET_SPEC = {"path": InBody("a path to a readable Parquet file"), **_LINES_SPEC}


@validated(_READ_PARQUET_SPEC)
@_file_errors
def read_parquet(path, basket=None, item=None, customer=None, time=None, quantity=None, price=None,
                 cost=None, *, cancellations="auto", date_format=None) -> TransactionMatrix:
    """Read a Parquet file of invoice lines (needs pyarrow).

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> import basketmine as bm
    >>> path = os.path.join(tempfile.mkdtemp(), "lines.parquet")
    >>> pd.DataFrame({"invoice": ["1", "1", "2"], "item": ["tea", "milk", "tea"]}).to_parquet(path)
    >>> tm = bm.read_parquet(path, basket="invoice", item="item")
    >>> tm.to_baskets()
    [['milk', 'tea'], ['tea']]
    """
    owner = "read_parquet"
    if not os.path.exists(os.fspath(path)):
        raise InvalidParameterError(
            f"The 'path' parameter of {owner} must name an existing file. Got {os.fspath(path)!r} instead.")
    cols = {"customer": customer, "time": time, "quantity": quantity, "price": price, "cost": cost}
    import pyarrow.parquet as pq
    _check_columns(owner, basket, item, cols, pq.read_schema(path).names)
    df = pd.read_parquet(path, columns=_wanted(basket, item, cols) or None)
    return _lines_frame(df, owner, basket, item, cols, cancellations, date_format)


_READ_CDNOW_SPEC = {"path": InBody("a path to a readable CDNOW text file or CSV (.gz read transparently)")}


@validated(_READ_CDNOW_SPEC)
@_file_errors
def read_cdnow(path) -> TransactionMatrix:
    """Read the CDNOW purchase log (Fader and Hardie) as a TransactionMatrix
    of purchase occasions (see :meth:`TransactionMatrix.from_purchases`).

    Reads the distributed text files -- the 1/10 sample (``master_id
    sample_id YYYYMMDD cds dollars``, customers by sample id) and the master
    file (``id YYYYMMDD cds dollars``, a header line allowed) -- and a CSV
    with the columns ``customer_id, date, number_of_cds, dollar_value``.

    Examples
    --------
    >>> import basketmine as bm
    >>> bm.read_cdnow("datasets/cdnow/CDNOW_sample.txt")
    TransactionMatrix(6919 baskets, 1 items, 6919 lines, 2357 customers, 1997-01-01 .. 1998-06-30)
    """
    owner = "read_cdnow"
    name = os.fspath(path)
    with _open_text(path, owner) as fh:
        if name.endswith((".csv", ".csv.gz")):
            df = pd.read_csv(fh)
            need = ["customer_id", "date", "number_of_cds", "dollar_value"]
            if list(df.columns[:4]) != need:
                raise InvalidParameterError(
                    f"{owner}: {name!r} must have the columns {', '.join(need)}; it has "
                    f"{', '.join(map(str, df.columns[:6]))}.")
            df = df.rename(columns={"customer_id": "id", "number_of_cds": "cds", "dollar_value": "dollars"})
        else:
            df = pd.read_csv(fh, sep=r"\s+", header=None, dtype=str, comment=None)
            df = df[df[0].str[0].str.isdigit()]  # the master copy starts with a header line
            if df.shape[1] == 5:
                df = df.drop(columns=0)
            if df.shape[1] != 4:
                raise InvalidParameterError(
                    f"{owner}: {name!r} must hold 4 (master) or 5 (sample) whitespace-separated "
                    f"columns per line; it has {df.shape[1]}.")
            df.columns = ["id", "date", "cds", "dollars"]
            df["id"] = df["id"].astype(int)
    df["date"] = pd.to_datetime(df["date"].astype(str), format="mixed")
    return TransactionMatrix.from_purchases(df, "id", "date", "dollars", quantity="cds")


_READ_BASKETS_SPEC = {"path": InBody("a path to a readable text file (.gz read transparently)"),
                      "sep": InBody("a str separating the items of a line")}


@validated(_READ_BASKETS_SPEC)
@_file_errors
def read_baskets(path, sep: str = ",") -> TransactionMatrix:
    """Read one basket per line, items separated by ``sep`` (Groceries' format).

    Items are kept exactly as written (Groceries has labels with a trailing
    space, as in arules); empty fields are counted as missing items; an
    empty line is an empty basket.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_baskets("datasets/groceries/groceries.csv")
    >>> tm.n_baskets, tm.n_items
    (9835, 169)
    >>> tm.item_frequencies().head(3)
    item
    whole milk          2513
    other vegetables    1903
    rolls/buns          1809
    Name: count, dtype: int64
    """
    with _open_text(path, "read_baskets") as fh:
        lines = fh.read().splitlines()
    baskets = [[x if x.strip() else None for x in line.split(sep)] if line.strip() else [] for line in lines]
    return TransactionMatrix.from_baskets(baskets)


def _int_tokens(text: str, owner: str, path) -> np.ndarray:
    try:
        return np.array(text.split(), dtype=np.int64)
    except ValueError:
        bad = next(t for t in text.split() if not t.lstrip("-").isdigit())
        raise InvalidParameterError(
            f"{owner}: {os.fspath(path)!r} must hold whitespace-separated integers; found {bad!r}.") from None


def _csr_from_tokens(tokens: np.ndarray, lengths: np.ndarray, report: CleaningReport):
    labels, codes = np.unique(tokens, return_inverse=True)
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indptr, codes, n_rep = _encode.sort_dedupe(indptr, codes.astype(np.int32))
    report.add("item repeated in a basket", n_rep, "merged")
    lab = np.empty(len(labels), dtype=object)
    lab[:] = labels.tolist()
    return indptr, codes, lab


_READ_FIMI_SPEC = {"path": InBody("a path to a readable FIMI file (.gz read transparently)")}


@validated(_READ_FIMI_SPEC)
@_file_errors
def read_fimi(path) -> TransactionMatrix:
    """Read FIMI transactions: one basket per line, integer items separated by
    white space (``.gz`` read transparently).

    Examples
    --------
    >>> import os, tempfile
    >>> import basketmine as bm
    >>> path = os.path.join(tempfile.mkdtemp(), "baskets.dat")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("1 2 3\\n2 3\\n1\\n")
    >>> bm.read_fimi(path).to_baskets()
    [[1, 2, 3], [2, 3], [1]]
    """
    owner = "read_fimi"
    with _open_text(path, owner) as fh:
        text = fh.read()
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    lengths = np.fromiter((len(line.split()) for line in lines), dtype=np.int64, count=len(lines))
    tokens = _int_tokens(text, owner, path)
    report = CleaningReport(rows_in=len(tokens))
    indptr, codes, labels = _csr_from_tokens(tokens, lengths, report)
    return TransactionMatrix(indptr, codes, labels, report=report)


_READ_SPMF_SPEC = {"path": InBody("a path to a readable SPMF file (.gz read transparently)")}


@validated(_READ_SPMF_SPEC)
@_file_errors
def read_spmf(path) -> TransactionMatrix:
    """Read SPMF sequences: one customer per line, items separated by spaces,
    ``-1`` closing an itemset (a basket) and ``-2`` the sequence.

    Each itemset becomes a basket; the customer is the line number (from 0)
    and the baskets keep their order in the line.  Lines starting with ``@``,
    ``#`` or ``%`` are metadata and skipped.

    Examples
    --------
    >>> import os, tempfile
    >>> import basketmine as bm
    >>> path = os.path.join(tempfile.mkdtemp(), "sequences.txt")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("1 2 -1 3 -1 -2\\n2 -1 3 -1 -2\\n")
    >>> tm = bm.read_spmf(path)
    >>> tm.customer_sequences().to_lists()
    {0: [[1, 2], [3]], 1: [[2], [3]]}
    """
    owner = "read_spmf"
    with _open_text(path, owner) as fh:
        lines = [ln for ln in fh.read().splitlines() if ln.strip() and ln.lstrip()[0] not in "@#%"]
    toks = _int_tokens("\n".join(lines), owner, path)
    per_line = np.fromiter((len(ln.split()) for ln in lines), dtype=np.int64, count=len(lines))
    line_of = np.repeat(np.arange(len(lines), dtype=np.int64), per_line)
    if len(toks) and toks[-1] != -2:
        raise InvalidParameterError(f"{owner}: {os.fspath(path)!r} must end every sequence with -2.")
    is_end = toks == -1
    seq_end = toks == -2
    items = (toks >= 0)
    bad = ~(items | is_end | seq_end)
    if bad.any():
        raise InvalidParameterError(
            f"{owner}: {os.fspath(path)!r} holds {int(toks[bad][0])}; SPMF items are integers >= 0, "
            f"-1 closes an itemset and -2 a sequence.")
    # an itemset not closed by -1 before -2 is closed by the -2
    closes = is_end | (seq_end & ~np.concatenate([[True], is_end[:-1]]) & ~np.concatenate([[True], seq_end[:-1]]))
    basket_of = np.cumsum(closes) - closes  # basket index of each token
    n_baskets = int(closes.sum())
    item_basket = basket_of[items]
    lengths = np.bincount(item_basket, minlength=n_baskets)
    report = CleaningReport(rows_in=int(items.sum()))
    indptr, codes, labels = _csr_from_tokens(toks[items], lengths, report)
    cust = line_of[closes].astype(np.int32)
    cust_labels = np.empty(len(lines), dtype=object)
    cust_labels[:] = list(range(len(lines)))
    return TransactionMatrix(indptr, codes, labels, customer_codes=cust, customer_labels=cust_labels,
                             report=report)


def _int_labels(tm: TransactionMatrix, owner: str) -> np.ndarray:
    try:
        lab = np.array(tm.labels.tolist(), dtype=np.int64)
    except (TypeError, ValueError):
        lab = None
    if lab is None or (lab < 0).any():
        raise InvalidParameterError(
            f"{owner} writes integer items >= 0; this TransactionMatrix has labels such as "
            f"{tm.labels[:3].tolist()!r}. Recode them first.")
    return lab


_WRITE_SPEC = {"tm": InBody("a TransactionMatrix whose labels are integers >= 0"),
               "path": InBody("a path to a writable file")}


@validated(_WRITE_SPEC)
def write_fimi(tm: TransactionMatrix, path) -> None:
    """Write the baskets as FIMI lines (labels must be integers >= 0).

    Examples
    --------
    >>> import os, tempfile
    >>> import basketmine as bm
    >>> tm = bm.TransactionMatrix.from_baskets([[1, 2, 3], [2, 3], [1]])
    >>> path = os.path.join(tempfile.mkdtemp(), "baskets.dat")
    >>> bm.write_fimi(tm, path)
    >>> print(open(path).read())
    1 2 3
    2 3
    1
    """
    lab = _int_labels(tm, "write_fimi")
    with open(path, "w", encoding="utf-8") as fh:
        for a, b in zip(tm.indptr[:-1], tm.indptr[1:]):
            fh.write(" ".join(map(str, lab[tm.indices[a:b]])) + "\n")


@validated(_WRITE_SPEC)
def write_spmf(tm: TransactionMatrix, path) -> None:
    """Write each customer's baskets, oldest first, as one SPMF line.

    Examples
    --------
    >>> import os, tempfile
    >>> import basketmine as bm
    >>> tm = bm.TransactionMatrix.from_sequences([[[1, 2], [3]], [[2], [3]]])
    >>> path = os.path.join(tempfile.mkdtemp(), "sequences.txt")
    >>> bm.write_spmf(tm, path)
    >>> print(open(path).read())
    1 2 -1 3 -1 -2
    2 -1 3 -1 -2
    """
    lab = _int_labels(tm, "write_spmf")
    seqs = tm.customer_sequences()
    with open(path, "w", encoding="utf-8") as fh:
        for k in range(len(seqs)):
            parts = []
            for b in seqs.baskets[seqs.indptr[k]:seqs.indptr[k + 1]]:
                parts.append(" ".join(map(str, lab[tm.indices[tm.indptr[b]:tm.indptr[b + 1]]])) + " -1")
            fh.write(" ".join(parts) + " -2\n")
