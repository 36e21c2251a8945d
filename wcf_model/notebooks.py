"""The notebooks executed beside the report: which apply, and running them at once.

``wcf-model report`` executes the repository's parameterised notebooks
(``notebooks/NN_*.ipynb``) with papermill for the scenario it reports, and keeps
each executed notebook and an HTML rendering without code. Three things keep
that to little more than the notebooks' own work:

* **Few kernels, side by side.** One kernel per processor (two on two cores),
  each in a worker process of its own, runs notebook after notebook: its
  namespace is cleared between them (``%reset``), while the modules it imported
  stay loaded and one client stays connected. Each kernel takes the next
  notebook from one shared list when it is free, so a kernel that drew short
  notebooks takes more of them.
* **The report's analysis, handed over.** The overview, options, uncertainty,
  multi-criteria and monitoring notebooks show the analysis the report itself
  computes (the same scenario, draws and seed give the same figures). The
  report saves it to a file in its temporary folder once computed
  (:func:`hand_over`); each kernel is told where in the environment variable
  :data:`HANDOFF`, and :func:`reported_analysis` reads it back. The notebooks
  that need it come last in the list, so the kernels start on the others while
  the report computes it. A notebook opened in JupyterLab, or run by papermill
  on its own, finds no such file and computes the analysis itself; the file is
  read only for the scenario, draws and seed it was computed for.
* **No needless imports.** On Linux a kernel is forked from its worker
  process, itself forked from the process that writes the report, so it starts
  with numpy, pandas, matplotlib and the model already imported
  (:class:`_ForkedKernel`); and the workers leave out an import nbformat does
  not need (:func:`_worker_started`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING

from .progress import Progress, quiet
from .scenario import Scenario

if TYPE_CHECKING:
    from .analysis import Analysis

#: The notebooks the report executes, in the repository's ``notebooks/`` folder.
NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"

#: The environment variable that tells a kernel the report runs where to find the report's analysis.
HANDOFF = "WCF_MODEL_REPORT_ANALYSIS"


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

#: Seconds each notebook's own work took beside the report of the 2019 full business case on two cores
#: (with the report's analysis handed over); only their order matters: the longest go first.
NOTEBOOK_SECONDS: dict[str, float] = {
    "07_reference_class.ipynb": 2.0, "01_demand.ipynb": 1.5, "05_scenario_comparison.ipynb": 1.3,
    "03_uncertainty.ipynb": 1.5, "06_monitoring.ipynb": 1.2, "02_options.ipynb": 0.6, "00_overview.ipynb": 0.5,
    "04_mca.ipynb": 0.4,
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


# ---------------------------------------------------------------------------
# The report's analysis, handed over
# ---------------------------------------------------------------------------


def _key(sc: Scenario, draws: int | None, seed: int | None) -> tuple[str, int, int]:
    return sc.sha256, draws if draws and draws > 1 else 1, sc.header.seed if seed is None else seed


def hand_over(analysis: Analysis | None, path: Path) -> None:
    """Save an analysis for the notebooks: what :func:`~wcf_model.analysis.analyse` gives for its scenario,
    draws and seed (without monitoring, which needs an actuals file the notebooks are not given).

    None (a scenario that cannot be projected) tells them to compute their own.
    Written to a temporary name and then renamed, so a kernel never reads half a file.
    """
    import dataclasses

    if analysis is None:
        _write(path, {"key": None, "why": None})
        return
    sc, run = analysis.scenario, analysis.res.uncertain
    plain = dataclasses.replace(analysis, monitoring=None, monitored_option=sc.baseline, spend_gap=None)
    _write(path, {"key": _key(sc, run.draws, run.seed), "analysis": plain})


def hand_over_nothing(path: Path, why: str) -> None:
    """Tell the notebooks no analysis is coming, and why (the report stopped before it was computed)."""
    _write(path, {"key": None, "why": why})


def _write(path: Path, handed: dict) -> None:
    import pickle

    part = path.with_name(path.name + ".part")
    part.write_bytes(pickle.dumps(handed, protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(part, path)


def reported_analysis(sc: Scenario, draws: int | None, seed: int | None = None,
                      timeout: float = 900.0) -> Analysis | None:
    """The analysis ``wcf-model report`` computed for this scenario, draws and seed, or None.

    None when the notebook does not run under the report (no :data:`HANDOFF`
    in its environment), or when the report's analysis is of another scenario,
    number of draws or seed: the notebook then computes its own. Under the
    report, it waits until the report has computed the analysis, and raises
    :class:`RuntimeError` if the report stopped first.
    """
    import pickle

    name = os.environ.get(HANDOFF)
    if not name:
        return None
    path, waited = Path(name), 0.0
    while not path.exists():
        if waited > timeout:
            raise RuntimeError(f"the report's analysis did not come within {timeout:.0f} s")
        time.sleep(0.02)
        waited += 0.02
    # a file the report wrote a moment ago in its own temporary folder, for this kernel alone
    handed = pickle.loads(path.read_bytes())  # noqa: S301
    if handed["key"] is None and handed["why"]:
        raise RuntimeError(f"the report stopped before its analysis was ready: {handed['why']}")
    return handed["analysis"] if handed["key"] == _key(sc, draws, seed) else None


def uses_reported_analysis(notebook: Path) -> bool:
    """Whether a notebook reads the report's analysis (:func:`reported_analysis`)."""
    return "reported_analysis(" in notebook.read_text(encoding="utf-8")


