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
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from contracts.names import InvalidName, validate_name

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


class NatsConfig(_Strict):
    url: SecretStr | None = Field(None, description="NATS URL; omitted = start an embedded nats-server on loopback")
    store_dir: Path | None = Field(None, description="JetStream store of the embedded server (default: a temp dir)")
    max_payload: int = Field(8 * 1024 * 1024, ge=1024, description="max message bytes of the embedded server")


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
        "full: every pixel")
    conf: float = Field(0.25, ge=0, le=1)
    iou: float = Field(0.7, ge=0, le=1)
    classes: list[int] | None = None
    half: bool = Field(False, description="FP16 (GPU only)")
    threads: int | None = Field(None, ge=1, le=256, description="CPU threads for the model (default: all cores)")
    options: dict[str, Any] = Field(default_factory=dict, description="backend-specific options")

    _check_name = field_validator("name")(lambda cls, v: _name(v, "model"))

    @field_validator("cameras")
    @classmethod
    def _check_cameras(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [_name(c, "camera") for c in value]


class IngestConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8001, ge=0, le=65535)
    instance: str = "ingest-1"
    whip_token: SecretStr | None = Field(None, description="bearer token required by POST /whip")


class AuthToken(_Strict):
    token: SecretStr
    scope: Literal["viewer", "operator", "admin"] = "viewer"
    cameras: list[str] | None = Field(None, description="cameras this token may see; omitted = all")


class AuthConfig(_Strict):
    enabled: bool = False
    tokens: list[AuthToken] = Field(default_factory=list)

    @model_validator(mode="after")
    def _tokens_when_enabled(self) -> AuthConfig:
        if self.enabled and not self.tokens:
            raise ValueError("auth.enabled is true but no tokens are configured")
        return self


class FanoutConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    instance: str = "fanout-1"
    client_queue: int = Field(256, ge=8, le=100_000, description="messages buffered per WebSocket client")
    cors_origins: list[str] = Field(default_factory=list)
    web_dir: Path | None = Field(None, description="folder of the web pages; default: the repo's web/")


class ArchiveConfig(_Strict):
    kind: Literal["none", "local", "gcs"] = "none"
    path: Path | None = Field(None, description="local archive directory")
    bucket: str | None = None


class CourtsideConfig(_Strict):
    nats: NatsConfig = NatsConfig()
    cameras: list[CameraConfig] = Field(default_factory=list)
    models: list[ModelConfig] = Field(default_factory=list)
    ingest: IngestConfig = IngestConfig()
    fanout: FanoutConfig = FanoutConfig()
    archive: ArchiveConfig = ArchiveConfig()
    auth: AuthConfig = AuthConfig()
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
        return self

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
