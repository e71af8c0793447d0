"""Invariants of the Terraform, read with python-hcl2 (no provider, no
network): the address plans, the network contract, private-only access and
least privilege (issue 7)."""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import ENVS, K8S, TERRAFORM, blocks, hcl_dir, load_hcl, module_calls, runway_media_defaults, tfvars

MODULES = TERRAFORM / "modules"
NETWORK_VARS = ("name", "vpc_cidr", "secondary_cidr_blocks", "az_count", "subnets", "onprem_cidrs", "tags")
PLANNER_VARS = ("vpc_cidr", "secondary_cidr_blocks", "az_count", "subnets", "onprem_cidrs")
TIERS = ("public", "app", "app_green", "control_plane", "db", "endpoint", "pods")


def all_tf_files():
    return sorted(TERRAFORM.rglob("*.tf"))


@pytest.mark.parametrize("path", all_tf_files(), ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_every_file_parses(path):
    assert isinstance(load_hcl(path), dict)


# ---------------------------------------------------------------- address plans


@pytest.mark.parametrize("env", ENVS)
def test_plan_has_exactly_the_planner_keys(env):
    plan = tfvars(env)
    assert set(plan) == set(PLANNER_VARS)
    assert set(plan["subnets"]) == set(TIERS)
    assert plan["az_count"] in (2, 3)
    for tier, cidrs in plan["subnets"].items():
        assert len(cidrs) in (0, plan["az_count"]), f"{tier}: one CIDR per AZ"
    for tier in ("public", "app", "db", "endpoint"):
        assert len(plan["subnets"][tier]) == plan["az_count"], f"{tier} is required in every AZ"


@pytest.mark.parametrize("env", ENVS)
def test_subnets_inside_the_vpc_and_disjoint(env):
    plan = tfvars(env)
    vpc = [ipaddress.ip_network(c) for c in [plan["vpc_cidr"], *plan["secondary_cidr_blocks"]]]
    for a, b in itertools.combinations(vpc, 2):
        assert not a.overlaps(b), f"VPC ranges {a} and {b} overlap"
    subnets = [(tier, ipaddress.ip_network(c)) for tier, cidrs in plan["subnets"].items() for c in cidrs]
    for tier, net in subnets:
        assert any(net.subnet_of(v) for v in vpc), f"{tier} {net} is outside the VPC"
        assert net.prefixlen <= 28, f"{tier} {net}: AWS subnets are /28 or larger"
    for (ta, a), (tb, b) in itertools.combinations(subnets, 2):
        assert not a.overlaps(b), f"{ta} {a} overlaps {tb} {b}"
    for tier in ("pods",):
        for c in plan["subnets"][tier]:
            assert not ipaddress.ip_network(c).subnet_of(vpc[0]), "pod subnets live in the secondary ranges"
    for c in plan["subnets"]["control_plane"]:
        assert ipaddress.ip_network(c).prefixlen == 28
    for c in plan["onprem_cidrs"]:
        assert not any(ipaddress.ip_network(c).overlaps(v) for v in vpc), f"on-prem {c} overlaps the VPC"


@pytest.mark.parametrize("env", ENVS)
def test_app_tiers_are_sized_for_eks_pods(env):
    plan = tfvars(env)
    # Every pod takes a VPC address. The sizes come from `runway plan-network`
    # (the command is in network-plan.txt beside the tfvars); here: at least a
    # few nodes' worth per AZ, and a green range as large as the blue one.
    for blue, green in zip(plan["subnets"]["app"], plan["subnets"]["app_green"]):
        b, g = ipaddress.ip_network(blue), ipaddress.ip_network(green)
        assert b.num_addresses >= 128, f"app {blue} is too small for EKS pods"
        assert g.num_addresses == b.num_addresses, f"green {green} differs from blue {blue}"
    command = (TERRAFORM / "envs" / env / "network-plan.txt").read_text().splitlines()[1]
    assert "runway plan-network" in command and f"envs/{env}/network.auto.tfvars.json" in command


def test_environments_never_overlap():
    ranges = {env: [ipaddress.ip_network(c) for c in [tfvars(env)["vpc_cidr"]]] for env in ENVS}
    for a, b in itertools.combinations(ENVS, 2):
        for x in ranges[a]:
            for y in ranges[b]:
                assert not x.overlaps(y), f"{a} {x} overlaps {b} {y}: they could never be connected"


# ---------------------------------------------------------------- the network contract


def test_network_variables_are_the_planner_contract():
    variables = {}
    for entry in load_hcl(MODULES / "network" / "variables.tf")["variable"]:
        variables.update(entry)
    assert tuple(variables) == NETWORK_VARS
    module = hcl_dir(MODULES / "network")
    declared = set()
    for entry in module["variable"]:
        declared |= set(entry)
    assert declared == set(NETWORK_VARS), "the network module declares variables outside variables.tf"


@pytest.mark.parametrize("env", ENVS)
def test_env_declares_and_passes_the_plan(env):
    env_tf = hcl_dir(TERRAFORM / "envs" / env)
    declared = {}
    for entry in env_tf["variable"]:
        declared.update(entry)
    contract = {}
    for entry in load_hcl(MODULES / "network" / "variables.tf")["variable"]:
        contract.update(entry)
    for var in PLANNER_VARS:
        assert var in declared, f"envs/{env} must declare {var}"
        assert declared[var]["type"] == contract[var]["type"], f"{var}: type differs from the network module"
    network = module_calls(env_tf)["network"]
    assert network["source"] == "../../modules/network"
    for var in PLANNER_VARS:
        assert network[var] == f"${{var.{var}}}", f"module network must get var.{var}"


# ---------------------------------------------------------------- private access


def test_eks_api_endpoint_is_private_only():
    eks = blocks(hcl_dir(MODULES / "eks"), "resource", "aws_eks_cluster")["this"]
    vpc = eks["vpc_config"][0]
    assert vpc["endpoint_public_access"] is False
    assert vpc["endpoint_private_access"] is True
    assert "public_access_cidrs" not in vpc
    assert eks["encryption_config"][0]["resources"] == ["secrets"]
    assert eks["enabled_cluster_log_types"] == "${local.log_types}"
    eks_locals = {}
    for entry in hcl_dir(MODULES / "eks")["locals"]:
        eks_locals.update(entry)
    assert set(eks_locals["log_types"]) == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    lt = blocks(hcl_dir(MODULES / "eks"), "resource", "aws_launch_template")["node"]
    assert lt["metadata_options"][0]["http_tokens"] == "required"


def test_db_and_endpoint_tiers_have_no_internet_route():
    net = hcl_dir(MODULES / "network")
    tables = blocks(net, "resource", "aws_route_table")
    for name, table in tables.items():
        assert "route" not in table, f"aws_route_table.{name}: inline routes hide from this test"
    routes = blocks(net, "resource", "aws_route")
    for name, route in routes.items():
        table = route["route_table_id"]
        internet = route.get("destination_cidr_block") == "0.0.0.0/0" or "gateway_id" in route or "nat_gateway_id" in route
        if internet:
            assert table.startswith(("${aws_route_table.public.", "${each.value.id}")), name
            if table == "${each.value.id}":
                assert route["for_each"] == "${aws_route_table.private}", name
    assert "aws_route" not in json.dumps(blocks(net, "resource", "aws_route_table")["isolated"])
    locals_ = {}
    for entry in net["locals"]:
        locals_.update(entry)
    assert {"db", "endpoint", "control_plane"} <= set(locals_["isolated_tiers"])
    assert not {"db", "endpoint", "control_plane"} & set(locals_["nat_tiers"])
    assoc = blocks(net, "resource", "aws_route_table_association")["private"]
    assert "contains(local.nat_tiers" in assoc["route_table_id"] and "aws_route_table.isolated" in assoc["route_table_id"]
    # No internet or NAT gateway route may target the isolated tables.
    for name, route in routes.items():
        assert "isolated" not in route["route_table_id"], name


def test_vpc_endpoints_live_in_the_endpoint_tier():
    net = hcl_dir(MODULES / "network")
    locals_ = {}
    for entry in net["locals"]:
        locals_.update(entry)
    required = {"ecr.api", "ecr.dkr", "sts", "sqs", "sns", "logs", "ec2", "elasticloadbalancing", "autoscaling"}
    endpoints = locals_["interface_endpoints"]
    assert required <= set(re.findall(r'"([a-z0-9.]+)"', endpoints) if isinstance(endpoints, str) else endpoints)
    interface = blocks(net, "resource", "aws_vpc_endpoint")
    assert "endpoint-" in interface["interface"]["subnet_ids"]
    assert interface["s3"]["vpc_endpoint_type"] == "Gateway"
    assert blocks(net, "resource", "aws_flow_log")["this"]["traffic_type"] == "ALL"


def test_data_tier_is_private_encrypted_and_multi_az():
    data = hcl_dir(MODULES / "data")
    rds = blocks(data, "resource", "aws_db_instance")["this"]
    assert rds["publicly_accessible"] is False
    assert rds["multi_az"] is True
    assert rds["storage_encrypted"] is True
    assert rds["engine"] == "mysql"
    redis = blocks(data, "resource", "aws_elasticache_replication_group")["this"]
    assert redis["transit_encryption_enabled"] is True
    assert redis["at_rest_encryption_enabled"] is True
    assert redis["multi_az_enabled"] is True and redis["automatic_failover_enabled"] is True
    assert "auth_token" in redis
    rules = blocks(data, "resource", "aws_vpc_security_group_ingress_rule")
    assert rules["mysql"]["for_each"] == "${toset(concat(var.app_cidrs, var.onprem_cidrs))}"
    assert rules["cache"]["for_each"] == "${toset(var.app_cidrs)}"
    for rule in rules.values():
        assert "0.0.0.0/0" not in json.dumps(rule)


def test_media_bucket_is_private_with_lifecycle():
    media = hcl_dir(MODULES / "media")
    pab = blocks(media, "resource", "aws_s3_bucket_public_access_block")
    for name, block in pab.items():
        for key in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
            assert block[key] is True, f"{name}.{key}"
    lifecycle = json.dumps(blocks(media, "resource", "aws_s3_bucket_lifecycle_configuration")["media"])
    assert "abort_incomplete_multipart_upload" in lifecycle
    assert "${local.uploads_prefix}" in lifecycle, "abandoned uploads expire under <storage_prefix>/uploads/"
    cdn = blocks(media, "resource", "aws_cloudfront_distribution")["media"]
    assert cdn["origin"][0]["origin_access_control_id"]
    assert cdn["default_cache_behavior"][0]["trusted_key_groups"]
    assert cdn["default_cache_behavior"][0]["viewer_protocol_policy"] in ("redirect-to-https", "https-only")
    # Only public media are served without a signature.
    for behavior in cdn.get("ordered_cache_behavior", []):
        if not behavior.get("trusted_key_groups"):
            assert behavior["path_pattern"] == "/public/*", behavior["path_pattern"]
        assert behavior["viewer_protocol_policy"] in ("redirect-to-https", "https-only")


# ---------------------------------------------------------------- least privilege


def _statements(doc: dict) -> list[dict]:
    return doc.get("statement", [])


@pytest.mark.parametrize("role", ["api", "worker", "secrets"])
def test_app_roles_have_no_wildcard_action_or_resource(role):
    docs = blocks(hcl_dir(MODULES / "iam"), "data", "aws_iam_policy_document")
    statements = _statements(docs[role])
    assert statements
    for s in statements:
        assert s.get("effect", "Allow") == "Allow"
        assert "not_actions" not in s and "not_resources" not in s
        for action in s["actions"]:
            assert action != "*" and not action.endswith(":*"), f"{role}: action {action}"
        resources = s["resources"]
        assert resources != "*" and "*" not in (resources if isinstance(resources, list) else [resources]), f"{role}: resource *"


def test_app_roles_trust_only_their_service_account():
    iam = hcl_dir(MODULES / "iam")
    roles = blocks(iam, "resource", "aws_iam_role")
    for role in ("api", "worker", "secrets"):
        assert roles[role]["assume_role_policy"] == f'${{data.aws_iam_policy_document.irsa_assume["{role}"].json}}'
    trust = blocks(iam, "data", "aws_iam_policy_document")["irsa_assume"]
    conditions = {c["variable"]: c for c in trust["statement"][0]["condition"]}
    assert conditions["${var.oidc_issuer}:sub"]["test"] == "StringEquals"
    assert conditions["${var.oidc_issuer}:aud"]["values"] == ["sts.amazonaws.com"]


def test_no_iam_users_or_access_keys():
    for path in all_tf_files():
        for entry in load_hcl(path).get("resource", []):
            for kind in entry:
                assert kind not in ("aws_iam_user", "aws_iam_access_key", "aws_iam_user_login_profile"), f"{path}: {kind}"


def test_mfa_policy_and_account_guards():
    iam = hcl_dir(MODULES / "iam")
    mfa = blocks(iam, "data", "aws_iam_policy_document")["require_mfa"]
    deny = [s for s in mfa["statement"] if s.get("effect") == "Deny" and "condition" in s]
    assert any(c["variable"] == "aws:MultiFactorAuthPresent" and c["values"] == ["false"] for s in deny for c in s["condition"])
    pab = blocks(iam, "resource", "aws_s3_account_public_access_block")["this"]
    assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))


