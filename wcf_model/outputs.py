"""Writing outputs safely: whole sets or nothing, only where outputs belong, never as live formulas.

Output sets (``run`` and ``report``)
    A command's outputs are one set, and its output folder holds that set and
    nothing else. :func:`write_set` writes every file into a staging folder
    beside the target (``.<name>.wcf-partial-<token>``), marks it complete
    with a manifest, and only then swaps it for the target: atomically where
    the system can exchange two folders in one step (Linux ``renameat2``),
    otherwise by moving the old folder aside and the new one in. So at every
    moment the target holds the old set or the new set, never a mix of two
    runs. A failure, Ctrl-C, ``SIGTERM`` or ``SIGHUP`` removes the staging
    folder before the command exits. After a ``SIGKILL`` or a power cut, the
    next command writing beside the same folder finishes or undoes what was
    left: a complete new set whose target is missing is moved in, anything
    else is removed. An existing folder is replaced only when it holds
    nothing but wcf-model's outputs (its manifest says which), so no user file
    is ever deleted.

Single files (``export-assumptions``, ``import-assumptions``)
    :func:`write_file` writes to a hidden temporary file beside the target
    and renames it into place (atomic on one file system).

Files in a shared folder (the ``data/`` build scripts)
    :func:`write_all` writes several files into a folder that also holds
    other files, staging all of them before any is moved in.

Where outputs may go
    Never over or around an input (an output folder that holds the scenario,
    an overlay written over the workbook it was read from), never into the
    root folder or a system folder, never into ``scenarios/`` or ``data/`` of
    a checkout except by the commands whose job that is. Each refusal is an
    :class:`~wcf_model.errors.OutputError` raised before any work is done, and
    every error the operating system gives while writing (a full or read-only
    disk, a name too long) becomes one too, naming the path.

Text a spreadsheet would execute
    :func:`inert` is the one place cells and CSV fields are made safe: every
    workbook and CSV writer passes its text through it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import OutputError, UsageError

#: Folders that only their own commands may write to.
PROTECTED = ("scenarios", "data")
#: Folders of the operating system that outputs never go into (nor the root folder itself).
SYSTEM_FOLDERS = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run",
                  "/sbin", "/sys", "/usr", "/System", "/Library", "/private/etc", "/private/var/db")
#: The manifest every output folder holds: which files the set has and what wrote it.
MANIFEST = ".wcf-model-outputs.json"
#: Files and folders the commands write. A folder written before manifests
#: existed is recognised as wcf-model's when it holds only these (and the
#: ``.<name>.<random>.tmp`` files an interrupted write used to leave).
KNOWN_OUTPUTS = ("results.json", "summary.csv", "annual.csv", "results.xlsx", "report.html", "notebooks")
_PARTIAL, _OLD = "wcf-partial-", "wcf-old-"

#: First characters that make a spreadsheet read a cell as a formula (OWASP,
#: "CSV Injection"): = + - @, and tab and carriage return, which some
#: spreadsheets skip before looking at the next character.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


# ---------------------------------------------------------------------------
# Text a spreadsheet would execute
# ---------------------------------------------------------------------------


def inert(value: Any) -> Any:
    """A cell or CSV field that no spreadsheet will run as a formula.

    Text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return, or with an apostrophe, gets an apostrophe in front, as the OWASP
    guidance on CSV injection says: Excel, LibreOffice and Google Sheets then
    show it as text (``=cmd|' /C calc'!A0`` cannot start a program). Numbers,
    dates and everything else pass unchanged, so a negative number stays a
    number; only text is changed. An apostrophe already in front is doubled,
    so :func:`from_inert` gives back exactly the text that went in.

    >>> inert("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    >>> inert(-3.5), inert("-3.5"), inert("Company")
    (-3.5, "'-3.5", 'Company')
    """
    if isinstance(value, str) and value.startswith((*FORMULA_TRIGGERS, "'")):
        return "'" + value
    return value


def strict_json(document: Any, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """JSON text of ``document`` that any strict parser reads: the one JSON writer of outputs.

    Python's ``json.dumps`` writes ``NaN`` and ``Infinity`` by default, which are
    not JSON (a spreadsheet, JavaScript's ``JSON.parse`` and most other readers
    refuse the whole file). Here they raise ``ValueError`` instead: figures
    are checked before they are written (:func:`wcf_model.results.json_text`
    names the scenario whose arithmetic overflowed), so one reaching this
    point is a bug, reported as such rather than written.

    >>> strict_json({"payback_year": None, "npv": 1.5}, indent=None)
    '{"payback_year": null, "npv": 1.5}'
    """
    return json.dumps(document, indent=indent, sort_keys=sort_keys, ensure_ascii=False, allow_nan=False)


def write_csv(frame: Any, path: str | Path, index: bool = False, **to_csv: Any) -> None:
    """A table as CSV that no spreadsheet runs as formulas: every text field, heading and
    index label through :func:`inert`; numbers as numbers. The one CSV writer of outputs."""
    safe = frame.map(inert).rename(columns=inert)
    if index:
        safe = safe.rename(index=inert)
    safe.to_csv(path, index=index, lineterminator="\n", **to_csv)


def from_inert(value: Any) -> Any:
    """The text :func:`inert` was given (for reading back a workbook wcf-model wrote).

    >>> from_inert(inert("=1+1")), from_inert(inert("'quoted'"))
    ('=1+1', "'quoted'")
    """
    if isinstance(value, str) and value.startswith("'") and value[1:2] and value[1] in (*FORMULA_TRIGGERS, "'"):
        return value[1:]
    return value


# ---------------------------------------------------------------------------
# Where outputs may go
# ---------------------------------------------------------------------------


def default_output_dir(scenario_name: str, root: Path | None = None) -> Path:
    """``outputs/<scenario name>/`` under the current folder (or ``root``)."""
    return (root or Path.cwd()) / "outputs" / scenario_name


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, ValueError, RuntimeError) as exc:  # a NUL in the name, a symlink loop
        raise OutputError(f"cannot write to {path}: {exc}") from None


def _check_place(path: Path, allow_inputs: bool) -> Path:
    """Refuse the root folder, system folders and a checkout's input folders; the resolved path."""
    resolved = _resolved(path)
    if resolved == Path(resolved.anchor):
        raise OutputError(f"refusing to write outputs into the root folder ({path}); give --out a folder of its own")
    for folder in SYSTEM_FOLDERS:
        system = Path(folder)
        if resolved == system or system in resolved.parents:
            raise OutputError(f"refusing to write outputs to {path}: {folder} is a system folder; "
                              "choose a folder of your own")
    if not allow_inputs:
        for name in PROTECTED:
            for parent in (resolved, *resolved.parents):
                if parent.name == name and (parent.parent / "pyproject.toml").is_file():
                    raise UsageError(f"refusing to write outputs into {path}: '{name}/' holds inputs; "
                                     "choose another --out folder")
    return resolved


def _check_inputs(path: Path, resolved: Path, inputs: Iterable[str | Path], what: str) -> None:
    """An output may not be an input, nor a folder holding one."""
    for given in inputs:
        source = _resolved(Path(given))
        if source == resolved:
            raise OutputError(f"refusing to write {what} over {path}: it is {_input_word(given)} being read; "
                              "choose a new name")
        if resolved in source.parents:
            raise OutputError(f"refusing to write {what} to {path}: the folder holds an input ({given}), and an "
                              "output folder is replaced whole; choose a folder of its own")


def _input_word(given: str | Path) -> str:
    if Path(given).is_dir():
        return "a folder of inputs"
    suffix = Path(given).suffix.lower()
    return {".xlsx": "the workbook", ".yaml": "a scenario file", ".yml": "a scenario file",
            ".csv": "a data file"}.get(suffix, "an input")


def _foreign_entries(folder: Path) -> list[str]:
    """Entries of an existing output folder that wcf-model did not write."""
    entries = {p.name: p for p in folder.iterdir()}
    manifest = entries.pop(MANIFEST, None)
    listed: set[str] | None = None
    if manifest is not None:
        try:
            listed = {Path(f).parts[0] for f in json.loads(manifest.read_text(encoding="utf-8"))["files"]}
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            listed = None
    foreign = []
    for name, p in sorted(entries.items()):
        if listed is not None and name in listed:
            continue
        mode = p.lstat().st_mode
        if name in KNOWN_OUTPUTS and name != "notebooks" and stat.S_ISREG(mode):
            continue
        if name == "notebooks" and stat.S_ISDIR(mode) and all(
                q.suffix in (".ipynb", ".html") and q.is_file() for q in p.iterdir()):
            continue
        if name.startswith(".") and name.endswith(".tmp") and stat.S_ISREG(mode) and any(
                name.startswith(f".{k}.") for k in KNOWN_OUTPUTS):
            continue  # left by an interrupted write of an earlier version
        foreign.append(name + ("/" if stat.S_ISDIR(mode) else ""))
    return foreign


def check_output_folder(out_dir: str | Path, inputs: Iterable[str | Path] = ()) -> None:
    """Refuse an output folder before any work is done (see the module docstring).

    Raises
    ------
    OutputError
        ``out_dir`` is the root folder or a system folder, is a file, holds
        or is an input, or exists holding files wcf-model did not write.
    UsageError
        ``out_dir`` is inside ``scenarios/`` or ``data/`` of a checkout.
    """
    out_dir = Path(out_dir)
    with _os_errors(out_dir):  # a name too long, a folder that cannot be read
        _check_folder(out_dir, inputs)


def _check_folder(out_dir: Path, inputs: Iterable[str | Path]) -> None:
    resolved = _check_place(out_dir, allow_inputs=False)
    _check_inputs(out_dir, resolved, inputs, "outputs")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} is a file; --out names a folder to hold the outputs")
    if out_dir.is_dir():
        foreign = _foreign_entries(out_dir)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise OutputError(f"refusing to write outputs to {out_dir}: it holds {shown}, not written by "
                              "wcf-model, and an output folder is replaced whole; move them out or choose "
                              "another --out folder")


