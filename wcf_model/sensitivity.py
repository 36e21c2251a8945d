"""Which assumptions decide the result: tornado, switching values and Sobol indices.

Every method reads an appraisal's :class:`~wcf_model.results.Results`: its
uncertain inputs (``Results.inputs``, the one list the Monte Carlo run drew),
its seed and its central run. As in SALib, each input is addressed by its
quantile ``u`` in (0, 1), mapped to a value through its own distribution. Each
method builds a *design*, a table of quantiles by input with NaN meaning
"central", and runs the whole appraisal engine on it at once, vectorised over
the rows; none draws an input at random again.

The output studied is each option's net present cost minus the baseline's
[GBP, base-year prices, discounted].
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from .appraisal import appraise_options
from .formats import RANGE
from .inputs import EPS
from .results import Results
from .scenario import Scenario

#: Quantiles used for the low and high ends of a tornado bar: the report's range (formats.RANGE).
TORNADO_QUANTILES = (RANGE[0] / 100, RANGE[1] / 100)
#: Range searched for a switching value, in quantiles of the input's distribution.
SEARCH_RANGE = (0.001, 0.999)


def _differences(sc: Scenario, design: dict[str, np.ndarray], rows: int, seed: int | None,
                 chunk: int = 4096) -> dict[str, np.ndarray]:
    """NPV minus the baseline's, by option, for each row of a design (run in chunks)."""
    out: dict[str, list[np.ndarray]] = {}
    for start in range(0, rows, chunk):
        part = {k: v[start:start + chunk] for k, v in design.items()}
        a = appraise_options(sc, draws=min(chunk, rows - start), seed=seed, design=part)
        for oid in a.options:
            out.setdefault(oid, []).append(a.npv_vs_baseline(oid))
    return {oid: np.concatenate(v) for oid, v in out.items()}


def tornado(res: Results, quantiles: tuple[float, float] = TORNADO_QUANTILES) -> pd.DataFrame:
    """One-way sensitivity: each input at its low and high quantile, all others central.

    Returns a tidy table: ``input``, ``label``, ``low_value``, ``high_value``,
    ``option``, ``central``, ``at_low``, ``at_high`` (NPV minus baseline [GBP])
    and ``swing`` (|at_high - at_low|), sorted by swing within each option.
    """
    sc, inputs = res.scenario, res.inputs
    rows = 2 * len(inputs)
    design = {}
    for i, inp in enumerate(inputs):
        u = np.full(rows, np.nan)
        u[2 * i], u[2 * i + 1] = quantiles
        design[inp.name] = u
    diff = _differences(sc, design, rows, res.uncertain.seed)
    table = []
    for oid, d in diff.items():
        if oid == sc.baseline:
            continue
        central = res.central.npv_vs_baseline(oid)[0]
        for i, inp in enumerate(inputs):
            low, high = inp.value(quantiles)
            table.append({"input": inp.name, "label": inp.label, "low_value": low, "high_value": high,
                          "option": oid, "central": central, "at_low": d[2 * i], "at_high": d[2 * i + 1],
                          "swing": abs(d[2 * i + 1] - d[2 * i])})
    # a scenario with the baseline alone (a council's generated baseline) has no rows, but the columns
    out = pd.DataFrame(table, columns=["input", "label", "low_value", "high_value", "option", "central", "at_low",
                                       "at_high", "swing"])
    return out.sort_values(["option", "swing"], ascending=[True, False], kind="mergesort").reset_index(drop=True)


def _root(f: Callable[[float], float], grid: np.ndarray, values: np.ndarray) -> float | None:
    """The quantile nearest the centre of the grid where ``f`` changes sign, refined by Brent's method."""
    sign = np.sign(values)
    crossings = np.flatnonzero(sign[:-1] * sign[1:] < 0)
    if crossings.size == 0:
        exact = np.flatnonzero(values == 0)
        return float(grid[exact[0]]) if exact.size else None
    from scipy.optimize import brentq

    k = crossings[np.argmin(np.abs(grid[crossings] - 0.5))]
    return brentq(f, grid[k], grid[k + 1], xtol=1e-6)