def running_order(notebooks: list[Path]) -> list[Path]:
    """The order the kernels take the notebooks in: those that do not wait for the report's analysis first,
    then those that do; the longest first in each (:data:`NOTEBOOK_SECONDS`, unknown ones last)."""
    return sorted(notebooks, key=lambda nb: (uses_reported_analysis(nb), -NOTEBOOK_SECONDS.get(nb.name, 0.0)))


# ---------------------------------------------------------------------------
# One kernel, notebook after notebook
# ---------------------------------------------------------------------------


def _kernel_manager(folder: Path, handoff: Path | None = None):
    """A kernel manager that talks to its kernel over local sockets in ``folder`` and keeps the kernel's log there.

    The default TCP transport makes every kernel warn that it runs without
    encryption; inter-process sockets need none (and are not reachable from
    other machines). The kernel's own log (start-up and shutdown messages) goes
    to ``folder/kernel.log`` rather than the user's terminal; a notebook's
    errors still come back as its cells' outputs. Each kernel has a folder of
    its own, so kernels started at once never pick the same socket. With
    ``handoff``, the kernel's :data:`HANDOFF` names the file of the report's
    analysis. The kernel is forked from this process where it can be
    (:class:`_ForkedKernel`).
    """
    from jupyter_client.manager import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(transport="ipc", ip=str(folder / "kernel"), **kwargs)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            self._wcf_log = open(folder / "kernel.log", "ab")  # noqa: SIM115 (closed in cleanup)
            kw["stderr"] = self._wcf_log
            if handoff is not None:
                kw["env"] = {**kw.get("env", os.environ), HANDOFF: str(handoff)}
            if _ForkedKernel.can_start(kernel_cmd):
                provisioner = self.provisioner

                async def launch(cmd, **options):
                    provisioner.process = _ForkedKernel(cmd, options.get("env") or dict(os.environ),
                                                        options.get("cwd"), options["stderr"])
                    provisioner.pid = provisioner.pgid = provisioner.process.pid
                    provisioner.cwd = options.get("cwd") or Path.cwd()
                    return provisioner.connection_info

                provisioner.launch_kernel = launch
            return await super()._async_launch_kernel(kernel_cmd, **kw)

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            log = getattr(self, "_wcf_log", None)
            if log is not None:
                log.close()

    return LocalKernelManager