def check_output_file(path: str | Path, inputs: Iterable[str | Path] = (), allow_inputs: bool = False) -> None:
    """Refuse an output file's path before any work is done.

    Raises
    ------
    OutputError
        The path is a folder, is one of ``inputs``, is in the root folder or
        a system folder.
    """
    path = Path(path)
    with _os_errors(path):
        resolved = _check_place(path.parent, allow_inputs) / path.name
        _check_inputs(path, resolved, inputs, "the file")
        if path.is_dir():
            raise OutputError(f"{path} is a folder; give the name of a file to write")


# ---------------------------------------------------------------------------
# The machinery: staging, locking, swapping, recovering
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def _os_errors(path: Path, untouched: bool = False) -> Iterator[None]:
    """Any error the system gives while writing, as an OutputError naming the path the user gave.

    ``untouched``: the caller guarantees the earlier outputs are as they were, so the message says so.
    """
    try:
        yield
    except OSError as exc:
        tail = "; the earlier outputs there are as they were" if untouched else ""
        raise OutputError(f"cannot write outputs to {path}: {exc.strerror or exc}{tail}") from None


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (POSIX ``flock``), so two commands writing
    beside each other never clean up each other's staging folders."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; writes are still staged and renamed
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


_HELD = tuple(s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None)


@contextlib.contextmanager
def handling(signals: Iterable[int], handler: Callable[[int, Any], None]) -> Iterator[bool]:
    """Run ``handler`` for ``signals`` inside the block; the program's own handlers come back after it.

    Yields False, changing nothing, outside the main thread (where Python cannot set handlers).
    """
    try:
        previous = {s: signal.signal(s, handler) for s in signals}
    except ValueError:  # not the main thread
        yield False
        return
    try:
        yield True
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP for the few system calls of a swap: they
    take effect the moment it is done, so it is never left half-way.

    Held by Python's handlers rather than the thread's signal mask: a signal
    sent to the process may be taken by any of its threads (numerical
    libraries start several), and Python runs its handler in the main thread
    whichever took it. Outside the main thread nothing can be held.
    """
    pending: list[int] = []
    with handling(_HELD, lambda signum, frame: pending.append(signum)):
        yield
    for s in pending:
        signal.raise_signal(s)  # now, to the handler the program had


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    if not hasattr(os, "sched_getaffinity"):  # not Linux
        return False
    import ctypes
    import errno

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):  # e.g. a file system without it
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync(path: Path) -> None:
    """Make ``path`` durable before it is published (for a folder, its entries)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot fsync a folder; the data is still written
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _stem(name: str) -> str:
    """The start of the names of a target's staging and set-aside entries: short
    (a long target name must not make them too long) and tied to the whole name."""
    return f".{name[:32]}~{hashlib.sha256(name.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}."