def test_registry_is_immutable_and_scanned():
    ecr = blocks(hcl_dir(MODULES / "registry"), "resource", "aws_ecr_repository")["runway"]
    assert ecr["image_tag_mutability"] == "IMMUTABLE"
    assert ecr["image_scanning_configuration"][0]["scan_on_push"] is True


def test_lambdas_plug_in_by_zip_path():
    media = blocks(hcl_dir(MODULES / "media"), "resource", "aws_lambda_function")["thumbnail"]
    assert media["filename"] == "${var.thumbnail_lambda_zip}" and media["runtime"] == "provided.al2023"
    assert media["dead_letter_config"]
    alert = blocks(hcl_dir(MODULES / "observability"), "resource", "aws_lambda_function")["alert"]
    assert alert["filename"] == "${var.alert_lambda_zip}" and alert["handler"] == "bootstrap"


# ---------------------------------------------------------------- Lambdas and their queues

LAMBDA_SRC = TERRAFORM.parents[1] / "crates" / "runway-lambda" / "src"
MEDIA_BUCKET_ARN = "arn:aws:s3:::runway-test-media-111111111111"


def _locals(module: dict) -> dict:
    found = {}
    for entry in module.get("locals", []):
        found.update(entry)
    return found


def _outputs(module: dict) -> dict:
    found = {}
    for entry in module.get("output", []):
        found.update(entry)
    return found


