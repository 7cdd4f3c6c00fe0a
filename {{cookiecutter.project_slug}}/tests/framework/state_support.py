"""Two versions of one small project, for the manifest, state selector and diff tests.

From BASE to HEAD: ``transform``'s code changes (``report`` is downstream of it), ``fresh`` is
added, ``legacy`` removed, ``unrelated`` gets a config-only change and ``audited`` a checks-only
change (both in settings.yml); ``extract`` stays as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from engine_support import write_models

from {{ cookiecutter.package_name }}.core.manifest import Manifest, build_manifest
from {{ cookiecutter.package_name }}.core.runner import load_dag
from {{ cookiecutter.package_name }}.settings import Settings, load_settings

BASE_MODELS = """
    from {{ cookiecutter.package_name }}.core.task import Task

    @Task(tags=["staging"])
    def extract():
        return None

    @Task(depends_on=[extract])
    def transform():
        total = 1 + 1
        return None

    @Task(depends_on=[transform], tags=["marts"])
    def report():
        return None

    @Task()
    def unrelated():
        return None

    @Task()
    def audited():
        return None

    @Task(depends_on=[extract])
    def legacy():
        return None
"""

HEAD_MODELS = BASE_MODELS.replace("total = 1 + 1", "total = 2 + 2").replace(
    "    @Task(depends_on=[extract])\n    def legacy():\n        return None\n",
    "    @Task(depends_on=[extract])\n    def fresh():\n        return None\n",
)
HEAD_TASKS: dict[str, Any] = {
    "unrelated": {"owner": "finance"},
    "audited": {"checks": [{"row_count": {"min": 1}}]},
}


def set_task_blocks(settings: Settings, blocks: dict[str, Any]) -> Settings:
    """settings.yml's ``tasks:`` replaced by ``blocks``; the settings read again."""
    path = settings.root / "settings.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["tasks"] = blocks
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_settings(path)


def base_version(settings: Settings) -> Settings:
    """The project at BASE."""
    write_models(settings.root, BASE_MODELS)
    return set_task_blocks(settings, {})


def head_version(settings: Settings) -> Settings:
    """The project at HEAD."""
    write_models(settings.root, HEAD_MODELS)
    return set_task_blocks(settings, HEAD_TASKS)


def manifest_of(settings: Settings) -> Manifest:
    """The manifest of the project as its files are now."""
    return build_manifest(load_dag(settings), settings.task_config, settings.root)


def base_state(settings: Settings, folder: Path) -> tuple[Settings, Path]:
    """Write BASE's manifest to ``folder/base.json``, then move the project to HEAD."""
    from {{ cookiecutter.package_name }}.core.manifest import dump_manifest

    path = folder / "base.json"
    path.write_text(dump_manifest(manifest_of(base_version(settings))), encoding="utf-8")
    return head_version(settings), path


def at_head(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, Path]:
    """The project at HEAD (its own settings.yml, no DATABASE_URL) and BASE's manifest."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings, state = base_state(load_settings(project / "settings.yml"), tmp_path)
    monkeypatch.setenv("PIPELINE_SETTINGS", str(settings.root / "settings.yml"))
    return settings, state
