"""The archive: segments and their annotation sidecars kept in GCS or a local directory,
written by the archiver (a durable JetStream consumer) and read by the replay API."""
