"""The ingest exception hierarchy.

Third-party errors (PyAV, aiortc) are translated into these at one boundary
(:mod:`ingest.av_source`, :mod:`ingest.whip_session`), so the rest of the service
reasons about *what failed* and *whether retrying can help*, never about library
types. Messages never carry credentials: URLs are scrubbed before they get here.
"""

from __future__ import annotations


class IngestError(Exception):
    """Base of every error raised by ingest."""


class SourceError(IngestError):
    """A camera source failed. ``permanent`` says whether retrying the same URL can help.

    Permanent errors (file missing, wrong RTSP path, refused credentials) put the
    camera in ``failed``; transient ones (refused connection, timeout, server gone)
    in ``reconnecting``.
    """

    permanent = False


class SourceUnavailable(SourceError):
    """The source could not be reached (connection refused, host unreachable)."""


class SourceTimeout(SourceError):
    """The source did not answer within the open or read timeout."""


class SourceEnded(SourceError):
    """A live source stopped sending: the server closed the stream or went away."""


class SourceCorrupt(SourceError):
    """The bitstream could not be demuxed or decoded (too many consecutive errors)."""


class SourceNotFound(SourceError):
    """The file or RTSP path does not exist."""

    permanent = True


class SourceUnauthorized(SourceError):
    """The server refused the credentials (RTSP 401/403)."""

    permanent = True


class SourceUnsupported(SourceError):
    """The source has no decodable video stream."""

    permanent = True


class WhipError(IngestError):
    """A WHIP request was refused; ``status`` is the HTTP status to answer with."""

    status = 400


class WhipBadOffer(WhipError):
    """The SDP offer is malformed, too large, or offers no usable video codec."""

    status = 400


class WhipUnauthorized(WhipError):
    """Missing or not valid bearer token (unknown, expired, badly signed)."""

    status = 401


class WhipForbidden(WhipError):
    """A valid token without the publish scope for this camera, or a page from a foreign origin."""

    status = 403


class WhipNotAccepted(WhipError):
    """The camera does not exist or is not configured for WHIP pushes (``whip://``)."""

    status = 404


class WhipBusy(WhipError):
    """The camera already has a publisher, or the session limit is reached."""

    status = 409


class WhipSessionNotFound(WhipError):
    """DELETE of an unknown session."""

    status = 404
