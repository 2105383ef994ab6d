"""MediaPipe Pose (pretrained BlazePose, bundled in mediapipe 0.10.21): one person's pose per image.

Runs in its own environment, ``.venvs/mediapipe`` (``setup_env.sh``); see ``runner.py``.
"""
