"""The one typed configuration of every Courtside service.

Built once at start-up from a YAML file plus ``COURTSIDE_*`` environment
variables and passed in explicitly; nothing deeper reads the environment.
Unknown keys are refused and every error names the field and the file.

Environment overrides use ``__`` between levels, e.g.
``COURTSIDE_NATS__URL=nats://127.0.0.1:4222`` or ``COURTSIDE_FANOUT__PORT=9000``;
values are parsed as YAML scalars/lists (``COURTSIDE_AUTH__ENABLED=true``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from courtside_contracts.names import InvalidName, validate_name
from courtside_contracts.ws import ANALYTICS_MODEL
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

ENV_PREFIX = "COURTSIDE_"
SOURCE_SCHEMES = ("rtsp", "rtsps", "file", "demo", "whip")


class ConfigError(Exception):
    """The configuration is invalid; the message says which field and which file."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _name(value: str, kind: str) -> str:
    try:
        return validate_name(value, kind)
    except InvalidName as exc:
        raise ValueError(str(exc)) from None


class NatsTlsConfig(_Strict):
    """TLS for NATS: every service verifies the server's certificate against ``ca``; ``cert`` and
    ``key`` are the embedded server's (``courtside up`` / ``courtside nats`` serve TLS with them).
    A server you run yourself (``nats.url``) has them in its own nats.conf instead."""

    ca: Path = Field(description="CA certificate (PEM) that signed the server's certificate; clients trust only it")
    cert: Path | None = Field(None, description="certificate (PEM) of the embedded nats-server, for 127.0.0.1 "
                              "(an IP SAN); with nats.url leave it out")
    key: Path | None = Field(None, description="private key (PEM) of `cert`")

    @model_validator(mode="after")
    def _cert_with_key(self) -> NatsTlsConfig:
        if (self.cert is None) != (self.key is None):
            missing, given = ("key", "cert") if self.key is None else ("cert", "key")
            raise ValueError(f"{missing}: required when {given} is set (the server needs both)")
        return self


class NatsConfig(_Strict):
    url: SecretStr | None = Field(None, description="NATS URL; omitted = start an embedded nats-server on loopback")
    store_dir: Path | None = Field(None, description="JetStream store of the embedded server (default: a temp dir)")
    max_payload: int = Field(8 * 1024 * 1024, ge=1024, description="max message bytes of the embedded server")
    per_service_users: bool = Field(
        False, description="the embedded server of `courtside up` gets one user per service with subject "
        "permissions (ingest may publish frames, not annotations; a consumer may not publish frames), "
        "fresh random passwords, no anonymous access; each child connects as its own user. With nats.url "
        "the server is yours: put the service's user in each service's URL (deploy/nats/nats.conf)")
    tls: NatsTlsConfig | None = Field(None, description="TLS to NATS (omitted = plain text, fine on loopback); "
                                      "every service then connects with TLS and refuses a server without it")

    @model_validator(mode="after")
    def _users_need_the_embedded_server(self) -> NatsConfig:
        if self.per_service_users and self.url is not None:
            raise ValueError("per_service_users configures the embedded server; with url set, give each "
                             "service its own user in its URL instead")
        if self.tls is not None:
            if self.url is None and self.tls.cert is None:
                raise ValueError("tls.cert and tls.key: required for the embedded nats-server (nats.url unset) "
                                 "to serve TLS")
            if self.url is not None and self.tls.cert is not None:
                raise ValueError("tls.cert and tls.key: only for the embedded nats-server; with nats.url the "
                                 "server's own config holds its certificate (keep tls.ca)")
        return self


