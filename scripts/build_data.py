"""Build the tidy DfE extract in data/ from a folder of DfE downloads.

    python scripts/build_data.py --source DOWNLOADS --out data/ --la 885 [--la ...]

Reads every file in DOWNLOADS that wcf_model.data recognises (others are
skipped with a note, or stop the run with --strict), keeps the rows of the
authorities named with --la (default 885, Worcestershire) and of England,
keeps the latest release of each figure, and writes

    OUT/dfe_extract.csv                   the tidy rows (see data/README.md)
    OUT/dfe_extract.provenance.json       each input's sha256, publication, rows

Both are written to a temporary file in OUT and renamed into place, so an
interrupted run leaves the previous extract whole. The output depends only on
the inputs' contents and names (no dates, no absolute paths), so rebuilding
from the same downloads gives byte-identical files.

Exit codes: 0 done; 2 bad arguments or (with --strict) an unrecognised file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(REPO))

from wcf_model.data import EXTRACT_NAME, read_folder  # noqa: E402
from wcf_model.errors import DataError  # noqa: E402
from wcf_model.outputs import write_all  # noqa: E402

PROVENANCE_NAME = "dfe_extract.provenance.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, type=Path, help="folder of DfE CSV downloads")
    parser.add_argument("--out", type=Path, default=REPO / "data", help="folder to write to (default: data/)")
    parser.add_argument(
        "--la", action="append", metavar="CODE", help="authority to keep, old or new code; repeatable (default 885)"
    )
    parser.add_argument("--strict", action="store_true", help="fail on a file that is not a known DfE layout")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if not args.source.is_dir():
            raise DataError(f"--source {args.source} is not a folder of DfE downloads")
        if not args.out.is_dir():
            raise DataError(f"--out {args.out} is not a folder")
        extract, provenance = read_folder(args.source, args.la or ["885"], args.strict, say=print)
    except DataError as err:
        print(f"build_data: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    csv_text = extract.to_csv(index=False, lineterminator="\n")
    provenance = {"generated_by": "scripts/build_data.py", **provenance,
                  "output": {"file": EXTRACT_NAME, "rows": len(extract),
                             "sha256": hashlib.sha256(csv_text.encode("utf-8")).hexdigest()}}
    write_all(args.out, {
        EXTRACT_NAME: lambda p: p.write_text(csv_text, encoding="utf-8", newline=""),
        PROVENANCE_NAME: lambda p: p.write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8"),
    }, allow_inputs=True)
    print(f"wrote {args.out / EXTRACT_NAME} ({len(extract)} rows) and {PROVENANCE_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
