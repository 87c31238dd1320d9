#!/usr/bin/env bash
# Rehearse bench/gpu/run.sh on this CPU machine, as the GPU machine will run it:
#  1. a fresh Python whose site-packages holds only the GPU machine's package set
#     (bench/gpu/preinstalled.txt, same versions), the CPU build of torch 2.13.0 standing in
#     for the machine's CUDA torch 2.11.0;
#  2. bench/gpu/run.sh --tiny with that Python: a --system-site-packages venv, the bundle
#     installed with no index, the tiny model built, the check at tiny dimensions and the demo
#     pipeline (10 sft steps, deploy, eval), all on the CPU.
# PyPI has no CPU build of torch for Python 3.12 (its Linux wheels pull the CUDA libraries,
# gigabytes), so the rehearsal runs on Python 3.11 with the local CPU wheel. The bundle's
# compiled cp312 wheels cannot load there: their cp311 builds, same versions, are fetched into a
# separate folder ($WORK/cp311) and offered beside the bundle. Every pure-Python wheel, and every
# abi3 one, is the bundle's own.
#   bench/gpu/rehearse.sh        # needs the bundle (make gpu-bundle) and PyPI for step 1
# Environment: REHEARSAL_DIR (default /tmp/swiftpipe-gpu-rehearsal), BASE_PYTHON (a Python
# 3.11 to copy; default python3.11), SWIFTPIPE_PORT (the demo server's port; default 18311).
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${REHEARSAL_DIR:-/tmp/swiftpipe-gpu-rehearsal}
BASE=${BASE_PYTHON:-python3.11}
BUNDLE=bench/gpu/bundle
export SWIFTPIPE_PORT=${SWIFTPIPE_PORT:-18311}
die() { echo "bench/gpu/rehearse.sh: $*" >&2; exit 2; }
[[ -f $BUNDLE/requirements.txt ]] || die "no $BUNDLE: run 'make gpu-bundle' first"

# 1. The machine's Python: a copy of a Python 3.11 without its site-packages (a venv would not
#    do: a venv made from a venv sees the base interpreter's packages, not the first venv's).
prefix=$("$BASE" -c 'import sys; assert sys.version_info[:2] == (3, 11); print(sys.base_prefix)') \
  || die "$BASE is not a Python 3.11: set BASE_PYTHON"
rm -rf "$WORK" && mkdir -p "$WORK/python"
tar -C "$prefix" --exclude='lib/python3.11/site-packages/*' -cf - bin lib include | tar -C "$WORK/python" -xf -
PY=$WORK/python/bin/python3.11
"$PY" -m ensurepip >/dev/null
start=$(date +%s)
# numpy 2.5 needs Python 3.12: the newest 2.4 stands in (the other pins are the machine's own).
"$PY" -m pip install --quiet --disable-pip-version-check torch==2.13.0 \
  -r <(grep -v '^torch==' bench/gpu/preinstalled.txt | sed 's/^numpy==.*/numpy<2.5/')
echo "machine set installed in $(( $(date +%s) - start )) s: $("$PY" -m pip list 2>/dev/null | grep -ciE '^[a-z]') packages;" \
  "torch $("$PY" -c 'import torch; print(torch.__version__)')," \
  "transformers $("$PY" -c 'import transformers; print(transformers.__version__)')," \
  "numpy $("$PY" -c 'import numpy; print(numpy.__version__)')," \
  "peft $("$PY" -c 'import peft; print(peft.__version__)')"

# 2. cp311 builds of the bundle's cp312-only wheels, exactly the same versions.
mkdir -p "$WORK/cp311"
pins=()
for whl in "$BUNDLE"/*.whl; do
  tags=$(basename "$whl" .whl | rev | cut -d- -f1-3 | rev)
  [[ $tags == cp312-* || $tags == py312-* ]] || continue
  name=$(basename "$whl" | cut -d- -f1)
  pins+=("$name==$(grep -i "^${name//_/[-_.]}==" "$BUNDLE/requirements.txt" | cut -d= -f3)")
done
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_{27..17}_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
"$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version 3.11 --implementation cp "${platforms[@]}" -d "$WORK/cp311" "${pins[@]}"
echo "cp311 stand-ins ($WORK/cp311): ${pins[*]}"

# 3. The check, exactly as on the GPU machine but --tiny.
start=$(date +%s)
PYTHON=$PY GPU_VENV=$WORK/venv BUNDLE_EXTRA_LINKS=$WORK/cp311 bench/gpu/run.sh --tiny --work "$WORK/bench"
echo "bench/gpu/run.sh --tiny: done in $(( $(date +%s) - start )) s"
