"""NATS over TLS: half-configured TLS refused by the config (the field named), then a real
nats-server with a certificate made here: a service connects over TLS, a plain-text client and a
client that does not trust the CA are refused."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from courtside.config import ConfigError, NatsTlsConfig, parse_config
from courtside.nats_server import EmbeddedNats, NatsServerError
from courtside.nats_users import service_users, user_url
from courtside.natsio import NatsUnavailable, connect


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(directory: Path, cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    (directory / f"{cn}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, a server certificate it signed for 127.0.0.1, and an unrelated CA."""
    d = tmp_path_factory.mktemp("pki")
    ca_key, ca_cert = _ca(d, "courtside-test-ca")
    _ca(d, "other-ca")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name("nats")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (d / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "server-key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    return {"ca": d / "courtside-test-ca.pem", "other_ca": d / "other-ca.pem",
            "cert": d / "server.pem", "key": d / "server-key.pem"}


@pytest.fixture
def tls_server(pki: dict[str, Path]) -> Iterator[tuple[EmbeddedNats, NatsTlsConfig]]:
    tls = NatsTlsConfig(ca=pki["ca"], cert=pki["cert"], key=pki["key"])
    with EmbeddedNats(tls=tls, users=service_users()) as server:
        yield server, tls


def test_half_configured_tls_is_refused_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"nats\.tls: key: required when cert is set"):
        parse_config({"nats": {"tls": {"ca": "/x/ca.pem", "cert": "/x/s.pem"}}}, environ={})
    with pytest.raises(ConfigError, match=r"nats\.tls: cert: required when key is set"):
        parse_config({"nats": {"tls": {"ca": "/x/ca.pem", "key": "/x/k.pem"}}}, environ={})
    with pytest.raises(ConfigError, match=r"nats\.tls\.ca: Field required"):
        parse_config({"nats": {"tls": {"cert": "/x/s.pem", "key": "/x/k.pem"}}}, environ={})
    with pytest.raises(ConfigError, match=r"nats: tls\.cert and tls\.key: required for the embedded"):
        parse_config({"nats": {"tls": {"ca": "/x/ca.pem"}}}, environ={})
    with pytest.raises(ConfigError, match=r"nats: tls\.cert and tls\.key: only for the embedded"):
        parse_config({"nats": {"url": "tls://n:4222", "tls": {"ca": "/c", "cert": "/s", "key": "/k"}}}, environ={})
    ok = parse_config({"nats": {"url": "tls://n:4222", "tls": {"ca": "/x/ca.pem"}}}, environ={})
    assert ok.nats.tls is not None and ok.nats.tls.ca == Path("/x/ca.pem")


def test_a_missing_certificate_file_is_named(tmp_path: Path) -> None:
    tls = NatsTlsConfig(ca=tmp_path / "ca.pem", cert=tmp_path / "missing.pem", key=tmp_path / "k.pem")
    with pytest.raises(NatsServerError, match=r"nats\.tls\.cert: no such file"), EmbeddedNats(tls=tls):
        pass


async def test_a_service_connects_over_tls_and_messages_flow(tls_server: tuple[EmbeddedNats, NatsTlsConfig]) -> None:
    server, tls = tls_server
    assert server.url.startswith("tls://127.0.0.1:")
    users = server._users
    assert users is not None
    ingest = await connect(user_url(server.url, users["ingest"]), "ingest-test", tls=tls)
    fanout = await connect(user_url(server.url, users["fanout"]), "fanout-test", tls=tls)
    try:
        sub = await fanout.subscribe("frames.*")
        await fanout.flush()
        await ingest.publish("frames.court-1", b"jpeg")
        msg = await asyncio.wait_for(sub.next_msg(timeout=5), 10)
        assert msg.data == b"jpeg"
        assert ingest._transport is not None
        assert ingest._transport._io_writer.get_extra_info("ssl_object") is not None  # really TLS
    finally:
        await ingest.close()
        await fanout.close()


