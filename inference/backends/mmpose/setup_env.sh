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
# COURTSIDE_VENVS=DIR builds into DIR/mmpose instead of .venvs/. Like every environment, it is built
# once per machine in the environment cache and linked in (scripts/venv_cache.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
lock="$repo/requirements/locks/mmpose.txt"
venv="${COURTSIDE_VENVS:-$repo/.venvs}/mmpose"
work="$(mktemp -d "${TMPDIR:-/tmp}/courtside-mmpose-env-XXXXXX")"
trap 'rm -rf "$work"' EXIT
# the lock plus the two cached wheels, each by the hash recorded at its build: one hash-checked install
"$here/requirements.sh" "$work/requirements.txt"
stamp_want="$(cat "$work/requirements.txt" "$0" | sha256sum | cut -c1-16)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.courtside-stamp" 2>/dev/null)" = "$stamp_want" ]; then
  exit 0
fi
# shellcheck source=scripts/venv_cache.sh
source "$repo/scripts/venv_cache.sh"
fill_env() {
  "$1/bin/pip" install -q --disable-pip-version-check --require-hashes --no-deps -r "$work/requirements.txt"
  "$1/bin/python" "$repo/scripts/check_env" mmpose
}
venv_from_cache mmpose "$stamp_want" "$venv" fill_env
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
write_fresh "$site/courtside-repo.pth" "$repo" "$repo/contracts"
"$venv/bin/python" -c 'import inference.backends.mmpose.mm_env as e; e.import_mmpose(); import mmcv._ext, onnx, courtside.config, inference.runtime.consumer'
write_fresh "$venv/.courtside-stamp" "$stamp_want"
echo "built $venv"
