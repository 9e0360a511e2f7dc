# Two entry points (see README): `make demo` and `make test`. Both create .venv, install, and run.
# Idempotent: installs are skipped when .venv is current with pyproject.toml.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.pernav-installed

.PHONY: demo test lint install

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch + torchvision first, as one pair that comes from local disk here (see shared DEPENDENCIES.md).
$(VENV)/.torch: | $(PY)
	$(PY) -c "import torch, torchvision" 2>/dev/null || $(PIP) install torch==2.14.1 torchvision==0.29.1
	touch $@

$(STAMP): pyproject.toml $(VENV)/.torch
	$(PIP) install -e ".[dev]"
	# pyrvo's declared dependency (ir-sim) conflicts with mmdet3d's pins; RVO2 itself needs nothing.
	$(PIP) install --no-deps pyrvo==0.4.3
	# natten (benchmark peer and cross-check): no wheel; its sdist builds only against the installed torch.
	$(PIP) install --no-build-isolation natten==0.21.7
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/pernav demo

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy kernels tools configs