def _variables(module: dict) -> dict:
    found = {}
    for entry in module.get("variable", []):
        found.update(entry)
    return found


def _media_paths(expr: str) -> str:
    """A media-module S3 expression with the bucket ARN and the prefix locals
    substituted (storage_prefix at its default), e.g. ".../media/uploads/*"."""
    media = hcl_dir(MODULES / "media")
    locals_ = _locals(media)
    default = _variables(media)["storage_prefix"]["default"]
    assert locals_["storage_prefix"] == '${trim(var.storage_prefix, "/")}'
    subs = {
        "${local.uploads_prefix}": locals_["uploads_prefix"],
        "${local.storage_prefix}": default.strip("/"),
        "${var.storage_prefix}": default,
        "${aws_s3_bucket.media.arn}": MEDIA_BUCKET_ARN,
    }
    for ref, value in subs.items():  # uploads_prefix refers to storage_prefix: keep this order
        expr = expr.replace(ref, value)
    assert "${" not in expr, f"unresolved reference in {expr}"
    return expr


def _actions_by_resource(doc: dict, prefix: str) -> dict[str, set[str]]:
    """{resource: actions} of the statements granting actions starting with prefix."""
    granted: dict[str, set[str]] = {}
    for s in _statements(doc):
        assert s.get("effect", "Allow") == "Allow" and "not_actions" not in s and "not_resources" not in s
        actions = {a for a in s["actions"] if a.startswith(prefix)}
        if actions:
            resources = s["resources"] if isinstance(s["resources"], list) else [s["resources"]]
            for r in resources:
                granted.setdefault(r, set()).update(actions)
    return granted


