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


def cmd_run(args: argparse.Namespace) -> int:
    from .outputs import default_output_dir, write_all
    from .results import appraise, json_text
    from .scenario import load_scenario, refuse_placeholders

    sc = load_scenario(args.scenario)
    if not args.allow_placeholders:
        refuse_placeholders(sc, "run")
    draws = args.draws if args.draws is not None else sc.header.draws
    results = appraise(sc, draws=draws, seed=args.seed)
    out = args.out if args.out is not None else default_output_dir(sc.name)
    text = json_text(results)
    written = write_all(out, {
        "results.json": lambda p: p.write_text(text, encoding="utf-8"),
        "summary.csv": lambda p: results.summary().to_csv(p, index=False, lineterminator="\n"),
        "annual.csv": lambda p: results.annual.to_csv(p, index=False, lineterminator="\n"),
        "results.xlsx": results.to_excel,
    })
    for path in written:
        print(f"wrote {path}")
    for warning in results.central.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if sc.placeholders:
        print(f"warning: {len(sc.placeholders)} placeholder(s) left in {args.scenario}: these results describe "
              "no council (results.json lists them)", file=sys.stderr)
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    import json

    from .compare import diff_document, diff_text
    from .scenario import load_scenario

    old, new = load_scenario(args.old), load_scenario(args.new)
    print(json.dumps(diff_document(old, new), indent=2, ensure_ascii=False) if args.json else diff_text(old, new))
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
                           actuals=args.actuals, option=args.option, data_dir=args.data,
                           allow_placeholders=args.allow_placeholders,
                           say=lambda line: print(f"note: {line}", file=sys.stderr))
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
    from .outputs import write_all

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
    frame = load_frame(args.data)
    nb = national_backtest(frame, origins=args.origins or ORIGINS, horizon=args.horizon or HORIZON,
                           method=args.method, window=args.window, draws=args.draws, jobs=args.jobs,
                           source=str(args.data) if args.data is not None else "data/")
    text = nb.to_text()
    chart = national_backtest_chart(nb)

    def csv(frame_):
        return lambda p: frame_.to_csv(p, index=False, lineterminator="\n", float_format="%.6g")
    written = write_all(out, {
        "summary.csv": csv(nb.summary()),
        "scores.csv": csv(nb.scores),
        "forecasts.csv": csv(nb.forecasts),
        "coverage.csv": lambda p: nb.coverage().to_csv(p, lineterminator="\n", float_format="%.4f"),
        "unscored.csv": csv(nb.unscored),
        "summary.txt": lambda p: p.write_text(text + "\n", encoding="utf-8"),
        "backtest.png": lambda p: p.write_bytes(chart.png()),
    })
    print(text)
    print()
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def cmd_reference_class(args: argparse.Namespace) -> int:
    from .outputs import write_all
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

    spells = load_reference_class(args.reference_class)
    panel = build_panel(load_statistics(args.data))
    if args.exclude:
        panel = panel[~panel["unit"].isin({unit_of(c) for c in args.exclude})]
    res = estimate_reference_class(panel, spells, horizon=args.horizon, leads=args.leads, placebos=args.placebos,
                                   seed=args.seed, level=args.level, models=args.models)
    overruns = load_overruns(args.overruns)
    out = args.out if args.out is not None else Path.cwd() / "outputs" / "reference-class"
    table = res.table()

    def csv(frame):
        return lambda p: frame.to_csv(p, index=False, lineterminator="\n", float_format="%.6g")

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
    for path in write_all(out, files):
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

    option_set = load_option_set(args.options)
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
        print(table.to_csv(index=False, lineterminator="\n"), end="")
        return EXIT_OK
    for r in table.itertuples():
        years = f"{r.first_year}-{r.last_year}"
        print(f"{r.la_code:>4}  {r.new_la_code:<9}  {years:<9}  {r.la_name}"
              + (f"\n{'':>27}{r.reorganisation}" if r.reorganisation else ""))
    print(f"{len(table)} authorities; use the three-digit code with --la, e.g. wcf-model new-council --la "
          f"{table.la_code.iloc[0]} -o council.yaml")
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
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's)")
    p.add_argument("--allow-placeholders", action="store_true",
                   help="run a scenario that still holds placeholders (results.json lists them)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="write the HTML report and Excel workbook for a scenario")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--out", type=Path, default=None, help="output folder (default outputs/<scenario name>/)")
    p.add_argument("--draws", type=_positive_int, default=None, help="Monte Carlo draws (default: the scenario's)")
    p.add_argument("--no-notebooks", action="store_true", help="skip executing the notebook set (faster)")
    p.add_argument("--actuals", type=Path, default=None, metavar="CSV",
                   help="published actuals to compare with the projection (monitoring section)")
    p.add_argument("--option", default=None, help="the option that was implemented, for monitoring (default: baseline)")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="folder with dfe_extract.csv.gz or of DfE downloads, for the published history, back-test "
                        "and monitoring (default: data/)")
    p.add_argument("--allow-placeholders", action="store_true",
                   help="report a scenario that still holds placeholders (the report says so at the top)")
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
    p.add_argument("--fit-to", type=int, default=None, metavar="YEAR", help="with --la: last published year the fit may use")
    p.add_argument("--to", type=int, default=None, metavar="YEAR", help="with --la: last published year to compare (default: latest)")
    p.add_argument("--origins", type=_origins, default=None, metavar="YEARS",
                   help="with --all: forecast origins, comma-separated (default 2016,2017,2018,2019)")
    p.add_argument("--horizon", type=_positive_int, default=None, metavar="N",
                   help="with --all: years scored after each origin (default 5)")
    p.add_argument("--method", choices=("pooled", "window"), default="pooled",
                   help="pooled forecast rate paths (default) or the windowed mean of each rate")
    p.add_argument("--window", type=_positive_int, default=3, help="years of history averaged for each windowed rate (default 3)")
    p.add_argument("--draws", type=int, default=500, help="Monte Carlo draws for the 10th-90th band (default 500; 0 for none)")
    p.add_argument("--jobs", type=_positive_int, default=None, help="with --all: worker processes (default: one per processor)")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="folder with dfe_extract.csv.gz or of DfE downloads (default: data/); --all needs every authority")
    p.add_argument("-o", "--out", type=Path, default=None, metavar="DIR",
                   help="with --all: folder for the tables and chart (default outputs/backtest/)")
    p.add_argument("--json", action="store_true", help="with --la: print JSON instead of a table")
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser("reference-class",
                       help="what changed after councils moved children's services to a trust or company")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="folder of DfE downloads for every council, or one whose dfe_extract.csv.gz covers them "
                        "(default: data/)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default outputs/reference-class/)")
    p.add_argument("--horizon", type=int, default=3, help="last year after the move averaged (default 3: four figures)")
    p.add_argument("--leads", type=int, default=3, help="years before the move checked for pre-trends (default 3)")
    p.add_argument("--placebos", type=int, default=999, help="placebo draws for the intervals (default 999)")
    p.add_argument("--seed", type=int, default=20170919, help="seed of the placebo draws")
    p.add_argument("--level", type=float, default=0.9, help="interval coverage (default 0.9)")
    p.add_argument("--models", nargs="+", default=["trust", "company"], choices=["trust", "company", "partnership"],
                   help="kinds of move to estimate (default: trust company)")
    p.add_argument("--exclude", nargs="*", default=[], metavar="CODE",
                   help="DfE codes of councils to leave out (e.g. 885 when appraising Worcestershire itself)")
    p.add_argument("--reference-class", type=Path, default=None, metavar="CSV",
                   help="the reference class (default data/reference_class.csv)")
    p.add_argument("--overruns", type=Path, default=None, metavar="CSV",
                   help="published overruns (default data/reference_class_overruns.csv)")
    p.set_defaults(func=cmd_reference_class)

    p = sub.add_parser("new-council", help="write a council's baseline scenario from the published statistics")
    p.add_argument("--la", required=True, help="local authority code, old (871) or new (E06000039); "
                                               "wcf-model authorities lists them")
    p.add_argument("--base-year", default=None, metavar="YYYY-YY",
                   help="first financial year appraised (default: the year after the latest published figures' "
                        "financial year, e.g. 2026-27)")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="folder with dfe_extract.csv.gz or of DfE downloads, e.g. with a newer section 251 outturn "
                        "(default: data/)")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="FILE.yaml", help="scenario file to write")
    p.add_argument("--force", action="store_true", help="replace FILE.yaml if it exists")
    p.set_defaults(func=cmd_new_council)

    p = sub.add_parser("sweep", help="every English authority's baseline with the same delivery options: "
                                     "one table and a chart ranking authorities")
    p.add_argument("--options", type=Path, default=Path("scenarios/options/generic.yaml"), metavar="FILE",
                   help="the delivery options, as a scenario file (default: scenarios/options/generic.yaml)")
    p.add_argument("--draws", type=_positive_int, default=1000, help="Monte Carlo draws per authority (default 1000)")
    p.add_argument("--seed", type=int, default=1, help="random seed, the same for every authority (default 1)")
    p.add_argument("--base-year", default=None, metavar="YYYY-YY",
                   help="first financial year appraised (default: each authority's, the year after its latest "
                        "published figures)")
    p.add_argument("--la", action="append", default=None, metavar="CODE",
                   help="only this authority (repeatable); every current English authority by default")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="processes to run at once (default: one per core)")
    p.add_argument("--rank", default=None, metavar="OPTION",
                   help="the option the chart ranks authorities by (default: the first company option)")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="folder with dfe_extract.csv.gz or of DfE downloads (default: data/)")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="DIR", help="folder to write the results to")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("authorities", help="list the English authorities in the published data, with their codes")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="folder with dfe_extract.csv.gz or of DfE downloads (default: data/)")
    p.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    p.set_defaults(func=cmd_authorities)
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