class _ForkedKernel:
    """A notebook kernel forked from the worker process, in place of a new Python (a :class:`subprocess.Popen` to
    jupyter_client).

    A new kernel imports numpy, pandas, matplotlib and the model again before
    its first notebook can start: about a second of a processor. A worker
    process of :func:`execute_notebooks` is itself forked from the process that
    writes the report, which has imported them already; a kernel forked from
    the worker starts with them loaded. It is the same kernel (ipykernel, with
    the same connection file, environment and folder), run by the same
    interpreter the kernel specification names; each notebook still starts
    from an empty namespace. Used on Linux only (forking is unsafe with some
    macOS system libraries, and Windows has none), and only when the
    kernel specification runs ipykernel with this interpreter; otherwise the
    kernel is started as usual.
    """

    stdin = stdout = stderr = None

    @staticmethod
    def can_start(kernel_cmd: list[str]) -> bool:
        if not sys.platform.startswith("linux") or "-f" not in kernel_cmd[:-1]:
            return False
        try:
            same = os.path.samefile(kernel_cmd[0], sys.executable)
        except OSError:
            return False
        return same and kernel_cmd[1:3] == ["-m", "ipykernel_launcher"]

    def __init__(self, kernel_cmd: list[str], env: dict, cwd, log) -> None:
        import asyncio
        import gc
        import signal

        from ipykernel.kernelapp import IPKernelApp

        self.returncode: int | None = None
        connection = kernel_cmd[kernel_cmd.index("-f") + 1]
        parent = os.getpid()
        self.pid = os.fork()
        if self.pid:
            return
        code = 1
        try:  # the kernel: set up as jupyter_client's launcher would, then run it
            os.setsid()
            signal.set_wakeup_fd(-1)        # the worker's event loop is not this process's
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.dup2(log.fileno(), 2)
            stdin = os.open(os.devnull, os.O_RDONLY)
            os.dup2(stdin, 0)
            if cwd:
                os.chdir(cwd)
            os.environ.clear()
            os.environ.update({**env, "JPY_PARENT_PID": str(parent)})
            asyncio.events._set_running_loop(None)
            asyncio.set_event_loop(asyncio.new_event_loop())
            # what came from the report's process stays: the collector need not go through it at every %reset
            gc.freeze()
            IPKernelApp.launch_instance(argv=["-f", connection, f"--IPKernelApp.parent_handle={parent}"])
            code = 0
        except BaseException:  # noqa: BLE001 (told to the kernel's log; the client sees the kernel die)
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        import signal

        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        import signal

        self.send_signal(signal.SIGTERM)


#: The papermill engine that keeps one kernel client for every notebook run in a kernel.
ENGINE = "wcf-model-one-client"