def test_media_uploads_prefix_derives_from_the_storage_prefix():
    media = hcl_dir(MODULES / "media")
    variables = _variables(media)
    assert "uploads_prefix" not in variables and "thumbnails_prefix" not in variables
    assert variables["storage_prefix"]["default"] == "media"
    # No slash at either end (the prefixes below add their own) and no IAM wildcard.
    condition = variables["storage_prefix"]["validation"][0]["condition"]
    pattern = re.fullmatch(r'\$\{can\(regex\("(.+)", var\.storage_prefix\)\)\}', condition).group(1)
    for prefix, valid in [("media", True), ("a/b", True), ("", False), ("/media", False), ("media/", False), ("me*dia", False), ("a//b", False)]:
        assert bool(re.search(pattern, prefix)) is valid, prefix
    assert _media_paths("${local.uploads_prefix}") == "media/uploads/"
    # The S3 notification (the Lambda's trigger) and the expiry of abandoned
    # uploads cover exactly the staged uploads.
    notification = blocks(media, "resource", "aws_s3_bucket_notification")["media"]
    assert [q["filter_prefix"] for q in notification["queue"]] == ["${local.uploads_prefix}"]
    rules = blocks(media, "resource", "aws_s3_bucket_lifecycle_configuration")["media"]["rule"]
    expire = [r for r in rules if r["id"] == "expire-abandoned-uploads"]
    assert len(expire) == 1 and expire[0]["filter"][0]["prefix"] == "${local.uploads_prefix}"
    for path in all_tf_files():
        text = path.read_text()
        for stale in ("thumbnails_prefix", "var.uploads_prefix", "RUNWAY_MEDIA_UPLOADS_PREFIX", "RUNWAY_ALERT_SECRETS_PREFIX"):
            assert stale not in text, f"{path}: {stale}"


def test_every_sqs_queue_is_encrypted():
    for path in all_tf_files():
        for entry in load_hcl(path).get("resource", []):
            for name, queue in entry.get("aws_sqs_queue", {}).items():
                assert queue.get("sqs_managed_sse_enabled") is True or queue.get("kms_master_key_id"), f"{path}: {name}"


