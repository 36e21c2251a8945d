"""Build an actuals file (data/actuals/) from the shipped DfE extract and published money.

    python scripts/build_actuals.py                      # Worcestershire, 2019-20 to 2024-25
    python scripts/build_actuals.py --la 886 --first 2020-21 --last 2023-24 --out data/actuals/kent.csv

Reads the published statistics in data/dfe_extract.csv.gz for one authority
with wcf_model.actuals.published_actuals (the figures that have a
counterpart the model projects, each labelled with the financial year its
reference date falls in: a 31 March stock or a flow to 31 March, the year
ending then; a 30 September or January census, or a mid-year population
estimate, the year containing it), and writes the actuals CSV that
wcf_model.actuals.read_actuals reads: measure, period, value, unit, source,
note, la_code. The la_code column ties the file to its authority: it cannot be
compared with another council's scenario. Figures the DfE did not publish
(suppressed, not available) are left out and listed on the screen; a missing
figure is never written as zero. (Without a file, the report and the monitoring
notebook take the same figures for the scenario's own authority directly.)

The money of the body that ran the service (gross spending and budget,
overspend, surplus, corporation tax, staff, the DSG high-needs deficit) is not
in any DfE release: it was published in council papers and reported in the
press. Those figures live, each with its publication, in
data/actuals/published_money/<authority>.csv (the actuals format); when that
file exists its figures for the years asked for are checked and appended.

The file is written to a temporary file and renamed into place, and holds no
dates or paths, so the same extract always gives a byte-identical file (the
test suite checks the shipped Worcestershire file against this script).

Exit codes: 0 done; 2 bad arguments or no such authority in the extract.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(REPO))

from wcf_model.data import load_extract  # noqa: E402
from wcf_model.errors import DataError  # noqa: E402
from wcf_model.actuals import ACTUALS_COLUMNS, period_problem, published_actuals, read_actuals  # noqa: E402
from wcf_model.outputs import write_all  # noqa: E402


def _number(value: float) -> str:
    """A value as plain text: whole numbers without a decimal point, others as given."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


#: Published money by authority: data/actuals/published_money/<authority name>.csv.
MONEY_DIR = REPO / "data" / "actuals" / "published_money"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def build(la: int | str, first: str, last: str, data_dir: Path | None = None,
          money_dir: Path | None = MONEY_DIR) -> tuple[str, list[str]]:
    """The actuals CSV text for one authority, and a line for each figure left out.

    Parameters
    ----------
    la : int or str
        Authority code (old ``885`` or new ``E10000034``).
    first, last : str
        First and last financial year to keep, e.g. ``"2019-20"``, ``"2024-25"``.
    data_dir : Path, optional
        Folder holding ``dfe_extract.csv.gz`` (the repository's ``data/`` by default).
    money_dir : Path, optional
        Folder of published money files by authority (None: leave money out).

    Returns
    -------
    (str, list of str)
        The CSV text (UTF-8, ``\\n`` line ends; every line names the authority in
        ``la_code``) and notes on unpublished figures.
    """
    frame, skipped = published_actuals(la, first, last, data_dir)
    rows = frame.to_dict("records")
    if money_dir is not None:
        name = load_extract(la, data_dir=data_dir)["la_name"].iloc[0]
        money = money_dir / f"{_slug(name)}.csv"
        if money.is_file():
            rows += [r for r in read_actuals(money).to_dict("records") if first <= r["period"] <= last]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[*ACTUALS_COLUMNS, "la_code"], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "value": _number(row["value"]), "la_code": frame.attrs["la_code"]})
    return buf.getvalue(), skipped


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--la", default="885", help="authority code, old or new (default 885, Worcestershire)")
    parser.add_argument("--first", default="2019-20", help="first financial year (default 2019-20)")
    parser.add_argument("--last", default="2024-25", help="last financial year (default 2024-25)")
    parser.add_argument("--data", type=Path, default=None, help="folder with dfe_extract.csv.gz (default data/)")
    parser.add_argument("--out", type=Path, default=None,
                        help="file to write (default data/actuals/<authority name>.csv)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        for flag, label in (("--first", args.first), ("--last", args.last)):
            if why := period_problem(label):
                raise DataError(f"{flag}: {why}")
        if args.first > args.last:
            raise DataError(f"--first {args.first} is after --last {args.last}")
        text, skipped = build(args.la, args.first, args.last, args.data)
        out = args.out
        if out is None:
            name = load_extract(args.la, data_dir=args.data)["la_name"].iloc[0]
            out = REPO / "data" / "actuals" / f"{_slug(name)}.csv"
    except DataError as err:
        print(f"build_actuals: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    for line in skipped:
        print(f"left out {line}")
    write_all(out.parent, {out.name: lambda p: p.write_text(text, encoding="utf-8", newline="")},
              allow_inputs=True)
    frame = read_actuals(out)  # the file must read back cleanly
    print(f"wrote {out} ({len(frame)} figures, {frame['measure'].nunique()} measures, "
          f"{args.first} to {args.last})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
