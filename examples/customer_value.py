"""Customer value on two shipped logs.

CDNOW (purchase occasions, no items): the BG/NBD, Pareto/NBD and Gamma-Gamma
models fitted on the 39-week calibration period, a one-year CLV, and the
holdout check.  Online Retail (invoice lines): RFM segments, the Pareto
curve, decile tables, customer classes, the (r, h, f, m) state-transition
forecast and the CRM margin projection.

Run: python examples/customer_value.py
"""
import warnings
from pathlib import Path

import pandas as pd

import basketmine as bm

DATA = Path(__file__).resolve().parent.parent / "datasets"
warnings.simplefilter("ignore", UserWarning)  # the cleaning notes are in the attrs
pd.set_option("display.width", 120)

# -- CDNOW: repeat purchases and spend
tm = bm.read_cdnow(DATA / "cdnow" / "CDNOW_sample.txt")
cal = bm.value.summary(tm, observation_end="1997-09-30", unit="W")   # weeks, day resolution
bg = bm.value.BetaGeo().fit(cal)
print(bg)
print(bg.summary().round(3))
print(bm.value.ParetoNBD().fit(cal))
gg = bm.value.GammaGamma().fit(cal)
print(gg, " corr(frequency, spend) =", round(gg.independence(cal), 3))
clv = gg.clv(bg, cal, periods=12, period="30D", discount_rate=0.01)
print("\nTop five customers by 12-month CLV:")
print(pd.DataFrame({"clv": clv, "p_alive": bg.probability_alive(cal),
                    "next_90_days": bg.expected_purchases("90D", cal)}).nlargest(5, "clv").round(2))
bt = bm.value.calibration_holdout(tm, "1997-09-30", "1998-06-30", unit="W")
print("\nHoldout (weeks 40-78):", bt.metrics.round(3).to_dict())
print(bt.by_frequency.round(2))

# -- Online Retail: who matters
tr = bm.read_csv(DATA / "online_retail" / "online_retail_sample.csv.gz", basket="InvoiceNo",
                 item="StockCode", customer="CustomerID", time="InvoiceDate",
                 quantity="Quantity", price="UnitPrice")
print(f"\nTop 20% of customers bring {bm.value.revenue_share(tr, 0.2):.0%} of revenue")
print(bm.value.monetary_deciles(tr)[["customers", "revenue_share", "cumulative_revenue_share"]].round(3))
print(bm.value.rfm(tr)["segment"].value_counts())
classes = bm.value.customer_classes(tr)
print(bm.value.class_table(classes).round(3))
st = bm.value.StateTransitionForecast(period="M", periods=3).fit(tr)
print("\nNext three months, all customers:")
print(st.forecast().groupby("period").sum().round(1))
margin = bm.value.margin_forecast(tr, "M", periods=3, margin_rate=0.3)
print("\nProjected CRM margin by month:")
print(margin.groupby("period")[["expected_revenue", "expected_cost", "expected_expense", "value"]].sum().round(0))
