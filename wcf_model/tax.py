"""VAT and corporation tax of a council company: the rules, as pure functions over arrays.

Every function takes ``(draws, years)`` arrays in real base-year prices [GBP]
and returns arrays of the same shape. Statutory thresholds are cash amounts, so
they are converted to real terms with the nominal index of each year.

The VAT position, in short (docs/money.md says it at length)
------------------------------------------------------------
* A council recovers the VAT it pays for its statutory, non-business work
  (VAT Act 1994 s33), so in-house, and under a partnership, VAT costs nothing.
* A company recovers input VAT only on what it uses for taxable supplies (VAT
  Act 1994 ss24-26). Its care of children for the council is an exempt welfare
  supply (Sch 9 Group 7 item 9, Note (6)(b)); educational support services and
  commissioning are taxable (HMRC VATGPB8225). So the VAT on a company's
  standard-rated inputs is irrecoverable in so far as they are used for exempt
  supplies.
* Which inputs bear VAT is data: each cost line declares its treatment
  (:data:`wcf_model.catalogue.LINE_VAT`, option items their ``vat:``). Pay,
  foster carers' allowances and DSG place funding are outside the scope;
  placements with registered providers exempt; agency staff and support
  services bought back from the council standard-rated.
* Input tax is attributed as HMRC VAT Notice 706 (section 4) sets out: tax on
  inputs used only for exempt supplies is irrecoverable, only for taxable
  supplies recoverable; the rest (residual: company overheads, support
  services) is recovered in the ratio of taxable to all supplies (the standard
  method, VAT Regulations 1995 reg 101(2)(d)), rounded up to the next whole
  percent, or to two decimal places when residual input tax exceeds £400,000 a
  month (reg 101(4)-(5), HMRC PE30500).
* If the exempt input tax is no more than £625 a month on average and no more
  than half of all input tax, all of it is recovered (de minimis, VAT
  Regulations 1995 reg 106, HMRC PE24500).
* Where the contract is one single supply (VATSC11100), it takes the character
  of its larger element: taxable when educational support is as large as or
  larger than welfare, exempt otherwise (HMRC VATGPB8225). An option says which
  structure it assumes (``tax: {contract: single_supply}``).

The VAT year is taken to be the financial year; the company's months in each
year come from its go-live and end dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .catalogue import option_item_of_line
from .inputs import one_row

if TYPE_CHECKING:  # pandas only for the one table below, imported where it is built
    import pandas as pd

#: Residual input tax above which the recovery percentage is rounded up to two
#: decimal places instead of a whole number [GBP a month, cash]. VAT Regulations
#: 1995 reg 101(5); HMRC PE30500.
ROUNDING_THRESHOLD_PER_MONTH = 400_000.0
#: De minimis limit on exempt input tax [GBP a month on average, cash]. VAT
#: Regulations 1995 reg 106; HMRC PE24500.
DE_MINIMIS_PER_MONTH = 625.0
#: ... and no more than this share of all input tax (reg 106).
DE_MINIMIS_SHARE = 0.5


def recovery_percentage(taxable_outputs: np.ndarray, all_outputs: np.ndarray,
                        residual_per_month_cash: np.ndarray) -> np.ndarray:
    """Share of residual input tax recovered under the standard method [0-1].

    ``taxable / all supplies``, rounded up to the next whole percent, or up to
    two decimal places of a percent where residual input tax is more than
    £400,000 a month on average (VAT Regulations 1995 reg 101(2)(d), (4), (5)).

    Examples
    --------
    >>> recovery_percentage(np.array([1.0]), np.array([3.0]), np.array([10_000.0])).tolist()
    [0.34]
    >>> recovery_percentage(np.array([1.0]), np.array([3.0]), np.array([500_000.0])).tolist()
    [0.3334]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(all_outputs > 0, taxable_outputs / all_outputs, 0.0)
    # round to 9 places first so a ratio of exactly 0.35 does not become 36% through float noise
    whole = np.ceil(np.round(ratio * 100, 9)) / 100
    fine = np.ceil(np.round(ratio * 10_000, 9)) / 10_000
    return np.minimum(np.where(residual_per_month_cash > ROUNDING_THRESHOLD_PER_MONTH, fine, whole), 1.0)


@dataclass(frozen=True)
class VatPosition:
    """A company's VAT, year by year [GBP, real base-year prices], each ``(draws, years)``.

    ``by_line`` is the irrecoverable VAT each input line carries (they sum to
    ``irrecoverable``); ``input_tax`` all the VAT on its standard-rated inputs;
    ``recovery`` the share of residual input tax recovered; ``taxable_share``
    taxable supplies / all supplies; ``de_minimis`` the years in which all input
    tax was recoverable; ``single_supply`` whether the contract was treated as
    one supply.
    """

    by_line: dict[str, np.ndarray]
    input_tax: np.ndarray
    irrecoverable: np.ndarray
    recovery: np.ndarray
    taxable_share: np.ndarray
    de_minimis: np.ndarray
    single_supply: bool


