"""Per-service NATS users with subject permissions, for the embedded nats-server (pure).

With ``nats.per_service_users`` on, ``courtside up`` starts its nats-server with one user
per service, each allowed only the subjects its service needs, and hands every child the URL
of its own user. Anonymous connections are refused. The point is containment: a compromised
or buggy consumer cannot publish frames, ingest cannot forge annotations.

What each service needs (from the code that publishes and subscribes):

- ingest publishes ``frames.<camera>``, ``clips.<camera>`` (JetStream), the segment objects
  (``$O.segments.>``) and its heartbeat; it answers fanout's ``recording.flush.<camera>`` requests.
- an inference consumer reads ``frames.<camera>`` (and, for a pose model fed by a detector,
  ``annotations.*.*``), other consumers' heartbeats (camera ownership), and publishes
  ``annotations.<camera>.<model>`` and its heartbeat.
- fanout reads annotations, analytics, frames on demand and every heartbeat; it asks ingest to
  flush a recording, acknowledges ``CLIPS`` messages and deletes archived segment objects.
- analytics reads annotations, the calibration key-value bucket and now and then one frame of a
  calibrated camera (the drift check, analytics/drift.py), publishes ``analytics.<camera>`` and its heartbeat.

Each service may use only the JetStream API of the streams it works with (:func:`jetstream_api`,
the one place that maps a use to ``$JS.API`` subjects): ingest creates ``CLIPS`` and the segment
object store ``OBJ_segments``; an inference consumer creates ``ANNOTATIONS``; fanout consumes
``CLIPS`` (the archiver), reads ``ANNOTATIONS`` for a segment's sidecar, reads (never writes) the
``KV_calibration`` bucket for the sidecar's header and reads and deletes segment objects; analytics creates, reads and watches the ``KV_calibration`` bucket. Nobody may
delete a stream, list streams or touch a stream outside its own. Every service receives replies on
``_INBOX.>``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

from courtside_contracts.subjects import (
    ANALYTICS_PREFIX,
    ANNOTATIONS_PREFIX,
    ANNOTATIONS_STREAM,
    CALIBRATION_BUCKET,
    CLIPS_PREFIX,
    CLIPS_STREAM,
    FRAMES_PREFIX,
    RECORDING_PREFIX,
    SEGMENTS_BUCKET,
    SERVICE_ANALYTICS,
    SERVICE_FANOUT,
    SERVICE_INFERENCE,
    SERVICE_INGEST,
    STATUS_PREFIX,
)

_INBOX = "_INBOX.>"
_SEGMENTS = f"$O.{SEGMENTS_BUCKET}.>"
_OBJ_SEGMENTS = f"OBJ_{SEGMENTS_BUCKET}"  # the stream behind an object store / key-value bucket (nats-py)
_KV_CALIBRATION = f"KV_{CALIBRATION_BUCKET}"


def jetstream_api(stream: str, *, create: bool = False, consume: bool = False, get: bool = False,
                  purge: bool = False) -> tuple[str, ...]:
    """The ``$JS.API`` subjects one use of ``stream`` needs (nats-py's requests, nats-server 2.10+).

    Always ``STREAM.INFO`` (opening a bucket and ensuring a stream look first); ``create``: create
    and update it idempotently; ``consume``: create, look up, pull from and delete its consumers
    (``CONSUMER.MSG.NEXT.<stream>.<consumer>``) and answer its flow control; ``get``: read single
    messages (an object's or key's metadata); ``purge``: purge subjects (deleting an object's
    chunks). Never ``STREAM.DELETE``, ``STREAM.LIST``/``NAMES`` or another stream's subjects.
    """
    api = "$JS.API"
    out = [f"{api}.STREAM.INFO.{stream}"]
    if create:
        out += [f"{api}.STREAM.CREATE.{stream}", f"{api}.STREAM.UPDATE.{stream}"]
    if consume:
        out += [f"{api}.CONSUMER.CREATE.{stream}", f"{api}.CONSUMER.CREATE.{stream}.>",
                f"{api}.CONSUMER.DURABLE.CREATE.{stream}.*", f"{api}.CONSUMER.INFO.{stream}.*",
                f"{api}.CONSUMER.MSG.NEXT.{stream}.*", f"{api}.CONSUMER.DELETE.{stream}.*", f"$JS.FC.{stream}.>"]
    if get:
        out += [f"{api}.STREAM.MSG.GET.{stream}", f"{api}.DIRECT.GET.{stream}", f"{api}.DIRECT.GET.{stream}.>"]
    if purge:
        out.append(f"{api}.STREAM.PURGE.{stream}")
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Permissions:
    """Subjects one user may publish to and subscribe to (NATS wildcards); ``allow_responses``
    lets it answer requests (publish to the reply subject of a message it received)."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    allow_responses: bool = False


PERMISSIONS: Mapping[str, Permissions] = {
    SERVICE_INGEST: Permissions(
        publish=(f"{FRAMES_PREFIX}.*", f"{CLIPS_PREFIX}.*", f"{STATUS_PREFIX}.{SERVICE_INGEST}.*", _SEGMENTS,
                 *jetstream_api(CLIPS_STREAM, create=True),
                 *jetstream_api(_OBJ_SEGMENTS, create=True, get=True, purge=True)),
        subscribe=(f"{RECORDING_PREFIX}.flush.*", _INBOX),
        allow_responses=True),
    SERVICE_INFERENCE: Permissions(
        publish=(f"{ANNOTATIONS_PREFIX}.*.*", f"{STATUS_PREFIX}.{SERVICE_INFERENCE}.*",
                 *jetstream_api(ANNOTATIONS_STREAM, create=True)),
        subscribe=(f"{FRAMES_PREFIX}.*", f"{ANNOTATIONS_PREFIX}.*.*", f"{STATUS_PREFIX}.{SERVICE_INFERENCE}.*", _INBOX)),
    SERVICE_FANOUT: Permissions(
        publish=(f"{STATUS_PREFIX}.{SERVICE_FANOUT}.*", f"{RECORDING_PREFIX}.flush.*", "$JS.ACK.>", _SEGMENTS,
                 *jetstream_api(CLIPS_STREAM, create=True, consume=True),
                 *jetstream_api(ANNOTATIONS_STREAM, consume=True),
                 *jetstream_api(_KV_CALIBRATION, get=True),
                 *jetstream_api(_OBJ_SEGMENTS, consume=True, get=True, purge=True)),
        subscribe=(f"{ANNOTATIONS_PREFIX}.*.*", f"{ANALYTICS_PREFIX}.*", f"{FRAMES_PREFIX}.*", f"{STATUS_PREFIX}.*.*",
                   _INBOX)),
    SERVICE_ANALYTICS: Permissions(
        publish=(f"{ANALYTICS_PREFIX}.*", f"{STATUS_PREFIX}.{SERVICE_ANALYTICS}.*", f"$KV.{CALIBRATION_BUCKET}.>",
                 *jetstream_api(_KV_CALIBRATION, create=True, consume=True, get=True)),
        subscribe=(f"{ANNOTATIONS_PREFIX}.*.*", f"{FRAMES_PREFIX}.*", _INBOX)),
}


#: The operator's user of the Kubernetes Job nats-streams (deploy/k8s/base/nats/replicate_streams.py):
#: creates Courtside's streams and buckets and sets their replica count; no service connects as it.
STREAMS_ADMIN = "streams"
STREAMS_ADMIN_PERMISSIONS = Permissions(
    publish=("$JS.API.INFO", *(subject for stream in (ANNOTATIONS_STREAM, CLIPS_STREAM, _OBJ_SEGMENTS, _KV_CALIBRATION)
                               for subject in jetstream_api(stream, create=True))),
    subscribe=(_INBOX,))


@dataclass(frozen=True, slots=True)
class NatsUser:
    """One user of the embedded server; its ``repr`` leaves the password out."""

    name: str
    password: str = field(repr=False)
    permissions: Permissions


def service_users(password: Callable[[], str] = lambda: secrets.token_urlsafe(24)) -> dict[str, NatsUser]:
    """One user per service with a fresh random password (``password`` makes one)."""
    return {name: NatsUser(name, password(), perms) for name, perms in PERMISSIONS.items()}


def permissions_conf(p: Permissions) -> str:
    """One user's ``permissions`` value in nats.conf syntax (the deploy configs carry the same text)."""
    out = f"publish: {{allow: {json.dumps(list(p.publish))}}}, subscribe: {{allow: {json.dumps(list(p.subscribe))}}}"
    return "{" + out + (", allow_responses: true" if p.allow_responses else "") + "}"


def authorization_conf(users: Mapping[str, NatsUser]) -> str:
    """The ``authorization { users: [...] }`` block of nats.conf (strings JSON-quoted)."""
    lines = ["authorization {", "  users: ["]
    for user in users.values():
        lines.append(f"    {{user: {json.dumps(user.name)}, password: {json.dumps(user.password)}, "
                     f"permissions: {permissions_conf(user.permissions)}}}")
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def user_url(url: str, user: NatsUser) -> str:
    """``url`` with ``user``'s name and password in it (``nats://name:password@host:port``)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(user.name, safe='')}:{quote(user.password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
