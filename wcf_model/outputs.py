"""Writing outputs safely: atomically, and only where outputs belong.

A run either replaces its outputs completely or leaves the earlier ones
untouched (docs/design.md, "Command line"): every file is written to a temporary
file in the destination folder and renamed into place, which is atomic on one
file system, and nothing is renamed until every file has been produced.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from .errors import UsageError

#: Folders that only their own commands may write to.
PROTECTED = ("scenarios", "data")


def default_output_dir(scenario_name: str, root: Path | None = None) -> Path:
    """``outputs/<scenario name>/`` under the current folder (or ``root``)."""
    return (root or Path.cwd()) / "outputs" / scenario_name


def _check_destination(out_dir: Path) -> None:
    resolved = out_dir.resolve()
    for name in PROTECTED:
        for parent in (resolved, *resolved.parents):
            if parent.name == name and (parent.parent / "pyproject.toml").is_file():
                raise UsageError(f"refusing to write outputs into {out_dir}: '{name}/' holds inputs; "
                                 "choose another --out folder")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_all(out_dir: Path, files: Mapping[str, Callable[[Path], None]],
              allow_inputs: bool = False) -> list[Path]:
    """Produce every file into temporaries, then move them all into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Destination folder (created if needed).
    files : mapping
        File name -> ``writer(path)`` that writes the whole file at ``path``.
    allow_inputs : bool
        Only for the commands whose job is to write inputs (building ``data/``).

    Returns
    -------
    list of Path
        The files written, in the order given.
    """
    if not allow_inputs:
        _check_destination(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, writer in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir)
            os.close(fd)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are for sharing
            staged.append((Path(tmp), out_dir / name))
            writer(Path(tmp))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in staged:
        os.replace(tmp, final)
    return [final for _, final in staged]
