"""The ``wcf-model`` command line (contract in docs/design.md, "Command line").

Exit codes: 0 done; 2 bad input (scenario, data, arguments, an output path
that cannot be written), reported as a short message without a traceback;
1 an internal error (a bug in wcf-model). ``--debug`` shows the traceback in
either case. A command stopped by Ctrl-C, SIGTERM or SIGHUP cleans up its
temporary files and exits 128 + the signal number; one whose output is cut
short by the reader (``wcf-model diff OLD NEW | head``) exits quietly with
141, as a program stopped by SIGPIPE does.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import traceback
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from .version import __version__
from .errors import ScenarioError, SkippedFileWarning, UsageError, WcfModelError
from .formats import range_label
from .limits import MAX_DRAWS, MAX_SEED

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2
#: 128 + SIGPIPE: what a shell reports for a program whose reader went away.
EXIT_BROKEN_PIPE = 141


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments already; keep its message, drop nothing."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _whole_number(text: str, low: int, high: int) -> int:
    text = text.strip()
    # int() would also take '1_000' and other scripts' digits; a count is plain ASCII digits
    if not (text.lstrip("+-").isascii() and text.lstrip("+-").isdigit()) or len(text) > 30:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'")
    value = int(text)
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    if value > high:
        raise argparse.ArgumentTypeError(f"must be at most {high:,}, got {value:,}")
    return value


def _positive_int(text: str) -> int:
    """Draws: a whole number from 1 to :data:`~wcf_model.limits.MAX_DRAWS`."""
    return _whole_number(text, 1, MAX_DRAWS)


def _seed(text: str) -> int:
    """A seed: a whole number from 0 to :data:`~wcf_model.limits.MAX_SEED`, as in a scenario file."""
    return _whole_number(text, 0, MAX_SEED)


def _year(text: str) -> int:
    """A calendar year, as plain digits."""
    return _whole_number(text, 1900, 2200)


def _count_of_years(text: str) -> int:
    """A number of years, from 0."""
    return _whole_number(text, 0, 60)


def _draws_or_none(text: str) -> int:
    """Draws, or 0 for none."""
    return _whole_number(text, 0, MAX_DRAWS)


def _share(text: str) -> float:
    """A proportion strictly between 0 and 1 (0.9 for 90%)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got '{text}'") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (0.9 for 90%), got {text}")
    return value


