#!/usr/bin/env bash
# The GPU check of issue 9 (bench/gpu/bench.py), for a machine with one large GPU and no network
# (sized for one H100/H200, < 10 minutes):
#  1. the cookbook recipe's sft settings, as written and in the 80 GB variant, on a randomly
#     initialised model of gpt-oss-20b's architecture built here (no download), at 2 and 4
#     decoder layers; peak GPU memory per layer extrapolated to the real 24 layers;
#  2. the tiny demo pipeline's deploy (transformers backend) + eval on the GPU.
# Figures go to bench/gpu/RESULTS.md (with the date and the machine).
#
# Needs: Python 3.12 with torch, transformers, peft, accelerate ... (bench/gpu/preinstalled.txt)
# and bench/gpu/bundle/, built beforehand on a machine with network by `make gpu-bundle`.
# Nothing is downloaded: the bundle is installed with --no-index into a venv that sees the
# machine's own packages (--system-site-packages), then the tiny model is built and the check runs.
#   bench/gpu/run.sh            # the real thing (GPU)
#   bench/gpu/run.sh --tiny     # a CPU rehearsal: tiny dimensions, 1 step, same code path
#   bench/gpu/run.sh --dry-run  # print what would run, install and build nothing
# Environment: PYTHON (the machine's Python 3.12; default python3), GPU_VENV (the venv to make;
# default /tmp/swiftpipe-gpu-venv), BUNDLE_EXTRA_LINKS (more wheel folders, for the rehearsal).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
VENV=${GPU_VENV:-/tmp/swiftpipe-gpu-venv}
BUNDLE=bench/gpu/bundle
die() { echo "bench/gpu/run.sh: $*" >&2; exit 2; }

for arg in "$@"; do
  # bench.py's dry run reads the recipes only; it needs pyyaml and nothing of the bundle.
  [[ $arg == --dry-run ]] && exec "$PY" bench/gpu/bench.py "$@"
done
tiny=0
for arg in "$@"; do [[ $arg == --tiny ]] && tiny=1; done

command -v "$PY" >/dev/null || die "no Python at '$PY': set PYTHON to the machine's Python 3.12"
[[ -f $BUNDLE/requirements.txt ]] || die "no $BUNDLE/requirements.txt: run 'make gpu-bundle' on a machine with network, then bring the tree here"
version=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[[ $version == 3.12 || -n ${BUNDLE_EXTRA_LINKS:-} ]] || die "$PY is Python $version; the bundle's compiled wheels are for 3.12"
missing=$("$PY" - bench/gpu/preinstalled.txt <<'EOF'
import importlib.util, sys
mods = {"pyyaml": "yaml", "pillow": "PIL", "huggingface_hub": "huggingface_hub", "typing_extensions": "typing_extensions"}
names = [l.split("#")[0].strip().split("=")[0].split("<")[0].split(">")[0] for l in open(sys.argv[1])]
print(" ".join(n for n in names if n and importlib.util.find_spec(mods.get(n, n.replace("-", "_"))) is None))
EOF
)
[[ -z $missing ]] || die "$PY lacks the machine's packages the bundle expects: $missing"
if [[ $tiny == 0 ]]; then
  "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
    || die "torch sees no CUDA GPU; use --tiny for a CPU rehearsal"
fi

# Install once per bundle: the stamp holds the requirements' checksum.
stamp="$VENV/.bundle-installed"
want=$(sha256sum "$BUNDLE/requirements.txt" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  rm -rf "$VENV"
  # A system Python may come without ensurepip (Debian's python3-venv); the venv then runs the
  # machine's own pip, which it sees through --system-site-packages.
  "$PY" -m venv --system-site-packages "$VENV" >/dev/null 2>&1 \
    || { rm -rf "$VENV" && "$PY" -m venv --without-pip --system-site-packages "$VENV"; } \
    || die "could not create the venv $VENV"
  "$VENV/bin/python" -m pip --version >/dev/null 2>&1 || die "$PY has neither ensurepip nor pip: no way to install"
  links=(--find-links "$BUNDLE")
  for extra in ${BUNDLE_EXTRA_LINKS:-}; do links+=(--find-links "$extra"); done
  # Only the bundle: no index, no pip configuration of this machine, no dependency search
  # (requirements.txt is the whole resolved list).
  if ! env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null \
      "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-index --no-deps "${links[@]}" \
      -r "$BUNDLE/requirements.txt" > "$VENV.install.log" 2>&1; then
    die "installing $BUNDLE failed: $(grep -m1 ERROR "$VENV.install.log" || tail -n 1 "$VENV.install.log") (log: $VENV.install.log)"
  fi
  echo "$want" > "$stamp"
fi
"$VENV/bin/python" -c 'import swift, evalscope, trl, datasets, modelscope, peft, swiftpipe' 2>"$VENV.import.log" \
  || die "the installed bundle does not import: $(tail -n 1 "$VENV.import.log")"

export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MODELSCOPE_OFFLINE=1
# The demo pipeline's model; built here, deterministic, no download.
[[ -f models/tiny-qwen3/config.json ]] || "$VENV/bin/swiftpipe" tiny-model models/tiny-qwen3 >/dev/null
exec "$VENV/bin/python" bench/gpu/bench.py "$@"