def switching_values(res: Results, versus: str | None = None, points: int = 41) -> pd.DataFrame:
    """For each input and option, the input's value at which the option costs the same as ``versus``.

    ``versus`` defaults to the baseline. Each input is searched over its
    distribution (quantiles 0.001 to 0.999) with the others at central values:
    a grid finds where the NPV difference changes sign, and Brent's method
    refines it on the model itself. "None in range" (NaN) means no value the
    scenario thinks possible would change which of the two is cheaper.

    Returns ``input``, ``label``, ``option``, ``versus``, ``central_value``,
    ``central_difference`` [GBP], ``switching_value`` (NaN if none in range),
    ``switching_quantile``.
    """
    sc, inputs, seed = res.scenario, res.inputs, res.uncertain.seed
    versus = versus or sc.baseline
    grid = np.linspace(*SEARCH_RANGE, points)
    rows = len(inputs) * points
    design = {}
    for i, inp in enumerate(inputs):
        u = np.full(rows, np.nan)
        u[i * points:(i + 1) * points] = grid
        design[inp.name] = u
    diff = _differences(sc, design, rows, seed)
    gap = {oid: diff[oid] - diff[versus] for oid in diff if oid != versus}
    table = []
    for oid, g in gap.items():
        central = float(res.central.npv_vs_baseline(oid)[0] - res.central.npv_vs_baseline(versus)[0])
        for i, inp in enumerate(inputs):
            def f(u: float, name=inp.name, oid=oid) -> float:
                d = _differences(sc, {name: np.array([u])}, 1, seed)
                return float(d[oid][0] - d[versus][0])

            u_star = _root(f, grid, g[i * points:(i + 1) * points])
            table.append({"input": inp.name, "label": inp.label, "option": oid, "versus": versus,
                          "central_value": inp.central, "central_difference": central,
                          "switching_value": float(inp.value(u_star)[0]) if u_star is not None else np.nan,
                          "switching_quantile": u_star if u_star is not None else np.nan})
    return pd.DataFrame(table)


def sobol(res: Results, n: int = 1024, chunk: int = 4096) -> pd.DataFrame:
    """Sobol first-order and total indices of each option's NPV difference (SALib).

    Inputs are sampled in quantile space with SALib's Sobol sequence (Saltelli's
    scheme, ``n`` x (inputs + 2) model runs), mapped through each input's
    distribution, and analysed with 95% bootstrap confidence intervals. A
    warning is attached where an interval spans zero: the index is not
    distinguishable from no effect at that sample size.

    Returns ``input``, ``label``, ``option``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``, ``warning``.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    sc, inputs, seed = res.scenario, res.inputs, res.uncertain.seed
    problem = {"num_vars": len(inputs), "names": [i.name for i in inputs], "bounds": [[0.0, 1.0]] * len(inputs)}
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # SALib warns when n is not a power of two; callers choose n
        sample = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed % (2 ** 32))
    sample = np.clip(sample, EPS, 1 - EPS)   # the sequence starts at 0, where ppf is infinite
    design = {inp.name: sample[:, i] for i, inp in enumerate(inputs)}
    diff = _differences(sc, design, sample.shape[0], seed, chunk)
    table = []
    for oid, y in diff.items():
        if oid == sc.baseline or np.ptp(y) == 0:
            continue
        si = sobol_analyze.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=seed % (2 ** 32))
        for i, inp in enumerate(inputs):
            s1, s1c, st, stc = si["S1"][i], si["S1_conf"][i], si["ST"][i], si["ST_conf"][i]
            note = "confidence interval spans zero" if s1 - s1c <= 0 <= s1 + s1c else ""
            table.append({"input": inp.name, "label": inp.label, "option": oid, "S1": s1, "S1_conf": s1c,
                          "ST": st, "ST_conf": stc, "warning": note})
    out = pd.DataFrame(table)
    return out.sort_values(["option", "ST"], ascending=[True, False], kind="mergesort").reset_index(drop=True)
