"""Signed tokens (JWT, RFC 7519) through PyJWT: the one boundary where its errors are translated.

Algorithms: HS256 (a shared secret), EdDSA (Ed25519) and RS256 (RSA >= 2048 bits). The
algorithm is fixed by the key, never taken from the token (no ``alg`` confusion, no
``none``). A token names its key with ``kid`` (the first 16 hex digits of the SHA-256 of
the public key's DER, or ``hs256``); without one, every key of the header's algorithm
is tried.

Claims: ``aud`` (required, = ``auth.jwt.audience``), ``exp`` (required), ``iss`` (when
configured), ``scope`` (space-separated scope names, required), ``cameras`` (list of
camera ids, ``["*"]`` = every camera, required), ``sub`` (a label for logs), ``iat``,
``nbf``, ``jti``. Error messages are fixed per failure kind and never quote the token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jwt
from courtside_contracts.names import is_valid_name
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.types import Options

from courtside.auth.errors import AuthSetupError, Unauthorized
from courtside.auth.principal import Principal, parse_scopes
from courtside.config import JwtConfig

Algorithm = Literal["HS256", "EdDSA", "RS256"]
ALGORITHMS: tuple[Algorithm, ...] = ("HS256", "EdDSA", "RS256")
ALL_CAMERAS = "*"
MIN_RSA_BITS = 2048
HS256_KID = "hs256"
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
_LABEL = re.compile(r"[^A-Za-z0-9_.@:-]")

#: PyJWT's exceptions -> what the caller is told (most specific first).
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet (nbf/iat in the future)"),
    (jwt.InvalidAudienceError, "the token is for another audience"),
    (jwt.InvalidIssuerError, "the token is from another issuer"),
    (jwt.MissingRequiredClaimError, "the token lacks a required claim (aud, exp)"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
    (jwt.InvalidAlgorithmError, "the token's algorithm is not accepted"),
    (jwt.InvalidKeyError, "the token's algorithm is not accepted"),
    (jwt.DecodeError, "the token is not a well-formed JWT"),
    (jwt.InvalidTokenError, "the token is not valid"),
)


def looks_like_jwt(token: str) -> bool:
    """Three base64url segments joined by dots (the compact serialization)."""
    parts = token.split(".")
    return len(parts) == 3 and all(_SEGMENT.match(p) for p in parts)


def key_id(public_key: ed25519.Ed25519PublicKey | rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class VerifyKey:
    """One key tokens may be signed with; ``key`` is a cryptography public key or the HS256 bytes."""

    algorithm: Algorithm
    kid: str
    key: Any = field(repr=False)


def _algorithm_of(key: object, path: Path) -> Algorithm:
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise AuthSetupError(f"{path}: RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} needed")
        return "RS256"
    raise AuthSetupError(f"{path}: not an Ed25519 or RSA key ({type(key).__name__})")


def _read_pem(path: Path, what: str, load: Callable[[bytes], object],
              malformed: tuple[type[Exception], ...], why: str) -> tuple[Algorithm, object]:
    """Load one PEM key file with ``load``; every failure is an :class:`AuthSetupError` naming the file."""
    try:
        key = load(path.read_bytes())
    except OSError as exc:
        raise AuthSetupError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except malformed:
        raise AuthSetupError(f"{path}: {why}") from None
    return _algorithm_of(key, path), key


def load_public_key(path: Path) -> VerifyKey:
    """A PEM public key file; :class:`AuthSetupError` naming the file when unusable."""
    algorithm, key = _read_pem(path, "public key", serialization.load_pem_public_key, (ValueError,),
                               "not a PEM public key")
    assert isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey)
    return VerifyKey(algorithm, key_id(key), key)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """What ``courtside token`` signs with; the secret never shows in its repr."""

    algorithm: Algorithm
    kid: str
    key: Any = field(repr=False)


def load_private_key(path: Path) -> SigningKey:
    """A PEM private key file (unencrypted PKCS#8 or traditional), Ed25519 or RSA."""
    algorithm, key = _read_pem(path, "private key",
                               lambda data: serialization.load_pem_private_key(data, password=None),
                               (ValueError, TypeError), "not an unencrypted PEM private key")
    assert isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey)
    return SigningKey(algorithm, key_id(key.public_key()), key)


def hs256_key(secret: str) -> SigningKey:
    return SigningKey("HS256", HS256_KID, secret.encode())


def generate_key_pair(algorithm: Literal["EdDSA", "RS256"]) -> tuple[bytes, bytes]:
    """A new key pair as (private PKCS#8 PEM, public PEM)."""
    private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    if algorithm == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_pem, public_pem


