#!/usr/bin/env bash
# Ensure the mmcv wheel that .venvs/mmpose installs is in its cache, compiling it when missing.
#   inference/backends/mmpose/mmcv_wheel.sh   -> prints the cache folder holding the wheel
# mmcv 2.1.0 (the only mmcv mmdet 3.3.0 accepts) has no wheel on PyPI for Python 3.11 + torch
# 2.13: its C++ ops (mmcv._ext, which mmcv.ops and so RTMO/mmdet need) are compiled against the
# exact torch it runs with: 26 min on 2 quiet cores. The wheel is cached OUTSIDE the checkout,
# keyed by the mmcv, torch and Python versions, so only a fresh machine pays the compile:
#   ${COURTSIDE_CACHE:-~/.cache/courtside}/wheels/mmcv-2.1.0-torch-2.13.0+cpu-cp311/
# The source is PyPI's sdist, checked against the hash below; it is compiled in a throwaway venv
# holding requirements/locks/mmpose.txt (so against the locked torch, by hash) plus ninja, removed
# afterwards. A build that fails or is interrupted leaves no partial wheel in the cache; the
# wheel's sha256 is written beside it (setup_env.sh installs it by that hash).
# COURTSIDE_PYTHON picks the interpreter; MAX_JOBS the parallel compiles (default: the cores);
# COURTSIDE_WHEEL_SEED a folder of wheels compiled before, copied in by hash instead of compiling
# (the mmpose image build seeds from this machine's cache: cached_wheel.sh, deploy/buildah/build).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lock="$here/../../../requirements/locks/mmpose.txt"
MMCV=2.1.0
MMCV_SDIST_SHA256=d387bcab66b467479b6660310e23746cfc79c6e57acf04094680adb499a5cd3f
NINJA="ninja==1.13.0 --hash=sha256:fb46acf6b93b8dd0322adc3a4945452a4e774b75b91293bafcc7b7f8e6517dfa"
TORCH="$(sed -n 's/^torch==\([^ ]*\).*/\1/p' "$lock")"
[ -n "$TORCH" ] || { echo "mmcv_wheel: no torch pin in $lock" >&2; exit 1; }
# shellcheck source=inference/backends/mmpose/cached_wheel.sh
source "$here/cached_wheel.sh"
cached_wheel_open "mmcv-$MMCV-torch-$TORCH-$pytag" "mmcv-$MMCV-*.whl" && exit 0
echo "mmcv_wheel: compiling mmcv $MMCV against torch $TORCH ($pytag): 26 min on 2 quiet cores (log: $log)" >&2
start=$SECONDS
{
  "$PY" -m venv "$work/venv"
  "$work/venv/bin/pip" install --disable-pip-version-check --require-hashes --no-deps -r "$lock"
  echo "$NINJA" > "$work/ninja.txt"
  "$work/venv/bin/pip" install --disable-pip-version-check --require-hashes --no-deps -r "$work/ninja.txt"
  echo "mmcv==$MMCV --hash=sha256:$MMCV_SDIST_SHA256" > "$work/mmcv.txt"
  # --no-build-isolation: mmcv's setup.py compiles its ops against the torch it can import
  PATH="$work/venv/bin:$PATH" MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "$work/venv/bin/pip" wheel -v --disable-pip-version-check --require-hashes --no-deps \
    --no-build-isolation --no-binary mmcv -r "$work/mmcv.txt" -w "$work/out"
  # the wheel must carry the compiled ops, or RTMO and mmdet fail at their first mmcv.ops import
  "$work/venv/bin/python" -c 'import sys, zipfile; names = zipfile.ZipFile(sys.argv[1]).namelist()
sys.exit(0 if any(n.startswith("mmcv/_ext.") and n.endswith(".so") for n in names) else "no mmcv/_ext*.so")' \
    "$work"/out/mmcv-"$MMCV"-*.whl
} >"$log" 2>&1 || { tail -n 30 "$log" >&2; echo "mmcv_wheel: build failed (log: $log)" >&2; exit 1; }
echo "mmcv_wheel: compiled in $((SECONDS - start)) s" >&2
cached_wheel_store "compiled in $((SECONDS - start)) s on $(nproc) cores, MAX_JOBS=${MAX_JOBS:-$(nproc)}"
