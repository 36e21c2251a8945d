"""Build data/gdp_deflators.csv from HM Treasury GDP deflator tables.

    python scripts/build_deflators.py --source downloads/hmt --out data/

Reads ``hmt_gdp_deflators.csv`` (index levels by financial year and vintage) and
``hmt_gdp_deflators_pct_change.csv`` (the March 2020 Budget's percentage
changes, with the OBR forecasts a 2019-20 business case would have used), and
writes one tidy table: vintage, financial_year, index, base, status, publication.

The March 2020 vintage publishes levels only for outturn years; its forecast
levels are chained here from its published percentage changes and marked
``forecast (chained from published % change)``. Single values implied from a
ratio rather than read from a table are left out.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from wcf_model.errors import DataError  # noqa: E402
from wcf_model.outputs import write_all  # noqa: E402
from wcf_model.prices import DEFLATOR_FILE, DEFLATOR_COLUMNS  # noqa: E402

#: Vintage label in the source -> (our id, publication).
VINTAGES = {
    "2020-03 Budget": ("2020-03", "HM Treasury, GDP deflators at market prices and money GDP, March 2020 (Budget)"),
    "2025-12 QNA": ("2025-12", "HM Treasury, GDP deflators at market prices and money GDP, December 2025 (Quarterly National Accounts)"),
    "2026-03 QNA": ("2026-03", "HM Treasury, GDP deflators at market prices and money GDP, March 2026 (Quarterly National Accounts)"),
}


def _vintage(label: str) -> str | None:
    for prefix in VINTAGES:
        if label.startswith(prefix):
            return prefix
    return None


def build(source: Path) -> pd.DataFrame:
    levels_path = source / "hmt_gdp_deflators.csv"
    changes_path = source / "hmt_gdp_deflators_pct_change.csv"
    for path in (levels_path, changes_path):
        if not path.is_file():
            raise DataError(f"{path} not found: expected HM Treasury deflator tables in {source}")
    levels = pd.read_csv(levels_path, dtype=str)
    rows = []
    for r in levels.itertuples():
        key = _vintage(r.vintage)
        if key is None:  # e.g. a single value implied from a ratio: not a published table
            continue
        vid, publication = VINTAGES[key]
        status = "forecast (chained from published % change)" if "FORECAST" in r.vintage else "outturn"
        rows.append({"vintage": vid, "financial_year": r.financial_year, "index": float(r.index),
                     "base": r.base, "status": status, "publication": publication})
    changes = pd.read_csv(changes_path, dtype={"pct_change_on_previous_year": float})
    budget = [r for r in rows if r["vintage"] == "2020-03"]
    last = max(budget, key=lambda r: r["financial_year"])
    index = last["index"]
    for r in changes.sort_values("financial_year").itertuples():
        if r.financial_year <= last["financial_year"]:
            continue
        index *= 1 + r.pct_change_on_previous_year / 100
        rows.append({"vintage": "2020-03", "financial_year": r.financial_year, "index": round(index, 6),
                     "base": last["base"], "status": "forecast (chained from published % change)",
                     "publication": VINTAGES["2020-03 Budget"][1]})
    frame = pd.DataFrame(rows, columns=DEFLATOR_COLUMNS).sort_values(["vintage", "financial_year"])
    if frame.duplicated(["vintage", "financial_year"]).any():
        raise DataError("a vintage gives two index values for one financial year")
    return frame.reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, type=Path, help="folder with the HMT deflator tables")
    parser.add_argument("--out", type=Path, default=REPO / "data")
    args = parser.parse_args(argv)
    try:
        frame = build(args.source)
    except DataError as err:
        print(f"build_deflators: {err}", file=sys.stderr)
        return 2
    text = frame.to_csv(index=False, lineterminator="\n")
    write_all(args.out, {DEFLATOR_FILE: lambda p: p.write_text(text, encoding="utf-8")}, allow_inputs=True)
    print(f"wrote {args.out / DEFLATOR_FILE} ({len(frame)} rows, vintages {', '.join(sorted(set(frame.vintage)))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
