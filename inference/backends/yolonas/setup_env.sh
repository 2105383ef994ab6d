#!/usr/bin/env bash
# Build .venvs/yolonas (see scripts/backend_env): super-gradients 3.7.1 on torch 2.14.1.
# requirements.txt is the whole environment, pinned (super-gradients' declared pins cannot resolve
# on Python 3.11); scripts/backend_env installs its hashed lock requirements/locks/yolonas.txt with
# --no-deps, and the build imports what the service imports.
here="$(cd "$(dirname "$0")" && pwd)"
export SUPER_GRADIENTS_LOG_DIR="${TMPDIR:-/tmp}/courtside-sg-setup" CRASH_HANDLER=FALSE UPLOAD_LOGS=FALSE
exec "$here/../../../scripts/backend_env" yolonas "$here/requirements.txt" \
  'import inference.backends.yolonas.sg_env as e; e.import_super_gradients(); import courtside.config, inference.runtime.consumer' \
  --no-deps
