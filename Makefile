# swiftpipe: `make demo` runs the whole pipeline offline on a CPU; `make test` runs the tests.
PIPELINE ?= pipeline.yaml
PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
SWIFTPIPE := $(BIN)/swiftpipe
# On a machine without an NVIDIA GPU, torch is installed first as the CPU build, so that
# ms-swift's own torch requirement is already satisfied and no CUDA build is pulled.
TORCH_CPU ?= torch==2.13.0
TINY_MODEL ?= models/tiny-qwen3
STAMP    := $(VENV)/.swiftpipe-installed
# More options for every pipeline command, e.g. SET='--set workdir=/tmp/w' (the demo's workdir
# also follows SWIFTPIPE_WORKDIR).
SET      ?=

.PHONY: install demo run data sft export deploy eval stop status plan report tiny-model test test-unit lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then \
		echo "GPU found: installing torch as ms-swift requires"; \
	else \
		echo "no GPU: installing the CPU build of torch ($(TORCH_CPU))"; \
		$(BIN)/python -m pip install -q "$(TORCH_CPU)"; \
	fi
	$(BIN)/python -m pip install -q -e '.[all,dev]'
	@touch $@

tiny-model: install
	$(SWIFTPIPE) tiny-model $(TINY_MODEL)

demo: install tiny-model
	$(SWIFTPIPE) run $(PIPELINE) $(SET)

run: install
	$(SWIFTPIPE) run $(PIPELINE) $(SET)

# A stage target builds that stage and whatever it needs that is not up to date, as make does
# with prerequisites; `make deploy` leaves the server up for `make eval`. One stage alone:
# swiftpipe run --only STAGE.
data sft export deploy eval: install
	$(SWIFTPIPE) run $(PIPELINE) --until $@ $(SET)

stop: install
	$(SWIFTPIPE) stop $(PIPELINE) $(SET)

status plan report: install
	$(SWIFTPIPE) $@ $(PIPELINE) $(SET)

test: install tiny-model
	$(BIN)/python -m pytest -q --durations=15

test-unit: install
	$(BIN)/python -m pytest -q -m "not integration"

lint: install
	$(BIN)/ruff check swiftpipe tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf runs .pytest_cache .mypy_cache .ruff_cache

# The GPU check's offline bundle, bench/gpu/bundle/ (at most 50 MiB): wheels of what a bare GPU
# machine lacks, for its Python 3.12; bench/gpu/run.sh installs it there with no index.
# Needs PyPI and a Python 3.12 here (GPU_PYTHON=... if it is not found).
.PHONY: gpu-bundle
gpu-bundle:
	$(PYTHON) bench/gpu/bundle.py $(if $(GPU_PYTHON),--python $(GPU_PYTHON))