def test_thumbnail_results_queue_and_dlq():
    media = hcl_dir(MODULES / "media")
    queues = blocks(media, "resource", "aws_sqs_queue")
    results, dlq = queues["thumbnail_results"], queues["thumbnail_results_dlq"]
    assert results["name"] == "${var.name}-thumbnail-results"
    assert results["sqs_managed_sse_enabled"] is True and dlq["sqs_managed_sse_enabled"] is True
    assert results["visibility_timeout_seconds"] == 60
    assert results["message_retention_seconds"] == 4 * 24 * 3600
    assert results["receive_wait_time_seconds"] == 20
    assert dlq["message_retention_seconds"] > results["message_retention_seconds"]
    redrive = results["redrive_policy"]
    # 20 receives 60 s apart: ~20 minutes of database outage before valid
    # reports are dead-lettered.
    assert "deadLetterTargetArn = aws_sqs_queue.thumbnail_results_dlq.arn" in redrive and "maxReceiveCount = 20" in redrive
    allow = blocks(media, "resource", "aws_sqs_queue_redrive_allow_policy")["thumbnail_results_dlq"]
    assert allow["queue_url"] == "${aws_sqs_queue.thumbnail_results_dlq.id}"
    assert 'redrivePermission = "byQueue"' in allow["redrive_allow_policy"]
    assert "sourceQueueArns = [aws_sqs_queue.thumbnail_results.arn]" in allow["redrive_allow_policy"]
    outputs = _outputs(media)
    assert outputs["thumbnail_results_queue_url"]["value"] == "${aws_sqs_queue.thumbnail_results.url}"
    assert outputs["thumbnail_results_queue_arn"]["value"] == "${aws_sqs_queue.thumbnail_results.arn}"
    assert "${aws_sqs_queue.thumbnail_results_dlq.name}" in outputs["dead_letter_queue_names"]["value"], "the results DLQ is alarmed"
    assert outputs["media_processor"]["value"] == '${local.has_lambda ? "lambda" : "worker"}'
    assert _locals(media)["has_lambda"] == "${var.thumbnail_lambda_zip != null}"


def test_thumbnail_lambda_environment():
    media = hcl_dir(MODULES / "media")
    fn = blocks(media, "resource", "aws_lambda_function")["thumbnail"]
    # The pipeline settings first, then the module's own two keys, which win.
    m = re.fullmatch(r"\$\{merge\(var\.media_settings, \{(.*)\}\)\}", fn["environment"][0]["variables"])
    assert m, "the Lambda's environment is merge(var.media_settings, {the module's keys})"
    env = dict(re.findall(r'(\w+) = ("(?:[^"\\]|\\.)*"|[^,]+)(?:, |$)', m.group(1)))
    assert set(env) == {"RUNWAY_STORAGE_URL", "RUNWAY_MEDIA__RESULTS_QUEUE_URL"}
    outputs = _outputs(media)
    # The same storage URL as the pods (output storage_url), so the same keys.
    assert env["RUNWAY_STORAGE_URL"] == '"' + outputs["storage_url"]["value"] + '"'
    assert outputs["storage_url"]["value"] == "s3://${aws_s3_bucket.media.bucket}/${var.storage_prefix}"
    assert "${" + env["RUNWAY_MEDIA__RESULTS_QUEUE_URL"] + "}" == outputs["thumbnail_results_queue_url"]["value"]
    assert fn["logging_config"][0]["log_format"] == "JSON"
    source = (LAMBDA_SRC / "thumbnail.rs").read_text()
    for name in env:
        assert name in source, f"the thumbnail function does not read {name}"
    # The settings come from runway_core::Config, as on the pods.
    assert "Config::load(" in source


# Terraform itself evaluates the variable validations: a configuration of
# just the variables (and the locals they refer to) needs no provider, so
# `terraform plan` runs offline and fails only on an invalid value.
MEDIA_REQUIRED_VARS = {
    "name": "runway-test",
    "cdn_domain": "media.example.com",
    "zone_id": "Z0123456789EXAMPLE",
    "signing_public_keys": {"k1": "PEM"},
    "lambda_subnet_ids": ["subnet-1"],
    "vpc_id": "vpc-1",
}


def _terraform(workdir, *args: str) -> subprocess.CompletedProcess:
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not installed (scripts/check-deploy requires it)")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": "/dev/null", "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    return subprocess.run(
        ["terraform", *args, "-no-color"], cwd=workdir, env=env, capture_output=True, text=True, timeout=120
    )


def _plan_accepts(workdir, values: dict) -> tuple[bool, str]:
    (workdir / "test.tfvars.json").write_text(json.dumps(values))
    result = _terraform(workdir, "plan", "-input=false", "-lock=false", "-refresh=false", "-var-file=test.tfvars.json")
    output = result.stdout + result.stderr
    if result.returncode != 0:
        assert "Invalid value for variable" in output, output
    return result.returncode == 0, output


@pytest.fixture
def media_variables(tmp_path):
    shutil.copy(MODULES / "media" / "variables.tf", tmp_path / "variables.tf")
    return tmp_path


