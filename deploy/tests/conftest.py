"""Shared fixtures of the deployment tests (run by scripts/check-deploy).

They read the Terraform with python-hcl2 and render the Kustomize overlays
through deploy/pipeline/render, the same script the pipeline uses, so the
tests check what would be applied.
"""

from __future__ import annotations

import functools
import json
import math
import re
import subprocess
from pathlib import Path

import hcl2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TERRAFORM = DEPLOY / "terraform"
K8S = DEPLOY / "k8s"
ENVS = ("dev", "prod")
OVERLAYS = ("dev", "prod")

# A well-formed digest: the tests check the rendering, not a real image.
TEST_DIGEST = "sha256:" + "0123456789abcdef" * 4
TEST_REPOSITORY = "222222222222.dkr.ecr.eu-central-1.amazonaws.com/runway"

_HCL_OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True,
    with_comments=False,
    explicit_blocks=False,
    preserve_heredocs=False,
)


@functools.cache
def load_hcl(path: Path) -> dict:
    with path.open() as f:
        return hcl2.load(f, serialization_options=_HCL_OPTIONS)


def hcl_dir(directory: Path) -> dict[str, list]:
    """All top-level blocks of the .tf files of one directory, merged by type."""
    merged: dict[str, list] = {}
    for tf in sorted(directory.glob("*.tf")):
        for block_type, blocks in load_hcl(tf).items():
            merged.setdefault(block_type, []).extend(blocks)
    return merged


def blocks(module: dict, block_type: str, kind: str) -> dict[str, dict]:
    """{name: body} of e.g. resource "aws_route" blocks in a merged module."""
    found: dict[str, dict] = {}
    for entry in module.get(block_type, []):
        for k, named in entry.items():
            if k == kind:
                found.update(named)
    return found


def module_calls(env: dict) -> dict[str, dict]:
    calls: dict[str, dict] = {}
    for entry in env.get("module", []):
        calls.update(entry)
    return calls


# The media pipeline settings that reach both the pods (aws.env, copied by
# deploy/k8s/components/aws-env) and the thumbnail Lambda (module media's
# media_settings): the fields of runway_core::config::MediaConfig.
MEDIA_SETTINGS = (
    "max_upload_bytes",
    "max_pixels",
    "max_side",
    "max_frames",
    "keep_original_metadata",
    "variant_format",
    "variant_quality",
)


@functools.cache
def runway_media_defaults() -> dict[str, str]:
    """{RUNWAY_MEDIA__FIELD: value as an env string} of MEDIA_SETTINGS, read
    from `impl Default for MediaConfig` in runway-core's source."""
    source = (ROOT / "crates" / "runway-core" / "src" / "config.rs").read_text()
    body = re.search(r"impl Default for MediaConfig \{.*?MediaConfig \{(.*?)\n\s*\}\n", source, re.S).group(1)
    fields = dict(re.findall(r"^\s*(\w+): (.+),$", body, re.M))
    defaults = {}
    for field in MEDIA_SETTINGS:
        raw = fields[field]
        if m := re.fullmatch(r'"([^"]*)"\.into\(\)', raw):
            value = m.group(1)
        elif raw in ("true", "false"):
            value = raw
        else:
            assert re.fullmatch(r"[\d_ *]+", raw), f"{field}: cannot read the default {raw!r}"
            value = str(math.prod(int(factor) for factor in raw.replace("_", "").split("*")))
        defaults[f"RUNWAY_MEDIA__{field.upper()}"] = value
    return defaults


@functools.cache
def render(overlay: str) -> list[dict]:
    out = subprocess.run(
        [str(DEPLOY / "pipeline" / "render"), overlay, f"{TEST_REPOSITORY}@{TEST_DIGEST}"],
        check=True,
        capture_output=True,
        text=True,
    )
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def tfvars(env: str) -> dict:
    return json.loads((TERRAFORM / "envs" / env / "network.auto.tfvars.json").read_text())


def find(docs: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs: list[dict], kind: str, name: str) -> dict:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected exactly one {kind}/{name}, found {len(found)}"
    return found[0]


@pytest.fixture(params=OVERLAYS)
def overlay(request) -> str:
    return request.param


@pytest.fixture
def docs(overlay) -> list[dict]:
    return render(overlay)
