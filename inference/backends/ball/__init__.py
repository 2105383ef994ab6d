"""A TrackNet-style ball tracker of our own: network, tracker, data, training, evaluation, serving.

``model`` (the causal heatmap network, two sizes), ``frames`` (preprocessing and the
per-camera frame history, pure), ``peaks`` (heatmap -> candidates, pure numpy),
``tracker`` (gating, gap bridging, the trail; pure), ``data`` (simulator and
TrackNet-CSV datasets), ``metrics`` (the TrackNet protocol), ``train`` and
``evaluate`` (commands), ``runner`` (the consumer backend), ``export`` (ONNX).
"""
