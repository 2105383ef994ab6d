# Sourced by deploy/buildah/*: where buildah and podman keep Courtside's images and build cache.
# A storage root of its own (outside the checkout, like the base root filesystem), with the
# overlay driver: layers are deltas (vfs copies the whole filesystem at every layer: one lean image
# with --layers took 6 GB with vfs, ~1 GB with overlay). COURTSIDE_CONTAINERS_DRIVER=vfs where
# the kernel refuses overlay mounts.
COURTSIDE_CONTAINERS="${COURTSIDE_CONTAINERS:-${XDG_CACHE_HOME:-$HOME/.cache}/courtside/containers}"
storage=(--root "$COURTSIDE_CONTAINERS/storage" --runroot "$COURTSIDE_CONTAINERS/run"
         --storage-driver "${COURTSIDE_CONTAINERS_DRIVER:-overlay}")
