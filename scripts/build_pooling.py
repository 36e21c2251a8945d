"""Build data/forecast_pooling.json: the forecast's shared parameters, from DfE downloads.

    python scripts/build_pooling.py --source DOWNLOADS [--out data/]

The caseload forecast (wcf_model.forecast) shares its smoothing, partial-pooling
and error-band parameters across every English authority. An authority's own
calibration sees only its figures and England's, so the parameters fitted on
every authority in DOWNLOADS are shipped here, one set per forecast origin
(each fitted only on figures published up to that origin, so a back-test from
any origin uses none of the years it is scored on).

The file holds each input's sha256 and no dates or paths, so the same downloads
give a byte-identical file. It is written to a temporary file and renamed into
place. Exit codes: 0 done; 2 bad arguments or unreadable downloads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from wcf_model.dfe import read_folder  # noqa: E402
from wcf_model.errors import DataError  # noqa: E402
from wcf_model.forecast import MEASURES, MIN_AUTHORITIES, POOLING_FILE, Panel, fit_pooling, pooling_json  # noqa: E402
from wcf_model.outputs import write_all  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, type=Path, help="folder of DfE CSV downloads (every authority)")
    parser.add_argument("--out", type=Path, default=REPO / "data", help="folder to write to (default: data/)")
    return parser.parse_args(argv)


def origins(panel: Panel) -> list[int]:
    """Every origin with two years of figures behind it, up to the last year published."""
    published = np.logical_or.reduce([np.isfinite(panel.values[m]).any(axis=0) for m in MEASURES])
    years = panel.years[published]
    return list(range(int(years[0]) + 2, int(years[-1]) + 1))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if not args.out.is_dir():
            raise DataError(f"--out {args.out} is not a folder")
        frame, provenance = read_folder(args.source, None)  # says so if --source is not a folder
        panel = Panel.from_frame(frame)
        if len(panel.codes) < MIN_AUTHORITIES:
            raise DataError(f"{args.source} holds {len(panel.codes)} authorities; the shared parameters need "
                            f"the downloads for every authority (at least {MIN_AUTHORITIES})")
        poolings = []
        for origin in origins(panel):
            poolings.append(fit_pooling(panel, origin, source="every English authority in the DfE downloads"))
            print(f"fitted origin {origin}")
    except DataError as err:
        print(f"build_pooling: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    inputs = [{k: row[k] for k in ("file", "sha256", "publication", "release")} for row in provenance["inputs"]]
    text = pooling_json(poolings, {"generated_by": "scripts/build_pooling.py", "authorities": len(panel.codes),
                                   "inputs": inputs, "skipped": provenance["skipped"]})
    write_all(args.out, {POOLING_FILE: lambda p: p.write_text(text, encoding="utf-8")}, allow_inputs=True)
    print(f"wrote {args.out / POOLING_FILE} ({len(poolings)} origins, {len(panel.codes)} authorities)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
