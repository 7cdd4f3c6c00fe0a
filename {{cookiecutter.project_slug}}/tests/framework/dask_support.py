"""The Dask tests' shared cluster: import the ``client`` fixture into a test module (listed in its
``__all__``) for two worker processes of one thread each, started once per module, and run on it
with ``on_dask``. Importing this module skips the importing test module where ``distributed`` is
not installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from {{ cookiecutter.package_name }}.settings import Settings

distributed = pytest.importorskip("distributed")
from {{ cookiecutter.package_name }}.core.dask_executor import DaskExecutor  # noqa: E402


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    """Two worker processes of one thread each; a worker that dies fails its task at once."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"allowed_failures": 0},
    )
    with distributed.Client(cluster, set_as_default=False) as dask_client:
        yield dask_client
    cluster.close()


def on_dask(client, settings: Settings) -> DaskExecutor:  # type: ignore[no-untyped-def]
    """An executor that runs the project's tasks on ``client``'s workers."""
    return DaskExecutor(client=client, project_root=settings.root)
