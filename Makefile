# Two entry points (see README): `make demo` and `make test`. Both create .venv, install, and run.
# Idempotent: installs are skipped when .venv is current with pyproject.toml.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.pernav-installed

# The mmdet3d integration runs in its own venv: mmdet3d pins numpy<2 and needs mmcv *with ops*, which has no
# wheel for torch 2.14 and is built from its sdist by tools/build_mmcv.sh (~12 min once, then a cached wheel).
MMVENV  := .venv-mm
MMPY    := $(MMVENV)/bin/python
MMSTAMP := $(MMVENV)/.pernav-installed
MMTESTS := tests/perception/test_mm_config.py tests/perception/test_mm_voxelization.py

.PHONY: demo test test-mm lint install

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

$(MMSTAMP): pyproject.toml tools/build_mmcv.sh
	test -x $(MMPY) || $(PYTHON) -m venv $(MMVENV)
	$(MMPY) -c "import torch, torchvision" 2>/dev/null || \
		$(MMPY) -m pip --disable-pip-version-check -q install torch==2.14.1 torchvision==0.29.1
	bash tools/build_mmcv.sh $(MMPY)
	$(MMPY) -m pip --disable-pip-version-check -q install -e ".[dev,mmdet3d]"
	touch $@

test: $(STAMP) $(MMSTAMP)
	$(PY) -m pytest -q
	$(MMPY) -m pytest -q $(MMTESTS)

test-mm: $(MMSTAMP)
	$(MMPY) -m pytest -q $(MMTESTS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy kernels tools configs