def _scenario_files(paths: Sequence[str]) -> list[Path]:
    """Files named, plus every .yaml/.yml under any folder named."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted([*p.rglob("*.yaml"), *p.rglob("*.yml")])
            if not found:
                raise UsageError(f"{p}: folder holds no .yaml scenario files")
            files.extend(found)
        else:
            files.append(p)
    return files


def cmd_validate(args: argparse.Namespace) -> int:
    from .scenario import load_scenario

    from .effect_library import is_library_file, load_library

    failed = 0
    for path in _scenario_files(args.paths):
        if is_library_file(path):  # scenarios/effects/: checked as an effect library
            entries, problems = load_library([path])
            if problems:
                failed += 1
                print(f"INVALID {path}: " + "\n  ".join(["effect library problems:", *map(str, problems)]),
                      file=sys.stderr)
            else:
                print(f"ok {path}: effect library, {len(entries)} effects")
            continue
        try:
            sc = load_scenario(path, strict=args.strict)
        except ScenarioError as exc:
            failed += 1
            print(f"INVALID {path}: {exc}", file=sys.stderr)
            continue
        chain = " <- ".join(str(f) for f in reversed(sc.files[:-1]))
        print(f"ok {path}: {len(sc.parameters)} parameters, {len(sc.options)} options "
              f"(baseline {sc.baseline}), sha256 {sc.sha256[:12]}"
              + (f", extends {chain}" if chain else ""))
        if sc.placeholders:  # only without --strict, which refuses them
            print(f"warning: {path}: {len(sc.placeholders)} placeholder(s) left in; validate --strict, run and "
                  "report refuse them:\n" + "\n".join(f"  {p}" for p in sc.placeholders), file=sys.stderr)
    if failed:
        print(f"{failed} of {len(_scenario_files(args.paths))} file(s) invalid"
              + (" under --strict" if args.strict else ""), file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    from .analysis import study
    from .actuals import read_actuals, require_periods
    from .outputs import check_output_folder, default_output_dir, write_csv, write_set
    from .progress import Bar
    from .appraisal import appraise
    from .results import json_text
    from .scenario import load_scenario, refuse_placeholders
    from .workbook import write_results_workbook

    with Bar("wcf-model run") as progress:
        progress("reading the scenario", 4)
        sc = load_scenario(args.scenario)
        if not args.allow_placeholders:
            refuse_placeholders(sc, "run")
        out = args.out if args.out is not None else default_output_dir(sc.name)
        inputs = [*sc.files, *(p for p in (args.actuals, args.data) if p is not None)]
        check_output_folder(out, inputs)  # before the work, not after it
        actuals = None
        if args.actuals is not None:  # so is a bad actuals file
            actuals = read_actuals(args.actuals)
            require_periods(actuals, sc.financial_years)
        draws = args.draws if args.draws is not None else sc.header.draws
        progress("appraisal", 4)
        results = appraise(sc, draws=draws, seed=args.seed, draws_from="--draws" if args.draws is not None else None)
        progress("sensitivity and value of information", 4)
        # the same analysis and workbook writer as wcf-model report, so both write the same results.xlsx
        st = study(sc, actuals=actuals, option=args.option, data_dir=args.data, results=results)
        progress("writing", 4)
        text = json_text(results)
        written = write_set(out, {
            "results.json": lambda p: p.write_text(text, encoding="utf-8"),
            "summary.csv": lambda p: write_csv(results.summary(), p),
            "annual.csv": lambda p: write_csv(results.annual, p),
            "results.xlsx": lambda p: write_results_workbook(p, st),
        }, inputs=inputs, say=_note)
    for path in written:
        print(f"wrote {path}")
    for warning in results.central.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if sc.placeholders:
        print(f"warning: {len(sc.placeholders)} placeholder(s) left in {args.scenario}: these results describe "
              "no council (results.json lists them)", file=sys.stderr)
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    import numpy as np

    from .appraisal import appraise_options, check_finite
    from .compare import diff_document, diff_text
    from .errors import Problem
    from .outputs import strict_json
    from .progress import Bar
    from .results import first_non_finite
    from .scenario import load_scenario

    old, new = load_scenario(args.old), load_scenario(args.new)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for sc in (old, new):  # an overflowing version is named, not printed as inf
            if "population.age_0_17" in sc.parameters:
                check_finite(appraise_options(sc))
        with Bar("wcf-model diff") as progress:   # many changes mean many mixtures of the two to appraise
            if not args.json:
                text = diff_text(old, new, progress)
            else:
                doc = diff_document(old, new, progress)
                if (where := first_non_finite(doc)) is not None:
                    raise ScenarioError([Problem(str(args.new), None, "", f"comparing it with {args.old} gives "
                                                 f"{where[1]} for {where[0]}: a figure in one of them is too "
                                                 "large for the arithmetic")])
                text = strict_json(doc)
    print(text)
    return EXIT_OK


def cmd_export_assumptions(args: argparse.Namespace) -> int:
    from .scenario import load_scenario
    from .workbook_export import export_assumptions

    export_assumptions(load_scenario(args.scenario), args.out)
    print(f"wrote {args.out}: change the blue cells, give a source for every changed figure, then run "
          f"wcf-model import-assumptions {args.out} --base {args.scenario} -o NEW.yaml")
    return EXIT_OK


def cmd_import_assumptions(args: argparse.Namespace) -> int:
    from .workbook_io import import_assumptions

    lines = import_assumptions(args.workbook, args.base, args.output, name=args.name)
    if not lines:
        print(f"no changes in {args.workbook} against {args.base}; nothing written")
        return EXIT_OK
    print(f"wrote {args.output} with {len(lines)} change(s):")
    for line in lines:
        print(f"  {line}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from .progress import Bar
    from .report import write_report

    with Bar("wcf-model report") as progress:
        written = write_report(args.scenario, out_dir=args.out, draws=args.draws, seed=args.seed,
                               notebooks=not args.no_notebooks, actuals=args.actuals, option=args.option,
                               data_dir=args.data, allow_placeholders=args.allow_placeholders,
                               say=_note, progress=progress)
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def _origins(text: str) -> list[int]:
    try:
        years = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected years separated by commas such as 2016,2017,2018, got '{text}'") from None
    if not years:
        raise argparse.ArgumentTypeError("give at least one year")
    return years


def cmd_backtest(args: argparse.Namespace) -> int:
    from .backtest import ORIGINS, backtest, backtest_json, national_backtest
    from .data import load_frame
    from .figures import national_backtest_chart
    from .forecast import HORIZON
    from .outputs import check_output_folder, write_csv, write_set

    if not args.all:
        if args.fit_to is None:
            raise UsageError("backtest --la needs --fit-to YEAR (the last published year the fit may use)")
        if args.origins is not None or args.horizon is not None or args.out is not None:
            raise UsageError("--origins, --horizon and -o/--out go with --all; with --la use --fit-to and --to")
        result = backtest(args.la, args.fit_to, data_dir=args.data, window=args.window, last_year=args.to,
                          method=args.method, draws=args.draws)
        print(backtest_json(result) if args.json else result.to_text())
        return EXIT_OK
    if args.fit_to is not None or args.to is not None or args.json:
        raise UsageError("--all scores every authority from each of --origins; --fit-to, --to and --json go with --la")
    out = args.out if args.out is not None else Path("outputs") / "backtest"
    inputs = [args.data] if args.data is not None else []
    check_output_folder(out, inputs)
    frame = load_frame(args.data)
    nb = national_backtest(frame, origins=args.origins or ORIGINS, horizon=args.horizon or HORIZON,
                           method=args.method, window=args.window, draws=args.draws, jobs=args.jobs,
                           source=str(args.data) if args.data is not None else "data/")
    text = nb.to_text()
    chart = national_backtest_chart(nb)

    def csv(frame_):
        return lambda p: write_csv(frame_, p, float_format="%.6g")
    written = write_set(out, {
        "summary.csv": csv(nb.summary()),
        "scores.csv": csv(nb.scores),
        "forecasts.csv": csv(nb.forecasts),
        "coverage.csv": lambda p: write_csv(nb.coverage(), p, index=True, float_format="%.4f"),
        "unscored.csv": csv(nb.unscored),
        "summary.txt": lambda p: p.write_text(text + "\n", encoding="utf-8"),
        "backtest.png": lambda p: p.write_bytes(chart.png()),
    }, inputs=inputs, say=_note)
    print(text)
    print()
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def cmd_reference_class(args: argparse.Namespace) -> int:
    from .outputs import check_output_folder, write_csv, write_set
    from .reference_class import (
        build_panel,
        estimate_reference_class,
        load_overruns,
        load_reference_class,
        load_statistics,
        overrun_summary,
        reference_class_table,
        unit_of,
    )
    from .reference_figures import event_study_chart, overrun_chart

    out = args.out if args.out is not None else Path.cwd() / "outputs" / "reference-class"
    inputs = [p for p in (args.data, args.reference_class, args.overruns) if p is not None]
    check_output_folder(out, inputs)
    spells = load_reference_class(args.reference_class)
    panel = build_panel(load_statistics(args.data))
    if args.exclude:
        panel = panel[~panel["unit"].isin({unit_of(c) for c in args.exclude})]
    res = estimate_reference_class(panel, spells, horizon=args.horizon, leads=args.leads, placebos=args.placebos,
                                   seed=args.seed, level=args.level, models=args.models)
    overruns = load_overruns(args.overruns)
    table = res.table()

    def csv(frame):
        return lambda p: write_csv(frame, p, float_format="%.6g")

    files = {
        "estimates.csv": csv(table),
        "contributions.csv": csv(res.contributions()),
        "reference_class.csv": csv(reference_class_table(spells, panel)),
        "overruns.csv": csv(overruns.drop(columns=["line"])),
        "overrun_summary.csv": csv(overrun_summary(overruns)),
        "overruns.png": lambda p, c=overrun_chart(overruns): p.write_bytes(c.png()),
    }
    for name, est in res.estimates.items():
        files[f"{name}.png"] = lambda p, c=event_study_chart(est): p.write_bytes(c.png())
    for path in write_set(out, files, inputs=inputs, say=_note):
        print(f"wrote {path}")
    pct = round(100 * args.level)
    print(f"\nChange after a move to a trust or company, against councils that had not moved "
          f"({pct}% placebo interval; first {args.horizon + 1} figures after each move):")
    for row in table[table["term"] == "overall"].itertuples():
        scale = "%" if row.scale == "log" else ""
        mid, lo, hi = ((row.estimate_pct, row.lower_pct, row.upper_pct) if row.scale == "log"
                       else (row.estimate, row.lower, row.upper))
        pre = table[(table["driver"] == row.driver) & (table["term"] == "pretrend")]["p_value"].iloc[0]
        print(f"  {row.label:<40} {mid:+7.2f}{scale:1} ({lo:+.2f} to {hi:+.2f}) [{row.unit}]; "
              f"{int(row.councils)} councils; pre-trend p = {pre:.2f}")
    return EXIT_OK


def cmd_new_council(args: argparse.Namespace) -> int:
    from .council import build_baseline, write_baseline

    baseline = build_baseline(args.la, args.base_year, data_dir=args.data)
    baseline.command = "wcf-model new-council --la {} --base-year {}{}".format(
        baseline.la_code, baseline.base_year, f" --data {args.data}" if args.data else "")
    if args.data:
        baseline.data_note = f" in {args.data}"
    path = write_baseline(baseline, args.output, force=args.force)
    grades: dict[int, int] = {}
    for f in baseline.figures.values():
        grades[f.confidence] = grades.get(f.confidence, 0) + 1
    print(f"wrote {path}: {baseline.la_name} (LA {baseline.la_code}), base year {baseline.base_year}, "
          f"{len(baseline.figures)} figures: {grades.get(1, 0)} published, {grades.get(2, 0)} carried forward "
          f"from the latest published year, {grades.get(4, 0)} national defaults or proxies and "
          f"{grades.get(5, 0)} judgements to replace with your own (listed at the top of the file)")
    for note in baseline.notes:
        print(f"note: {note}")
    print(f"next: wcf-model validate --strict {path}; wcf-model report {path}")
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import load_option_set, progress_bar, ranked_option, run_sweep, sweep_tasks, write_sweep

    from .outputs import check_output_folder

    option_set = load_option_set(args.options)
    check_output_folder(args.output, [p for p in (args.data, args.options) if p is not None])  # before the work
    rank = ranked_option(option_set, args.rank)
    tasks = sweep_tasks(option_set, args.draws, args.seed, args.base_year, args.data, args.la)
    with progress_bar(len(tasks)) as bar:
        table, refused = run_sweep(tasks, workers=args.workers, progress=bar.update)
    written = write_sweep(args.output, table, refused, option_set, rank, args.draws, args.seed, args.data)
    for path in written:
        print(f"wrote {path}")
    print(f"{table['la_code'].nunique()} authorities x {len(option_set.options)} options x {args.draws:,} draws"
          + (f"; {len(refused)} refused (see refused.csv)" if len(refused) else ""))
    return EXIT_OK


def cmd_authorities(args: argparse.Namespace) -> int:
    from .authorities import register
    from .data import load_frame

    table = register(load_frame(args.data))
    if args.csv:
        from .outputs import write_csv

        write_csv(table, sys.stdout)
        return EXIT_OK
    for r in table.itertuples():
        years = f"{r.first_year}-{r.last_year}"
        print(f"{r.la_code:>4}  {r.new_la_code:<9}  {years:<9}  {r.la_name}"
              + (f"\n{'':>27}{r.reorganisation}" if r.reorganisation else ""))
    print(f"{len(table)} authorities; use the three-digit code with --la, e.g. wcf-model new-council --la "
          f"{table.la_code.iloc[0]} -o council.yaml")
    return EXIT_OK


def _command(sub, name: str, summary: str, description: str, examples: list[str]):
    """A subcommand whose --help gives what it does, a sentence per argument and examples."""
    import textwrap

    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples)
    return sub.add_parser(name, help=summary, description=textwrap.fill(description, 79), epilog=epilog,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wcf-model", description="Appraise ways of delivering a council's children's services:\n"
                                                   "check scenario files, run the appraisal, write the report and\n"
                                                   "workbook, compare versions, back-test the forecasts.",
                     epilog="Run 'wcf-model COMMAND --help' for a command's arguments and examples.\n"
                            "example:\n  wcf-model report scenarios/worcestershire/2019-full-business-case.yaml",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"wcf-model {__version__}")
    parser.add_argument("--debug", action="store_true", help="Show a traceback with any error message.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    out_help = "Folder to write to; outputs/<scenario name>/ under the current folder by default."
    draws_help = "Monte Carlo draws for the ranges; the scenario's own number (its draws:) by default."
    seed_help = "Random seed; the scenario's own seed by default. The same seed and draws give the same files."
    actuals_help = ("A CSV of figures published since the decision (measure, period, value, source) to compare "
                    "with the projection: adds the monitoring section and sheet.")
    option_help = "The option that went ahead, by its name in the scenario file, for monitoring; the baseline by default."
    data_help = ("A folder with dfe_extract.csv.gz or of DfE downloads, for the published history, the back-test "
                 "and monitoring; the shipped data/ by default.")

    p = _command(sub, "validate", "check scenario files and report every problem at once",
                 "Check scenario files and report every problem in them at once, as FILE:LINE: key: message. "
                 "Exits 2 if any file is invalid.",
                 ["wcf-model validate scenarios/worcestershire/2019-full-business-case.yaml",
                  "wcf-model validate --strict scenarios/"])
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="A scenario file, or a folder whose .yaml files are all checked; give as many as you like.")
    p.add_argument("--strict", action="store_true", help="Also fail any figure without a source and confidence grade.")
    p.set_defaults(func=cmd_validate)

    p = _command(sub, "run", "appraise a scenario: results.json, summary.csv, annual.csv, results.xlsx",
                 "Appraise every option of a scenario and write results.json, summary.csv, annual.csv and "
                 "results.xlsx (the same workbook 'wcf-model report' writes).",
                 ["wcf-model run scenarios/worcestershire/2018-outline-business-case.yaml",
                  "wcf-model run mine.yaml --draws 2000 --seed 1 --out outputs/mine-test"])
    p.add_argument("scenario", metavar="SCENARIO", help="The scenario file to appraise.")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help=out_help)
    p.add_argument("--draws", type=_positive_int, default=None, metavar="N", help=draws_help)
    p.add_argument("--seed", type=_seed, default=None, metavar="S", help=seed_help)
    p.add_argument("--actuals", type=Path, default=None, metavar="CSV", help=actuals_help)
    p.add_argument("--option", default=None, metavar="ID", help=option_help)
    p.add_argument("--data", type=Path, default=None, metavar="DIR", help=data_help)
    p.add_argument("--allow-placeholders", action="store_true",
                   help="Run a scenario that still holds placeholders; results.json lists them.")
    p.set_defaults(func=cmd_run)

    p = _command(sub, "report", "write the HTML report and Excel workbook for a scenario",
                 "Write report.html (the answer first, then every detail), results.xlsx and, unless told not "
                 "to, every notebook executed for the scenario. The report ends with the command that "
                 "writes it again.",
                 ["wcf-model report scenarios/worcestershire/2018-outline-business-case.yaml",
                  "wcf-model report scenarios/worcestershire/2019-full-business-case.yaml \\\n"
                  "      --actuals data/actuals/worcestershire.csv --option company_broad"])
    p.add_argument("scenario", metavar="SCENARIO", help="The scenario file to report on.")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help=out_help)
    p.add_argument("--draws", type=_positive_int, default=None, metavar="N", help=draws_help)
    p.add_argument("--seed", type=_seed, default=None, metavar="S", help=seed_help)
    p.add_argument("--no-notebooks", action="store_true",
                   help="Skip executing the notebook set (much faster); the report and workbook are the same.")
    p.add_argument("--actuals", type=Path, default=None, metavar="CSV", help=actuals_help)
    p.add_argument("--option", default=None, metavar="ID", help=option_help)
    p.add_argument("--data", type=Path, default=None, metavar="DIR", help=data_help)
    p.add_argument("--allow-placeholders", action="store_true",
                   help="Report a scenario that still holds placeholders; the report says so before anything else.")
    p.set_defaults(func=cmd_report)

    p = _command(sub, "export-assumptions", "write every input to an Excel workbook a finance officer can edit",
                 "Write every input of a scenario to an Excel workbook: change the blue cells, give a source for "
                 "each changed figure, then read it back with 'wcf-model import-assumptions'.",
                 ["wcf-model export-assumptions scenarios/worcestershire/2019-full-business-case.yaml mine.xlsx"])
    p.add_argument("scenario", metavar="SCENARIO", help="The scenario whose inputs are written.")
    p.add_argument("out", metavar="OUT.xlsx", type=Path, help="The workbook to write (an .xlsx file).")
    p.set_defaults(func=cmd_export_assumptions)

    p = _command(sub, "import-assumptions", "turn an edited workbook into a scenario overlay of the changes",
                 "Read a workbook written by 'wcf-model export-assumptions' and edited, check every change, and "
                 "write a small scenario file that extends the base and holds only the changes. When a "
                 "figure's central value moves, its uncertainty moves with it (scaled about the new value); "
                 "any problem is named by sheet, row and column and nothing is written.",
                 ["wcf-model import-assumptions mine.xlsx --base scenarios/worcestershire/2019-full-business-case.yaml"
                  " -o mine.yaml"])
    p.add_argument("workbook", metavar="IN.xlsx", type=Path, help="The workbook written by export-assumptions, with your edits.")
    p.add_argument("--base", required=True, metavar="SCENARIO",
                   help="The scenario the workbook was exported from; the new file extends it.")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="NEW.yaml",
                   help="The scenario file to write, holding only the changes.")
    p.add_argument("--name", default=None, help="Name of the new scenario; <base name>-edited by default.")
    p.set_defaults(func=cmd_import_assumptions)

    p = _command(sub, "diff", "compare two versions of a business case: what changed and what it did",
                 "List every assumption that differs between two scenarios, with its old and new value and "
                 "source, and how much each change moved each option's net present cost against the baseline "
                 "(Shapley values). Every option in either file is reported.",
                 ["wcf-model diff scenarios/worcestershire/2018-outline-business-case.yaml "
                  "scenarios/worcestershire/2019-full-business-case.yaml",
                  "wcf-model diff old.yaml new.yaml --json > changes.json"])
    p.add_argument("old", metavar="OLD", help="The earlier version of the scenario.")
    p.add_argument("new", metavar="NEW", help="The later version of the scenario.")
    p.add_argument("--json", action="store_true", help="Print JSON for scripts instead of text.")
    p.set_defaults(func=cmd_diff)

    p = _command(sub, "backtest", "how well the model would have forecast what was later published, beside "
                                  "naive forecasts; one authority (--la) or every one (--all)",
                 "Fit the caseload model to an authority's figures published up to a year, forecast the years "
                 "after without hindsight, and compare with what the DfE published and with three naive "
                 "forecasts (the last figure, a straight line, a damped trend). With --all, every authority "
                 "from each of several origins, in parallel.",
                 ["wcf-model backtest --la 885 --fit-to 2018",
                  "wcf-model backtest --la 881 --fit-to 2019 --to 2023 --data path/to/dfe-downloads --json",
                  "wcf-model backtest --all --data path/to/dfe-downloads --origins 2016,2017,2018"])
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--la", metavar="CODE",
                     help="One local authority: old three-digit code (885) or new code (E10000034).")
    who.add_argument("--all", action="store_true", help="Every authority in the data, from each of --origins.")
    p.add_argument("--fit-to", type=_year, default=None, metavar="YEAR",
                   help="With --la: the last published year the fit may use (e.g. 2018 for 31 March 2018).")
    p.add_argument("--to", type=_year, default=None, metavar="YEAR",
                   help="With --la: the last published year to compare with; the latest in the data by default.")
    p.add_argument("--origins", type=_origins, default=None, metavar="YEARS",
                   help="With --all: the forecast origins, separated by commas (2016,2017,2018,2019 by default).")
    p.add_argument("--horizon", type=_positive_int, default=None, metavar="N",
                   help="With --all: how many years after each origin are scored (5 by default).")
    p.add_argument("--method", choices=("pooled", "window"), default="pooled",
                   help="The forecast: pooled rate paths (the default) or the windowed mean of each rate.")
    p.add_argument("--window", type=_positive_int, default=3, metavar="N",
                   help="Years of history averaged for each windowed rate (3 by default).")
    p.add_argument("--draws", type=_draws_or_none, default=500, metavar="N",
                   help=f"Monte Carlo draws for the {range_label()} band (500 by default; 0 for none).")
    p.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                   help="With --all: worker processes running at once (one per processor by default).")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="A folder with dfe_extract.csv.gz, or of DfE downloads; the shipped data/ by default "
                        "(--all needs every authority's figures).")
    p.add_argument("-o", "--out", type=Path, default=None, metavar="DIR",
                   help="With --all: the folder for the tables and chart; outputs/backtest/ by default.")
    p.add_argument("--json", action="store_true", help="With --la: print JSON instead of a table.")
    p.set_defaults(func=cmd_backtest)

    p = _command(sub, "reference-class",
                 "what changed after councils moved children's services to a trust or company",
                 "Estimate what changed in the councils that moved their children's services to a trust or a "
                 "company, against councils that did not (a staggered difference-in-differences with placebo "
                 "intervals), and write the estimates, the event-study charts and the published overruns.",
                 ["wcf-model reference-class --data path/to/dfe-downloads",
                  "wcf-model reference-class --data path/to/dfe-downloads --exclude 885 --models company"])
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="A folder of DfE downloads for every council, or one whose dfe_extract.csv.gz covers "
                        "them; data/ by default.")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="The folder to write to; outputs/reference-class/ by default.")
    p.add_argument("--horizon", type=_count_of_years, default=3, metavar="N",
                   help="The last year after the move that is averaged (3 by default: four figures).")
    p.add_argument("--leads", type=_count_of_years, default=3, metavar="N",
                   help="Years before the move checked for trends already under way (3 by default).")
    p.add_argument("--placebos", type=_positive_int, default=999, metavar="N",
                   help="Placebo draws behind the intervals (999 by default).")
    p.add_argument("--seed", type=_seed, default=20170919, metavar="S", help="The seed of the placebo draws.")
    p.add_argument("--level", type=_share, default=0.9, metavar="P",
                   help="The share of placebo draws the intervals cover (0.9 by default).")
    p.add_argument("--models", nargs="+", default=["trust", "company"], choices=["trust", "company", "partnership"],
                   help="The kinds of move to estimate (trust and company by default).")
    p.add_argument("--exclude", nargs="*", default=[], metavar="CODE",
                   help="DfE codes of councils to leave out (e.g. 885 when appraising Worcestershire itself).")
    p.add_argument("--reference-class", type=Path, default=None, metavar="CSV",
                   help="The list of councils that moved, with dates and sources; data/reference_class.csv by default.")
    p.add_argument("--overruns", type=Path, default=None, metavar="CSV",
                   help="The published cost overruns; data/reference_class_overruns.csv by default.")
    p.set_defaults(func=cmd_reference_class)

    p = _command(sub, "new-council", "write a council's baseline scenario from the published statistics",
                 "Write a scenario file for any English authority's in-house baseline from the published "
                 "statistics, every figure with its source, grade and arithmetic; national defaults and "
                 "judgements to replace with the council's own figures are listed at the top of the file.",
                 ["wcf-model new-council --la 871 -o scenarios/slough.yaml",
                  "wcf-model new-council --la E06000039 --base-year 2026-27 --data path/to/dfe-downloads "
                  "-o slough.yaml"])
    p.add_argument("--la", required=True, metavar="CODE",
                   help="The local authority: old code (871) or new code (E06000039); 'wcf-model authorities' "
                        "lists them.")
    p.add_argument("--base-year", default=None, metavar="YYYY-YY",
                   help="The first financial year appraised; by default the year after the latest published "
                        "figures' financial year (e.g. 2026-27).")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="A folder with dfe_extract.csv.gz or of DfE downloads (e.g. with a newer section 251 "
                        "outturn); the shipped data/ by default.")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="FILE.yaml",
                   help="The scenario file to write.")
    p.add_argument("--force", action="store_true", help="Replace FILE.yaml if it already exists.")
    p.set_defaults(func=cmd_new_council)

    p = _command(sub, "sweep", "every English authority's baseline with the same delivery options: one table "
                               "and a chart ranking authorities",
                 "Appraise every English authority's baseline with the same delivery options, in parallel, and "
                 "write one table of results and a chart ranking the authorities by one option.",
                 ["wcf-model sweep -o outputs/sweep",
                  "wcf-model sweep --la 871 --la 885 --draws 200 -o outputs/sweep-two"])
    p.add_argument("--options", type=Path, default=Path("scenarios/options/generic.yaml"), metavar="FILE",
                   help="The delivery options, as a scenario file; scenarios/options/generic.yaml by default.")
    p.add_argument("--draws", type=_positive_int, default=1000, metavar="N",
                   help="Monte Carlo draws for each authority (1,000 by default).")
    p.add_argument("--seed", type=_seed, default=1, metavar="S",
                   help="The random seed, the same for every authority (1 by default).")
    p.add_argument("--base-year", default=None, metavar="YYYY-YY",
                   help="The first financial year appraised; by default each authority's own, the year after its "
                        "latest published figures.")
    p.add_argument("--la", action="append", default=None, metavar="CODE",
                   help="Only this authority (give it again for more); every current English authority by default.")
    p.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="Processes to run at once; one per processor by default.")
    p.add_argument("--rank", default=None, metavar="OPTION",
                   help="The option the chart ranks authorities by; the first company option by default.")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="A folder with dfe_extract.csv.gz or of DfE downloads; the shipped data/ by default.")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="DIR",
                   help="The folder to write the results to.")
    p.set_defaults(func=cmd_sweep)

    p = _command(sub, "authorities", "list the English authorities in the published data, with their codes",
                 "List every English authority in the published data with its old and new codes, the years its "
                 "figures cover and any reorganisation, to find the code 'new-council --la' takes.",
                 ["wcf-model authorities", "wcf-model authorities --csv > authorities.csv"])
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="A folder with dfe_extract.csv.gz or of DfE downloads; the shipped data/ by default.")
    p.add_argument("--csv", action="store_true", help="Print CSV for a spreadsheet instead of a table.")
    p.set_defaults(func=cmd_authorities)
    return parser


class _Stopped(BaseException):
    """SIGTERM or SIGHUP, raised where the program is so that clean-up code runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame: object) -> None:
    raise _Stopped(signum)


