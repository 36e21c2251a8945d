# wcf-model: every target bootstraps its own virtual environment (.venv) from
# pyproject.toml, so a fresh clone needs only Python 3.11+ and make.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# One environment for everything: the tests execute the notebooks, and the
# report is built from the same code.
DEV    := $(VENV)/.installed
WORCS  := scenarios/worcestershire

.PHONY: report test fuzz lab bench data examples validate clean

## report: appraise the Worcestershire scenarios; HTML report and Excel workbook in outputs/
report: $(DEV)
	$(BIN)/wcf-model validate --strict $(WORCS)
	$(BIN)/wcf-model report $(WORCS)/2018-outline-business-case.yaml
	$(BIN)/wcf-model report $(WORCS)/2019-full-business-case.yaml \
		--actuals data/actuals/worcestershire.csv --option company_broad

## test: the whole test suite (what CI runs), spread over every processor (TEST_WORKERS=0 runs it in one process)
TEST_WORKERS ?= auto
test: $(DEV)
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

## fuzz: the fuzzing suite as a long random campaign (make test runs a short fixed one)
fuzz: $(DEV)
	$(BIN)/python -m pytest tests/test_fuzz.py --hypothesis-profile=fuzz -q

## lab: JupyterLab on the notebooks
lab: $(DEV)
	$(BIN)/jupyter lab notebooks/

## bench: performance figures (not pass/fail tests)
bench: $(DEV)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/hostile.py

## validate: check every shipped scenario under --strict
validate: $(DEV)
	$(BIN)/wcf-model validate --strict scenarios/

## data: rebuild data/ whole, for every authority, from DfE downloads (SOURCE=...) and HM Treasury deflators (HMT=...)
# Where the published downloads are: DOWNLOADS/dfe (DfE statistics) and DOWNLOADS/hmt
# (HM Treasury GDP deflators); data/README.md says which files and from where.
DOWNLOADS ?= $(or $(WCF_DOWNLOADS),downloads)
SOURCE ?= $(DOWNLOADS)/dfe
HMT    ?= $(DOWNLOADS)/hmt
data: $(DEV)
	@if [ -n "$(LA)" ]; then echo "make data: LA=$(LA) is not needed: the extract always holds every English authority" >&2; exit 2; fi
	$(BIN)/python scripts/build_data.py --source $(SOURCE) --out data
	$(BIN)/python scripts/build_deflators.py --source $(HMT) --out data

## examples: regenerate the example baseline (scenarios/examples/) from data/, e.g. after `make data`
examples: $(DEV)
	$(BIN)/wcf-model new-council --la 871 --base-year 2026-27 -o scenarios/examples/slough-2026-27.yaml --force

clean:
	rm -rf outputs .pytest_cache

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "wcf-model needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks]"
	@touch $@
