"""Inference service: frames.<camera> -> model -> annotations.<camera>.<model>.

``runtime/`` is the backend-independent consumer (newest-frame slots, micro-batching,
a worker thread, publishing, heartbeats); ``backends/`` holds one adapter per model
family behind the :class:`inference.backends.base.Runner` interface.
"""