def company_vat(input_tax: dict[str, np.ndarray], taxable_use: dict[str, np.ndarray | None],
                taxable_outputs: np.ndarray, all_outputs: np.ndarray, months: np.ndarray,
                nominal_index: np.ndarray, single_supply: bool = False) -> VatPosition:
    """Irrecoverable VAT of a company with (possibly) mixed outputs.

    Parameters
    ----------
    input_tax : dict
        Input line -> VAT on it [GBP, real, (draws, years)]: the standard-rated
        share of the line x the VAT rate x the line, for the months the company
        buys it.
    taxable_use : dict
        Input line -> the taxable share of the supplies it is used for (its
        service line's output share, 0 = only exempt, 1 = only taxable), or None
        for an overhead used for all supplies (residual input tax).
    taxable_outputs, all_outputs : ndarray
        Value of the company's taxable and of all its supplies [GBP, real].
    months : ndarray, shape (years,)
        Months the company trades in each year.
    nominal_index : ndarray, shape (years,)
        Cash / real, to compare amounts with the cash thresholds.
    single_supply : bool
        Treat the contract as one supply (VATGPB8225).

    Returns
    -------
    VatPosition
    """
    shape = np.broadcast(*input_tax.values(), all_outputs).shape if input_tax else np.shape(all_outputs)
    zero = np.zeros(shape)
    share_taxable = np.where(all_outputs > 0, taxable_outputs / np.where(all_outputs > 0, all_outputs, 1), 0.0)
    total = sum(input_tax.values(), zero)
    cash = np.asarray(nominal_index)[None, :]
    per_month = np.maximum(np.asarray(months, dtype=float), 1e-9)[None, :]
    if single_supply:
        # One supply: taxable as a whole when the taxable (educational support) element is at least
        # as large as the exempt (welfare) element, exempt as a whole otherwise (HMRC VATGPB8225).
        exempt_fraction = {k: np.broadcast_to(np.where(share_taxable >= 0.5, 0.0, 1.0), shape) for k in input_tax}
        recovery = np.where(share_taxable >= 0.5, 1.0, 0.0) * np.ones(shape)
    else:
        # residual input tax: overheads used for all supplies, and lines of a service line whose own
        # supplies are partly taxable
        # inputs of one service line share one use array: each test below is made once per use
        uses = {id(u): u for u in taxable_use.values() if u is not None}
        mixed = {i: (u > 0) & (u < 1) for i, u in uses.items()}
        residual = sum((v if taxable_use[k] is None else np.where(mixed[id(taxable_use[k])], v, 0.0)
                        for k, v in input_tax.items()), zero)
        recovery = recovery_percentage(taxable_outputs, all_outputs, residual * cash / per_month)
        unrecovered = 1 - recovery
        # used only for exempt supplies: irrecoverable; only taxable: recovered; both: residual
        by_use = {i: np.where(u <= 0, 1.0, np.where(u >= 1, 0.0, unrecovered)) for i, u in uses.items()}
        exempt_fraction = {k: unrecovered if taxable_use[k] is None else by_use[id(taxable_use[k])]
                           for k in input_tax}
    exempt = {k: v * exempt_fraction[k] for k, v in input_tax.items()}
    exempt_total = sum(exempt.values(), zero)
    limit = DE_MINIMIS_PER_MONTH * np.asarray(months, dtype=float)[None, :] / cash
    de_minimis = (exempt_total <= limit) & (exempt_total <= DE_MINIMIS_SHARE * total) & (total > 0)
    if de_minimis.any():
        by_line = {k: np.where(de_minimis, 0.0, v) for k, v in exempt.items()}
        irrecoverable = sum(by_line.values(), zero)
    else:  # no year under the limit (a company of any size): every exempt input stays as it is
        by_line, irrecoverable = exempt, exempt_total
    return VatPosition(by_line, total, irrecoverable, recovery, share_taxable, de_minimis, single_supply)