class CameraConfig(_Strict):
    id: str = Field(description="camera id, a subject token [A-Za-z0-9_-]{1,64}")
    url: SecretStr = Field(description="rtsp://, rtsps://, file://<path>, demo:// (generated court) or whip:// (WebRTC push)")
    fps: float = Field(15.0, gt=0, le=120, description="publish at most this many frames per second")
    max_side: int = Field(1280, ge=64, le=7680, description="resize so the long side is at most this many pixels")
    jpeg_quality: int = Field(80, ge=10, le=100)
    rtsp_transport: Literal["tcp", "udp"] = "tcp"
    open_timeout_s: float = Field(5.0, gt=0, le=120)
    read_timeout_s: float = Field(5.0, gt=0, le=120)
    backoff_cap_s: float = Field(30.0, gt=0, le=3600, description="cap of the reconnect backoff")
    loop: bool = Field(True, description="file sources: start again at the end")

    _check_id = field_validator("id")(lambda cls, v: _name(v, "camera"))

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        scheme = urlsplit(raw).scheme.lower()
        if scheme not in SOURCE_SCHEMES:
            raise ValueError(f"camera url must start with one of {', '.join(s + '://' for s in SOURCE_SCHEMES)}")
        if scheme in ("rtsp", "rtsps") and not urlsplit(raw).hostname:
            raise ValueError("rtsp url has no host")
        if scheme == "file" and not urlsplit(raw).path:
            raise ValueError("file url has no path")
        return value

    @property
    def scheme(self) -> str:
        return urlsplit(self.url.get_secret_value()).scheme.lower()


class ModelConfig(_Strict):
    name: str = Field(description="model name, a subject token; annotations go to annotations.<cam>.<name>")
    backend: str = Field("ultralytics", description="adapter: ultralytics, onnx, ... (see inference/backends)")
    weights: str = Field("yolo11n.pt", description="weights path or name; untrained fallback when unavailable")
    task: Literal["detect", "pose", "track"] = "detect"
    cameras: list[str] | None = Field(None, description="cameras to serve; omitted = all")
    device: str = Field("cpu", description="cpu, cuda, cuda:0, ...")
    batch: int = Field(4, ge=1, le=64, description="max frames per micro-batch")
    max_wait_ms: float = Field(5.0, ge=0, le=1000, description="how long a batch waits to fill")
    max_age_ms: float = Field(1000.0, gt=0, description="frames older than this are dropped, never run")
    imgsz: int = Field(640, ge=32, le=4096)
    decode: Literal["auto", "full"] = Field(
        "auto", description="auto: decode JPEGs at the smallest libjpeg scale (M/8) whose long side still "
        "covers the model input (1280x720 -> 640x360 for imgsz 640), for models that resize to imgsz anyway; "
        "in full when only a scale above 1/2 would cover it (those cost as much as a full decode); full: every pixel")
    decode_ahead: bool = Field(
        True, description="true: decode the next batch's JPEGs in a decode thread while the model still runs "
        "the current one (hides decode behind a busy model); false: take frames only when the model is idle and "
        "decode them in the model's thread just before it runs them (one thread hop less per batch, and no frame "
        "decoded that a newer one supersedes while the model is busy): for a fast model that is mostly idle")
    nice: int = Field(
        0, ge=0, le=19, description="niceness added to the consumer's process at start (Linux: every thread "
        "inherits it): a slow model with latency to spare yields the cores to a fast one and to ingest. It weighs "
        "processes sharing the CPUs (courtside up, one host); between containers their CPU shares decide")
    conf: float = Field(0.25, ge=0, le=1)
    iou: float = Field(0.7, ge=0, le=1)
    classes: list[int] | None = None
    half: bool = Field(False, description="FP16 (GPU only)")
    threads: int | None = Field(None, ge=1, le=256, description="CPU threads for the model (default: all cores)")
    options: dict[str, Any] = Field(default_factory=dict, description="backend-specific options")
    host: str = Field("127.0.0.1", description="address of the consumer's /healthz, /readyz and /metrics "
                      "(0.0.0.0 in a container, for the orchestrator's probes)")
    port: int = Field(0, ge=0, le=65535, description="port of /healthz, /readyz and /metrics; 0 = a free "
                      "one, announced as http_port in the heartbeat and GET /api/models")

    _check_name = field_validator("name")(lambda cls, v: _name(v, "model"))

    @field_validator("cameras")
    @classmethod
    def _check_cameras(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [_name(c, "camera") for c in value]


class IngestConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8001, ge=0, le=65535)
    instance: str = "ingest-1"
    whip_token: SecretStr | None = Field(
        None, description="a static token that may publish to every WHIP camera (besides auth tokens "
        "with the publish scope when auth.enabled)")
    cors_origins: list[str] = Field(
        default_factory=list, description="origins of browser pages that may publish over WHIP "
        "(exact, e.g. https://app.example; \"*\" = any)")


