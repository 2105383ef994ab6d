#!/usr/bin/env bash
# Write the whole of .venvs/mmpose's (and the mmpose image's) requirements to OUT:
#   inference/backends/mmpose/requirements.sh OUT [--compiled]   (--compiled: the two wheels only)
# = requirements/locks/mmpose.txt (hashed) + the compiled mmcv and xtcocotools wheels, cached
# outside the checkout (mmcv_wheel.sh, xtcocotools_wheel.sh: built from hash-checked sdists when
# missing), each named by its file and the sha256 recorded when it was built. OUT names this
# machine's cache: write it to a temp dir, never into the checkout. Install it with
# `pip install --require-hashes --no-deps -r OUT`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$1" only="${2:-}"
mmcv_dir="$("$here/mmcv_wheel.sh")"
xtc_dir="$("$here/xtcocotools_wheel.sh")"
mmcv_whl="$(ls "$mmcv_dir"/mmcv-2.1.0-*.whl | head -n 1)"
xtc_whl="$(ls "$xtc_dir"/xtcocotools-1.14.3-*.whl | head -n 1)"
{
  [ "$only" = "--compiled" ] || cat "$here/../../../requirements/locks/mmpose.txt"
  echo "mmcv @ file://$mmcv_whl --hash=sha256:$(cat "$mmcv_dir/SHA256")"
  echo "xtcocotools @ file://$xtc_whl --hash=sha256:$(cat "$xtc_dir/SHA256")"
} > "$out.tmp"
mv "$out.tmp" "$out"
