#!/usr/bin/env bash
# Build .venvs/opencv-hog idempotently (rebuilt only when requirements.txt changes).
# The repository itself is put on the path with a .pth file, not installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
venv="$repo/.venvs/opencv-hog"
stamp_want="$(sha256sum "$here/requirements.txt" | cut -c1-16)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.courtside-stamp" 2>/dev/null)" = "$stamp_want" ]; then
  exit 0
fi
PY="${COURTSIDE_PYTHON:-python3}"
rm -rf "$venv"
"$PY" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$repo" > "$site/courtside-repo.pth"
echo "$stamp_want" > "$venv/.courtside-stamp"
echo "built $venv"