def corporation_tax(profits: np.ndarray, main_rate: np.ndarray, small_rate: np.ndarray, lower: np.ndarray,
                    upper: np.ndarray, fraction: np.ndarray, months: np.ndarray, associated: np.ndarray,
                    nominal_index: np.ndarray) -> np.ndarray:
    """Corporation tax on a company's profits, by financial year [GBP, real].

    The rates are those in force in each financial year (1 April to 31 March,
    the model's years). Profits up to the lower limit pay the small profits
    rate; above the upper limit the main rate; in between the main rate less
    marginal relief, ``fraction x (upper - profits)`` (Corporation Tax Act 2010
    ss18A-18E, inserted by Finance Act 2021; HMRC CTM03910, CTM03925; N = A, as a
    company has no exempt distributions here). The limits are for a 12-month
    period with no associated companies: they are cut in proportion to the
    months the company trades in the year and divided by one plus its
    associated companies. With the small profits rate equal to the main rate
    and no fraction (years before April 2023) the rate is flat.

    Parameters
    ----------
    profits : ndarray
        Taxable profits [GBP, real].
    main_rate, small_rate, fraction : ndarray
        Rates and the marginal relief fraction by year [share].
    lower, upper : ndarray
        Limits for a 12-month period [GBP, cash].
    months : ndarray, shape (years,)
        Months the company trades in each year.
    associated : ndarray
        Associated companies [count].
    nominal_index : ndarray, shape (years,)
        Cash / real, to put the cash limits in real terms.

    Examples
    --------
    Profits of £100,000 in a full year from April 2023 with no associated
    companies: 25% x 100,000 - 3/200 x (250,000 - 100,000) = 25,000 - 2,250 = 22,750.

    >>> one = np.ones((1, 1))
    >>> float(corporation_tax(100_000 * one, 0.25 * one, 0.19 * one, 50_000 * one, 250_000 * one,
    ...                       0.015 * one, np.array([12.0]), 0 * one, np.array([1.0]))[0, 0])
    22750.0
    """
    # the limits and rates are usually the same in every draw: worked on their one row (one_row)
    scale = (np.asarray(months, dtype=float)[None, :] / 12 / (1 + one_row(associated))
             / np.asarray(nominal_index)[None, :])
    low, high = one_row(lower) * scale, one_row(upper) * scale
    p = np.maximum(profits, 0.0)
    main = one_row(main_rate) * p
    marginal = main - one_row(fraction) * np.maximum(high - p, 0.0)
    return np.where(p <= low, one_row(small_rate) * p, np.where(p <= high, marginal, main))


def vat_on_lines(result) -> dict[str, np.ndarray]:
    """Irrecoverable VAT by the input line it falls on [GBP, real base-year prices], ``(draws, years)``.

    ``result`` is an :class:`~wcf_model.appraisal.OptionResult`; empty for an
    option that is not a company or trust. The lines sum to its
    ``company.irrecoverable_vat``.
    """
    company = getattr(result, "company", None)
    if company is None:
        return {}
    some = company.vat.irrecoverable
    return {name: company.vat.by_line.get(name, np.zeros_like(some)) for name in company.inputs}


# ---------------------------------------------------------------------------
# In words: the VAT and tax position as a report states it
# ---------------------------------------------------------------------------

#: What a reader calls each line that can bear VAT.
LINE_WORDS = {
    "placements.council_home": "running council children's homes",
    "placements.supported_16_plus": "supported accommodation",
    "staff.agency_pay": "agency social workers",
    "staff.agency_premium": "agency social workers",
    "staff.recruitment": "recruitment",
    "overheads.support_services": "support services bought back from the council",
    "send.transport": "home-to-school transport",
    "send.assessments": "EHC needs assessments",
    "early_help": "early help",
}


def _words(line: str) -> str:
    if line in LINE_WORDS:
        return LINE_WORDS[line]
    if line.startswith("services.") and line.endswith(".other"):
        return f"the {line.split('.')[1].replace('_', ' ')} service's other bought-in costs"
    if (item := option_item_of_line(line)) is not None:
        return f"its own {item.replace('_', ' ')} costs"
    return line.replace("_", " ").replace(".", ": ")


def _m(x: float) -> str:
    return f"£{x / 1e6:,.1f}m" if abs(x) >= 50_000 else f"£{x:,.0f}"


def vat_general(res) -> str:
    """Why VAT costs the council nothing in-house and a company something, in plain English."""
    return ("The council gets back the VAT it pays for its statutory services (section 33 of the VAT Act 1994), so "
            "in-house, or in a partnership where it stays the operator, VAT costs it nothing. A company or trust "
            "that runs the service is an ordinary business for VAT: the care and protection of children it "
            "provides for the council are exempt welfare supplies (VAT Act 1994 Schedule 9 Group 7 item 9), and a "
            "business cannot recover the VAT it pays on what it buys to make exempt supplies. Pay, foster carers' "
            "allowances, placements with registered fostering agencies and children's homes, and school place "
            "funding bear no VAT; agency staff, support services bought back from the council and most other "
            "bought-in services do. The VAT a company cannot recover is a cash cost to the council, paid through "
            "the contract price. The economic case leaves it out, as a payment to the Treasury rather than a use "
            "of resources; the cost to the council includes it.")


