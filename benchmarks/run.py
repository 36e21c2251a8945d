"""Performance figures for wcf-model (``make bench``).

Prints timings; it does not pass or fail. ``python benchmarks/run.py sweep`` runs
the national sweep's figures alone, ``python benchmarks/run.py engine`` the Monte
Carlo engine's (its speed, its speed against a draw-by-draw loop, its peak memory),
``python benchmarks/run.py report`` the report command's with and without its
notebooks (three pairs). Targets are stated beside each
figure so a regression is visible at a glance. Later engines add their own
lines here (Monte Carlo, Sobol, peak memory).
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from wcf_model import load_scenario, project  # noqa: E402
from wcf_model.data import load_extract  # noqa: E402
from wcf_model.dfe import read_dfe  # noqa: E402
from wcf_model.report import write_report  # noqa: E402

SCENARIO = REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"
#: The published DfE downloads (./downloads/dfe, or $WCF_DOWNLOADS/dfe), for the reader's benchmark.
DFE_DOWNLOADS = Path(os.environ.get("WCF_DOWNLOADS", REPO / "downloads")) / "dfe"


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    """Fastest of ``repeat`` runs [s]: the least disturbed by other work."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _draw_by_draw(sc, draws: int) -> None:
    """The whole appraisal run one draw at a time, each with the same variates the
    vectorised run uses: what vectorisation is measured against."""
    from wcf_model.appraisal import appraise_options
    from wcf_model.inputs import uniforms
    from wcf_model.uncertain import uncertain_inputs

    u = {i.name: uniforms(sc.header.seed, i.name, draws) for i in uncertain_inputs(sc)}
    for d in range(draws):
        appraise_options(sc, draws=1, design={name: v[d:d + 1] for name, v in u.items()})


def engine_rows(sc, draws: int = 10_000) -> list[tuple[str, float, str]]:
    """The Monte Carlo engine: every option of the 2019 case at ``draws`` draws, against the same
    work one draw at a time (in the same run, so the ratio holds however busy the machine is),
    and the peak memory of a process that does only that appraisal."""
    import subprocess

    from wcf_model.appraisal import appraise_options

    appraise_options(sc, draws=10)  # first call imports scipy.stats; not part of the model's speed
    vectorised = best_of(lambda: appraise_options(sc, draws=draws), repeat=5)
    loop_draws = 300
    looped = best_of(lambda: _draw_by_draw(sc, loop_draws), repeat=1) * draws / loop_draws
    # The child's own high-water mark (VmHWM, reset when it starts), not ru_maxrss, which a child
    # inherits from this process, already large by now.
    code = ("import re, sys; sys.path.insert(0, sys.argv[1]); "
            "hwm = lambda: int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)); "
            "from wcf_model import load_scenario; from wcf_model.appraisal import appraise_options; "
            "sc = load_scenario(sys.argv[2]); imported = hwm(); "
            "appraise_options(sc, draws=int(sys.argv[3])); print(imported, hwm())")
    out = subprocess.run([sys.executable, "-c", code, str(REPO), str(SCENARIO), str(draws)],
                         capture_output=True, text=True, check=True).stdout.split()
    imported, peak = (int(x) / 1024 for x in out)  # kB -> MiB
    return [
        (f"appraise all {len(sc.options)} options, {draws:,} draws (Monte Carlo)", vectorised, "<= 0.1 s"),
        (f"  the same draw by draw in a Python loop (timed on {loop_draws}, scaled to {draws:,})", looped,
         f"vectorised is {looped / vectorised:,.0f}x faster (target >= 500x)"),
        (f"  peak memory of a process that appraises them at {draws:,} draws [MiB, not s]", peak,
         f"< 1024 MiB ({peak - imported:,.0f} MiB above the {imported:,.0f} MiB of the imports alone)"),
    ]


def sweep_rows(draws: int = 10_000) -> list[tuple[str, float, str]]:
    """The national sweep: every current authority x the generic options x 10,000 draws, against one
    authority's run of the same work, in one process run. The workers' CPU time is reported beside
    the wall time: on a machine other work shares, CPU seconds / wall seconds is the cores the sweep
    really had, and the CPU time is what it would take on idle cores (plus the pool's own overhead)."""
    import os

    from wcf_model.sweep import appraise_authority, load_option_set, run_sweep, sweep_tasks

    option_set = load_option_set(REPO / "scenarios" / "options" / "generic.yaml")
    one = sweep_tasks(option_set, draws, 1, la_codes=["885"])[0]
    appraise_authority(one)  # imports and the first read of the deflators are not the sweep's speed
    single = best_of(lambda: appraise_authority(one), repeat=3)
    workers = os.cpu_count() or 1
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    tasks = sweep_tasks(option_set, draws, 1)
    table, refused = run_sweep(tasks, workers=workers)
    whole = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    n, k = len(tasks), len(option_set.options)
    return [
        (f"sweep: one authority (Worcestershire), {k} options x {draws:,} draws", single, "-"),
        (f"sweep: all {n} authorities x {k} options x {draws:,} draws, {workers} processes "
         f"({len(refused)} refused)", whole,
         f"{whole / single:.0f}x one authority (serial would be {n}x); target < 60 s on two cores"),
        ("  CPU time of the worker processes (wall x cores actually had)", cpu,
         f"{cpu / whole:.2f} of {workers} cores were ours; {cpu / workers:.0f} s on {workers} idle cores"),
    ]


