"""The rendered Kubernetes manifests: schema validation and the invariants of
a zero-downtime rollout, security and operations (issue 7)."""

from __future__ import annotations

import math
import re
import subprocess

import kubernetes_validate
import pytest
import yaml

from conftest import DEPLOY, K8S, OVERLAYS, TEST_DIGEST, TEST_REPOSITORY, find, one, render, runway_media_defaults

KUBERNETES_VERSION = "1.34.0"  # modules/eks default kubernetes_version

# Kinds without a schema in kubernetes-validate (CRDs). Each needs a reason;
# a new kind without one fails the suite instead of passing unvalidated.
CRD_SKIP_REASONS = {
    "PrometheusRule": "Prometheus Operator CRD (monitoring.coreos.com/v1): no schema in kubernetes-validate; its alerts are checked by test_alerts_cover_the_issue",
    "PodMonitor": "Prometheus Operator CRD (monitoring.coreos.com/v1): no schema in kubernetes-validate; its port is checked by test_metrics_are_scraped",
    "SecretStore": "External Secrets Operator CRD (external-secrets.io/v1): no schema in kubernetes-validate; its wiring is checked by test_secrets_come_from_files",
    "ExternalSecret": "External Secrets Operator CRD (external-secrets.io/v1): no schema in kubernetes-validate; its keys are checked by test_secrets_come_from_files",
}

ALB_IDLE_TIMEOUT_DEFAULT = 60
DRAIN_DEFAULT = 25  # RUNWAY_HTTP__SHUTDOWN_GRACE_SECS default (docs/configuration.md)


def _doc_ids():
    for overlay in OVERLAYS:
        for i, d in enumerate(render(overlay)):
            yield pytest.param(overlay, i, id=f"{overlay}-{d['kind']}-{d['metadata'].get('name', i)}")


@pytest.mark.parametrize(("overlay_name", "index"), list(_doc_ids()))
def test_kubernetes_validate(overlay_name, index):
    doc = render(overlay_name)[index]
    if doc["kind"] in CRD_SKIP_REASONS:
        pytest.skip(CRD_SKIP_REASONS[doc["kind"]])
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        pytest.fail(f"{doc['kind']} has no schema and no reason in CRD_SKIP_REASONS")
    except kubernetes_validate.ValidationError as e:
        pytest.fail(f"{doc['kind']}/{doc['metadata'].get('name')}: {e.message} at {list(e.path)}")


# ---------------------------------------------------------------- helpers


def config(docs) -> dict[str, str]:
    cms = [d for d in find(docs, "ConfigMap") if d["metadata"]["name"].startswith("runway-config")]
    assert len(cms) == 1
    return cms[0]["data"]


def pod_specs(docs):
    for kind in ("Deployment", "Job"):
        for d in find(docs, kind):
            yield d, d["spec"]["template"]["spec"]


