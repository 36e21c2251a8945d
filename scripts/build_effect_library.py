"""Write an effect-library file from the reference-class estimates.

The sizes and intervals in ``scenarios/effects/moves*.yaml`` are computed, not
typed: this script estimates every driver with a model counterpart from a
folder of DfE downloads and writes the entries. The same data, settings and
seed give the same file.

    python scripts/build_effect_library.py --source DFE_DOWNLOADS \
        --out scenarios/effects/moves.yaml --prefix moved
    python scripts/build_effect_library.py --source DFE_DOWNLOADS --exclude 885 \
        --out scenarios/effects/moves_without_worcestershire.yaml --prefix moved_excl_worcs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wcf_model.outputs import write_all  # noqa: E402
from wcf_model.reference_class import (  # noqa: E402
    build_panel,
    estimate_reference_class,
    library_entries,
    load_reference_class,
    load_statistics,
    unit_of,
)

HEADER = """\
# Effect library: what changed after councils moved children's services to a trust or company.
#
# Written by scripts/build_effect_library.py from the DfE statistics and
# data/reference_class.csv; do not edit the numbers by hand (rebuild instead).
# Cite an entry from a scenario option with `use: NAME` (see scenarios/effects/README.md).
"""


def document(source: Path, prefix: str, exclude: list[str], placebos: int, seed: int) -> dict:
    spells = load_reference_class()
    panel = build_panel(load_statistics(source))
    units = {unit_of(c) for c in exclude}
    left_out = sorted(spells.loc[spells["la_code"].map(unit_of).isin(units), "council"].unique())
    panel = panel[~panel["unit"].isin(units)]
    res = estimate_reference_class(panel, spells, placebos=placebos, seed=seed)
    note = (f"{' and '.join(left_out)} left out (its own move is not evidence for its own appraisal)"
            if left_out else "")
    title = "Moves to a trust or company" + (f", without {' and '.join(left_out)}" if left_out else "")
    return {
        "library": {
            "title": title,
            "description": ("Changes in the drivers after a move, measured on the councils in "
                            "data/reference_class.csv against councils that had not moved."
                            + (f" {note[0].upper() + note[1:]}." if note else "")),
            "settings": res.settings,
        },
        "effects": library_entries(res, prefix, population_note=note),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", type=Path, required=True, help="folder of DfE downloads")
    p.add_argument("--out", type=Path, required=True, help="library file to write")
    p.add_argument("--prefix", required=True, help="start of each entry's name")
    p.add_argument("--exclude", nargs="*", default=[], help="DfE codes of councils to leave out")
    p.add_argument("--placebos", type=int, default=999)
    p.add_argument("--seed", type=int, default=20170919)
    args = p.parse_args(argv)
    doc = document(args.source, args.prefix, args.exclude, args.placebos, args.seed)
    text = HEADER + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    write_all(args.out.parent, {args.out.name: lambda path: path.write_text(text, encoding="utf-8")},
              allow_inputs=True)
    print(f"wrote {args.out}: {len(doc['effects'])} effects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
