#!/usr/bin/env bash
# Build .venvs/mmpose, idempotently: mmpose 1.3.2 on torch 2.13.0+cpu with a compiled mmcv 2.1.0.
# The environment is requirements/locks/mmpose.txt (scripts/lock mmpose; hashed, installed with
# --no-deps) plus two wheels compiled once per machine and cached outside the checkout, keyed by
# versions, each from a PyPI sdist checked against its hash:
#   mmcv 2.1.0         mmcv_wheel.sh (against the locked torch: 26 min on 2 quiet cores, once)
#   xtcocotools 1.14.3 xtcocotools_wheel.sh (against the locked numpy: ~10 s, once)
# They are installed by the sha256 recorded when they were built, in the same hash-checked pip
# run as the lock (requirements.sh writes that list; the mmpose image installs the same). Rebuilt
# only when the lock, this script or a cached wheel changes; then scripts/check_env mmpose, and the
# build imports what the service imports (mmcv._ext included: RTMO and mmdet need mmcv.ops).
# COURTSIDE_VENVS=DIR builds into DIR/mmpose instead of .venvs/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
lock="$repo/requirements/locks/mmpose.txt"
venv="${COURTSIDE_VENVS:-$repo/.venvs}/mmpose"
PY="${COURTSIDE_PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/courtside-mmpose-env-XXXXXX")"
trap 'rm -rf "$work"' EXIT
# the lock plus the two cached wheels, each by the hash recorded at its build: one hash-checked install
"$here/requirements.sh" "$work/requirements.txt"
stamp_want="$(cat "$work/requirements.txt" "$0" | sha256sum | cut -c1-16)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.courtside-stamp" 2>/dev/null)" = "$stamp_want" ]; then
  exit 0
fi
rm -rf "$venv"
"$PY" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check --require-hashes --no-deps -r "$work/requirements.txt"
"$venv/bin/python" "$repo/scripts/check_env" mmpose
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
printf '%s\n%s\n' "$repo" "$repo/contracts" > "$site/courtside-repo.pth"
"$venv/bin/python" -c 'import inference.backends.mmpose.mm_env as e; e.import_mmpose(); import mmcv._ext, onnx, courtside.config, inference.runtime.consumer'
echo "$stamp_want" > "$venv/.courtside-stamp"
echo "built $venv"