def report_command_rows(pairs: int = 2) -> list[tuple[str, float, str]]:
    """`wcf-model report` with its notebooks against `--no-notebooks`, as whole commands, in turn.

    Each pair runs the two commands one after the other, so a machine that
    slows down during the run slows both; the ratio is the median of the pairs'.
    """
    import statistics
    import subprocess

    def timed(*extra: str) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "wcf_model.cli", "report", str(SCENARIO), "--out", tmp, *extra],
                           check=True, capture_output=True)
            return time.perf_counter() - start

    runs = [(timed(), timed("--no-notebooks")) for _ in range(pairs)]
    ratio = statistics.median(a / b for a, b in runs)
    each = ", ".join(f"{a:.1f} s / {b:.1f} s" for a, b in runs)
    return [("wcf-model report, no notebooks (whole command)", min(b for _, b in runs), ""),
            ("wcf-model report with its notebooks (whole command)", min(a for a, _ in runs),
             f"{ratio:.2f}x the command without notebooks (target <= 2.5x); pairs: {each}")]


def report(rows: list[tuple[str, float, str]]) -> None:
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'seconds':>8}  target")
    for name, seconds, target in rows:
        print(f"{name:<{width}}  {seconds:8.3f}  {target}")
    print(f"{'peak memory of this process [MiB]':<{width}}  {peak_mib:8.0f}  < 1024")


def main() -> None:
    if sys.argv[1:] == ["sweep"]:  # python benchmarks/run.py sweep: the national sweep alone
        report(sweep_rows())
        return
    if sys.argv[1:] == ["engine"]:  # python benchmarks/run.py engine: the Monte Carlo engine alone
        report(engine_rows(load_scenario(SCENARIO)))
        return
    if sys.argv[1:] == ["report"]:  # python benchmarks/run.py report: the report with and without notebooks
        report(report_command_rows(pairs=3))
        return
    rows: list[tuple[str, float, str]] = []
    rows.append(("load + validate 2019 full business case (strict, 3-file chain)",
                 best_of(lambda: load_scenario(SCENARIO, strict=True)), "< 0.5 s"))
    rows.append(("load Worcestershire rows from data/ extract", best_of(lambda: load_extract(885)), "< 0.5 s"))
    sc = load_scenario(SCENARIO)
    project(sc, draws=10)  # first call imports scipy.stats; not part of the model's speed
    rows.append(("project caseloads + workforce, central values", best_of(lambda: project(sc)), "< 0.05 s"))
    vectorised = best_of(lambda: project(sc, draws=10_000), repeat=3)
    rows.append(("project caseloads + workforce, 10,000 draws (vectorised)", vectorised, "< 1 s"))
    from wcf_model.appraisal import appraise, appraise_options
    rows.append(("appraise all 5 Worcestershire options, central values",
                 best_of(lambda: appraise_options(sc)), "< 0.1 s"))
    rows += engine_rows(sc)
    from wcf_model.sensitivity import sobol, tornado
    res = appraise(sc)
    n_inputs = len(res.inputs)
    rows.append((f"tornado ({n_inputs} inputs, one vectorised run)", best_of(lambda: tornado(res), repeat=3), "< 2 s"))
    rows.append((f"Sobol indices, N=1024 ({1024 * (n_inputs + 2):,} model runs, SALib)",
                 best_of(lambda: sobol(res, n=1024), repeat=1), "< 60 s"))
    big = DFE_DOWNLOADS / "sen2_age_caseload_2022.csv"
    if big.is_file():
        rows.append((f"read one DfE download ({big.name}, {big.stat().st_size / 1e6:.1f} MB)",
                     best_of(lambda: read_dfe(big), repeat=3), "< 5 s"))
    # the shipped extract holds every authority: no downloads needed
    from wcf_model.backtest import national_backtest
    from wcf_model.data import load_frame

    frame = load_frame()
    serial = best_of(lambda: national_backtest(frame, origins=[2018], jobs=1, progress=False), repeat=1)
    rows.append(("national back-test, every authority from 2018 with bands, one process", serial, "< 60 s"))
    workers = os.cpu_count() or 1
    parallel = best_of(lambda: national_backtest(frame, origins=[2018], jobs=workers, progress=False), repeat=1)
    rows.append((f"  the same on {workers} worker processes", parallel,
                 f"{serial / parallel:.1f}x faster (target >= {0.6 * workers:.1f}x, 60% of the workers)"))
    start = time.perf_counter()
    national = national_backtest(frame, progress=False)
    rows.append(("national back-test, origins 2016-2019, horizon 5 (the headline table below)",
                 time.perf_counter() - start, "< 120 s"))
    rows += sweep_rows()
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("write report.html + results.xlsx (1,000 draws), no notebooks", best_of(
            lambda: write_report(SCENARIO, out_dir=Path(tmp), notebooks=False), repeat=3), "< 10 s"))
    rows += report_command_rows()
    report(rows)
    if national is not None:
        print()
        print(national.to_text())
        print()
        print("Share of authority-years inside the 10th-90th band, by years ahead:")
        print(national.coverage().round(2).to_string())


if __name__ == "__main__":
    main()
