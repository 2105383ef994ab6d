"""Ultralytics YOLO backend (YOLO11 / YOLOv8: detect, pose, track).

Import :mod:`inference.backends.yolo.runner` only through the backend factory: it
imports torch and Ultralytics, after :func:`inference.backends.yolo.env.configure_offline`.
"""
