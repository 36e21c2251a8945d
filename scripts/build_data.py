"""Build the tidy DfE extract in data/ from a folder of DfE downloads.

    python scripts/build_data.py --source DOWNLOADS --out data/

Reads every file in DOWNLOADS that wcf_model.dfe recognises (others are
skipped with a note, or stop the run with --strict), keeps the latest release
of each figure for every English local authority and England, and writes

    OUT/dfe_extract.csv.gz                the tidy rows (see data/README.md), gzip-compressed
    OUT/dfe_extract.provenance.json       each input's sha256, publication, rows

The extract always covers every authority in the downloads: there is no way
to build a partial one that would leave other councils' reports without their
history. Both files are written to a temporary file in OUT and renamed into
place, so an interrupted run leaves the previous extract whole. The output
depends only on the inputs' contents and names (no dates, no absolute paths;
the gzip header carries no name or time), so rebuilding from the same
downloads gives byte-identical files.

Exit codes: 0 done; 2 bad arguments or (with --strict) an unrecognised file.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(REPO))

from wcf_model.data import EXTRACT_NAME  # noqa: E402
from wcf_model.tidy import ENGLAND  # noqa: E402
from wcf_model.dfe import read_folder  # noqa: E402
from wcf_model.errors import DataError  # noqa: E402
from wcf_model.outputs import strict_json, write_all  # noqa: E402

PROVENANCE_NAME = "dfe_extract.provenance.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, type=Path, help="folder of DfE CSV downloads")
    parser.add_argument("--out", type=Path, default=REPO / "data", help="folder to write to (default: data/)")
    parser.add_argument("--strict", action="store_true", help="fail on a file that is not a known DfE layout")
    return parser.parse_args(argv)


def compress(text: str) -> bytes:
    """The CSV text gzip-compressed with no file name and time 0, so the bytes
    depend only on the text (and the zlib library)."""
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if not args.source.is_dir():
            raise DataError(f"--source {args.source} is not a folder of DfE downloads")
        if not args.out.is_dir():
            raise DataError(f"--out {args.out} is not a folder")
        extract, provenance = read_folder(args.source, None, args.strict, say=print)
    except DataError as err:
        print(f"build_data: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    csv_text = extract.to_csv(index=False, lineterminator="\n")
    packed = compress(csv_text)
    authorities = sorted(set(extract["la_code"]) - {ENGLAND})
    provenance = {"generated_by": "scripts/build_data.py", **provenance,
                  "output": {"file": EXTRACT_NAME, "rows": len(extract), "authorities": len(authorities),
                             "csv_bytes": len(csv_text.encode("utf-8")),
                             "csv_sha256": hashlib.sha256(csv_text.encode("utf-8")).hexdigest(),
                             "gzip_bytes": len(packed)}}
    write_all(args.out, {
        EXTRACT_NAME: lambda p: p.write_bytes(packed),
        PROVENANCE_NAME: lambda p: p.write_text(strict_json(provenance) + "\n", encoding="utf-8"),
    }, allow_inputs=True)
    print(f"wrote {args.out / EXTRACT_NAME} ({len(extract):,} rows for England and {len(authorities)} "
          f"authority codes; {len(packed) / 1e6:.2f} MB compressed, {len(csv_text) / 1e6:.1f} MB as CSV) "
          f"and {PROVENANCE_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