def issue(key: SigningKey, *, audience: str, scopes: Sequence[str], cameras: Sequence[str] | None,
          lifetime_s: float, subject: str | None = None, issuer: str | None = None,
          now: float | None = None) -> str:
    """A signed token; ``cameras`` None grants every camera. ``now`` in Unix seconds."""
    parse_scopes(scopes)  # ValueError on an unknown name, before anything is signed
    for camera in cameras or ():
        if not is_valid_name(camera):
            raise ValueError(f"camera {camera[:64]!r} is not a valid camera id")
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "aud": audience, "iat": issued, "exp": issued + int(lifetime_s), "jti": secrets.token_hex(8),
        "scope": " ".join(scopes), "cameras": [ALL_CAMERAS] if cameras is None else list(cameras),
    }
    if subject:
        claims["sub"] = subject
    if issuer:
        claims["iss"] = issuer
    return jwt.encode(claims, key.key, algorithm=key.algorithm, headers={"kid": key.kid})


class JwtVerifier:
    """Checks signed tokens against the configured keys and turns their claims into a :class:`Principal`."""

    def __init__(self, config: JwtConfig) -> None:
        self._config = config
        keys: list[VerifyKey] = []
        if config.hs256_secret is not None:
            keys.append(VerifyKey("HS256", HS256_KID, config.hs256_secret.get_secret_value().encode()))
        keys.extend(load_public_key(p) for p in config.public_key_files)
        self._keys = keys

    @property
    def algorithms(self) -> list[str]:
        return sorted({k.algorithm for k in self._keys})

    def _candidates(self, token: str) -> list[VerifyKey]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthorized("the token is not a well-formed JWT") from None
        alg, kid = header.get("alg"), header.get("kid")
        keys = [k for k in self._keys if k.algorithm == alg and (kid is None or k.kid == kid)]
        if not keys:
            raise Unauthorized(f"the token's algorithm or key id is not accepted "
                               f"(accepted: {', '.join(self.algorithms)})")
        return keys

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; :class:`Unauthorized` with the reason otherwise."""
        claims: dict[str, Any] | None = None
        failure = "the token's signature does not verify"
        for key in self._candidates(token):
            try:
                claims = self._decode(token, key)
                break
            except jwt.InvalidSignatureError:
                continue
            except jwt.InvalidTokenError as exc:
                failure = next(reason for kind, reason in _REASONS if isinstance(exc, kind))
                break
        if claims is None:
            raise Unauthorized(failure)
        return self._principal(token, claims)

    def _decode(self, token: str, key: VerifyKey) -> dict[str, Any]:
        cfg = self._config
        options: Options = {"require": ["exp", "aud"], "verify_iss": cfg.issuer is not None}
        claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=[key.algorithm], audience=cfg.audience,
                                            issuer=cfg.issuer, leeway=cfg.leeway_s, options=options)
        return claims

    def _principal(self, token: str, claims: Mapping[str, Any]) -> Principal:
        cfg = self._config
        iat = claims.get("iat")
        start = iat if isinstance(iat, int | float) else time.time()
        if claims["exp"] - start > cfg.max_lifetime_s:
            raise Unauthorized(f"the token's lifetime exceeds auth.jwt.max_lifetime_s ({cfg.max_lifetime_s:g} s)")
        scope, cameras = claims.get("scope"), claims.get("cameras")
        if not isinstance(scope, str) or not scope.split():
            raise Unauthorized("the token has no scope claim (space-separated scope names)")
        try:
            scopes = parse_scopes(scope.split())
        except ValueError as exc:
            raise Unauthorized(f"the token's scope claim is not valid: {exc}") from None
        if not isinstance(cameras, list) or not cameras or not all(isinstance(c, str) for c in cameras):
            raise Unauthorized("the token has no cameras claim (a list of camera ids, or [\"*\"])")
        if ALL_CAMERAS in cameras:
            granted: frozenset[str] | None = None
        elif all(is_valid_name(c) for c in cameras):
            granted = frozenset(cameras)
        else:
            raise Unauthorized("the token's cameras claim holds an invalid camera id")
        subject = claims.get("sub")
        label = "jwt:" + (_LABEL.sub("_", subject)[:64] if isinstance(subject, str) and subject else "-")
        jti = claims.get("jti")
        ident = _LABEL.sub("_", jti)[:64] if isinstance(jti, str) and jti else \
            hashlib.sha256(token.encode()).hexdigest()[:16]
        return Principal(label, scopes, granted, f"jwt:{ident}")

    def __repr__(self) -> str:
        return f"JwtVerifier(algorithms={self.algorithms}, keys={len(self._keys)})"