#: Rights a token can carry (:class:`courtside.auth.Scope`); ``admin`` is shorthand for all of them.
ScopeName = Literal["read", "write", "publish", "operator", "admin"]
#: The older single-role form of a static token (``scope: viewer``) and the scopes it stands for.
LEGACY_ROLES: dict[str, list[str]] = {"viewer": ["read"], "operator": ["read", "operator"], "admin": ["admin"]}


class AuthToken(_Strict):
    token: SecretStr = Field(description="the static bearer token (compared as a SHA-256 digest)")
    scopes: list[ScopeName] = Field(
        default_factory=lambda: list[ScopeName](["read"]),
        description="read: live streams and lists; write: save clips and exports; publish: WHIP "
                    "pushes; operator: /metrics and service state; admin: all of them")
    cameras: list[str] | None = Field(None, description="cameras this token may use; omitted = all")

    @model_validator(mode="before")
    @classmethod
    def _legacy_role(cls, data: Any) -> Any:
        """``scope: viewer|operator|admin`` (one role, the older form) becomes ``scopes``."""
        if isinstance(data, Mapping) and "scope" in data:
            data = dict(data)
            role = data.pop("scope")
            if "scopes" in data:
                raise ValueError("give scopes or the older scope role, not both")
            if role not in LEGACY_ROLES:
                raise ValueError(f"scope must be one of {', '.join(LEGACY_ROLES)} (or use scopes: [...])")
            data["scopes"] = LEGACY_ROLES[role]
        return data

    @field_validator("cameras")
    @classmethod
    def _check_cameras(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [_name(c, "camera") for c in value]


class JwtConfig(_Strict):
    """Signed tokens (JWT) accepted besides the static ones; issue them with ``courtside token``."""

    audience: str = Field("courtside", min_length=1, description="required value of the aud claim")
    issuer: str | None = Field(None, description="required value of the iss claim; omitted = not checked")
    hs256_secret: SecretStr | None = Field(None, description="shared HS256 key, at least 32 bytes")
    public_key_files: list[Path] = Field(
        default_factory=list, description="PEM public keys (Ed25519 for EdDSA, RSA >= 2048 bits for RS256)")
    leeway_s: float = Field(30.0, ge=0, le=300, description="clock skew allowed on exp/nbf/iat, seconds")
    max_lifetime_s: float = Field(
        30 * 86400, gt=0, description="tokens whose exp lies further than this past iat (or now) are refused")

    @field_validator("hs256_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("hs256_secret must be at least 32 bytes (RFC 7518 3.2)")
        return value

    @model_validator(mode="after")
    def _some_key(self) -> JwtConfig:
        if self.hs256_secret is None and not self.public_key_files:
            raise ValueError("auth.jwt needs hs256_secret or public_key_files")
        return self


class AuthConfig(_Strict):
    enabled: bool = False
    tokens: list[AuthToken] = Field(default_factory=list, description="static bearer tokens")
    jwt: JwtConfig | None = Field(None, description="signed tokens; omitted = static tokens only")

    @model_validator(mode="after")
    def _tokens_when_enabled(self) -> AuthConfig:
        if self.enabled and not self.tokens and self.jwt is None:
            raise ValueError("auth.enabled is true but no tokens (static or jwt) are configured")
        return self


class FanoutConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    instance: str = "fanout-1"
    client_queue: int = Field(256, ge=8, le=100_000, description="messages buffered per WebSocket client")
    cors_origins: list[str] = Field(default_factory=list)
    web_dir: Path | None = Field(None, description="folder of the web pages; default: the repo's web/")
    analytics_url: str | None = Field(
        None, description="base URL (http://host:port) of the analytics service's calibration API, which fanout "
        "passes the live page's calibration requests to; omitted = calibration answers 503")

    @field_validator("analytics_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"must be http(s)://host:port, got {value[:100]!r}")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials")
        return value.rstrip("/")


class AnalyticsConfig(_Strict):
    """``courtside analytics``: court analytics from one player model and one ball model (analytics/)."""

    player_model: str = Field(description="models[].name whose annotations give the players (detect, pose or "
                              "track; feet keypoints when it has them, else the box bottom)")
    ball_model: str = Field(description="models[].name whose annotations give the ball (its ``ball`` field)")
    player_label: str = Field("person", min_length=1, max_length=64,
                              description="object label of a player in the player model's annotations")
    ball_noise_px: float = Field(0.0, ge=0, le=5,
                                 description="the ball model's pixel error (one sigma per axis) that the one-view "
                                 "3D ball allows for, with longer fits, in pixels of the calibrated image (the "
                                 "calibration's width x height: a 640x360 model's error counts twice against a "
                                 "1280x720 calibration); 0 = exact pixels. Measured on the simulator (640x360): "
                                 "at 0.5 px, bounce recall 0.63-0.73 with 0.5 here against 0.16-0.33 with 0; at "
                                 "1 px neither is usable (docs/benchmarks.md)")
    cameras: list[str] | None = Field(None, description="cameras to analyse; omitted = every camera")
    instance: str = Field("analytics-1", description="instance name in status.analytics.<instance>")
    host: str = Field("127.0.0.1", description="address of /healthz, /readyz, /metrics and the calibration API")
    port: int = Field(8003, ge=0, le=65535, description="port of those endpoints; 0 = a free one (logged)")
    drift_interval_s: float = Field(5.0, ge=0, le=3600,
                                    description="seconds between checks of each calibrated camera against the court "
                                    "lines of a live frame (a moved camera is flagged and re-fitted); 0 = no checks")
    seed_calibrations: dict[str, Literal["demo-scene"]] = Field(
        default_factory=dict, description="camera -> a calibration stored at start when the camera has none in "
        "the store (a stored one is never replaced): demo-scene = the camera the demo court (demo://padel) is "
        "rendered from, known exactly, and labelled so in the stored record; only for a demo://padel camera")

    @field_validator("player_model", "ball_model", "instance")
    @classmethod
    def _token(cls, value: str) -> str:
        return _name(value, "name")

    @field_validator("cameras")
    @classmethod
    def _camera_names(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [_name(c, "camera") for c in value]


class ArchiveConfig(_Strict):
    """Recording (ingest), the archiver (fanout or ``courtside archive``) and replay limits."""

    kind: Literal["none", "local", "gcs"] = Field(
        "none", description="none: nothing is recorded; local: segments archived in a directory (path); "
        "gcs: in a Google Cloud Storage bucket (credentials from the environment, "
        "STORAGE_EMULATOR_HOST for an emulator)")
    path: Path | None = Field(None, description="kind local: the archive directory")
    bucket: str | None = Field(None, description="kind gcs: the bucket name")
    project: str | None = Field(None, description="kind gcs: the project id (default: from the credentials)")
    prefix: str = Field("courtside", pattern=r"^[A-Za-z0-9_-]{1,64}$",
                        description="first folder of every object: <prefix>/<camera>/<YYYY>/<MM>/<DD>/...")
    segment_s: float = Field(10.0, ge=2, le=600, description="target segment length, seconds (cut on keyframes)")
    fragment_s: float = Field(1.0, ge=0.1, le=10, description="fMP4 fragment length, seconds: a crash loses at most one")
    spool_dir: Path | None = Field(None, description="ingest's local spool (default: a courtside-spool temp dir)")
    spool_max_bytes: int = Field(2 * 1024**3, ge=1024**2, description="spool bytes per camera; the oldest go first")
    spool_max_age_s: float = Field(24 * 3600.0, gt=0, description="seconds a segment may wait in the spool")
    object_store_max_bytes: int = Field(
        1024**3, ge=16 * 1024**2, description="bytes of the NATS object store 'segments' (segments not yet archived)")
    annotation_grace_s: float = Field(
        2.0, ge=0, le=60, description="longest wait, seconds after a segment's end, for its last annotations: "
        "the archiver goes on as soon as every model has answered past the segment's last frame")
    retention_days: float | None = Field(30.0, gt=0, description="archived segments older than this are deleted; "
                                         "null = kept forever; saved clips are never deleted")
    camera_retention_days: dict[str, float] = Field(
        default_factory=dict, description="per-camera retention in days, overriding retention_days")
    max_range_s: float = Field(24 * 3600.0, gt=0, description="longest time range of a replay listing, seconds")
    max_export_s: float = Field(600.0, gt=0, description="longest exported or saved range, seconds")
    archiver_in_fanout: bool = Field(True, description="fanout runs the archiver; false when `courtside archive` "
                                     "processes do it (scale-out)")

    @field_validator("camera_retention_days")
    @classmethod
    def _check_retention(cls, value: dict[str, float]) -> dict[str, float]:
        for camera, days in value.items():
            _name(camera, "camera")
            if not days > 0:
                raise ValueError(f"camera_retention_days.{camera} must be > 0 days")
        return value

    @model_validator(mode="after")
    def _backend_fields(self) -> ArchiveConfig:
        if self.kind == "local" and self.path is None:
            raise ValueError("archive.kind local needs archive.path (the archive directory)")
        if self.kind == "gcs" and not self.bucket:
            raise ValueError("archive.kind gcs needs archive.bucket")
        if self.kind != "gcs" and (self.bucket or self.project):
            raise ValueError("archive.bucket/project are for kind gcs only")
        if self.fragment_s >= self.segment_s:
            raise ValueError("archive.fragment_s must be shorter than archive.segment_s")
        return self

    def retention_for(self, camera: str) -> float | None:
        """Days an archived segment of ``camera`` is kept (None: forever)."""
        return self.camera_retention_days.get(camera, self.retention_days)


class SupervisorConfig(_Strict):
    """``courtside up``: restarts of crashed children, and the supervisor's own status endpoint."""

    host: str = Field("127.0.0.1", description="address of the supervisor's GET /api/services, /healthz, "
                      "/readyz and /metrics")
    port: int = Field(8002, ge=0, le=65535, description="port of those endpoints; 0 = a free one (logged)")
    restart_backoff_s: float = Field(0.5, gt=0, le=60, description="delay before the first restart of a "
                                     "crashed child, seconds; doubles with each crash in a row (+-20 % jitter)")
    restart_backoff_max_s: float = Field(30.0, gt=0, le=3600, description="cap of the restart delay, seconds")
    give_up_crashes: int = Field(5, ge=1, le=1000, description="a child that crashes more often than this "
                                 "within give_up_window_s stops `courtside up` with a message saying so")
    give_up_window_s: float = Field(60.0, gt=0, le=86400, description="window of give_up_crashes, seconds")

    @model_validator(mode="after")
    def _backoff_order(self) -> SupervisorConfig:
        if self.restart_backoff_s > self.restart_backoff_max_s:
            raise ValueError("restart_backoff_s must not exceed restart_backoff_max_s")
        return self


class CourtsideConfig(_Strict):
    nats: NatsConfig = NatsConfig()
    cameras: list[CameraConfig] = Field(default_factory=list)
    models: list[ModelConfig] = Field(default_factory=list)
    ingest: IngestConfig = IngestConfig()
    fanout: FanoutConfig = FanoutConfig()
    archive: ArchiveConfig = ArchiveConfig()
    auth: AuthConfig = AuthConfig()
    analytics: AnalyticsConfig | None = Field(None, description="court analytics; omitted = none")
    supervisor: SupervisorConfig = SupervisorConfig()
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @model_validator(mode="after")
    def _unique_and_known(self) -> CourtsideConfig:
        for kind, names in (("camera", [c.id for c in self.cameras]), ("model", [m.name for m in self.models])):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} names: {', '.join(dupes)}")
        known = {c.id for c in self.cameras}
        for model in self.models:
            unknown = sorted(set(model.cameras or ()) - known) if known else []
            if unknown:
                raise ValueError(f"model {model.name} names unknown cameras: {', '.join(unknown)}")
        if ANALYTICS_MODEL in {m.name for m in self.models}:
            raise ValueError(f"no model may be named {ANALYTICS_MODEL!r}: WebSocket clients ask for the analytics "
                             "messages under that name")
        if self.analytics is not None:
            models = {m.name for m in self.models}
            for field_name in ("player_model", "ball_model"):
                if getattr(self.analytics, field_name) not in models:
                    raise ValueError(f"analytics.{field_name} {getattr(self.analytics, field_name)!r} is not in "
                                     f"models (known: {', '.join(sorted(models)) or 'none'})")
            unknown = sorted(set(self.analytics.cameras or ()) - known) if known else []
            if unknown:
                raise ValueError(f"analytics names unknown cameras: {', '.join(unknown)}")
            self._check_seeds(self.analytics)
        return self

    def _check_seeds(self, analytics: AnalyticsConfig) -> None:
        """A seeded calibration is for a camera analytics serves, and demo-scene for the demo court only."""
        urls = {c.id: urlsplit(c.url.get_secret_value()) for c in self.cameras}
        for camera, seed in analytics.seed_calibrations.items():
            where = f"analytics.seed_calibrations.{camera}"
            if camera not in urls:
                raise ValueError(f"{where}: no camera {camera!r} (known: {', '.join(sorted(urls)) or 'none'})")
            if analytics.cameras is not None and camera not in analytics.cameras:
                raise ValueError(f"{where}: the camera is not in analytics.cameras")
            url = urls[camera]
            if seed == "demo-scene" and (url.scheme != "demo" or (url.netloc or url.path.strip("/")) != "padel"):
                raise ValueError(f"{where}: demo-scene is the demo court's camera; {camera} is not demo://padel")

    def model(self, name: str) -> ModelConfig:
        for model in self.models:
            if model.name == name:
                return model
        raise ConfigError(f"no model named {name!r} in the configuration "
                          f"(known: {', '.join(m.name for m in self.models) or 'none'})")


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX) or key == "COURTSIDE_CONFIG":
            continue
        path = [p.lower() for p in key[len(ENV_PREFIX):].split("__") if p]
        if not path:
            continue
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{key}: conflicts with another COURTSIDE_ variable")
        try:
            node[path[-1]] = yaml.safe_load(raw) if raw != "" else None
        except yaml.YAMLError:
            node[path[-1]] = raw
    return tree


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _describe(error: ValidationError) -> str:
    lines = []
    for err in error.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"  {where}: {msg}")
    return "\n".join(lines)


def parse_config(data: Mapping[str, Any] | None, source: str = "<config>",
                 environ: Mapping[str, str] | None = None) -> CourtsideConfig:
    """Validate a config mapping merged with ``COURTSIDE_*`` overrides."""
    if data is not None and not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping of sections")
    merged = _merge(dict(data or {}), _env_overrides(os.environ if environ is None else environ))
    try:
        return CourtsideConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration in {source}:\n{_describe(exc)}") from None


def load_config(path: Path | str | None, environ: Mapping[str, str] | None = None) -> CourtsideConfig:
    """Read ``path`` (YAML) or, when None, only defaults plus the environment."""
    if path is None:
        return parse_config({}, "<defaults>", environ)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(data, str(path), environ)
