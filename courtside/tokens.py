"""``courtside token``: issue signed tokens (JWT) and make key pairs for them.

``courtside token issue --scope read --camera court-1 --ttl 12h`` signs with the
configuration's ``auth.jwt.hs256_secret`` (or with ``--key private.pem``: EdDSA or
RS256 by the key's type) for ``auth.jwt.audience``/``issuer``, and prints the token
on stdout, nothing else. ``courtside token keygen --algorithm EdDSA --out DIR`` writes
``DIR/courtside-jwt.key`` (mode 0600) and ``DIR/courtside-jwt.pub``; list the ``.pub`` in
``auth.jwt.public_key_files``. The token and the keys are never logged.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from courtside.auth.errors import AuthSetupError
from courtside.auth.jwt_tokens import SigningKey, generate_key_pair, hs256_key, issue, load_private_key
from courtside.auth.principal import ADMIN, Scope
from courtside.config import ConfigError, JwtConfig, load_config

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
KEY_NAME = "courtside-jwt"


class TokenCommandError(Exception):
    """The command cannot do what was asked; the message says why."""


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``15m``, ``12h``, ``30d`` -> seconds."""
    match = _DURATION.match(text.strip())
    if not match or float(match.group(1)) <= 0:
        raise TokenCommandError(f"--ttl {text!r}: give a positive duration such as 900, 15m, 12h or 30d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="courtside token", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    iss = sub.add_parser("issue", help="print a signed token")
    iss.add_argument("--config", type=Path, default=os.environ.get("COURTSIDE_CONFIG"),
                     help="YAML configuration (auth.jwt: audience, issuer, hs256_secret)")
    iss.add_argument("--key", type=Path, help="PEM private key (EdDSA or RS256); default: the HS256 secret")
    iss.add_argument("--scope", action="append", required=True,
                     choices=[s.value for s in Scope] + [ADMIN], help="a right; repeat for several")
    cams = iss.add_mutually_exclusive_group(required=True)
    cams.add_argument("--camera", action="append", help="a camera the token may use; repeat for several")
    cams.add_argument("--all-cameras", action="store_true", help="every camera, present and future")
    iss.add_argument("--ttl", default="12h", help="lifetime: seconds or 15m, 12h, 30d (default 12h)")
    iss.add_argument("--subject", help="who holds it (the sub claim; shown in logs)")
    gen = sub.add_parser("keygen", help="write a new key pair")
    gen.add_argument("--algorithm", choices=["EdDSA", "RS256"], default="EdDSA")
    gen.add_argument("--out", type=Path, required=True, help="folder for courtside-jwt.key and .pub")
    return parser


def _jwt_config(path: Path | None) -> JwtConfig | None:
    try:
        return load_config(path).auth.jwt
    except ConfigError as exc:
        raise TokenCommandError(str(exc)) from None


def issue_token(args: argparse.Namespace) -> str:
    jwt_config = _jwt_config(args.config)
    key: SigningKey
    if args.key is not None:
        key = load_private_key(args.key)
    elif jwt_config is not None and jwt_config.hs256_secret is not None:
        key = hs256_key(jwt_config.hs256_secret.get_secret_value())
    else:
        raise TokenCommandError("nothing to sign with: pass --key private.pem, or configure "
                                "auth.jwt.hs256_secret (--config or COURTSIDE_CONFIG)")
    lifetime = parse_duration(args.ttl)
    audience = jwt_config.audience if jwt_config else JwtConfig.model_fields["audience"].default
    if jwt_config is not None and lifetime > jwt_config.max_lifetime_s:
        raise TokenCommandError(f"--ttl {args.ttl} is longer than auth.jwt.max_lifetime_s "
                                f"({jwt_config.max_lifetime_s:g} s): services would refuse it")
    try:
        return issue(key, audience=audience, scopes=args.scope,
                     cameras=None if args.all_cameras else args.camera, lifetime_s=lifetime,
                     subject=args.subject, issuer=jwt_config.issuer if jwt_config else None)
    except ValueError as exc:
        raise TokenCommandError(str(exc)) from None


def write_key_pair(algorithm: str, out: Path) -> tuple[Path, Path]:
    private_pem, public_pem = generate_key_pair(algorithm)  # type: ignore[arg-type]
    out.mkdir(parents=True, exist_ok=True)
    private, public = out / f"{KEY_NAME}.key", out / f"{KEY_NAME}.pub"
    if private.exists():
        raise TokenCommandError(f"{private} exists; remove it first (tokens signed with it stop verifying)")
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_pem)
    public.write_bytes(public_pem)
    return private, public


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "issue":
            sys.stdout.write(issue_token(args) + "\n")
        else:
            private, public = write_key_pair(args.algorithm, args.out)
            print(f"private key (keep secret, signs tokens): {private}\n"
                  f"public key (auth.jwt.public_key_files): {public}", file=sys.stderr)
    except (TokenCommandError, AuthSetupError) as exc:
        print(f"courtside token: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
