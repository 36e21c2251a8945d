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
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(REPO))

from wcf_model.data import ENGLAND, EXTRACT_NAME, combine, normalise_la_code, read_dfe  # noqa: E402
from wcf_model.errors import DataError  # noqa: E402

PROVENANCE_NAME = "dfe_extract.provenance.json"


class Stop(Exception):
    """A mistake in the arguments or inputs: one line to stderr, exit 2."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, type=Path, help="folder of DfE CSV downloads")
    parser.add_argument("--out", type=Path, default=REPO / "data", help="folder to write to (default: data/)")
    parser.add_argument(
        "--la", action="append", metavar="CODE", help="authority to keep, old or new code; repeatable (default 885)"
    )
    parser.add_argument("--strict", action="store_true", help="fail on a file that is not a known DfE layout")
    return parser.parse_args(argv)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def keep_authorities(frame, codes: set[str]):
    """Rows whose old or new code is one of ``codes`` (normalised)."""
    return frame[frame["la_code"].isin(codes) | frame["new_la_code"].isin(codes)]


def build(source: Path, la_codes: list[str], strict: bool, say=print):
    """Read ``source``; return (extract frame, provenance dict)."""
    if not source.is_dir():
        raise Stop(f"--source {source} is not a folder of DfE downloads")
    try:
        wanted = {normalise_la_code(c) for c in la_codes} | {ENGLAND}
    except DataError as err:
        raise Stop(f"--la: {err}") from None
    frames, inputs, skipped = [], [], []
    for path in sorted(p for p in source.iterdir() if p.is_file()):
        try:
            tidy = read_dfe(path)
        except DataError as err:
            if strict:
                raise Stop(f"{err} (--strict)") from None
            say(f"skipped {path.name}: {err}")
            skipped.append(path.name)
            continue
        kept = keep_authorities(tidy, wanted)
        frames.append(kept)
        inputs.append(
            {
                "file": path.name,
                "sha256": sha256(path),
                "publication": tidy["publication"].iloc[0] if len(tidy) else "",
                "release": int(tidy["release"].iloc[0]) if len(tidy) else None,
                "rows_read": len(tidy),
                "rows_kept": len(kept),
            }
        )
        say(f"read {path.name}: {len(tidy)} rows, {len(kept)} for the authorities asked for")
    if not frames:
        raise Stop(f"no recognised DfE files in {source}")
    extract = combine(frames)
    missing = sorted(c for c in wanted if not (extract["la_code"].eq(c) | extract["new_la_code"].eq(c)).any())
    if missing:
        raise Stop(f"no rows for la_code {', '.join(missing)} in the files in {source}")
    for row in inputs:
        row["rows_in_extract"] = int((extract["source_file"] == row["file"]).sum())
    provenance = {
        "generated_by": "scripts/build_data.py",
        "la_codes": sorted(wanted),
        "inputs": inputs,
        "skipped": skipped,
        "output": {"file": EXTRACT_NAME, "rows": len(extract)},
    }
    return extract, provenance


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; these files are shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        extract, provenance = build(args.source, args.la or ["885"], args.strict)
        if not args.out.is_dir():
            raise Stop(f"--out {args.out} is not a folder")
    except Stop as err:
        print(f"build_data: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    csv_text = extract.to_csv(index=False, lineterminator="\n")
    provenance["output"]["sha256"] = hashlib.sha256(csv_text.encode("utf-8")).hexdigest()
    write_atomic(args.out / EXTRACT_NAME, csv_text)
    write_atomic(args.out / PROVENANCE_NAME, json.dumps(provenance, indent=2) + "\n")
    print(f"wrote {args.out / EXTRACT_NAME} ({len(extract)} rows) and {PROVENANCE_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
