#!/usr/bin/env bash
# Ensure the xtcocotools wheel that .venvs/mmpose installs is in its cache, building it when missing.
#   inference/backends/mmpose/xtcocotools_wheel.sh   -> prints the cache folder holding the wheel
# PyPI's xtcocotools 1.14.3 wheel is built against numpy 1 and breaks on numpy 2, so its sdist
# (checked against the hash below) is built against the numpy of requirements/locks/mmpose.txt
# (~10 s), once per machine, cached outside the checkout keyed by the xtcocotools, numpy and
# Python versions: ${COURTSIDE_CACHE:-~/.cache/courtside}/wheels/xtcocotools-1.14.3-numpy-2.4.6-cp311/
# The wheel's sha256 is written beside it; a failed build leaves nothing in the cache.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lock="$here/../../../requirements/locks/mmpose.txt"
XTC=1.14.3
XTC_SDIST_SHA256=6434382784d206204d2a1b491dba359ff3464a2b9eb5890fbc0d868cad4e810f
NUMPY="$(sed -n 's/^numpy==\([^ ]*\).*/\1/p' "$lock")"
[ -n "$NUMPY" ] || { echo "xtcocotools_wheel: no numpy pin in $lock" >&2; exit 1; }
# shellcheck source=inference/backends/mmpose/cached_wheel.sh
source "$here/cached_wheel.sh"
cached_wheel_open "xtcocotools-$XTC-numpy-$NUMPY-$pytag" "xtcocotools-$XTC-*.whl" && exit 0
{
  "$PY" -m venv "$work/venv"
  "$work/venv/bin/pip" install --disable-pip-version-check "numpy==$NUMPY" "cython==3.3.1" "setuptools==80.10.2"
  echo "xtcocotools==$XTC --hash=sha256:$XTC_SDIST_SHA256" > "$work/xtc.txt"
  "$work/venv/bin/pip" wheel --disable-pip-version-check --require-hashes --no-deps --no-build-isolation \
    --no-binary xtcocotools -r "$work/xtc.txt" -w "$work/out"
} >"$log" 2>&1 || { tail -n 30 "$log" >&2; echo "xtcocotools_wheel: build failed (log: $log)" >&2; exit 1; }
cached_wheel_store