async def test_a_plain_text_client_is_refused(tls_server: tuple[EmbeddedNats, NatsTlsConfig]) -> None:
    server, _ = tls_server
    users = server._users
    assert users is not None
    plain = user_url(server.url, users["fanout"]).replace("tls://", "nats://")
    with pytest.raises((nats.errors.Error, OSError, asyncio.TimeoutError)):
        nc = await asyncio.wait_for(nats.connect(plain, allow_reconnect=False, max_reconnect_attempts=0,
                                                 connect_timeout=2), 20)
        await nc.close()


async def test_a_client_that_does_not_trust_the_ca_is_refused(
        tls_server: tuple[EmbeddedNats, NatsTlsConfig], pki: dict[str, Path]) -> None:
    server, _ = tls_server
    users = server._users
    assert users is not None
    stranger = NatsTlsConfig(ca=pki["other_ca"])
    with pytest.raises(NatsUnavailable, match=r"TLS to NATS failed .*CERTIFICATE_VERIFY_FAILED"):
        await asyncio.wait_for(connect(user_url(server.url, users["fanout"]), "untrusting", tls=stranger,
                                       connect_timeout_s=3), 20)


async def test_a_tls_client_refuses_a_plain_text_server(pki: dict[str, Path]) -> None:
    with EmbeddedNats() as plain:
        with pytest.raises(NatsUnavailable):
            await asyncio.wait_for(connect(plain.url, "downgrade", tls=NatsTlsConfig(ca=pki["ca"]),
                                           connect_timeout_s=2), 20)


@pytest.mark.e2e
@pytest.mark.timeout(300)
async def test_up_serves_tls_and_every_service_connects_with_it(tmp_path: Path, pki: dict[str, Path]) -> None:
    """``courtside up`` with nats.tls and per-service users: the embedded server speaks only TLS, every
    child connects through it (annotations reach the WebSocket), a plain-text client is refused."""
    from tests.app.up_harness import running_up
    from tests.support.media import make_h264_clip

    tls = {"ca": str(pki["ca"]), "cert": str(pki["cert"]), "key": str(pki["key"])}
    clip = make_h264_clip(tmp_path / "clip.mp4", frames=90)
    async with running_up(tmp_path, clip=clip, extra={"nats": {"per_service_users": True, "tls": tls}}) as up:
        await up.wait_running()
        annotation = await up.annotation()
        assert annotation["camera"] == "cam-1"
        services = await up.services()
        assert all(s["state"] == "running" and s["restarts"] == 0 for s in services.values()), services
        port = re.search(r"embedded nats-server ready at tls://127\.0\.0\.1:(\d+)", up.log_text())
        assert port is not None, up.log_text()[-2000:]
        with pytest.raises((nats.errors.Error, OSError, asyncio.TimeoutError)):
            nc = await asyncio.wait_for(nats.connect(f"nats://127.0.0.1:{port.group(1)}", allow_reconnect=False,
                                                     max_reconnect_attempts=0, connect_timeout=2), 20)
            await nc.close()
    text = up.log_text()
    assert "Traceback" not in text and "TLS to NATS failed" not in text, text[-3000:]
    assert "NATS error" not in text and "unreachable" not in text, text[-3000:]


REPO = Path(__file__).resolve().parents[2]


def test_the_compose_tls_override_names_real_services_and_gives_each_the_ca() -> None:
    import yaml

    base = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
    override = yaml.safe_load((REPO / "deploy" / "compose" / "nats-tls.yaml").read_text())["services"]
    assert set(override) <= set(base)
    clients = {name for name, s in base.items() if "COURTSIDE_NATS__URL" in (s.get("environment") or {})}
    assert clients and clients == set(override) - {"nats"}
    for name in clients:
        assert override[name]["environment"]["COURTSIDE_NATS__TLS__CA"] == "/etc/courtside/nats-ca.pem"
        assert any(v.endswith(":/etc/courtside/nats-ca.pem:ro") for v in override[name]["volumes"])
    assert override["nats"]["command"] == ["-c", "/etc/nats/nats-tls.conf"]


