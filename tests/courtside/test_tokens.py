"""``courtside token``: key pairs, HS256 and EdDSA/RS256 tokens that the services accept, clear refusals."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from courtside.auth import Authenticator, Scope
from courtside.config import AuthConfig
from courtside.tokens import main, parse_duration

SECRET = "an-hs256-secret-of-at-least-32-bytes!"  # noqa: S105 - a test credential


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("algorithm", ["EdDSA", "RS256"])
def test_keygen_then_issue_with_the_private_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                algorithm: str) -> None:
    code, _, err = run(["keygen", "--algorithm", algorithm, "--out", str(tmp_path)], capsys)
    assert code == 0 and "courtside-jwt.pub" in err
    key, pub = tmp_path / "courtside-jwt.key", tmp_path / "courtside-jwt.pub"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    code, out, _ = run(["issue", "--key", str(key), "--scope", "publish", "--camera", "court-1",
                        "--camera", "court-2", "--ttl", "15m", "--subject", "obs"], capsys)
    assert code == 0
    token = out.strip()
    assert out == token + "\n"  # stdout is the token and nothing else
    auth = Authenticator(AuthConfig.model_validate({"enabled": True, "jwt": {"public_key_files": [pub]}}))
    who = auth.authenticate(token)
    assert who.scopes == {Scope.PUBLISH} and who.cameras == {"court-1", "court-2"} and who.label == "jwt:obs"
    code, _, err = run(["keygen", "--algorithm", algorithm, "--out", str(tmp_path)], capsys)
    assert code == 2 and "exists" in err  # never overwrites a key in use


def test_issue_hs256_from_the_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "courtside.yaml"
    auth = {"enabled": True, "jwt": {"hs256_secret": SECRET, "audience": "venue-7", "issuer": "ops",
                                     "max_lifetime_s": 86400}}
    config.write_text(yaml.safe_dump({"auth": auth}))
    code, out, err = run(["issue", "--config", str(config), "--scope", "admin", "--all-cameras"], capsys)
    assert code == 0, err
    who = Authenticator(AuthConfig.model_validate(auth)).authenticate(out.strip())
    assert who.scopes == frozenset(Scope) and who.cameras is None
    code, out, err = run(["issue", "--config", str(config), "--scope", "read", "--all-cameras", "--ttl", "2d"],
                         capsys)
    assert code == 2 and out == "" and "max_lifetime_s" in err
    assert SECRET not in err


def test_refusals_say_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("{}\n")
    code, out, err = run(["issue", "--config", str(empty), "--scope", "read", "--all-cameras"], capsys)
    assert code == 2 and out == "" and "nothing to sign with" in err
    (tmp_path / "bad.key").write_text("junk")
    code, _, err = run(["issue", "--key", str(tmp_path / "bad.key"), "--scope", "read", "--camera", "c"], capsys)
    assert code == 2 and "not an unencrypted PEM private key" in err
    code, _, err = run(["keygen", "--out", str(tmp_path / "k")], capsys)
    code, _, err = run(["issue", "--key", str(tmp_path / "k" / "courtside-jwt.key"), "--scope", "read",
                        "--camera", "bad.name"], capsys)
    assert code == 2 and "not a valid camera id" in err
    assert parse_duration("90") == 90 and parse_duration("15m") == 900 and parse_duration("1.5h") == 5400
    for bad in ("", "-1", "0", "12w", "h"):
        with pytest.raises(Exception, match="positive duration"):
            parse_duration(bad)


def test_the_cli_dispatches_courtside_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from courtside.app.cli import main as cli_main

    assert cli_main(["token", "keygen", "--out", str(tmp_path)]) == 0
    assert cli_main(["token", "issue", "--key", str(tmp_path / "courtside-jwt.key"), "--scope", "read",
                     "--all-cameras"]) == 0
    assert capsys.readouterr().out.count(".") == 2  # one compact JWT