def _staged(folder: Path, name: str) -> tuple[list[Path], list[Path]]:
    """Staging and set-aside entries left beside ``folder/name`` by interrupted writes."""
    partial, old = [], []
    stem = _stem(name)
    with contextlib.suppress(FileNotFoundError):
        for p in folder.iterdir():
            if p.name.startswith(stem + _PARTIAL):
                partial.append(p)
            elif p.name.startswith(stem + _OLD):
                old.append(p)
    return partial, old


def recover(target: str | Path) -> None:
    """Finish or undo what an interrupted write left beside ``target`` (see the module docstring).

    Safe to call at any time; :func:`write_set`, :func:`write_file` and
    :func:`write_all` call it (under the folder lock) before writing.
    """
    target = Path(target)
    partial, old = _staged(target.parent, target.name)
    if not target.exists():
        complete = [p for p in partial if p.is_dir() and (p / MANIFEST).is_file()]
        if complete:
            newest = max(complete, key=lambda p: (p / MANIFEST).stat().st_mtime)
            os.rename(newest, target)  # the new set was whole: finish the swap
            partial.remove(newest)
        elif old:
            os.rename(old.pop(), target)  # no whole new set: put the old one back
    for p in partial + old:
        _remove(p)


def _token() -> str:
    return f"{os.getpid()}-{secrets.token_hex(4)}"


