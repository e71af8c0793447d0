"""The container image build (deploy/docker/Dockerfile + scripts/build-release)
and the release pipeline (scripts/release, deploy/pipeline)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import DEPLOY, ROOT, TEST_DIGEST, TEST_REPOSITORY

DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
BUILD_RELEASE = ROOT / "scripts" / "build-release"
SCRIPTS = [
    BUILD_RELEASE,
    ROOT / "scripts" / "release",
    ROOT / "scripts" / "check-deploy",
    DEPLOY / "pipeline" / "render",
    DEPLOY / "pipeline" / "deploy",
]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for ins in instructions():
        if ins[0] == "FROM":
            result.append([])
        result[-1].append(ins)
    return result


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_are_valid_bash(script):
    assert os.access(script, os.X_OK), f"{script} must be executable"
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_dockerfile_builds_with_build_release():
    build, final = stages()
    runs = [args for ins, args in build if ins == "RUN"]
    assert any(r.endswith("scripts/build-release deps") for r in runs)
    assert any(r.endswith("scripts/build-release build /out") for r in runs)
    # Only the build script is copied before the dependency layer (cache).
    copies = [args for ins, args in build if ins == "COPY"]
    assert copies[0] == "scripts/build-release scripts/build-release"


def test_final_stage_is_small_non_root_and_runway_is_pid_1():
    _, final = stages()
    base = final[0][1]
    assert base.startswith(("debian:", "gcr.io/distroless/cc")) and ":latest" not in base
    copies = [args for ins, args in final if ins == "COPY"]
    assert copies == ["--from=build /out/rootfs/ /"], "the final stage copies exactly what build-release stages"
    runs = " ".join(args for ins, args in final if ins == "RUN")
    assert "/out/runtime-packages" in runs and "--no-install-recommends" in runs
    user = [args for ins, args in final if ins == "USER"]
    assert user and user[-1].split(":")[0] not in ("root", "0")
    entrypoint = [args for ins, args in final if ins == "ENTRYPOINT"]
    assert json.loads(entrypoint[-1]) == ["/usr/local/bin/runway"], "exec form, so runway is PID 1 and gets SIGTERM"
    assert json.loads([args for ins, args in final if ins == "CMD"][-1]) == ["serve"]


def runtime_packages():
    text = BUILD_RELEASE.read_text()
    return re.search(r"RUNTIME_PACKAGES=\(([^)]*)\)", text).group(1).split()


def test_build_and_runtime_packages_are_minimal():
    text = BUILD_RELEASE.read_text()
    build = re.search(r"BUILD_PACKAGES=\(([^)]*)\)", text).group(1).split()
    assert "pkg-config" in build
    # CA certificates for TLS to AWS, RDS and Redis; anything else must be
    # justified by a library the binary links (checked by the build test).
    assert "ca-certificates" in runtime_packages()


@pytest.mark.skipif(
    os.environ.get("RUNWAY_CHECK_BUILD") != "1",
    reason="full release build: run with RUNWAY_CHECK_BUILD=1 (scripts/check-deploy)",
)
def test_build_release_stages_a_working_binary(tmp_path):
    out = tmp_path / "out"
    subprocess.run([str(BUILD_RELEASE), "deps"], check=True)
    subprocess.run([str(BUILD_RELEASE), "build", str(out)], check=True, cwd=ROOT)
    staged = sorted(str(p.relative_to(out / "rootfs")) for p in (out / "rootfs").rglob("*") if p.is_file())
    assert staged == ["usr/local/bin/runway"]
    assert (out / "runtime-packages").read_text().split() == runtime_packages()
    version = subprocess.run([str(out / "rootfs/usr/local/bin/runway"), "version"], check=True, capture_output=True, text=True)
    assert version.stdout.startswith("runway ")


def test_buildspec_runs_the_pipeline_steps():
    spec = yaml.safe_load((DEPLOY / "pipeline" / "buildspec.yml").read_text())
    assert spec["version"] == 0.2
    commands = [c for phase in spec["phases"].values() for c in phase["commands"]]
    assert commands == [
        "bash deploy/pipeline/deploy install-kubectl",
        "bash deploy/pipeline/deploy verify-image",
        "bash deploy/pipeline/deploy kubeconfig",
        "bash deploy/pipeline/deploy apply",
    ]
    deploy = (DEPLOY / "pipeline" / "deploy").read_text()
    assert "deploy/pipeline/render" in deploy
    assert re.search(r"kubectl -n \"\$NAMESPACE\" rollout status", deploy)
    assert "rollout undo" in deploy


def test_release_dry_run():
    if shutil.which("git") is None:
        pytest.fail("git is required")
    result = subprocess.run(
        [
            str(ROOT / "scripts" / "release"), "prod",
            "--repository", TEST_REPOSITORY,
            "--project", "runway-prod-deploy",
            "--source-bucket", "runway-prod-deploy-source-222222222222",
            "--allow-dirty", "--dry-run",
        ],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith("+ docker build --pull -f deploy/docker/Dockerfile")
    assert any(l.startswith("+ docker push " + TEST_REPOSITORY + ":") for l in lines)
    assert any(l.startswith("+ git archive --format=zip") and l.endswith("HEAD deploy/") for l in lines)
    assert "start-build" in lines[-1] and "IMAGE_DIGEST" in lines[-1]
    # A tag never reaches the cluster: the build gets the digest.
    assert re.search(r"value=sha256:[0-9a-f]{64}", lines[-1].replace("\\", ""))
    assert TEST_DIGEST.startswith("sha256:")
