"""YOLO-NAS (super-gradients) detection and pose, in its own environment ``.venvs/yolonas``."""