@contextlib.contextmanager
def _stoppable() -> Iterator[None]:
    """SIGTERM and SIGHUP stop the command the way Ctrl-C does (an exception, so
    temporary files are removed on the way out) instead of killing it where it
    stands; the previous handlers come back afterwards."""
    from .outputs import handling

    with handling([getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)], _stop):
        yield


@contextlib.contextmanager
def _notes() -> Iterator[None]:
    """Warnings that a file was left out are printed as notes (once each), not as Python warnings."""
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001 - warnings' own
            if issubclass(category, SkippedFileWarning):
                _note(str(message))
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        warnings.simplefilter("default", SkippedFileWarning)
        yield


def _quiet_stdout() -> None:
    """After a broken pipe: send what is left in the buffer nowhere, so Python's
    own flush at exit does not complain a second time."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _stoppable(), _notes():
            code = args.func(args)
            sys.stdout.flush()  # a reader that went away shows here, not at exit
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except WcfModelError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"wcf-model {args.command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except _Stopped as exc:
        print(f"stopped by signal {exc.signum}", file=sys.stderr)
        return 128 + exc.signum
    except Exception as exc:  # a bug in wcf-model, not the user's input
        if args.debug:
            traceback.print_exc()
        print(f"wcf-model {args.command}: internal error: {type(exc).__name__}: {exc}\n"
              "This is a bug in wcf-model, not in your files; run again with --debug "
              "and report the traceback.", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