@pytest.mark.parametrize(
    ("settings", "valid"),
    [
        ({}, True),
        ({"RUNWAY_MEDIA__MAX_PIXELS": "40000000", "RUNWAY_MEDIA__VARIANT_FORMAT": "jpeg"}, True),
        ({"RUNWAY_STORAGE_URL": "s3://other/media"}, False),
        ({"MAX_PIXELS": "1"}, False),
        ({"RUNWAY_MEDIA__PROCESSOR": "worker"}, False),
        ({"RUNWAY_MEDIA__RESULTS_QUEUE_URL": "https://sqs.example.com/1/q"}, False),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else str(v),
)
def test_media_module_validates_media_settings(media_variables, settings, valid):
    accepted, output = _plan_accepts(media_variables, {**MEDIA_REQUIRED_VARS, "media_settings": settings})
    assert accepted is valid, output
    if not valid:
        assert "var.media_settings" in output, output
    variable = _variables(hcl_dir(MODULES / "media"))["media_settings"]
    assert variable["type"] == "${map(string)}" and variable["default"] == {}


@pytest.mark.parametrize(("concurrency", "valid"), [(1, False), (0, False), (2, True), (10, True)])
def test_media_module_validates_thumbnail_concurrency(media_variables, concurrency, valid):
    accepted, output = _plan_accepts(media_variables, {**MEDIA_REQUIRED_VARS, "thumbnail_concurrency": concurrency})
    assert accepted is valid, output
    if not valid:
        assert "var.thumbnail_concurrency" in output, output


def test_thumbnail_event_source_takes_one_image_within_reserved_concurrency():
    media = hcl_dir(MODULES / "media")
    fn = blocks(media, "resource", "aws_lambda_function")["thumbnail"]
    mapping = blocks(media, "resource", "aws_lambda_event_source_mapping")["thumbnail"]
    # One image per invocation: a slow or crashing image fails only itself.
    assert mapping["batch_size"] == 1
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    # Never more pollers than reserved instances (throttles would count as
    # receives towards the DLQ); the variable's validation keeps it >= 2.
    assert mapping["scaling_config"][0]["maximum_concurrency"] == "${var.thumbnail_concurrency}"
    assert fn["reserved_concurrent_executions"] == "${var.thumbnail_concurrency}"
    assert _variables(media)["thumbnail_concurrency"]["default"] >= 2
    # Lambda's SQS integration: visibility timeout at least 6 x the function timeout.
    uploads = blocks(media, "resource", "aws_sqs_queue")["uploads"]
    assert uploads["visibility_timeout_seconds"] >= 6 * fn["timeout"]


KUSTOMIZE_ENV_HEREDOC = re.compile(r"kustomize_env = <<-EOT\n(.*?)\n\s*EOT\n", re.S)


@pytest.mark.parametrize("env", ENVS)
def test_media_settings_are_one_map_for_the_lambda_and_the_pods(env):
    env_dir = TERRAFORM / "envs" / env
    env_tf = hcl_dir(env_dir)
    locals_ = _locals(env_tf)
    # runway's own defaults, overridden by var.media_settings ...
    assert locals_["media_defaults"] == runway_media_defaults()
    assert locals_["media_settings"] == "${merge(local.media_defaults, var.media_settings)}"
    variable = _variables(env_tf)["media_settings"]
    assert variable["type"] == "${map(string)}" and variable["default"] == {}
    # ... go to the thumbnail Lambda ...
    assert module_calls(env_tf)["media"]["media_settings"] == "${local.media_settings}"
    # ... and, the same map, to the pods (kustomize_env, one line per key).
    heredoc = KUSTOMIZE_ENV_HEREDOC.search((env_dir / "main.tf").read_text()).group(1)
    lines = [line for line in heredoc.splitlines() if "media_settings" in line]
    assert [line.strip() for line in lines] == ['${join("\\n", [for k, v in local.media_settings : "${k}=${v}"])}']
    assert "RUNWAY_MEDIA__" not in heredoc.replace("RUNWAY_MEDIA__PROCESSOR=", "").replace("RUNWAY_MEDIA__RESULTS_QUEUE_URL=", "")
    # The example aws.env is what Terraform writes without overrides.
    aws_env = dict(
        line.split("=", 1) for line in (K8S / "overlays" / env / "aws.env").read_text().splitlines() if "=" in line and not line.startswith("#")
    )
    assert {k: aws_env[k] for k in locals_["media_defaults"]} == locals_["media_defaults"]


@pytest.mark.parametrize("env", ENVS)
def test_kustomize_env_media_lines_as_terraform_renders_them(env, tmp_path):
    """The env's media_settings variable (with its validation), locals and
    kustomize_env line, evaluated by Terraform with the example inputs."""
    env_dir = TERRAFORM / "envs" / env
    locals_ = _locals(hcl_dir(env_dir))
    shutil.copy(env_dir / "variables.tf", tmp_path / "variables.tf")
    shutil.copy(env_dir / "terraform.tfvars.example", tmp_path / "terraform.tfvars")
    shutil.copy(env_dir / "network.auto.tfvars.json", tmp_path / "network.auto.tfvars.json")
    (tmp_path / "media.tf.json").write_text(json.dumps({
        "locals": {"media_defaults": locals_["media_defaults"], "media_settings": locals_["media_settings"]},
    }))
    heredoc = KUSTOMIZE_ENV_HEREDOC.search((env_dir / "main.tf").read_text()).group(1)
    line = next(l for l in heredoc.splitlines() if "media_settings" in l)
    (tmp_path / "kustomize_env.tf").write_text(f'output "media_env" {{\n  value = <<-EOT\n{line}\n  EOT\n}}\n')

    defaults = runway_media_defaults()
    for overrides in ({}, {"RUNWAY_MEDIA__MAX_PIXELS": "40000000", "RUNWAY_MEDIA__KEEP_ORIGINAL_METADATA": "true"}):
        (tmp_path / "test.tfvars.json").write_text(json.dumps({"media_settings": overrides}))
        applied = _terraform(tmp_path, "apply", "-input=false", "-auto-approve", "-lock=false", "-var-file=test.tfvars.json")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        output = _terraform(tmp_path, "output", "-json")
        assert output.returncode == 0, output.stderr
        rendered = json.loads(output.stdout)["media_env"]["value"]
        expected = {**defaults, **overrides}
        assert rendered.splitlines() == [f"{k}={v}" for k, v in sorted(expected.items())], rendered

    # Only keys that reach the pods: a pipeline setting the k8s side does not
    # copy (or one the media module sets itself) would split the two.
    for foreign in ({"RUNWAY_MEDIA__QUOTA_BYTES_PER_USER": "0"}, {"RUNWAY_MEDIA__PROCESSOR": "worker"}, {"MAX_PIXELS": "1"}):
        accepted, output = _plan_accepts(tmp_path, {"media_settings": foreign})
        assert not accepted and "var.media_settings" in output, output


def test_thumbnail_lambda_permissions():
    media = hcl_dir(MODULES / "media")
    doc = blocks(media, "data", "aws_iam_policy_document")["thumbnail"]
    s3 = {_media_paths(r): actions for r, actions in _actions_by_resource(doc, "s3:").items()}
    # Reads only staged uploads; writes only processed files under the storage
    # prefix. ListBucket (key names) makes a missing upload 404 instead of 403.
    assert s3 == {
        MEDIA_BUCKET_ARN: {"s3:ListBucket"},
        f"{MEDIA_BUCKET_ARN}/media/uploads/*": {"s3:GetObject"},
        f"{MEDIA_BUCKET_ARN}/media/private/*": {"s3:PutObject"},
        f"{MEDIA_BUCKET_ARN}/media/public/*": {"s3:PutObject"},
    }
    sqs = _actions_by_resource(doc, "sqs:")
    assert sqs == {
        "${aws_sqs_queue.uploads.arn}": {
            "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
        },
        "${aws_sqs_queue.uploads_dlq.arn}": {"sqs:SendMessage"},
        "${aws_sqs_queue.thumbnail_results.arn}": {"sqs:SendMessage"},
    }
    assert _actions_by_resource(doc, "kms:") == {"${aws_kms_key.media.arn}": {"kms:Decrypt", "kms:GenerateDataKey"}}
    for s in _statements(doc):
        assert "*" not in s["resources"], s["sid"]


def test_worker_role_consumes_thumbnail_results():
    iam = hcl_dir(MODULES / "iam")
    assert _variables(iam)["thumbnail_results_queue_arn"]["type"] == "string"
    docs = blocks(iam, "data", "aws_iam_policy_document")
    consume = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"}
    worker = _actions_by_resource(docs["worker"], "sqs:")
    assert worker.get("${var.thumbnail_results_queue_arn}") == consume
    assert "${var.thumbnail_results_queue_arn}" not in _actions_by_resource(docs["api"], "sqs:")
    for env in ENVS:
        calls = module_calls(hcl_dir(TERRAFORM / "envs" / env))
        assert calls["iam"]["thumbnail_results_queue_arn"] == "${module.media.thumbnail_results_queue_arn}", env


@pytest.mark.parametrize("env", ENVS)
def test_kustomize_env_configures_the_media_processor(env):
    env_tf = hcl_dir(TERRAFORM / "envs" / env)
    text = next(l["kustomize_env"] for l in env_tf["locals"] if "kustomize_env" in l)
    lines = {line.strip() for line in text.splitlines()}
    assert "RUNWAY_MEDIA__PROCESSOR=${module.media.media_processor}" in lines
    assert "RUNWAY_MEDIA__RESULTS_QUEUE_URL=${module.media.thumbnail_results_queue_url}" in lines
    # media.processor = lambda needs S3 storage (runway_core::Config::validate).
    assert "RUNWAY_STORAGE_URL=${module.media.storage_url}" in lines


def test_alert_lambda_timeout_covers_its_retries():
    fn = blocks(hcl_dir(MODULES / "observability"), "resource", "aws_lambda_function")["alert"]
    # Targets are posted to concurrently, each with up to 3 attempts of at
    # most 5 s plus 0.5 + 1 s of backoff: ~17 s. 60 s leaves room.
    attempts, attempt_timeout, backoff = 3, 5, 0.5 + 1.0
    assert fn["timeout"] == 60
    assert fn["timeout"] >= 3 * (attempts * attempt_timeout + backoff)


def test_alert_lambda_runs_one_instance_with_json_logs():
    fn = blocks(hcl_dir(MODULES / "observability"), "resource", "aws_lambda_function")["alert"]
    assert fn["reserved_concurrent_executions"] == 1, "flap detection needs every alarm in one instance's memory"
    assert fn["logging_config"][0]["log_format"] == "JSON"
    assert fn["environment"][0]["variables"] == "${local.alert_environment}"
    preconditions = [p for lc in fn.get("lifecycle", []) for p in lc.get("precondition", [])]
    assert any(p["condition"] == "${local.alert_has_target}" for p in preconditions), "a zip without a target must not apply"


def test_alert_lambda_environment_names_are_read_by_the_function():
    module = hcl_dir(MODULES / "observability")
    locals_ = _locals(module)
    env = locals_["alert_environment"]
    names = set(re.findall(r"\b(RUNWAY_[A-Z_]+)\s*=", env))
    assert names == {"RUNWAY_ALERT_ENVIRONMENT", "RUNWAY_ALERT_SLACK_WEBHOOK_SECRET_ARN", "RUNWAY_ALERT_WEBHOOK_SECRET_ARN"}
    assert "var.alert_slack_webhook_secret_arn == null ? {}" in env and "var.alert_webhook_secret_arn == null ? {}" in env
    assert env.rstrip("})").endswith("var.alert_lambda_environment"), "extras are merged last"
    source = (LAMBDA_SRC / "alert.rs").read_text()
    targets = set(locals_["alert_target_vars"])
    assert targets == {
        "RUNWAY_ALERT_SLACK_WEBHOOK_URL", "RUNWAY_ALERT_SLACK_WEBHOOK_SECRET_ARN",
        "RUNWAY_ALERT_WEBHOOK_URL", "RUNWAY_ALERT_WEBHOOK_SECRET_ARN",
    }
    for name in names | targets:
        assert f'"{name}"' in source, f"the alert function does not read {name}"
    variables = _variables(module)
    for var in ("alert_slack_webhook_secret_arn", "alert_webhook_secret_arn"):
        assert variables[var]["default"] is None
        assert variables[var].get("validation"), f"{var}: a full secret ARN, or IAM never matches it"


def test_alert_lambda_reads_only_the_configured_secrets():
    module = hcl_dir(MODULES / "observability")
    doc = blocks(module, "data", "aws_iam_policy_document")["alert"]
    for s in _statements(doc):
        assert not any(a.startswith("secretsmanager:") for a in s["actions"]), f"{s['sid']}: secret access must be the conditional statement"
    dynamic = [d["statement"] for d in doc.get("dynamic", []) if "statement" in d]
    assert len(dynamic) == 1
    secrets = dynamic[0]
    assert secrets["for_each"] == "${length(local.alert_secret_arns) > 0 ? [local.alert_secret_arns] : []}", "no statement without secrets"
    content = secrets["content"][0]
    assert content["actions"] == ["secretsmanager:GetSecretValue"]
    assert content["resources"] == "${statement.value}"
    assert _locals(module)["alert_secret_arns"] == "${compact([var.alert_slack_webhook_secret_arn, var.alert_webhook_secret_arn])}"
    assert "secret:*" not in (MODULES / "observability" / "main.tf").read_text()
    for env in ENVS:
        env_tf = hcl_dir(TERRAFORM / "envs" / env)
        call = module_calls(env_tf)["observability"]
        declared = _variables(env_tf)
        for var in ("alert_slack_webhook_secret_arn", "alert_webhook_secret_arn"):
            assert call[var] == f"${{var.{var}}}", f"{env}: {var}"
            assert declared[var]["default"] is None, f"{env}: {var}"


# ---------------------------------------------------------------- providers and state


def test_provider_versions_are_pinned():
    for path in all_tf_files():
        for tf in load_hcl(path).get("terraform", []):
            for providers in tf.get("required_providers", []):
                for name, spec in providers.items():
                    assert re.fullmatch(r"~> \d+\.\d+", spec["version"]), f"{path}: {name} {spec['version']}"
                    if name == "aws":
                        assert spec["version"].startswith("~> 5."), path


@pytest.mark.parametrize("env", ENVS)
def test_env_state_backend_and_account_guard(env):
    env_tf = hcl_dir(TERRAFORM / "envs" / env)
    tf = env_tf["terraform"][0]
    s3 = tf["backend"][0]["s3"]
    assert "bucket" not in s3, "partial backend: the bucket is given at init"
    assert s3["key"] == f"runway/{env}/terraform.tfstate"
    assert s3["encrypt"] is True
    for provider in env_tf["provider"]:
        assert provider["aws"]["allowed_account_ids"] == ["${var.account_id}"]