def _write_manifest(folder: Path, files: Iterable[str]) -> None:
    from .version import __version__

    text = strict_json({"written_by": f"wcf-model {__version__}", "files": sorted(files)}, indent=1) + "\n"
    (folder / MANIFEST).write_text(text, encoding="utf-8")
    _fsync(folder / MANIFEST)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------------------
# The three ways to write
# ---------------------------------------------------------------------------

Writer = Callable[[Path], None]


def write_set(out_dir: str | Path, files: Mapping[str, Writer], inputs: Iterable[str | Path] = (),
              say: Callable[[str], None] | None = None) -> list[Path]:
    """Write a command's output set and swap it in whole (see the module docstring).

    Parameters
    ----------
    out_dir : str or Path
        The output folder. It is created, or replaced whole when it holds only
        wcf-model's outputs.
    files : mapping
        Relative path (``"report.html"``, ``"notebooks/00_overview.html"``) ->
        ``writer(path)`` that writes the whole file at ``path``.
    inputs : iterable of paths
        The files the command read: the folder may not be one of them, nor hold one.
    say : callable, optional
        Told, in a sentence, about files of an earlier set that the new set does not have.

    Returns
    -------
    list of Path
        The files written, in the order given.

    Raises
    ------
    OutputError
        Before any work, when the folder may not be written (see
        :func:`check_output_folder`); or when the system refuses a write, with
        nothing changed.
    """
    out_dir = Path(out_dir)
    inputs = list(inputs)
    check_output_folder(out_dir, inputs)
    target = _resolved(out_dir)  # a symlinked output folder is written where it points
    parent = target.parent
    with _os_errors(out_dir, untouched=True):
        parent.mkdir(parents=True, exist_ok=True)
        with _locked(parent):
            recover(target)
            check_output_folder(out_dir, inputs)  # the folder may have changed while the work was done
            before = _manifest_files(target)
            staging = parent / f"{_stem(target.name)}{_PARTIAL}{_token()}"
            try:
                staging.mkdir()
                os.chmod(staging, 0o777 & ~_umask())
                folders = {staging}
                for rel, writer in files.items():
                    path = staging / rel
                    path.parent.mkdir(parents=True, exist_ok=True)
                    folders.add(path.parent)
                    writer(path)
                    _fsync(path)
                _write_manifest(staging, files)
                for folder in folders:
                    _fsync(folder)
                with _signals_held():
                    _swap(staging, target)
            except BaseException:
                _remove(staging)
                raise
            _fsync(parent)
    gone = sorted(before - {Path(f).parts[0] for f in files})
    if gone and say is not None:
        say(f"{out_dir} held {', '.join(gone)} from an earlier command; an output folder holds one command's "
            "outputs, so they were replaced (give each command its own --out to keep both)")
    return [out_dir / rel for rel in files]


