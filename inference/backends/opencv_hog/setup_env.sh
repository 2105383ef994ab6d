#!/usr/bin/env bash
# Build .venvs/opencv-hog (see scripts/backend_env): OpenCV 4.x, which still ships HOGDescriptor.
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../../../scripts/backend_env" opencv-hog "$here/requirements.txt" \
  'import cv2; cv2.HOGDescriptor_getDefaultPeopleDetector(); import courtside.config, inference.runtime.consumer, inference.service'
