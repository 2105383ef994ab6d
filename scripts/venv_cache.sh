# Sourced by scripts/bootstrap and scripts/backend_env: environments built once per machine.
#
# An environment is built from its lock into ~/.cache/courtside/envs/<name>-<stamp> (the stamp
# hashes the lock and the build script), then laid into the checkout as hard links: every
# checkout and CI clone of the same lock shares one copy on disk (the backend environments are
# 0.3-6 GB each) and pays the install once. What is checkout-specific (the repository on the
# path, editable installs, console-script shebangs) is written into the copy as new files, never
# through a link, so the cached build is never changed. A cross-device checkout gets a full copy.
# COURTSIDE_ENV_CACHE=DIR moves the cache; the two newest builds of each name are kept.

venv_cache_root="${COURTSIDE_ENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/courtside/envs}"

# venv_from_cache NAME STAMP DEST BUILD_FUNCTION: DEST becomes a copy of the cached build of
# NAME at STAMP, made first by `BUILD_FUNCTION DIR` (a fresh venv at DIR to fill) when missing.
venv_from_cache() {
  local name="$1" stamp="$2" dest="$3" build="$4"
  local cached="$venv_cache_root/$name-$stamp"
  if [ ! -f "$cached/.courtside-complete" ]; then
    local tmp="$cached.building.$$"
    rm -rf "$tmp" "$cached"
    mkdir -p "$venv_cache_root"
    "${COURTSIDE_PYTHON:-python3}" -m venv "$tmp"
    "$build" "$tmp"
    echo "$tmp" > "$tmp/.courtside-complete"  # the path the build's scripts name
    mv "$tmp" "$cached"
    venv_cache_prune "$name"
  fi
  mkdir -p "$(dirname "$dest")"
  dest="$(cd "$(dirname "$dest")" && pwd)/$(basename "$dest")"
  rm -rf "$dest"
  cp -al "$cached" "$dest" 2>/dev/null || { rm -rf "$dest"; cp -a "$cached" "$dest"; }
  local built_at script
  built_at="$(cat "$cached/.courtside-complete")"
  rm -f "$dest/.courtside-complete"
  # Console scripts and activate name the venv by absolute path: point them at this copy. sed -i
  # writes a new file, so the cached script keeps its own text.
  for script in "$dest"/bin/*; do
    [ -f "$script" ] && [ ! -L "$script" ] || continue
    if grep -Iq -F "$built_at" "$script"; then
      sed -i "s|$built_at|$dest|g" "$script"
    fi
  done
}

# Keeps the two newest complete builds of NAME.
venv_cache_prune() {
  local name="$1" old
  # shellcheck disable=SC2012
  for old in $(ls -1dt "$venv_cache_root/$name"-* 2>/dev/null | grep -v '\.building\.' | tail -n +3); do
    rm -rf "$old"
  done
}

# Writes FILE anew (never through a hard link into the cache) with the rest of the arguments.
write_fresh() {
  local file="$1"
  shift
  rm -f "$file"
  printf '%s\n' "$@" > "$file"
}