def _manifest_files(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {p.name for p in folder.iterdir() if p.name != MANIFEST and not p.name.endswith(".tmp")}


def _swap(staging: Path, target: Path) -> None:
    """Put the complete set in ``staging`` at ``target``; the old set goes."""
    if not target.exists():
        os.rename(staging, target)
        return
    if _exchange(staging, target):
        _remove(staging)  # it now holds the old set
        return
    aside = target.parent / f"{_stem(target.name)}{_OLD}{_token()}"
    os.rename(target, aside)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(aside, target)
        raise
    _remove(aside)


def write_file(path: str | Path, writer: Writer, inputs: Iterable[str | Path] = (),
               allow_inputs: bool = False) -> Path:
    """Write one file whole: to a temporary file beside it, renamed into place.

    Parameters
    ----------
    path : str or Path
        The file to write (replaced if it exists).
    writer : callable
        ``writer(tmp)`` writes the whole file at ``tmp``.
    inputs : iterable of paths
        Files the command read; ``path`` may not be one of them.
    allow_inputs : bool
        Only for the commands whose job is to write inputs (a scenario overlay).

    Raises
    ------
    OutputError
        ``path`` is a folder or an input, is in a system folder, or the system
        refused the write (nothing is changed then).
    """
    path = Path(path)
    inputs = list(inputs)
    check_output_file(path, inputs, allow_inputs)
    return write_all(path.parent, {path.name: writer}, allow_inputs=True)[0]


def write_all(out_dir: str | Path, files: Mapping[str, Writer], allow_inputs: bool = False) -> list[Path]:
    """Produce every file beside its target, then move each into place.

    For a folder that holds other files as well (``data/``); a command's own
    outputs use :func:`write_set`, which swaps the whole folder. Each file is
    written to a hidden temporary file in ``out_dir`` (so a file that refers
    to its neighbours by relative path, such as a scenario overlay, can be
    checked where it will live). No file is moved until every file has been
    produced; the moves happen with Ctrl-C, SIGTERM and SIGHUP held, after a
    journal of them is written, so only a SIGKILL or a power cut can
    interrupt them, and the next write to the folder finishes them.

    Parameters
    ----------
    out_dir : str or Path
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
    out_dir = Path(out_dir)
    _check_place(out_dir, allow_inputs)
    for name in files:
        if (out_dir / name).is_dir():
            raise OutputError(f"{out_dir / name} is a folder; give the name of a file to write")
    folder = out_dir.absolute()
    with _os_errors(out_dir):
        folder.mkdir(parents=True, exist_ok=True)
        with _locked(folder):
            _finish_moves(folder)
            token = _token()
            staged = {name: folder / f"{_stem(name)}{_PARTIAL}{token}" for name in files}
            journal = folder / f".files~{token}{_JOURNAL}"
            moved = 0
            try:
                for name, writer in files.items():
                    writer(staged[name])
                    os.chmod(staged[name], 0o666 & ~_umask())  # outputs are for sharing
                    _fsync(staged[name])
                journal.write_text(strict_json({name: tmp.name for name, tmp in staged.items()}), encoding="utf-8")
                _fsync(journal)
                _fsync(folder)
                with _signals_held():
                    for name in files:
                        os.replace(staged[name], folder / name)
                        moved += 1
                    journal.unlink()
            except BaseException:
                if moved == 0:  # once a file is in, the journal stays for the next write to finish the rest
                    for tmp in staged.values():
                        _remove(tmp)
                    _remove(journal)
                raise
            _fsync(folder)
    return [out_dir / name for name in files]


_JOURNAL = ".wcf-journal"


def _finish_moves(folder: Path) -> None:
    """Finish the moves of a :func:`write_all` that was killed part-way (its journal
    lists them); remove the temporary files of one killed before it moved any."""
    for journal in [p for p in folder.iterdir() if p.name.startswith(".files~") and p.name.endswith(_JOURNAL)]:
        try:
            moves = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            moves = {}
        for name, tmp in moves.items() if isinstance(moves, dict) else ():
            if (folder / str(tmp)).is_file() and "/" not in str(name) and "/" not in str(tmp):
                os.replace(folder / str(tmp), folder / str(name))
        _remove(journal)
    for p in folder.iterdir():
        if p.name.startswith(".") and _PARTIAL in p.name and p.is_file() and not p.is_symlink():
            _remove(p)
