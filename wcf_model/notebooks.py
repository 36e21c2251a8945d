"""The notebooks executed beside the report: which apply, and running them at once.

``wcf-model report`` executes the repository's parameterised notebooks
(``notebooks/NN_*.ipynb``) with papermill for the scenario it reports, and keeps
each executed notebook and an HTML rendering without code. Starting a kernel
and importing the libraries costs a notebook about as much as its own work, so
the notebooks are dealt out to one kernel per processor, the kernels run side
by side, and each clears its namespace between notebooks: the set takes about
the time of its share of the work on each processor, not a kernel per notebook
one after another.
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


def _reset(km) -> None:
    """Clear a kernel's namespace between notebooks (its imported modules stay loaded)."""
    from jupyter_client.blocking import BlockingKernelClient

    kc = BlockingKernelClient()
    kc.load_connection_info(km.get_connection_info())
    kc.start_channels()
    try:
        kc.execute_interactive("%reset -f", timeout=60, store_history=False)
    finally:
        kc.stop_channels()


def execute_in_one_kernel(notebooks: list[Path], params: dict, work: Path, cwd: Path, scenario: str
                          ) -> dict[str, tuple[str, str]]:
    """Run notebooks one after another with papermill in one kernel; name -> (executed .ipynb, HTML without code).

    Starting a kernel and importing the libraries takes a notebook of this set
    about as long as its own work, so one kernel serves them all: its
    namespace is cleared before each notebook (``%reset``), so each runs as it
    would on its own, while the modules it imports stay loaded. ``work`` is an
    empty folder for the kernel's sockets, its log and the executed copies. A
    failing notebook raises :class:`RuntimeError` naming it and ``scenario``.
    """
    import nbformat
    import papermill
    from jupyter_core.utils import run_sync
    from nbconvert import HTMLExporter

    work.mkdir(parents=True, exist_ok=True)
    km = _kernel_manager(work)(kernel_name="python3")
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    out = {}
    try:
        for nb in notebooks:
            if km.has_kernel:
                _reset(km)
            target = work / nb.name
            names = _parameter_names(nb.read_text(encoding="utf-8"))
            try:
                papermill.execute_notebook(str(nb), str(target),
                                           parameters={k: v for k, v in params.items() if k in names},
                                           cwd=str(cwd), progress_bar=False, kernel_name="python3", km=km)
            except papermill.PapermillExecutionError as exc:
                # a plain error, so it crosses back from a worker process whole
                raise RuntimeError(f"notebook {nb.name} failed for {scenario}: {exc.ename}: {exc.evalue}") from None
            node = nbformat.reads(target.read_text(encoding="utf-8"), as_version=4)
            # papermill records where it read and wrote the notebook; keep those paths relative
            record = node.metadata.get("papermill", {})
            record["input_path"] = os.path.relpath(nb, cwd)
            record["output_path"] = nb.name
            body, _ = exporter.from_notebook_node(node)
            out[nb.name] = (nbformat.writes(node), body)
    finally:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    return out


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
    into a notebook. They are dealt out in turn to ``workers`` processes
    (:func:`notebook_workers` by default), each running its share in one kernel (:func:`execute_in_one_kernel`); the
    result is in the notebooks' order whichever finishes first. A notebook that fails stops the report with the notebook named: a
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
    # the notebooks dealt out in turn, one kernel per worker
    groups = [paths[i::workers] for i in range(workers) if paths[i::workers]]
    done: dict[str, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="wcf-") as tmp:
        # worker processes even for one group: the report runs this beside its own work, in a thread,
        # and a kernel's client is happiest in a process's main thread
        with ProcessPoolExecutor(max_workers=max(1, len(groups))) as pool:
            futures = {pool.submit(execute_in_one_kernel, group, params, Path(tmp) / f"kernel-{i + 1}", cwd,
                                   name): group for i, group in enumerate(groups)}
            for future in as_completed(futures):
                done.update(future.result())
                for nb in futures[future]:
                    progress(f"notebook {nb.stem}", total or len(paths))
    return {nb.name: done[nb.name] for nb in paths}


__all__ = ["NOTEBOOK_DIR", "execute_notebooks", "notebook_paths", "notebooks_for"]