def _register_engine() -> None:
    """Register :data:`ENGINE`: papermill's nbclient engine, reusing the client of the notebook before.

    papermill connects a new client to the kernel for every notebook, and a
    new client waits a fifth of a second for the kernel's output to fall quiet
    before the first cell: a second and a half of a set of eight notebooks.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger

    class OneClientEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, start_timeout=60,
                                     execution_timeout=None, km=None, clients=None, **_):
            client = PapermillNotebookClient(nb_man, km=km, kernel_name=kernel_name, log=logger,
                                             log_output=log_output, timeout=execution_timeout,
                                             startup_timeout=start_timeout)
            client.kc = clients.get("kc")       # None for the kernel's first notebook: nbclient connects one
            try:
                return client.execute()
            finally:
                clients["kc"] = client.kc

    papermill_engines.register(ENGINE, OneClientEngine)


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


#: The list the worker processes share: the index of the next notebook to run (set by :func:`_worker_started`).
_next_notebook = None


def _worker_started(shared_index) -> None:
    """Set up a worker process: the shared index of the next notebook, and no IRI checker for jsonschema.

    nbformat imports jsonschema, which imports the optional ``rfc3987_syntax``
    when it is installed (JupyterLab installs it), and that module builds a
    grammar of internet addresses as it is imported: about a second of a
    processor per worker. The notebook schema checks no such address, so a
    worker leaves the module out; jsonschema then simply checks no ``iri``
    format. The kernels, and the process that writes the report, are unchanged.
    """
    import gc

    global _next_notebook
    _next_notebook = shared_index
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
    gc.freeze()  # what came from the report's process stays: the collector need not go through it


def _dealt(count: int):
    """Indices of the notebooks this kernel runs: the next one free in the shared list, or all in turn."""
    if _next_notebook is None:
        yield from range(count)
        return
    while True:
        with _next_notebook.get_lock():
            i = _next_notebook.value
            _next_notebook.value += 1
        if i >= count:
            return
        yield i


def _stop_the_others(count: int) -> None:
    if _next_notebook is not None:
        with _next_notebook.get_lock():
            _next_notebook.value = count


def execute_in_one_kernel(notebooks: list[Path], params: dict, work: Path, cwd: Path, scenario: str,
                          handoff: Path | None = None) -> dict[str, tuple[str, str]]:
    """Run notebooks one after another with papermill in one kernel; name -> (executed .ipynb, HTML without code).

    Starting a kernel and importing the libraries takes a notebook of this set
    about as long as its own work, so one kernel serves them all: its
    namespace is cleared before each notebook (``%reset``), so each runs as it
    would on its own, while the modules it imports stay loaded. In a worker of
    :func:`execute_notebooks` the kernel takes the next notebook of the shared
    list until none is left; called directly, it runs them all in turn.
    ``work`` is an empty folder for the kernel's sockets and its log;
    ``handoff``, the file the report's analysis will be in. A
    failing notebook raises :class:`RuntimeError` naming it and ``scenario``.
    """
    import nbformat
    import papermill
    from jupyter_core.utils import run_sync
    from nbconvert import HTMLExporter

    _register_engine()
    work.mkdir(parents=True, exist_ok=True)
    km = _kernel_manager(work, handoff)(kernel_name="python3")
    clients: dict = {}
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    out = {}
    try:
        for i in _dealt(len(notebooks)):
            nb = notebooks[i]
            if clients.get("kc") is not None:
                run_sync(clients["kc"].execute_interactive)("%reset -f", store_history=False, timeout=60)
            names = _parameter_names(nb.read_text(encoding="utf-8"))
            try:
                # kept in memory, not written after every cell
                node = papermill.execute_notebook(str(nb), None,
                                                  parameters={k: v for k, v in params.items() if k in names},
                                                  cwd=str(cwd), progress_bar=False, kernel_name="python3",
                                                  engine_name=ENGINE, km=km, clients=clients)
            except papermill.PapermillExecutionError as exc:
                _stop_the_others(len(notebooks))
                # a plain error, so it crosses back from a worker process whole
                raise RuntimeError(f"notebook {nb.name} failed for {scenario}: {exc.ename}: {exc.evalue}") from None
            # papermill records where it read and wrote the notebook; keep those paths relative
            record = node.metadata.get("papermill", {})
            record["input_path"] = os.path.relpath(nb, cwd)
            record["output_path"] = nb.name
            body, _ = exporter.from_notebook_node(node)
            out[nb.name] = (nbformat.writes(node), body)
    finally:
        if clients.get("kc") is not None:
            clients["kc"].stop_channels()
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    return out


def notebook_workers(notebooks: int) -> int:
    """How many notebooks run at once: one per processor this process may use, at most one per notebook."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(notebooks, usable))


