"""pydwt's dependency-injection container, so that pydwt's config injection runs unchanged:

    from dependency_injector.wiring import inject, Provide
    from <package>.core.containers import Container

    @Task()
    @inject
    def task_one(config: dict = Provide[Container.config.tasks.task_one]): ...

``Container.config`` is settings.yml. Nothing needs wiring: when the engine calls a task, each
parameter whose default is ``Provide[Container.config...]`` gets that part of the run's settings
(on a Dask worker too, which receives them with the call). ``tasks.<name>`` is that task's block,
``{}`` when settings.yml has none, like the engine's own ``config`` parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from dependency_injector import containers, providers

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["Container", "config_paths", "resolve_provided"]

_INTERNAL = {"root", "database_url_env", "key_lines"}


class Container(containers.DeclarativeContainer):
    """pydwt's container: ``config`` holds settings.yml."""

    config = providers.Configuration()


def config_paths(markers: Mapping[str, object]) -> tuple[dict[str, str], list[str]]:
    """For each parameter defaulting to a ``Provide[...]`` marker, the dotted path it names
    under ``Container.config`` (``"tasks.task_one"``); markers on anything else are problems."""
    paths: dict[str, str] = {}
    problems: list[str] = []
    for parameter, marker in markers.items():
        path = _config_path(getattr(marker, "provider", None))
        if path is None:
            problems.append(
                f"parameter '{parameter}' is injected from {marker!r}, which the engine does "
                f"not provide; use Provide[Container.config.<key>] with Container from "
                f"{__name__}"
            )
        else:
            paths[parameter] = path
    return paths, problems


def _config_path(provider: object) -> str | None:
    if isinstance(provider, str):  # Provide["config.tasks.task_one"]
        head, _, rest = provider.partition(".")
        return rest if head == "config" else None
    if not isinstance(provider, (providers.Configuration, providers.ConfigurationOption)):
        return None
    if provider is not Container.config and provider._get_root() is not Container.config:
        return None
    return ".".join(str(segment) for segment in provider.get_name_segments())


def resolve_provided(
    paths: Mapping[str, str], settings: Settings | None, task: str, config: Mapping[str, object]
) -> dict[str, object]:
    """The value of each parameter's path in the run's settings (the task's own block when the
    call carries no settings)."""
    container = Container()
    container.config.from_dict(_settings_data(settings, task, config))
    values: dict[str, object] = {}
    for parameter, path in paths.items():
        value = container.config.get(path) if path else container.config()
        if value is None and path.startswith("tasks.") and path.count(".") == 1:
            value = {}  # a task without a block, as the engine's own `config` parameter
        values[parameter] = value
    return values


def _settings_data(
    settings: Settings | None, task: str, config: Mapping[str, object]
) -> dict[str, object]:
    if settings is None:
        return {"tasks": {task: dict(config)}}
    data = settings.model_dump(mode="json", exclude=_INTERNAL, exclude_none=True)
    data["tasks"] = {name: settings.task_config(name) for name in settings.tasks}
    return data
