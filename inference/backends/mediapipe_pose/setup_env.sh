#!/usr/bin/env bash
# Build .venvs/mediapipe (see scripts/backend_env). requirements.txt is the whole environment,
# pinned, installed with --no-deps: mediapipe declares jax, jaxlib and opencv-contrib-python,
# which the pose path never imports. --no-deps cannot tell whether the list is complete, so the
# build imports what the service imports.
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../../../scripts/backend_env" mediapipe "$here/requirements.txt" \
  'import mediapipe.python.solutions.pose, courtside.config, inference.runtime.consumer, inference.service' --no-deps
