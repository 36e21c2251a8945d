"""Time and peak memory of wcf-model on every hostile input (``make bench``).

Builds each case of ``tests/hostile.py`` in a temporary folder, runs its command
as a user would (a fresh process) and prints the exit code, wall time, the
process's peak memory and the first line of its message. The target for every
case: exit 2 in under 5 s and 500 MB, naming the file, with nothing of the
user's changed.

``--repo PATH`` runs another checkout's code (for a before-and-after
comparison); ``--cap-gb`` bounds each run's address space so a case that would
take the machine's memory stops instead; ``--only`` picks cases by name.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

import hostile  # noqa: E402

#: Cases whose command, if not refused, writes outside the case's own folder (code from
#: before the refusal wrote results.json and three more files into /).
WRITES_OUTSIDE = {"out_is_the_root_folder"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout whose wcf_model to run")
    parser.add_argument("--cap-gb", type=float, default=4.0, help="address-space cap per run [GB]")
    parser.add_argument("--timeout", type=float, default=None, help="seconds before a run is stopped")
    parser.add_argument("--only", nargs="*", default=None, help="case names to run")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(args.repo.resolve())}
    names = args.only or list(hostile.BUILDERS)
    print(f"{'case':44} {'exit':>5} {'wall s':>7} {'CPU s':>6} {'peak MB':>8} {'user files':>10}  message")
    for name in names:
        if name in WRITES_OUTSIDE and args.repo.resolve() != REPO:
            print(f"{name:44} skipped: another checkout's code may write where this case points ({name}); "
                  "run it there by hand if needed")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            try:
                case = hostile.BUILDERS[name](folder)
            except FileNotFoundError as exc:
                print(f"{name:44} skipped: {exc}")
                continue
            if args.timeout is not None:
                case.timeout = args.timeout
            before = hostile.snapshot(folder)
            out = hostile.run(case, env=env, memory_cap=int(args.cap_gb * 2**30))
            kept = "kept" if hostile.snapshot(folder) == before else "CHANGED"
            message = next((ln.strip() for ln in (out.stderr + out.stdout).splitlines() if ln.strip()), "")
            code = "hung" if out.code is None else str(out.code)
            print(f"{name:44} {code:>5} {out.seconds:7.1f} {out.cpu_seconds:6.1f} {out.peak_mb:8.0f} {kept:>10}  "
                  f"{message[:100]}", flush=True)


if __name__ == "__main__":
    main()
