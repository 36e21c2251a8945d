"""The ``wcf-model`` command line (contract in DESIGN.md, "Command line").

Exit codes: 0 done; 2 bad input (scenario, data, arguments), reported as a
short message without a traceback; 1 an internal error (a bug in wcf-model).
``--debug`` shows the traceback in either case.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import ScenarioError, UsageError, WcfModelError

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments already; keep its message, drop nothing."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
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

    failed = 0
    for path in _scenario_files(args.paths):
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


def cmd_run(args: argparse.Namespace) -> int:
    from .analysis import study
    from .outputs import default_output_dir, write_all
    from .progress import Bar
    from .results import appraise, json_text
    from .scenario import load_scenario
    from .workbook import write_results_workbook

    with Bar("wcf-model run") as progress:
        progress("reading the scenario", 4)
        sc = load_scenario(args.scenario)
        draws = args.draws if args.draws is not None else sc.header.draws
        progress("appraisal", 4)
        results = appraise(sc, draws=draws, seed=args.seed)
        progress("sensitivity and value of information", 4)
        # the same analysis and workbook writer as wcf-model report, so both write the same results.xlsx
        st = study(sc, actuals=args.actuals, option=args.option, results=results)
        progress("writing", 4)
        out = args.out if args.out is not None else default_output_dir(sc.name)
        text = json_text(results)
        written = write_all(out, {
            "results.json": lambda p: p.write_text(text, encoding="utf-8"),
            "summary.csv": lambda p: results.summary().to_csv(p, index=False, lineterminator="\n"),
            "annual.csv": lambda p: results.annual.to_csv(p, index=False, lineterminator="\n"),
            "results.xlsx": lambda p: write_results_workbook(p, st),
        })
    for path in written:
        print(f"wrote {path}")
    for warning in results.central.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    import json

    from .compare import diff_document, diff_text
    from .scenario import load_scenario

    from .progress import Bar

    old, new = load_scenario(args.old), load_scenario(args.new)
    with Bar("wcf-model diff") as progress:   # many changes mean many mixtures of the two to appraise
        text = (json.dumps(diff_document(old, new, progress), indent=2, ensure_ascii=False) if args.json
                else diff_text(old, new, progress))
    print(text)
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
    from .progress import Bar
    from .report import write_report

    with Bar("wcf-model report") as progress:
        written = write_report(args.scenario, out_dir=args.out, draws=args.draws, seed=args.seed,
                               notebooks=not args.no_notebooks, actuals=args.actuals, option=args.option,
                               progress=progress)
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def cmd_backtest(args: argparse.Namespace) -> int:
    from .backtest import backtest, backtest_json

    result = backtest(args.la, args.fit_to, data_dir=args.data, window=args.window, last_year=args.to)
    print(backtest_json(result) if args.json else result.to_text())
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
    p.add_argument("--seed", type=int, default=None, metavar="S", help=seed_help)
    p.add_argument("--actuals", type=Path, default=None, metavar="CSV", help=actuals_help)
    p.add_argument("--option", default=None, metavar="ID", help=option_help)
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
    p.add_argument("--seed", type=int, default=None, metavar="S", help=seed_help)
    p.add_argument("--no-notebooks", action="store_true",
                   help="Skip executing the notebook set (much faster); the report and workbook are the same.")
    p.add_argument("--actuals", type=Path, default=None, metavar="CSV", help=actuals_help)
    p.add_argument("--option", default=None, metavar="ID", help=option_help)
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

    p = _command(sub, "backtest", "fit on published years up to a year, project, compare with what was published",
                 "Fit the caseload model to an authority's figures published up to a year, project the years "
                 "after without hindsight, and compare with what the DfE published: how accurate the forecast "
                 "would have been.",
                 ["wcf-model backtest --la 885 --fit-to 2018",
                  "wcf-model backtest --la 881 --fit-to 2019 --to 2023 --data path/to/dfe-downloads --json"])
    p.add_argument("--la", required=True, metavar="CODE",
                   help="The local authority: old three-digit code (885) or new code (E10000034).")
    p.add_argument("--fit-to", required=True, type=int, metavar="YEAR",
                   help="The last published year the fit may use (e.g. 2018 for figures at 31 March 2018).")
    p.add_argument("--to", type=int, default=None, metavar="YEAR",
                   help="The last published year to compare with; the latest in the data by default.")
    p.add_argument("--window", type=int, default=3, metavar="N",
                   help="Years of history averaged for each rate (3 by default).")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="A folder with dfe_extract.csv, or of DfE downloads; the shipped data/ by default.")
    p.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    p.set_defaults(func=cmd_backtest)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except WcfModelError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"wcf-model {args.command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in wcf-model, not the user's input
        if args.debug:
            traceback.print_exc()
        print(f"wcf-model {args.command}: internal error: {type(exc).__name__}: {exc}\n"
              "This is a bug in wcf-model, not in your files; run again with --debug "
              "and report the traceback.", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
