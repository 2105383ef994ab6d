"""Ingest: cameras (RTSP, WHIP, files, demo) -> decoded, capped, resized JPEG on ``frames.<camera>``.

Data flow per camera: a source worker thread (PyAV demux/decode, or a WHIP track)
-> :mod:`ingest.pacing` (real-time pacing of files, fps cap) -> :mod:`ingest.jpeg_encoder`
(resize + JPEG) -> :mod:`ingest.handoff` (bounded, drop-oldest) -> :mod:`ingest.publisher`
(event loop, core NATS). :mod:`ingest.service` wires it together.
"""
