#!/usr/bin/env bash
# Build .venvs/mediapipe idempotently (rebuilt only when requirements.txt changes).
# requirements.txt is the whole environment, pinned, installed with --no-deps: mediapipe
# declares jax, jaxlib and opencv-contrib-python, which the pose path never imports.
# The repository itself is put on the path with a .pth file, not installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
venv="$repo/.venvs/mediapipe"
stamp_want="$(sha256sum "$here/requirements.txt" | cut -c1-16)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.courtside-stamp" 2>/dev/null)" = "$stamp_want" ]; then
  exit 0
fi
PY="${COURTSIDE_PYTHON:-python3}"
rm -rf "$venv"
"$PY" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps -r "$here/requirements.txt"
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$repo" > "$site/courtside-repo.pth"
# --no-deps cannot tell whether the list is complete: import what the service imports.
"$venv/bin/python" -c 'import mediapipe.python.solutions.pose, courtside.config, inference.runtime.consumer'
echo "$stamp_want" > "$venv/.courtside-stamp"
echo "built $venv"
