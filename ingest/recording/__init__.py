"""Recording: each camera's own packets remuxed (no re-encode) into fragmented MP4 segments,
spooled locally and shipped over NATS (object store ``segments`` + ``clips.<camera>``)."""