async def test_the_compose_tls_config_runs_with_its_users_and_refuses_plain_text(
        tmp_path: Path, pki: dict[str, Path]) -> None:
    """deploy/nats/nats-tls.conf (nats.conf plus TLS) on a real nats-server: ingest connects over TLS
    as its user, a plain-text client is refused."""
    import subprocess

    from courtside.nats_server import _accepts, nats_server_binary
    from tests.conftest import free_port

    port = free_port()
    env = {"NATS_SERVER_NAME": "tls-test", "NATS_STORE_DIR": str(tmp_path / "js"), "PATH": "",
           "NATS_TLS_CERT": str(pki["cert"]), "NATS_TLS_KEY": str(pki["key"]),
           **{f"NATS_{u.upper()}_PASSWORD": f"pw-{u}" for u in ("ingest", "inference", "fanout", "analytics")}}
    args = [str(nats_server_binary()), "-c", str(REPO / "deploy" / "nats" / "nats-tls.conf"), "-a", "127.0.0.1",
            "-p", str(port), "-m", str(free_port())]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: ASYNC220
    try:
        for _ in range(200):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            if await asyncio.to_thread(_accepts, port):
                break
            await asyncio.sleep(0.05)
        nc = await connect(f"nats://ingest:pw-ingest@127.0.0.1:{port}", "ingest-tls", tls=NatsTlsConfig(ca=pki["ca"]))
        await nc.publish("frames.court-1", b"x")
        await nc.flush(timeout=5)
        await nc.close()
        with pytest.raises((nats.errors.Error, OSError, asyncio.TimeoutError)):
            plain = await asyncio.wait_for(nats.connect(f"nats://ingest:pw-ingest@127.0.0.1:{port}",
                                                        allow_reconnect=False, max_reconnect_attempts=0,
                                                        connect_timeout=2), 20)
            await plain.close()
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()


def test_the_k8s_tls_component_gives_nats_its_certificate_and_every_client_only_the_ca(
        tmp_path: Path, pki: dict[str, Path]) -> None:
    import shutil
    import subprocess

    import yaml

    from courtside.nats_server import nats_server_binary

    k8s = shutil.copytree(REPO / "deploy" / "k8s", tmp_path / "k8s")  # kustomize reads only below its root
    overlay = k8s / "overlays" / "tls-test"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": ["../cpu"], "components": ["../../components/nats-tls"]}))
    rendered = subprocess.run(["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, check=True,
                              timeout=60).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    nats_set = next(d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "nats")
    pod = nats_set["spec"]["template"]["spec"]
    assert pod["containers"][0]["args"] == ["-c", "/etc/nats/nats-tls.conf"]
    assert {"name": "nats-tls", "mountPath": "/etc/nats-tls", "readOnly": True} in pod["containers"][0]["volumeMounts"]
    clients = [d for d in docs if d["kind"] in ("Deployment", "Job")]
    assert len(clients) >= 6
    for d in clients:
        pod = d["spec"]["template"]["spec"]
        env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
        assert env["COURTSIDE_NATS__TLS__CA"] == "/etc/courtside-nats-tls/ca.crt", d["metadata"]["name"]
        secret = next(v["secret"] for v in pod["volumes"] if v["name"] == "nats-tls-ca")
        assert secret == {"secretName": "nats-tls", "items": [{"key": "ca.crt", "path": "ca.crt"}]}  # never the key
    config = next(d for d in docs if d["kind"] == "ConfigMap" and "nats-tls.conf" in d.get("data", {}))["data"]
    (tmp_path / "nats.conf").write_text(config["nats.conf"])
    (tmp_path / "nats-tls.conf").write_text(config["nats-tls.conf"].replace("/etc/nats-tls/tls.crt", str(pki["cert"]))
                                            .replace("/etc/nats-tls/tls.key", str(pki["key"])))
    env = {"POD_NAME": "nats-0", "PATH": "", **{f"NATS_{u}_PASSWORD": "x" for u in
                                                ("INGEST", "INFERENCE", "FANOUT", "ANALYTICS", "STREAMS")}}
    check = subprocess.run([str(nats_server_binary()), "-c", str(tmp_path / "nats-tls.conf"), "-t"], env=env,
                           capture_output=True, text=True, check=False, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
