"""The notebooks executed beside the report: which apply, and running them at once.

``wcf-model report`` executes the repository's parameterised notebooks
(``notebooks/NN_*.ipynb``) with papermill for the scenario it reports, and keeps
each executed notebook and an HTML rendering without code. Each notebook runs
in a kernel of its own, and the kernels run side by side (one process each, as
many at once as the machine has processors), so the set takes about as long
as its longest notebooks rather than the sum of them all.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from .progress import Progress, quiet
from .scenario import Scenario

#: The notebooks the report executes, in the repository's ``notebooks/`` folder.
NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def notebook_paths(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


#: Notebooks with nothing to show for some scenarios: name -> (does it apply?, why not).
#: A council's generated baseline holds the in-house option alone and no multi-criteria analysis.
NOTEBOOK_NEEDS: dict[str, tuple[Callable[[Scenario], bool], str]] = {
    "00_overview.ipynb": (lambda sc: len(sc.options) > 1, "the scenario has no option to compare with the baseline"),
    "02_options.ipynb": (lambda sc: len(sc.options) > 1, "the scenario has no option to compare with the baseline"),
    "03_uncertainty.ipynb": (lambda sc: len(sc.options) > 1, "the scenario has no option to compare with the baseline"),
    "04_mca.ipynb": (lambda sc: bool(sc.mca.criteria), "the scenario has no multi-criteria analysis (mca.criteria)"),
}


def notebooks_for(sc: Scenario, folder: Path = NOTEBOOK_DIR, say=None) -> list[Path]:
    """The notebooks with something to show for a scenario; ``say`` is told of each left out, and why."""
    out = []
    for nb in notebook_paths(folder):
        applies, why = NOTEBOOK_NEEDS.get(nb.name, (lambda _: True, ""))
        if applies(sc):
            out.append(nb)
        elif say:
            say(f"notebooks/{nb.name} not run: {why}")
    return out


def _kernel_manager(folder: Path):
    """A kernel manager that talks to its kernel over local sockets in ``folder`` and keeps the kernel's log there.

    The default TCP transport makes every kernel warn that it runs without
    encryption; inter-process sockets need none (and are not reachable from
    other machines). The kernel's own log (start-up and shutdown messages) goes
    to ``folder/kernel.log`` rather than the user's terminal; a notebook's
    errors still come back as its cells' outputs. Each kernel has a folder of
    its own, so kernels started at once never pick the same socket.
    """
    from jupyter_client.manager import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(transport="ipc", ip=str(folder / "kernel"), **kwargs)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            self._wcf_log = open(folder / "kernel.log", "ab")  # noqa: SIM115 (closed in cleanup)
            kw["stderr"] = self._wcf_log
            return await super()._async_launch_kernel(kernel_cmd, **kw)

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            log = getattr(self, "_wcf_log", None)
            if log is not None:
                log.close()

    return LocalKernelManager


def _parameter_names(notebook_text: str) -> set[str]:
    """Names assigned in a notebook's ``parameters`` cell (papermill passes only those it declares)."""
    import ast
    import json

    for cell in json.loads(notebook_text)["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            tree = ast.parse("".join(cell["source"]))
            return {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                    if isinstance(t, ast.Name)}
    return set()


def execute_notebook(nb: Path, params: dict, work: Path, cwd: Path, scenario: str) -> tuple[str, str]:
    """Run one notebook with papermill in a kernel of its own; return (executed .ipynb, HTML without code).

    ``work`` is an empty folder for the kernel's sockets, its log and the
    executed copy. A failing notebook raises :class:`RuntimeError` naming it
    and ``scenario``.
    """
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    work.mkdir(parents=True, exist_ok=True)
    target = work / nb.name
    names = _parameter_names(nb.read_text(encoding="utf-8"))
    try:
        papermill.execute_notebook(str(nb), str(target), parameters={k: v for k, v in params.items() if k in names},
                                   cwd=str(cwd), progress_bar=False, kernel_name="python3",
                                   kernel_manager_class=_kernel_manager(work))
    except papermill.PapermillExecutionError as exc:
        # a plain error, so it crosses back from the worker process whole
        raise RuntimeError(f"notebook {nb.name} failed for {scenario}: {exc.ename}: {exc.evalue}") from None
    node = nbformat.reads(target.read_text(encoding="utf-8"), as_version=4)
    # papermill records where it read and wrote the notebook; keep those paths relative
    record = node.metadata.get("papermill", {})
    record["input_path"] = os.path.relpath(nb, cwd)
    record["output_path"] = nb.name
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(node)
    return nbformat.writes(node), body


def notebook_workers(notebooks: int) -> int:
    """How many notebooks run at once: one per processor this process may use, at most one per notebook."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(notebooks, usable))


def execute_notebooks(sc: Scenario, draws: int, seed: int | None = None, actuals: Path | None = None,
                      option: str | None = None, folder: Path = NOTEBOOK_DIR,
                      progress: Progress = quiet, total: int | None = None, data_dir: Path | None = None,
                      paths: list[Path] | None = None, workers: int | None = None) -> dict[str, tuple[str, str]]:
    """Run every notebook for a scenario with papermill; return name -> (executed .ipynb, HTML without code).

    The notebooks run in the current folder and receive the scenario's path
    relative to it (and the actuals file's), so no absolute path is written
    into a notebook. They run side by side in ``workers`` processes
    (:func:`notebook_workers` by default; 1 runs them one after another in
    this process); the result is in the notebooks' order whichever finishes
    first. A notebook that fails stops the report with the notebook named: a
    report is never written from a half-run set.
    """
    import tempfile

    params = {"scenario": os.path.relpath(sc.path.resolve()), "draws": draws, "seed": seed}
    if actuals is not None:
        params["actuals"] = os.path.relpath(Path(actuals).resolve())
    if option is not None:
        params["option"] = option
    if data_dir is not None:
        params["data"] = os.path.relpath(Path(data_dir).resolve())
    paths = notebook_paths(folder) if paths is None else paths
    workers = notebook_workers(len(paths)) if workers is None else workers
    cwd, name = Path.cwd(), str(sc.path)
    done: dict[str, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="wcf-") as tmp:
        if workers <= 1:
            for nb in paths:
                progress(f"notebook {nb.stem}", total or len(paths))
                done[nb.name] = execute_notebook(nb, params, Path(tmp) / nb.stem, cwd, name)
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(execute_notebook, nb, params, Path(tmp) / nb.stem, cwd, name): nb
                           for nb in paths}
                for future in as_completed(futures):
                    progress(f"notebook {futures[future].stem}", total or len(paths))
                    done[futures[future].name] = future.result()
    return {nb.name: done[nb.name] for nb in paths}


__all__ = ["NOTEBOOK_DIR", "execute_notebooks", "notebook_paths", "notebooks_for"]
