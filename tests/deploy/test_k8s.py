"""deploy/k8s renders with kubectl kustomize and validates against the Kubernetes schemas.

Every overlay is rendered and validated by kubernetes-validate (strict, no warnings). KEDA's
ScaledObject is a CRD that kubernetes-validate has no schema for: those documents are taken out
of its input explicitly and checked here instead (target, Prometheus triggers, metric names).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from courtside.config import load_config
from tests.deploy.locks import REPO

K8S = REPO / "deploy" / "k8s"
OVERLAYS = sorted(p.parent.name for p in (K8S / "overlays").glob("*/kustomization.yaml"))
KUBERNETES_VERSION = "1.32.0"
#: Kinds of CRDs kubernetes-validate cannot know, each checked by a test of its own here.
CRD_KINDS = {("keda.sh/v1alpha1", "ScaledObject")}
OPERATIONS_DOC = REPO / "docs" / "operations.md"
BACKEND_IMAGE = {"ultralytics": "inference-ultralytics", "onnx": "inference-onnxruntime",
                 "ball": "inference-ultralytics"}  # the ball backend needs torch, which that image has

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


@cache
def render(overlay: str) -> tuple[dict[str, Any], ...]:
    out = subprocess.run(["kubectl", "kustomize", str(K8S / "overlays" / overlay)],
                         capture_output=True, text=True, check=True).stdout
    return tuple(d for d in yaml.safe_load_all(out) if d)


def _of(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in render(overlay) if d["kind"] == kind}


def _pod_specs(overlay: str) -> dict[str, dict[str, Any]]:
    return {name: d["spec"]["template"]["spec"] for kind in ("Deployment", "StatefulSet")
            for name, d in _of(overlay, kind).items()}


def _config(overlay: str) -> Path:
    return K8S / "overlays" / overlay / "courtside.yaml"


def test_overlays_are_cpu_and_gpu() -> None:
    assert OVERLAYS == ["cpu", "gpu"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_render_validates_against_kubernetes_schemas_with_no_warnings(overlay: str, tmp_path: Path) -> None:
    docs = [d for d in render(overlay) if (d["apiVersion"], d["kind"]) not in CRD_KINDS]
    path = tmp_path / f"{overlay}.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    validator = Path(sys.executable).parent / "kubernetes-validate"
    result = subprocess.run([str(validator), "--strict", "-k", KUBERNETES_VERSION, str(path)],
                            capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARN" not in output and "ERROR" not in output, output
    assert output.count("passed for resource") == len(docs)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_nats_is_a_three_node_jetstream_cluster_with_its_config(overlay: str) -> None:
    nats = _of(overlay, "StatefulSet")["nats"]
    assert nats["spec"]["replicas"] == 3
    config_maps = _of(overlay, "ConfigMap")
    conf_name = nats["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"]
    conf = config_maps[conf_name]["data"]["nats.conf"]
    assert "jetstream" in conf and "cluster" in conf and conf.count("nats-headless:6222") == 3
    assert _of(overlay, "PodDisruptionBudget")["nats"]["spec"]["maxUnavailable"] == 1


def test_nats_conf_is_valid_for_nats_server(tmp_path: Path) -> None:
    from courtside.nats_server import nats_server_binary

    env = {"POD_NAME": "nats-0", "NATS_INGEST_PASSWORD": "a", "NATS_INFERENCE_PASSWORD": "b",
           "NATS_FANOUT_PASSWORD": "c", "NATS_ANALYTICS_PASSWORD": "d",
           "NATS_STREAMS_PASSWORD": "e", "PATH": ""}
    result = subprocess.run([str(nats_server_binary()), "-c", str(K8S / "base" / "nats" / "nats.conf"), "-t"],
                            env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    compose_users = re.findall(r"user: (\w+)", (REPO / "deploy" / "nats" / "nats.conf").read_text())
    # the same users, and the Job nats-streams' (compose has no such job: the services create the streams)
    assert re.findall(r"user: (\w+)", (K8S / "base" / "nats" / "nats.conf").read_text()) == [*compose_users, "streams"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_non_root_read_only_and_capability_free(overlay: str) -> None:
    for name, spec in _pod_specs(overlay).items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert "memory" in container["resources"]["limits"], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_a_pdb_and_fanout_runs_replicas_behind_a_service(overlay: str) -> None:
    deployments = _of(overlay, "Deployment")
    pdbs = {p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for p in _of(overlay, "PodDisruptionBudget").values()}
    assert set(deployments) - {"ingest"} <= pdbs  # one ingest replica owns the cameras: no PDB can hold it
    assert deployments["fanout"]["spec"]["replicas"] >= 2
    assert _of(overlay, "Service")["fanout"]["spec"]["selector"] == {"app.kubernetes.io/name": "fanout"}


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_read_the_overlays_configuration_and_secrets(overlay: str) -> None:
    secrets = _of(overlay, "Secret")
    config = load_config(_config(overlay), environ={})
    models = {m.name: m for m in config.models}
    deployments = _of(overlay, "Deployment")
    for name, deployment in deployments.items():
        spec = deployment["spec"]["template"]["spec"]
        container = spec["containers"][0]
        env = _env(container)
        for var in env.values():
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in secrets[ref["name"]]["stringData"], f"{name}: {ref}"
        user = name if name in ("ingest", "fanout", "analytics") else "inference"
        assert env["COURTSIDE_NATS__URL"]["value"] == f"nats://{user}:$(NATS_PASSWORD)@nats:4222"
        environ = {k: "[{token: t, scope: viewer}]" if k == "COURTSIDE_AUTH__TOKENS" else "x"
                   for k in env if k.startswith("COURTSIDE_")}
        load_config(_config(overlay), environ=environ)  # every COURTSIDE_ variable is a real field
        assert set(env) - {k for k in env if k.startswith("COURTSIDE_")} <= {"NATS_PASSWORD",
                                                                              "GOOGLE_APPLICATION_CREDENTIALS"}
        mounted = {v["name"]: v for v in spec["volumes"]}
        config_map = _of(overlay, "ConfigMap")[mounted["config"]["configMap"]["name"]]
        assert config_map["data"]["courtside.yaml"] == _config(overlay).read_text()
        if name.startswith("inference-"):
            model = models[container["args"][0]]
            image = BACKEND_IMAGE.get(model.backend, f"inference-{model.backend}")
            assert container["image"].split("/")[-1].split(":")[0] == image, f"{name}: image for {model.backend}"
    assert {f"inference-{m}" for m in models} == {n for n in deployments if n.startswith("inference-")}


def test_overlay_configurations_differ_from_compose_only_in_how_yolo_runs() -> None:
    base = load_config(K8S / "base" / "courtside.yaml", environ={})
    assert (K8S / "base" / "courtside.yaml").read_text() == (REPO / "deploy" / "courtside.yaml").read_text()
    for overlay, fields in (("cpu", {"backend", "weights"}), ("gpu", {"device"})):
        config = load_config(_config(overlay), environ={})
        assert config.model_dump(exclude={"models"}) == base.model_dump(exclude={"models"})
        for mine, theirs in zip(config.models, base.models, strict=True):
            differ = {k for k, v in mine.model_dump().items() if v != getattr(theirs, k)}
            assert differ == (fields if mine.name == "yolo" else set()), (overlay, mine.name, differ)
    assert load_config(_config("gpu"), environ={}).model("yolo").device == "cuda"


def test_gpu_overlay_puts_only_yolo_on_gpu_nodes() -> None:
    for overlay in OVERLAYS:
        for name, spec in _pod_specs(overlay).items():
            gpu = any("nvidia.com/gpu" in c["resources"].get("limits", {}) for c in spec["containers"])
            on_gpu_nodes = "nvidia.com/gpu.present" in spec.get("nodeSelector", {})
            tolerates = any(t["key"] == "nvidia.com/gpu" for t in spec.get("tolerations", []))
            expected = overlay == "gpu" and name == "inference-yolo"
            assert gpu == on_gpu_nodes == tolerates == expected, (overlay, name)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_inference_reaches_only_nats(overlay: str) -> None:
    policies = _of(overlay, "NetworkPolicy")
    deny = policies["default-deny-ingress"]["spec"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress"] and "ingress" not in deny
    egress = policies["inference-egress"]["spec"]
    assert egress["podSelector"]["matchLabels"] == {"app.kubernetes.io/component": "inference"}
    ports = sorted(p["port"] for rule in egress["egress"] for p in rule["ports"])
    assert ports == [53, 53, 4222]
    inference_pods = [d for n, d in _of(overlay, "Deployment").items() if n.startswith("inference-")]
    assert all(d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "inference"
               for d in inference_pods)


def _metric_names(query: str) -> set[str]:
    return set(re.findall(r"\b(courtside_[a-z_]+)\b", query))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_inference_model_autoscales_on_the_consumers_own_metrics(overlay: str) -> None:
    scaled = _of(overlay, "ScaledObject")
    deployments = _of(overlay, "Deployment")
    inference = {n for n in deployments if n.startswith("inference-")}
    assert {s["spec"]["scaleTargetRef"]["name"] for s in scaled.values()} == inference
    for name, obj in scaled.items():
        model = name.removeprefix("inference-")
        spec = obj["spec"]
        assert 1 <= spec["minReplicaCount"] < spec["maxReplicaCount"]
        names: set[str] = set()
        for trigger in spec["triggers"]:
            assert trigger["type"] == "prometheus"
            meta = trigger["metadata"]
            assert meta["serverAddress"].startswith("http") and float(meta["threshold"]) > 0
            assert f'model="{model}"' in meta["query"], name
            names |= _metric_names(meta["query"])
        assert names and all(n.startswith("courtside_inference_") for n in names), names
        if OPERATIONS_DOC.exists():  # the metrics' documentation, written with the service kit
            doc = OPERATIONS_DOC.read_text()
            documented = _metric_names(doc)
            assert names <= documented, f"{sorted(names - documented)} are not in docs/operations.md"
            for trigger in spec["triggers"]:
                for reason in re.findall(r'reason=~?"([^"]+)"', trigger["metadata"]["query"]):
                    for value in reason.split("|"):
                        assert f"`{value}`" in doc, f"reason {value} is not a documented drop reason"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_and_scrapes_hit_each_services_configured_port(overlay: str) -> None:
    config = load_config(_config(overlay), environ={})
    for name, deployment in _of(overlay, "Deployment").items():
        template = deployment["spec"]["template"]
        container = template["spec"]["containers"][0]
        if name.startswith("inference-"):
            model = config.model(container["args"][0])
            assert model.host == "0.0.0.0"  # noqa: S104 (the pod network)
            port = model.port
        else:
            port = getattr(config, name).port
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["http"] == port, name
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, name
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, name
        assert template["metadata"]["annotations"]["prometheus.io/port"] == str(port), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_analytics_runs_once_and_reaches_only_nats(overlay: str) -> None:
    config = load_config(_config(overlay), environ={})
    assert config.analytics is not None
    analytics = _of(overlay, "Deployment")["analytics"]
    # every instance analyses every camera of analytics.cameras: a second replica would double them
    assert analytics["spec"]["replicas"] == 1 and analytics["spec"]["strategy"]["type"] == "Recreate"
    assert analytics["spec"]["template"]["spec"]["containers"][0]["image"].split("/")[-1] == "analytics:latest"
    egress = _of(overlay, "NetworkPolicy")["analytics-egress"]["spec"]
    assert egress["podSelector"]["matchLabels"] == {"app.kubernetes.io/component": "analytics"}
    assert sorted(p["port"] for rule in egress["egress"] for p in rule["ports"]) == [53, 53, 4222]
    labels = analytics["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "analytics"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_a_job_makes_every_stream_as_replicated_as_the_nats_cluster(overlay: str) -> None:
    job = _of(overlay, "Job")["nats-streams"]
    spec = job["spec"]["template"]["spec"]
    container = spec["containers"][0]
    command = container["command"]
    replicas = _of(overlay, "StatefulSet")["nats"]["spec"]["replicas"]
    assert int(command[command.index("--replicas") + 1]) == replicas
    volumes = {v["name"]: v for v in spec["volumes"]}
    script = _of(overlay, "ConfigMap")[volumes["script"]["configMap"]["name"]]["data"]["replicate_streams.py"]
    assert script == (K8S / "base" / "nats" / "replicate_streams.py").read_text()
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert command[1] == f"{mounts['script']}/replicate_streams.py"
    # its own NATS user, with the JetStream rights to create and replicate streams (no service has them)
    assert _env(container)["COURTSIDE_NATS__URL"]["value"] == "nats://streams:$(NATS_PASSWORD)@nats:4222"
    assert _env(container)["NATS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "nats-users", "key": "streams"}
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["automountServiceAccountToken"] is False
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["capabilities"]["drop"] == ["ALL"]
    assert container["image"].split("/")[-1] == "analytics:latest"  # the image holding every module it imports


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_fanout_reaches_the_analytics_calibration_api(overlay: str) -> None:
    """The live page's calibration view: fanout.analytics_url names the analytics Service and port, and
    the only ingress that policy lets through to analytics (besides Prometheus) is fanout's."""
    config = load_config(_config(overlay), environ={})
    assert config.analytics is not None and config.fanout.analytics_url is not None
    url = urlsplit(config.fanout.analytics_url)
    service = _of(overlay, "Service")[str(url.hostname)]["spec"]
    assert service["selector"] == {"app.kubernetes.io/name": "analytics"}
    assert [(p["port"], p["targetPort"]) for p in service["ports"]] == [(url.port, "http")]
    assert url.port == config.analytics.port
    policy = _of(overlay, "NetworkPolicy")["analytics-from-fanout"]["spec"]
    assert policy["podSelector"]["matchLabels"] == {"app.kubernetes.io/component": "analytics"}
    assert policy["ingress"] == [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "fanout"}}}],
                                  "ports": [{"port": url.port}]}]
