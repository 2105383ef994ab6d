"""ONNX Runtime backend for YOLO models exported by :mod:`inference.export`.

Pre- and post-processing (letterbox, box decoding, NMS) are our own pure numpy
code, so a runtime image needs only onnxruntime, numpy and OpenCV (no torch).
"""
