# selib — one entry point. Every target sets up what it needs itself (a virtual environment
# in .venv, installed from pyproject.toml) so each works first time on a fresh machine.
#
#   make run    the main job: the notebook series end to end on the built-in dataset
#   make test   the whole test suite (unit tests + every notebook executed by nbval)
#   make lab    JupyterLab on the notebooks
#   make report docs/results.md and the README's results table, from bench/results/*.json
#
# GPU users: add EXTRAS=gpu,notebooks,test to any target (installs tensorflow[and-cuda]).

PYTHON   ?= python3
VENV     ?= .venv
EXTRAS   ?= cpu,jax,notebooks,test
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.selib-installed-$(subst $(comma),-,$(EXTRAS))
comma    := ,
export TF_CPP_MIN_LOG_LEVEL ?= 3
export PYTHONWARNINGS ?= ignore::DeprecationWarning

# make test-full  everything, the benchmarks' smoke runs and the duplicate cases included

.PHONY: run test test-full lab ablations bench report install clean-runs

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]" 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import selib, tensorflow, nbval" >/dev/null
	@rm -f $(VENV)/.selib-installed-* && touch $@

install: $(STAMP)

run: $(STAMP)
	$(PY) -m selib run-series

# --dist loadscope: a notebook's cells share one kernel, so they must run in order on one worker
# (nbval's advice); a test module's module-scoped fixtures are then built once. conftest.py keeps
# the notebooks together and starts the heaviest units first, so no worker idles at the end
test: $(STAMP)
	SELIB_PROFILE=ci $(PY) -m pytest tests --nbval-lax notebooks -p no:cacheprovider -n 2 --dist loadscope -m "not full"

test-full: $(STAMP)
	SELIB_PROFILE=ci $(PY) -m pytest tests --nbval-lax notebooks -p no:cacheprovider -n 2 --dist loadscope

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

ablations: $(STAMP)
	$(PY) -m selib run-series --only 06

bench: $(STAMP)
	$(PY) bench/run_all.py

report:
	$(or $(wildcard $(PY)),$(PYTHON)) bench/report.py

clean-runs:
	rm -rf runs