def hpa_for(docs, deployment: str) -> dict:
    hpas = [h for h in find(docs, "HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == deployment]
    assert len(hpas) == 1, f"one HPA must scale {deployment}"
    return hpas[0]


def min_replicas(docs, deployment: dict) -> int:
    hpa = hpa_for(docs, deployment["metadata"]["name"])
    return hpa["spec"].get("minReplicas", 1)


def resolve(value, replicas: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        x = int(value[:-1]) * replicas / 100
        return math.ceil(x) if round_up else math.floor(x)
    return int(value)


def prestop_seconds(container) -> int:
    pre = container.get("lifecycle", {}).get("preStop", {})
    if "sleep" in pre:
        return int(pre["sleep"]["seconds"])
    command = " ".join(pre.get("exec", {}).get("command", []))
    m = re.search(r"\bsleep\s+(\d+)", command)
    assert m, f"preStop must sleep, got {pre!r}"
    return int(m.group(1))


def alb_attributes(ingress, annotation: str) -> dict[str, str]:
    raw = ingress["metadata"]["annotations"].get(f"alb.ingress.kubernetes.io/{annotation}", "")
    return dict(kv.split("=", 1) for kv in raw.split(",") if kv)


def api(docs):
    return one(docs, "Deployment", "runway-api")


def api_container(docs):
    return api(docs)["spec"]["template"]["spec"]["containers"][0]


# ---------------------------------------------------------------- rendering


def test_render_pins_every_image_to_the_digest(docs):
    for _, spec in pod_specs(docs):
        for c in spec.get("initContainers", []) + spec["containers"]:
            assert c["image"] == f"{TEST_REPOSITORY}@{TEST_DIGEST}"


def test_render_refuses_tags():
    result = subprocess.run(
        [str(DEPLOY / "pipeline" / "render"), "prod", f"{TEST_REPOSITORY}:latest"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "sha256" in result.stderr


def test_no_placeholder_survives_rendering(docs):
    text = repr(docs)
    assert "set-by-overlay" not in text
    assert "10.255.255.0/24" not in text


def test_overlay_env_keys_match_terraform_output():
    """aws.env of each overlay has exactly the keys Terraform's kustomize_env writes."""
    from conftest import TERRAFORM, hcl_dir

    for env in OVERLAYS:
        env_tf = hcl_dir(TERRAFORM / "envs" / env)
        text = next(l["kustomize_env"] for l in env_tf["locals"] if "kustomize_env" in l)
        media_defaults = next(l["media_defaults"] for l in env_tf["locals"] if "media_defaults" in l)
        tf_keys = set()
        for line in text.splitlines():
            if "local.media_settings" in line:
                # One KEY=VALUE line per entry of merge(local.media_defaults,
                # var.media_settings): at least the defaults' keys, and no
                # others (the variable's validation).
                tf_keys |= set(media_defaults)
            elif "=" in line and not line.startswith("#"):
                tf_keys.add(line.split("=", 1)[0])
        env_file = (K8S / "overlays" / env / "aws.env").read_text()
        keys = {line.split("=", 1)[0] for line in env_file.splitlines() if "=" in line and not line.startswith("#")}
        assert keys == tf_keys, env


# ---------------------------------------------------------------- zero-downtime rollout


def test_probes(docs):
    c = api_container(docs)
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["startupProbe"]["httpGet"]["path"] in ("/healthz", "/readyz")
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert c[probe]["httpGet"]["port"] in ("http", 8080)
    # The liveness probe must never depend on the database: a database outage
    # would otherwise restart every pod.
    assert c["livenessProbe"]["httpGet"]["path"] != "/readyz"


def test_rolling_update_never_drops_capacity(docs):
    for d in find(docs, "Deployment"):
        strategy = d["spec"]["strategy"]
        assert strategy["type"] == "RollingUpdate"
        replicas = d["spec"].get("replicas") or min_replicas(docs, d)
        ru = strategy["rollingUpdate"]
        assert resolve(ru["maxUnavailable"], replicas, round_up=False) == 0, d["metadata"]["name"]
        assert resolve(ru["maxSurge"], replicas, round_up=True) >= 1, d["metadata"]["name"]


def test_prod_runs_at_least_two_replicas():
    docs = render("prod")
    for d in find(docs, "Deployment"):
        if "replicas" in d["spec"]:
            assert d["spec"]["replicas"] >= 2
        assert min_replicas(docs, d) >= 2, d["metadata"]["name"]


def test_replicas_are_owned_by_the_hpa(docs):
    for d in find(docs, "Deployment"):
        hpa = hpa_for(docs, d["metadata"]["name"])
        assert hpa["spec"]["maxReplicas"] >= hpa["spec"].get("minReplicas", 1)
        # A replicas field would reset the HPA's count on every apply.
        assert "replicas" not in d["spec"], d["metadata"]["name"]


def test_disruption_budgets_cover_every_deployment(docs):
    pdbs = find(docs, "PodDisruptionBudget")
    for d in find(docs, "Deployment"):
        labels = d["spec"]["template"]["metadata"]["labels"]
        covering = [p for p in pdbs if p["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert covering, f"no PodDisruptionBudget selects {d['metadata']['name']}"


def test_pods_spread_across_zones(docs):
    for d in find(docs, "Deployment"):
        spec = d["spec"]["template"]["spec"]
        zone = [t for t in spec.get("topologySpreadConstraints", []) if t["topologyKey"] == "topology.kubernetes.io/zone"]
        assert zone, d["metadata"]["name"]
        assert zone[0]["maxSkew"] == 1
        assert zone[0]["labelSelector"]["matchLabels"].items() <= d["spec"]["template"]["metadata"]["labels"].items()


def test_shutdown_fits_the_grace_period(docs):
    drain = int(config(docs).get("RUNWAY_HTTP__SHUTDOWN_GRACE_SECS", DRAIN_DEFAULT))
    prestop = prestop_seconds(api_container(docs))
    assert prestop >= 5, "the preStop sleep must outlast the ALB's deregistration propagation"
    grace = api(docs)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= prestop + drain
    # Workers have no preStop but drain jobs within the same budget.
    worker = one(docs, "Deployment", "runway-worker")["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] >= drain


def test_alb_timeouts_fit_the_app(docs):
    ingress = one(docs, "Ingress", "runway-api")
    drain = int(config(docs).get("RUNWAY_HTTP__SHUTDOWN_GRACE_SECS", DRAIN_DEFAULT))
    prestop = prestop_seconds(api_container(docs))

    lb = alb_attributes(ingress, "load-balancer-attributes")
    assert "idle_timeout.timeout_seconds" in lb, "set the ALB idle timeout explicitly"
    idle = int(lb["idle_timeout.timeout_seconds"])
    # runway (hyper) keeps idle keep-alive connections open with no timeout,
    # unless a keep-alive setting appears in the configuration.
    keepalive = config(docs).get("RUNWAY_HTTP__KEEPALIVE_SECS")
    app_keepalive = math.inf if keepalive is None else int(keepalive)
    assert idle <= ALB_IDLE_TIMEOUT_DEFAULT, "the ALB idle timeout was raised; check it stays below runway's keep-alive"
    assert app_keepalive > idle

    tg = alb_attributes(ingress, "target-group-attributes")
    dereg = int(tg.get("deregistration_delay.timeout_seconds", 300))
    assert dereg <= prestop + drain


def test_alb_health_check_uses_readiness(docs):
    ann = one(docs, "Ingress", "runway-api")["metadata"]["annotations"]
    assert ann["alb.ingress.kubernetes.io/healthcheck-path"] == "/readyz"


def test_namespace_injects_readiness_gates(docs):
    ns = one(docs, "Namespace", "runway")
    assert ns["metadata"]["labels"]["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for d in docs:
        if d["kind"] != "Namespace":
            assert d["metadata"].get("namespace") == "runway", f"{d['kind']}/{d['metadata']['name']}"


# ---------------------------------------------------------------- ingress and DNS


def test_ingress_is_an_https_alb_with_dns(docs):
    ingress = one(docs, "Ingress", "runway-api")
    ann = ingress["metadata"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert ann["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert ann["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert ann["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert re.fullmatch(r"arn:aws:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+", ann["alb.ingress.kubernetes.io/certificate-arn"])
    host = ingress["spec"]["rules"][0]["host"]
    assert ann["external-dns.alpha.kubernetes.io/hostname"] == host
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = one(docs, "Service", backend["name"])
    assert any(p["name"] == backend["port"]["name"] for p in service["spec"]["ports"])


def test_prod_alb_is_protected_from_deletion():
    lb = alb_attributes(one(render("prod"), "Ingress", "runway-api"), "load-balancer-attributes")
    assert lb.get("deletion_protection.enabled") == "true"


# ---------------------------------------------------------------- security


def test_pod_security(docs):
    for d, spec in pod_specs(docs):
        name = f"{d['kind']}/{d['metadata']['name']}"
        psc = spec["securityContext"]
        assert psc["runAsNonRoot"] is True, name
        assert psc["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        mounts_tmp = set()
        for c in spec.get("initContainers", []) + spec["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert "add" not in sc["capabilities"], name
            for key in ("cpu", "memory"):
                assert key in c["resources"]["requests"], name
                assert key in c["resources"]["limits"], name
            mounts_tmp |= {m["name"] for m in c.get("volumeMounts", []) if m["mountPath"] == "/tmp"}
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        assert mounts_tmp and all("emptyDir" in volumes[v] for v in mounts_tmp), f"{name}: /tmp must be an emptyDir"


def test_irsa_service_accounts(docs):
    for _, spec in pod_specs(docs):
        one(docs, "ServiceAccount", spec["serviceAccountName"])
    for name in ("runway-api", "runway-worker", "runway-secrets"):
        arn = one(docs, "ServiceAccount", name)["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        assert re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+", arn), arn
    assert one(docs, "Deployment", "runway-api")["spec"]["template"]["spec"]["serviceAccountName"] == "runway-api"
    assert one(docs, "Deployment", "runway-worker")["spec"]["template"]["spec"]["serviceAccountName"] == "runway-worker"


AWS_KEY_PATTERNS = [
    re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(r"aws_secret_access_key|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|aws_access_key_id"),
]


def test_no_aws_keys_anywhere():
    checked = 0
    for path in DEPLOY.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc",):
            if path.name == "test_kubernetes.py":
                continue
            text = path.read_text(errors="replace")
            for pattern in AWS_KEY_PATTERNS:
                assert not pattern.search(text), f"{path}: looks like an AWS access key ({pattern.pattern})"
            checked += 1
    assert checked > 20
    for overlay in OVERLAYS:
        text = repr(render(overlay))
        for pattern in AWS_KEY_PATTERNS:
            assert not pattern.search(text)
        for d in find(render(overlay), "Secret"):
            pytest.fail(f"a Secret object is committed: {d['metadata']['name']}")


def test_secrets_come_from_files(docs):
    cfg = config(docs)
    for key, value in cfg.items():
        assert not re.search(r"(SECRET|PASSWORD|TOKEN)$", key) or key.endswith("_FILE"), key
        assert "://" not in value or "@" not in value, f"{key} holds credentials"
    files = {k: v for k, v in cfg.items() if k.endswith("_FILE")}
    assert {"RUNWAY_DATABASE_URL_FILE", "RUNWAY_AUTH__JWT_SECRET_FILE", "RUNWAY_CACHE_URL_FILE"} <= files.keys()

    external = one(docs, "ExternalSecret", "runway-secrets")
    keys = {d["secretKey"] for d in external["spec"]["data"]}
    target = external["spec"]["target"]["name"]
    store = one(docs, "SecretStore", external["spec"]["secretStoreRef"]["name"])
    assert store["spec"]["provider"]["aws"]["auth"]["jwt"]["serviceAccountRef"]["name"] == "runway-secrets"
    for d, spec in pod_specs(docs):
        secret_volumes = {v["name"] for v in spec["volumes"] if v.get("secret", {}).get("secretName") == target}
        c = spec["containers"][0]
        assert {e["configMapRef"]["name"] for e in c["envFrom"]} == {cfg_name(docs)}
        mounts = [m for m in c["volumeMounts"] if m["name"] in secret_volumes]
        assert mounts, f"{d['metadata']['name']} does not mount {target}"
        for path in files.values():
            directory, key = path.rsplit("/", 1)
            assert any(m["mountPath"] == directory for m in mounts), path
            assert key in keys, f"{path}: key {key} is not synced by the ExternalSecret"


def cfg_name(docs) -> str:
    return next(d["metadata"]["name"] for d in find(docs, "ConfigMap") if d["metadata"]["name"].startswith("runway-config"))


def test_production_settings(docs):
    cfg = config(docs)
    assert cfg["RUNWAY_LISTEN"] == "0.0.0.0:8080"
    assert cfg["RUNWAY_LOG_FORMAT"] == "json"
    assert cfg["RUNWAY_HTTP__TRUST_FORWARDED_FOR"] == "true"
    assert cfg["RUNWAY_HTTP__HSTS"] == "true"
    assert cfg["RUNWAY_STORAGE_URL"].startswith("s3://")
    assert re.fullmatch(r"https://sqs\.[a-z0-9-]+\.amazonaws\.com/\d{12}/[\w-]+", cfg["RUNWAY_QUEUE_URL"])


def test_media_processor_settings(docs):
    """The checks runway_core::Config::validate makes on media.processor, on
    the rendered configuration (Terraform's kustomize_env sets both keys)."""
    cfg = config(docs)
    assert cfg["RUNWAY_MEDIA__PROCESSOR"] in ("worker", "lambda")
    if cfg["RUNWAY_MEDIA__PROCESSOR"] == "lambda":
        assert cfg["RUNWAY_STORAGE_URL"].startswith("s3://"), "the thumbnail Lambda is triggered by S3 events"
        assert re.fullmatch(
            r"https://sqs\.[a-z0-9-]+\.amazonaws\.com/\d{12}/runway-[a-z]+-thumbnail-results", cfg["RUNWAY_MEDIA__RESULTS_QUEUE_URL"]
        )
        # The results queue lives in the same account and region as the job queue.
        assert cfg["RUNWAY_MEDIA__RESULTS_QUEUE_URL"].rsplit("/", 1)[0] == cfg["RUNWAY_QUEUE_URL"].rsplit("/", 1)[0]


def test_base_defaults_to_the_worker_processor():
    """Without an overlay value the pods make thumbnails themselves."""
    base = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    literals = dict(l.split("=", 1) for g in base["configMapGenerator"] if g["name"] == "runway-config" for l in g["literals"])
    assert literals["RUNWAY_MEDIA__PROCESSOR"] == "worker"
    assert literals["RUNWAY_MEDIA__RESULTS_QUEUE_URL"] == "https://set-by-overlay"
    component = yaml.safe_load((K8S / "components" / "aws-env" / "kustomization.yaml").read_text())
    replaced = {r["source"]["fieldPath"]: r["targets"] for r in component["replacements"]}
    for key in ("RUNWAY_MEDIA__PROCESSOR", "RUNWAY_MEDIA__RESULTS_QUEUE_URL"):
        assert replaced[f"data.{key}"] == [{"select": {"kind": "ConfigMap", "name": "runway-config"}, "fieldPaths": [f"data.{key}"]}]


def test_media_settings_come_from_aws_env(docs, overlay):
    """The pipeline settings the thumbnail Lambda also gets (Terraform writes
    the same map into aws.env) reach the pods' configuration; the base holds
    runway's defaults."""
    defaults = runway_media_defaults()
    base = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    literals = dict(l.split("=", 1) for g in base["configMapGenerator"] if g["name"] == "runway-config" for l in g["literals"])
    assert {k: literals[k] for k in defaults} == defaults
    component = yaml.safe_load((K8S / "components" / "aws-env" / "kustomization.yaml").read_text())
    replaced = {r["source"]["fieldPath"]: r["targets"] for r in component["replacements"]}
    for key in defaults:
        assert replaced[f"data.{key}"] == [{"select": {"kind": "ConfigMap", "name": "runway-config"}, "fieldPaths": [f"data.{key}"]}]
    aws_env = dict(
        line.split("=", 1) for line in (K8S / "overlays" / overlay / "aws.env").read_text().splitlines() if "=" in line and not line.startswith("#")
    )
    cfg = config(docs)
    for key in defaults:
        assert cfg[key] == aws_env[key], key


def test_media_settings_follow_a_changed_aws_env(tmp_path):
    """A value Terraform writes (e.g. var.media_settings overriding a default)
    replaces the base value in the rendered configuration."""
    changed = {"RUNWAY_MEDIA__MAX_PIXELS": "40000000", "RUNWAY_MEDIA__VARIANT_FORMAT": "jpeg"}
    lines = []
    for line in (K8S / "overlays" / "prod" / "aws.env").read_text().splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={changed[key]}" if key in changed else line)
    env_file = tmp_path / "aws.env"
    env_file.write_text("\n".join(lines) + "\n")
    out = subprocess.run(
        [str(DEPLOY / "pipeline" / "render"), "prod", f"{TEST_REPOSITORY}@{TEST_DIGEST}", str(env_file)],
        check=True, capture_output=True, text=True,
    )
    cfg = config([d for d in yaml.safe_load_all(out.stdout) if d])
    for key, value in changed.items():
        assert cfg[key] == value, key


def test_roles(docs):
    assert api_container(docs)["args"] == ["serve", "--no-workers"]
    assert one(docs, "Deployment", "runway-worker")["spec"]["template"]["spec"]["containers"][0]["args"] == ["worker"]
    job = one(docs, "Job", "runway-migrate")
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_network_policies(docs):
    policies = find(docs, "NetworkPolicy")
    deny = [p for p in policies if p["spec"]["podSelector"] == {} and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert deny, "a default-deny NetworkPolicy is required"
    allowed = [p for p in policies if "Ingress" in p["spec"]["policyTypes"] and p["spec"].get("ingress")]
    # Only the API's HTTP port and the worker's probe/metrics port accept
    # connections; the worker's only from the monitoring namespace.
    ports = {"api": [8080], "worker": [9090]}
    for p in allowed:
        component = p["spec"]["podSelector"]["matchLabels"].get("app.kubernetes.io/component")
        assert component in ports, p["metadata"]["name"]
        for rule in p["spec"]["ingress"]:
            assert [port["port"] for port in rule["ports"]] == ports[component]
            if component == "worker":
                assert all("namespaceSelector" in peer and "ipBlock" not in peer for peer in rule["from"])


def test_metrics_are_scraped(docs):
    monitor = one(docs, "PodMonitor", "runway-api")
    assert monitor["spec"]["podMetricsEndpoints"][0]["path"] == "/metrics"
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == "http"
    # Workers serve their job metrics on RUNWAY_WORKER_LISTEN.
    worker = one(docs, "PodMonitor", "runway-worker")
    assert worker["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"
    container = one(docs, "Deployment", "runway-worker")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    assert env["RUNWAY_WORKER_LISTEN"] == "0.0.0.0:9090"
    assert [p["containerPort"] for p in container["ports"] if p["name"] == "metrics"] == [9090]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_alerts_cover_the_issue(docs):
    rule = one(docs, "PrometheusRule", "runway")
    exprs = {r["alert"]: r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]}
    joined = "\n".join(exprs.values())
    assert re.search(r'runway_http_requests_total\{status=~"5\.\."\}', joined), "5xx rate"
    assert "histogram_quantile(0.99" in joined and "runway_http_request_duration_seconds_bucket" in joined, "p99 latency"
    assert "runway_jobs_oldest_age_seconds" in joined, "queue age"
    assert "runway_jobs_dead_letter_count" in joined and "approximate_number_of_messages_visible" in joined, "DLQ depth"
    assert "runway_push_failed_total" in joined, "push failure rate"
    for g in rule["spec"]["groups"]:
        for r in g["rules"]:
            assert r["labels"]["severity"] in ("critical", "warning")
            assert r["annotations"]["summary"]
