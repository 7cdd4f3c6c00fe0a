"""deploy/ of every bake: the Kubernetes manifests against Kubernetes' own schema (offline, the
schemas kubernetes-validate bundles), the systemd units through `systemd-analyze verify` and its
offline security review, and what each must say for the pipeline's run lock and database."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from conftest import OPTION_SETS, set_id

KUBERNETES_VERSION = "1.30"  # the oldest version still supported upstream when this was written
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="no systemd-analyze here")
SYSTEM_UNITS = next(
    (p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()), None
)
# `systemd-analyze security` scores exposure from 0 (locked down) to 10; under 2 is "OK".
MAX_EXPOSURE = 2.0
EXPOSURE = re.compile(r"Overall exposure level for \S+: (\d+\.\d+)")

pytestmark = pytest.mark.parametrize("answers", OPTION_SETS, ids=[set_id(a) for a in OPTION_SETS])


def manifests(root: Path) -> list[dict[str, Any]]:
    text = (root / "deploy" / "kubernetes" / "cronjob.yaml").read_text(encoding="utf-8")
    return [doc for doc in yaml.safe_load_all(text) if doc]


def the(kind: str, documents: list[dict[str, Any]]) -> dict[str, Any]:
    found = [doc for doc in documents if doc["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind}s"
    return found[0]


def test_kubernetes_manifests_match_the_kubernetes_schema(baked, answers) -> None:
    for resource in manifests(baked(answers)):
        # strict: an unknown or misspelt field is an error, not silently ignored
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def recorded_answers(root: Path) -> dict[str, Any]:
    """Every answer of the bake, the defaulted ones too (github_owner...)."""
    return json.loads((root / ".cookiecutter.json").read_text(encoding="utf-8"))["default_context"]


def test_the_cronjob_runs_one_at_a_time_and_migrates_before_the_run(baked, answers) -> None:
    root = baked(answers)
    answers = recorded_answers(root)
    cronjob = the("CronJob", manifests(root))
    spec = cronjob["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] > 0
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] >= 1
    pod = job["template"]["spec"]
    [migrate], [run] = pod["initContainers"], pod["containers"]
    package = answers["package_name"]
    assert migrate["command"] == ["python", "-m", package, "migrate"]
    assert run["command"] == ["python", "-m", package, "run"]
    image = f"ghcr.io/{answers['github_owner'].lower()}/{answers['project_slug']}:"
    for container in (migrate, run):
        assert container["image"].startswith(image)
        assert container["resources"]["requests"] and container["resources"]["limits"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        [source] = container["envFrom"]
        assert source["secretRef"]["name"] == f"{answers['project_slug']}-env"


def test_the_pod_runs_as_the_images_user_with_the_data_volume_the_database_needs(
    baked, answers
) -> None:
    root = baked(answers)
    documents = manifests(root)
    pod = the("CronJob", documents)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    uid = re.search(r"useradd .*--uid (\d+)", (root / "Dockerfile").read_text(encoding="utf-8"))
    assert uid and pod["securityContext"]["runAsUser"] == int(uid.group(1))
    data = next(volume for volume in pod["volumes"] if volume["name"] == "data")
    secret = pod["containers"][0]["envFrom"][0]["secretRef"]
    claims = [doc for doc in documents if doc["kind"] == "PersistentVolumeClaim"]
    if answers["database"] == "sqlite":
        # the SQLite file outlasts the pod; nothing else in the Secret is required
        assert data["persistentVolumeClaim"]["claimName"] == claims[0]["metadata"]["name"]
        assert secret.get("optional") is True
    else:
        # the database is a server: DATABASE_URL must come from the Secret
        assert "emptyDir" in data and claims == []
        assert not secret.get("optional")
    assert {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]} >= {"/app/data"}


def unit_lines(path: Path) -> dict[str, list[str]]:
    """Each ``Key=`` of a unit file with every value it is given, in order."""
    values: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def units(root: Path, slug: str) -> tuple[Path, Path]:
    folder = root / "deploy" / "systemd"
    return folder / f"{slug}.service", folder / f"{slug}.timer"


def test_the_service_is_a_oneshot_migrate_and_run_started_by_a_persistent_timer(
    baked, answers
) -> None:
    service, timer = units(baked(answers), answers["project_slug"])
    unit, schedule = unit_lines(service), unit_lines(timer)
    workdir = f"/opt/{answers['project_slug']}"
    python = f"{workdir}/.venv/bin/python -m {answers['package_name']}"
    assert unit["Type"] == ["oneshot"]
    assert unit["WorkingDirectory"] == [workdir]
    assert unit["ExecStartPre"] == [f"{python} migrate"]
    assert unit["ExecStart"] == [f"{python} run"]
    [environment_file] = unit["EnvironmentFile"]
    # optional ("-") only where no secret is needed: a SQLite project
    assert environment_file.startswith("-") == (answers["database"] == "sqlite")
    assert unit["ProtectSystem"] == ["strict"] and unit["NoNewPrivileges"] == ["yes"]
    assert unit["ReadWritePaths"] == [f"{workdir}/data {workdir}/dags"]
    assert schedule["Persistent"] == ["true"] and schedule["OnCalendar"]


def verify_root(tmp_path: Path, service: Path, timer: Path, workdir: str) -> Path:
    """A root for `systemd-analyze verify --root`: the system's units, the two under test, and
    an executable where ExecStart expects the project's Python (verify checks it exists)."""
    root = tmp_path / "root"
    assert SYSTEM_UNITS is not None
    shutil.copytree(SYSTEM_UNITS, root / "usr" / "lib" / "systemd" / "system", symlinks=True)
    units_dir = root / "etc" / "systemd" / "system"
    units_dir.mkdir(parents=True)
    for unit in (service, timer):
        shutil.copy(unit, units_dir / unit.name)
    python = root / workdir.lstrip("/") / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n", encoding="utf-8")
    python.chmod(0o755)
    return root


@needs_systemd
def test_systemd_analyze_verify_finds_nothing_to_say(baked, answers, tmp_path: Path) -> None:
    if SYSTEM_UNITS is None:
        pytest.skip("no system unit folder to verify against")
    service, timer = units(baked(answers), answers["project_slug"])
    root = verify_root(tmp_path, service, timer, f"/opt/{answers['project_slug']}")
    installed = [str(root / "etc" / "systemd" / "system" / unit.name) for unit in (service, timer)]
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", f"--root={root}", *installed],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # verify exits 0 on an unknown key or a bad value, only warning: both must be empty
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@needs_systemd
def test_the_service_is_hardened(baked, answers) -> None:
    service, _ = units(baked(answers), answers["project_slug"])
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=true", "--no-pager", str(service)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = EXPOSURE.search(done.stdout + done.stderr)
    assert found, done.stdout + done.stderr
    assert float(found.group(1)) <= MAX_EXPOSURE, done.stdout