class NotebookRun:
    """The notebooks of a scenario being executed with papermill, beside whatever the caller does meanwhile.

    Creating one starts the worker processes at once: ``workers`` of them
    (:func:`notebook_workers` by default), each running one kernel
    (:func:`execute_in_one_kernel`) that takes the notebooks in
    :func:`running_order`. They are forked here, so create it from a thread
    that is the process's only one at the time (as :func:`write_report
    <wcf_model.report.write_report>` does, before its own work): a process
    forked while another thread is importing a module inherits that import
    half done, and never finishes it.

    The notebooks run in the current folder and receive the scenario's path
    relative to it (and the actuals file's), so no absolute path is written
    into a notebook. With ``analysis_to_come``, the notebooks that show the
    analysis wait for :meth:`hand_over` (or :meth:`give_up`). :meth:`result`
    waits for them all: name -> (executed .ipynb, HTML without code), in the
    notebooks' order whichever finishes first. A notebook that fails raises
    :class:`RuntimeError` with the notebook named, and the kernels take no
    further notebook: a report is never written from a half-run set.
    """

    def __init__(self, sc: Scenario, draws: int, seed: int | None = None, actuals: Path | None = None,
                 option: str | None = None, folder: Path = NOTEBOOK_DIR, data_dir: Path | None = None,
                 paths: list[Path] | None = None, workers: int | None = None, analysis_to_come: bool = False):
        import multiprocessing
        import tempfile

        params = {"scenario": os.path.relpath(sc.path.resolve()), "draws": draws, "seed": seed}
        if actuals is not None:
            params["actuals"] = os.path.relpath(Path(actuals).resolve())
        if option is not None:
            params["option"] = option
        if data_dir is not None:
            params["data"] = os.path.relpath(Path(data_dir).resolve())
        self.paths = notebook_paths(folder) if paths is None else list(paths)
        order = running_order(self.paths)
        workers = notebook_workers(len(self.paths)) if workers is None else max(1, min(workers, len(self.paths)))
        self._tmp = tempfile.TemporaryDirectory(prefix="wcf-")
        tmp = Path(self._tmp.name)
        self._handoff = tmp / "analysis.pickle" if analysis_to_come else None
        self._next = multiprocessing.Value("i", 0)
        self._given_up = ""
        # worker processes even for one kernel: a kernel's client is happiest in a process's main thread
        self._pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_started, initargs=(self._next,))
        self._futures = [self._pool.submit(execute_in_one_kernel, order, params, tmp / f"kernel-{i + 1}",
                                           Path.cwd(), str(sc.path), self._handoff) for i in range(workers)]

    def hand_over(self, analysis: Analysis | None) -> None:
        """Give the notebooks the caller's analysis of the same scenario, draws and seed (see :func:`hand_over`)."""
        if self._handoff is not None and not self._handoff.exists():
            hand_over(analysis, self._handoff)

    def give_up(self, why: str) -> None:
        """Tell the notebooks waiting for the analysis that none is coming, and start no further notebook."""
        self._given_up = why
        with self._next.get_lock():
            self._next.value = len(self.paths)
        if self._handoff is not None and not self._handoff.exists():
            hand_over_nothing(self._handoff, why)

    def result(self, progress: Progress = quiet, total: int | None = None) -> dict[str, tuple[str, str]]:
        """Wait for every notebook; ``progress`` is told of each as its kernel finishes."""
        done: dict[str, tuple[str, str]] = {}
        try:
            for future in as_completed(self._futures):
                ran = future.result()
                done.update(ran)
                for nb in ran:
                    progress(f"notebook {Path(nb).stem}", total or len(self.paths))
        finally:
            self.close()
        left = [nb.name for nb in self.paths if nb.name not in done]
        if left:
            raise RuntimeError(f"notebooks {', '.join(left)} not run: {self._given_up}")
        return {nb.name: done[nb.name] for nb in self.paths}

    def close(self) -> None:
        """Wait for the workers to stop, and remove the temporary folder."""
        self._pool.shutdown(wait=True)
        self._tmp.cleanup()


def execute_notebooks(sc: Scenario, draws: int, seed: int | None = None, actuals: Path | None = None,
                      option: str | None = None, folder: Path = NOTEBOOK_DIR,
                      progress: Progress = quiet, total: int | None = None, data_dir: Path | None = None,
                      paths: list[Path] | None = None, workers: int | None = None,
                      analysis: Analysis | None = None) -> dict[str, tuple[str, str]]:
    """Run every notebook for a scenario with papermill and wait for them (:class:`NotebookRun`); return
    name -> (executed .ipynb, HTML without code). ``analysis``, of the same scenario, draws and seed, is
    handed to the notebooks that show it."""
    run = NotebookRun(sc, draws, seed, actuals, option, folder, data_dir, paths, workers,
                      analysis_to_come=analysis is not None)
    run.hand_over(analysis)
    return run.result(progress, total)


__all__ = ["HANDOFF", "NOTEBOOK_DIR", "NotebookRun", "execute_notebooks", "hand_over", "notebook_paths",
           "notebooks_for", "reported_analysis"]