def vat_specifics(res, option: str) -> str | None:
    """One option's VAT figures in plain English; None if it bears no VAT (not a company or trust).

    Figures are from the central run, in cash: the VAT on its standard-rated
    purchases and what it cannot recover in its first full year, the lines it
    falls on, what taxable supplies let it recover, and the total over the years.
    """
    a = res.central
    r = a.options[option]
    if r.company is None:
        return None
    sc = res.scenario
    cash = np.asarray(a.nominal_index)
    c = r.company
    months = c.months
    t = int(np.argmax(months >= 12)) if (months >= 12).any() else int(np.argmax(months))
    year = a.years[t]
    total = float((c.vat.irrecoverable[0] * cash).sum())
    input_tax = float(c.vat.input_tax[0, t] * cash[t])
    lost = float(c.vat.irrecoverable[0, t] * cash[t])
    shares: dict[str, float] = {}
    for line, v in c.vat.by_line.items():
        shares[_words(line)] = shares.get(_words(line), 0.0) + float(v[0, t] * cash[t])
    top = [f"{w} ({_m(v)})" for w, v in sorted(shares.items(), key=lambda kv: -kv[1]) if v >= 1][:4]
    text = (f"In {year} it pays {_m(input_tax)} of VAT on standard-rated purchases and cannot recover {_m(lost)}"
            + (f", chiefly on {', '.join(top[:-1]) + ' and ' + top[-1] if len(top) > 1 else top[0]}" if top else "")
            + ". ")
    if sc.options[option].tax.contract == "single_supply":
        text += ("Its contract is taken as one single supply, exempt as a whole because welfare is its larger part "
                 "(HMRC VATGPB8225). " if c.vat.taxable_share[0, t] < 0.5 else
                 "Its contract is taken as one single supply, taxable as a whole because educational support is at "
                 "least as large as welfare (HMRC VATGPB8225), so it recovers all its VAT. ")
    elif c.vat.taxable_share[0, t] > 0:
        text += (f"Its educational support and commissioning services are taxable ({c.vat.taxable_share[0, t]:.0%} "
                 f"of what it supplies), so it recovers {c.vat.recovery[0, t]:.0%} of the VAT on its shared "
                 "overheads (HMRC VAT Notice 706, standard method). ")
    else:
        text += "All it supplies is exempt, so it recovers none of it. "
    return text + f"Over the {len(a.years)} years the VAT it cannot recover comes to {_m(total)} in cash."


def both_numbers(res, option: str) -> str | None:
    """One option's result in both measures, each against the baseline, saying which is which.

    None for the baseline itself.
    """
    a = res.central
    sc = res.scenario
    if option == a.baseline:
        return None
    base = sc.options[a.baseline].label
    econ = float(a.npv_vs_baseline(option)[0])
    cash = float(a.council_cash_vs_baseline(option)[0])

    def more(x: float) -> str:
        return f"{_m(abs(x))} {'more' if x >= 0 else 'less'}"

    return (f"{sc.options[option].label}: {more(econ)} than {base.lower()} in the economic case (Green Book, "
            f"{sc.header.base_year} prices, discounted, without VAT and tax); {more(cash)} in cash to the council "
            f"over {len(a.years)} years, including VAT and tax.")


def money_table(res) -> pd.DataFrame:
    """Each option's two results and what the cash one holds that the economic one does not [GBP].

    Columns: ``option`` (label), ``economic_vs_baseline`` (net present cost
    minus the baseline's), ``council_cash_vs_baseline`` (cash, all years),
    ``irrecoverable_vat``, ``corporation_tax``, ``pensions`` (employer-rate
    difference, bond and cessation), ``stranded_overheads`` (cash, all years)
    and, with a high-needs income, ``high_needs_deficit_at_end`` (the
    cumulative DSG deficit in the last year).
    """
    import pandas as pd

    a = res.central
    sc = res.scenario
    rows = []
    for oid, r in a.options.items():
        def total(*lines: str) -> float:
            return float(sum(r.financial[ln][0].sum() for ln in lines if ln in r.financial))

        row = {"option": sc.options[oid].label,
               "economic_vs_baseline": float(a.npv_vs_baseline(oid)[0]),
               "council_cash_vs_baseline": float(a.council_cash_vs_baseline(oid)[0]),
               "irrecoverable_vat": total("company.irrecoverable_vat"),
               "corporation_tax": total("company.corporation_tax"),
               "pensions": total("company.pension_rate_difference", "company.pension_bond",
                                 "company.pension_cessation"),
               "stranded_overheads": total("council.stranded_overheads")}
        if r.high_needs is not None:
            row["high_needs_deficit_at_end"] = float(r.high_needs["cumulative_deficit"][0, -1])
        rows.append(row)
    return pd.DataFrame(rows)
