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
from collections.abc import Iterator, Sequence
from pathlib import Path

from . import __version__
from .errors import ScenarioError, UsageError, WcfModelError
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


def _years(text: str) -> int:
    """A number of years (a window of history)."""
    return _whole_number(text, 1, 60)


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


def _note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    from .outputs import check_output_folder, default_output_dir, write_set
    from .results import appraise, json_text, write_csv
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


def cmd_backtest(args: argparse.Namespace) -> int:
    from .backtest import backtest, backtest_json

    result = backtest(args.la, args.fit_to, data_dir=args.data, window=args.window, last_year=args.to)
    print(backtest_json(result) if args.json else result.to_text())
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

    p = sub.add_parser("backtest", help="fit on published years up to a year, project, compare with what was published")
    p.add_argument("--la", required=True, help="local authority code, old (885) or new (E10000034)")
    p.add_argument("--fit-to", required=True, type=_year, metavar="YEAR", help="last published year the fit may use")
    p.add_argument("--to", type=_year, default=None, metavar="YEAR", help="last published year to compare (default: latest)")
    p.add_argument("--window", type=_years, default=3, help="years of history averaged for each rate (default 3)")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="folder with dfe_extract.csv or of DfE downloads (default: data/)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_backtest)
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
        with _stoppable():
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
