#!/usr/bin/env bash
# The GPU check of issue 9, for a machine with one large GPU (sized for one H200, < 10 minutes):
#  1. the cookbook recipe's sft settings, as written and in the 80 GB variant, on a randomly
#     initialised model of gpt-oss-20b's architecture built here (no download), at 2 and 4
#     decoder layers; peak GPU memory per layer extrapolated to the real 24 layers;
#  2. the tiny demo pipeline's deploy (transformers backend) + eval on the GPU.
# Figures go to bench/gpu/RESULTS.md (with the date and the machine).
# Needs the project's environment (make install) on the machine; nothing is downloaded.
#   bench/gpu/run.sh            # the real thing (GPU)
#   bench/gpu/run.sh --tiny     # a CPU rehearsal: tiny dimensions, 1 step, same code path
#   bench/gpu/run.sh --dry-run  # print what would run, build nothing
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
exec "$PY" bench/gpu/bench.py "$@"
