"""Testing the project's own tasks: run one task on given rows, compare what it wrote.

    def test_counts(run_task):
        result = run_task("task_two", given={"predictions": [...]})
        result.expect_rows([{"matchDate": "2022-12-30", "preds": "hw", "count_preds": 1}])

``testing.plugin`` (registered in tests/conftest.py) gives pytest the fixtures ``pipeline_db``,
``session`` and ``run_task``, and collects ``test_*.yml`` case files (``cases.py``).
"""

from .database import PipelineDb, pipeline_database
from .rows import RowDiff, diff_rows
from .run import CheckResult, TaskResult, TaskTestError, run_task

__all__ = [
    "CheckResult",
    "PipelineDb",
    "RowDiff",
    "TaskResult",
    "TaskTestError",
    "diff_rows",
    "pipeline_database",
    "run_task",
]
