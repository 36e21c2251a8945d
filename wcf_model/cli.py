"""The ``wcf-model`` command line (contract in DESIGN.md, "Command line").

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

from . import __version__
from .errors import ScenarioError, SkippedFileWarning, UsageError, WcfModelError
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
    if failed:
        print(f"{failed} of {len(_scenario_files(args.paths))} file(s) invalid"
              + (" under --strict" if args.strict else ""), file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    from .outputs import check_output_folder, default_output_dir, write_csv, write_set
    from .results import appraise, json_text
    from .scenario import load_scenario

    sc = load_scenario(args.scenario)
    out = args.out if args.out is not None else default_output_dir(sc.name)
    check_output_folder(out, sc.files)  # before the work, not after it
    draws = args.draws if args.draws is not None else sc.header.draws
    results = appraise(sc, draws=draws, seed=args.seed, draws_from="--draws" if args.draws is not None else None)
    text = json_text(results)
    written = write_set(out, {
        "results.json": lambda p: p.write_text(text, encoding="utf-8"),
        "summary.csv": lambda p: write_csv(results.summary(), p),
        "annual.csv": lambda p: write_csv(results.annual, p),
        "results.xlsx": results.to_excel,
    }, inputs=sc.files, say=_note)
    for path in written:
        print(f"wrote {path}")
    for warning in results.central.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from .appraisal import appraise_options
    from .compare import diff_document, diff_text
    from .errors import Problem
    from .results import check_finite, first_non_finite
    from .scenario import load_scenario

    old, new = load_scenario(args.old), load_scenario(args.new)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for sc in (old, new):  # an overflowing version is named, not printed as inf
            if "population.age_0_17" in sc.parameters:
                check_finite(appraise_options(sc))
        if not args.json:
            print(diff_text(old, new))
            return EXIT_OK
        doc = diff_document(old, new)
    if (where := first_non_finite(doc)) is not None:
        raise ScenarioError([Problem(str(args.new), None, "", f"comparing it with {args.old} gives {where[1]} for "
                                     f"{where[0]}: a figure in one of them is too large for the arithmetic")])
    print(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False))
    return EXIT_OK


def cmd_export_assumptions(args: argparse.Namespace) -> int:
    from .scenario import load_scenario
    from .workbook_io import export_assumptions

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
    from .report import write_report

    written = write_report(args.scenario, out_dir=args.out, draws=args.draws, notebooks=not args.no_notebooks,
                           actuals=args.actuals, option=args.option, say=_note)
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
    from .backtest import ORIGINS, backtest, backtest_json, load_all, national_backtest
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
    frame = load_all(args.data)
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wcf-model", description="Appraise ways of delivering a council's children's services.")
    parser.add_argument("--version", action="version", version=f"wcf-model {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on any error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("validate", help="check scenario files and report every problem at once")
    p.add_argument("paths", nargs="+", metavar="PATH", help="scenario files, or folders of them")
    p.add_argument("--strict", action="store_true", help="also fail any figure without a source and confidence grade")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="appraise a scenario: results.json, summary.csv, annual.csv, results.xlsx")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--out", type=Path, default=None, help="output folder (default outputs/<scenario name>/)")
    p.add_argument("--draws", type=_positive_int, default=None, help="Monte Carlo draws (default: the scenario's)")
    p.add_argument("--seed", type=_seed, default=None, help="random seed (default: the scenario's)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="write the HTML report and Excel workbook for a scenario")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--out", type=Path, default=None, help="output folder (default outputs/<scenario name>/)")
    p.add_argument("--draws", type=_positive_int, default=None, help="Monte Carlo draws (default: the scenario's)")
    p.add_argument("--no-notebooks", action="store_true", help="skip executing the notebook set (faster)")
    p.add_argument("--actuals", type=Path, default=None, metavar="CSV",
                   help="published actuals to compare with the projection (monitoring section)")
    p.add_argument("--option", default=None, help="the option that was implemented, for monitoring (default: baseline)")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("export-assumptions", help="write every input to an Excel workbook a finance officer can edit")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("out", metavar="OUT.xlsx", type=Path)
    p.set_defaults(func=cmd_export_assumptions)

    p = sub.add_parser("import-assumptions", help="turn an edited workbook into a scenario overlay of the changes")
    p.add_argument("workbook", metavar="IN.xlsx", type=Path)
    p.add_argument("--base", required=True, metavar="SCENARIO", help="the scenario the workbook was exported from")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="NEW.yaml", help="overlay to write")
    p.add_argument("--name", default=None, help="name of the new scenario (default: <base name>-edited)")
    p.set_defaults(func=cmd_import_assumptions)

    p = sub.add_parser("diff", help="compare two versions of a business case: what changed and what it did")
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("backtest", help="how well the model would have forecast what was later published, "
                                        "beside naive forecasts; one authority (--la) or every one (--all)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--la", help="local authority code, old (885) or new (E10000034)")
    who.add_argument("--all", action="store_true", help="every authority in the data, from each of --origins")
    p.add_argument("--fit-to", type=_year, default=None, metavar="YEAR", help="with --la: last published year the fit may use")
    p.add_argument("--to", type=_year, default=None, metavar="YEAR", help="with --la: last published year to compare (default: latest)")
    p.add_argument("--origins", type=_origins, default=None, metavar="YEARS",
                   help="with --all: forecast origins, comma-separated (default 2016,2017,2018,2019)")
    p.add_argument("--horizon", type=_positive_int, default=None, metavar="N",
                   help="with --all: years scored after each origin (default 5)")
    p.add_argument("--method", choices=("pooled", "window"), default="pooled",
                   help="pooled forecast rate paths (default) or the windowed mean of each rate")
    p.add_argument("--window", type=_positive_int, default=3, help="years of history averaged for each windowed rate (default 3)")
    p.add_argument("--draws", type=_draws_or_none, default=500, help="Monte Carlo draws for the 10th-90th band (default 500; 0 for none)")
    p.add_argument("--jobs", type=_positive_int, default=None, help="with --all: worker processes (default: one per processor)")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="folder with dfe_extract.csv or of DfE downloads (default: data/); --all needs every authority")
    p.add_argument("-o", "--out", type=Path, default=None, metavar="DIR",
                   help="with --all: folder for the tables and chart (default outputs/backtest/)")
    p.add_argument("--json", action="store_true", help="with --la: print JSON instead of a table")
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser("reference-class",
                       help="what changed after councils moved children's services to a trust or company")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="folder of DfE downloads for every council, or one whose dfe_extract.csv covers them "
                        "(default: data/)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default outputs/reference-class/)")
    p.add_argument("--horizon", type=_count_of_years, default=3, help="last year after the move averaged (default 3: four figures)")
    p.add_argument("--leads", type=_count_of_years, default=3, help="years before the move checked for pre-trends (default 3)")
    p.add_argument("--placebos", type=_positive_int, default=999, help="placebo draws for the intervals (default 999)")
    p.add_argument("--seed", type=_seed, default=20170919, help="seed of the placebo draws")
    p.add_argument("--level", type=_share, default=0.9, help="interval coverage (default 0.9)")
    p.add_argument("--models", nargs="+", default=["trust", "company"], choices=["trust", "company", "partnership"],
                   help="kinds of move to estimate (default: trust company)")
    p.add_argument("--exclude", nargs="*", default=[], metavar="CODE",
                   help="DfE codes of councils to leave out (e.g. 885 when appraising Worcestershire itself)")
    p.add_argument("--reference-class", type=Path, default=None, metavar="CSV",
                   help="the reference class (default data/reference_class.csv)")
    p.add_argument("--overruns", type=Path, default=None, metavar="CSV",
                   help="published overruns (default data/reference_class_overruns.csv)")
    p.set_defaults(func=cmd_reference_class)
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
