"""Task tests written as data, like dbt's unit tests: ``tests/models/test_*.yml`` holds a list
of cases, each naming a task, its given input tables and the rows it must write.

    - task: task_two
      name: counts each prediction of 30 December
      given:
        predictions:
          - {id: 1, matchDate: 2022-12-30, preds: hw}
      expect:
        - {matchDate: 2022-12-30, preds: hw, count_preds: 1}
      key: [matchDate, preds]        # optional: how rows are matched in a diff
      config: {checks: [...]}        # optional: the task's settings.yml block
      checks: {"unique(preds)": pass}  # optional: expected check statuses
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["CaseFileError", "TaskCase", "read_cases"]


class CaseFileError(Exception):
    """A case file that cannot be read: the file, the case and what is wrong."""


class TaskCase(BaseModel):
    """One case: run ``task`` on ``given`` and compare with ``expect`` (None: no table)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    name: str | None = None
    given: dict[str, Any] = Field(default_factory=dict)
    expect: list[dict[str, Any]] | None
    key: list[str] | None = None
    config: dict[str, Any] | None = None
    checks: dict[str, str] = Field(default_factory=dict)
    line: int = 0  # where the case starts in its file

    @property
    def title(self) -> str:
        """``task_two: counts each prediction`` (the test's id)."""
        return f"{self.task}: {self.name}" if self.name else f"{self.task} (line {self.line})"


def read_cases(path: Path) -> list[TaskCase]:
    """Every case of the file; a malformed file raises CaseFileError naming line and key."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CaseFileError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return []
    if not isinstance(data, list) or node is None or not isinstance(node, yaml.SequenceNode):
        raise CaseFileError(f"{path}: the file must be a list of cases (`- task: name` entries)")
    cases = []
    for item, item_node in zip(data, node.value):
        line = item_node.start_mark.line + 1
        if not isinstance(item, dict):
            raise CaseFileError(f"{path}:{line}: a case is a mapping with task, given, expect")
        try:
            cases.append(TaskCase.model_validate({**item, "line": line}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, err['loc'])) or 'case'}: {err['msg']}" for err in exc.errors()
            )
            raise CaseFileError(f"{path}:{line}: {problems}") from None
    return cases
