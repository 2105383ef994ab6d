# Sourced by mmcv_wheel.sh and xtcocotools_wheel.sh: the per-machine cache of a wheel compiled
# from a hash-checked sdist, one folder per key (what the wheel was compiled against):
#   ${COURTSIDE_CACHE:-~/.cache/courtside}/wheels/KEY/{NAME-*.whl,SHA256}
#   cached_wheel_open KEY GLOB   0: the cache holds it (its folder printed; the caller exits);
#                                1: not there: $work (a scratch folder, removed at exit) and $log
#                                are set, and the caller builds the wheel into $work/out
#   cached_wheel_store [NOTE]    moves $work/out/GLOB into the cache with its sha256 (and NOTE into
#                                BUILD), then prints the folder
# The key's lock (flock on fd 9) is held from open to exit: a second caller waits for the first
# one's wheel instead of compiling it too. A failed or interrupted build leaves nothing in the cache.
# COURTSIDE_WHEEL_SEED: a read-only folder laid out like the cache's wheels/ (an image build mounts
# this machine's there, deploy/buildah/build): a wheel found there under KEY whose sha256 equals the
# one recorded beside it is copied in instead of compiled. COURTSIDE_PYTHON: the interpreter ($PY,
# whose tag $pytag keys the wheels).
PY="${COURTSIDE_PYTHON:-python3}"
pytag="$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
cache_root="${COURTSIDE_CACHE:-$HOME/.cache/courtside}"

# DIR holds exactly one wheel of $glob and the SHA256 recorded at its build
_cached_wheel_complete() {
  local found=("$1"/$glob)
  [ "${#found[@]}" -eq 1 ] && [ -f "${found[0]}" ] && [ -s "$1/SHA256" ]
}

cached_wheel_open() {
  key="$1" glob="$2"
  wheels="$cache_root/wheels/$key"
  mkdir -p "$cache_root/wheels"
  exec 9>"$cache_root/wheels/.$key.lock"
  flock 9
  local seed="${COURTSIDE_WHEEL_SEED:-}/$key"
  if ! _cached_wheel_complete "$wheels" && [ -n "${COURTSIDE_WHEEL_SEED:-}" ] && _cached_wheel_complete "$seed"; then
    if [ "$(cd "$seed" && sha256sum $glob | cut -d' ' -f1)" = "$(cat "$seed/SHA256")" ]; then
      rm -rf "$wheels.tmp" && cp -R "$seed" "$wheels.tmp" && rm -rf "$wheels" && mv "$wheels.tmp" "$wheels"
      echo "cached_wheel: $key from the seed $COURTSIDE_WHEEL_SEED" >&2
    else
      echo "cached_wheel: $seed: the wheel's sha256 is not the recorded one; building it" >&2
    fi
  fi
  if _cached_wheel_complete "$wheels"; then
    echo "$wheels"
    return 0
  fi
  work="$(mktemp -d "$cache_root/wheels/.build-$key-XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  log="$cache_root/wheels/$key.build.log"
  return 1
}

cached_wheel_store() {
  rm -rf "$wheels.tmp" && mkdir -p "$wheels.tmp"
  mv "$work"/out/$glob "$wheels.tmp/"
  (cd "$wheels.tmp" && sha256sum $glob | cut -d' ' -f1 > SHA256)
  [ -z "${1:-}" ] || echo "$1" > "$wheels.tmp/BUILD"
  rm -rf "$wheels"
  mv "$wheels.tmp" "$wheels"
  echo "$wheels"
}
