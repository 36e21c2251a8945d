"""The shipped extract of published statistics, as the model reads it at run time.

``data/dfe_extract.csv.gz`` holds the Department for Education's figures for
**every English local authority and England**, built by ``scripts/build_data.py``
from the DfE downloads (reading those downloads is :mod:`wcf_model.dfe`, the
scripts' side). Every command that shows published history, calibrates,
back-tests or monitors reads it here, for the authority the scenario (or
``--la``) names. Its rows have the tidy shape of :mod:`wcf_model.tidy`.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .authorities import history
from .errors import DataError
from .tidy import ENGLAND, REGION_COLUMNS, TIDY_COLUMNS, rows_for, typed

#: File name of the extract in ``data/`` (gzip-compressed CSV; pandas reads it as it is).
EXTRACT_NAME = "dfe_extract.csv.gz"

#: The repository's ``data/`` folder (this module lives in ``wcf_model/``).
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1] / "data"


# ---------------------------------------------------------------------------
# The shipped extract
# ---------------------------------------------------------------------------


def read_extract(path: str | Path) -> pd.DataFrame:
    """Read a tidy extract written by ``scripts/build_data.py``.

    Parameters
    ----------
    path : str or Path
        A CSV with the :data:`TIDY_COLUMNS`, gzip-compressed when its name
        ends in ``.gz``.

    Returns
    -------
    pandas.DataFrame
        The extract with the same column types as :func:`wcf_model.dfe.read_dfe`
        gives (a fresh copy: callers may change it).

    Raises
    ------
    DataError
        If the file is missing, unreadable, or its columns are not the tidy columns.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"no extract at {path}: build one with "
            f"python scripts/build_data.py --source DOWNLOADS --out {path.parent}"
        )
    stat = path.stat()
    return _read_extract_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size).copy()


@lru_cache(maxsize=4)
def _read_extract_cached(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    """The parsed extract, kept while the file is unchanged (every command reads it
    several times: history, calibration, back-test, England's figures)."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path} is not a readable extract: {' '.join(str(err).split())}") from None
    if list(frame.columns) == [c for c in TIDY_COLUMNS if c not in REGION_COLUMNS]:
        frame = frame.assign(region_code="", region_name="")  # built before regions were added
    elif list(frame.columns) != TIDY_COLUMNS:
        raise DataError(
            f"{path} is not a wcf-model extract: expected columns {TIDY_COLUMNS}, found {list(frame.columns)}"
        )
    return typed(frame)


def extract_path(data_dir: str | Path | None = None) -> Path:
    """Where the extract is for a data folder (``data/`` by default)."""
    return Path(data_dir if data_dir is not None else DEFAULT_DATA_DIR) / EXTRACT_NAME


def load_extract(
    la_code: int | str,
    measures: Iterable[str] | str | None = None,
    data_dir: str | Path | None = None,
) -> pd.DataFrame:
    """The shipped tidy rows for one authority, as published.

    Parameters
    ----------
    la_code : int or str
        Old (``885``) or new (``"E10000034"``) code, or ``"England"``.
    measures : str or iterable of str, optional
        Measure names to keep; all when omitted.
    data_dir : str or Path, optional
        Folder holding ``dfe_extract.csv.gz``; the repository's ``data/`` by default.

    Returns
    -------
    pandas.DataFrame
        The authority's rows (columns :data:`TIDY_COLUMNS`), see :func:`rows_for`.
        For the history the model is fitted on (with a reorganised authority's
        predecessors and a joint workforce return), use :func:`load_authority`.

    Raises
    ------
    DataError
        If the extract is missing, has no rows for the authority (the message
        says how to list the codes it holds), or a measure is unknown.
    """
    path = extract_path(data_dir)
    frame = read_extract(path)
    rows = rows_for(frame, la_code)
    if rows.empty:
        raise DataError(f"no rows for la_code {la_code} in {path}; `wcf-model authorities` lists the "
                        f"{frame['la_code'].nunique() - 1} authorities it holds, with their codes")
    if measures is not None:
        wanted = [measures] if isinstance(measures, str) else list(measures)
        unknown = sorted(set(wanted) - set(frame["measure"]))
        if unknown:
            raise DataError(
                f"unknown measure(s) {', '.join(unknown)} in {path}; see data/README.md for the measure names"
            )
        rows = rows[rows["measure"].isin(wanted)]
    return rows.reset_index(drop=True)


def load_frame(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Every authority's rows: the extract in ``data_dir``, or a folder of DfE downloads read whole.

    ``data_dir`` may hold a ``dfe_extract.csv.gz`` (as ``data/`` does) or be a
    folder of DfE downloads, read with :func:`wcf_model.dfe.read_folder`.
    """
    folder = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    if (folder / EXTRACT_NAME).is_file():
        return read_extract(folder / EXTRACT_NAME)
    if not folder.is_dir():
        raise DataError(f"--data {folder} is not a folder: give a folder holding {EXTRACT_NAME} "
                        "or the DfE downloads")
    from .dfe import read_folder  # the downloads' reader is the scripts' side; load it only when asked

    frame, _ = read_folder(folder)
    return frame


def load_authority(la_code: int | str, data_dir: str | Path | None = None,
                   frame: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy rows of one authority, as the model is fitted on them, and of England.

    The authority's own published rows, plus (see :func:`wcf_model.authorities.history`)
    the figures of the authorities it replaced or that replaced it, apportioned
    and labelled, and a joint workforce return's rates where it has none of its
    own. ``data_dir`` is a folder with the extract or of DfE downloads
    (:func:`load_frame`); ``frame`` (every authority's rows) saves reading it again.

    Raises
    ------
    DataError
        If the data hold no rows for the authority.
    """
    frame = load_frame(data_dir) if frame is None else frame
    return history(frame, la_code), frame[frame["la_code"] == ENGLAND].reset_index(drop=True)
