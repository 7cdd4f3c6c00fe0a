"""The example pipeline's tasks, each run on a few given rows (see README, "Testing your tasks";
test_predictions.yml holds the same tests as data).

``run_task(name, given={table: rows})`` runs the task's real code in a throwaway database that
holds only the given tables; ``expect_rows`` compares what it wrote, in any order.
"""

from datetime import date

import pandas as pd

COLUMNS = ["id", "matchDate", "homeTeam", "awayTeam", "preds", "probability"]
PREDICTIONS = pd.DataFrame(
    [
        (1, date(2022, 12, 30), "Spurs", "Leeds", "hw", 0.6),
        (2, date(2022, 12, 30), "Fulham", "Wolves", "hw", 0.5),
        (3, date(2022, 12, 30), "Everton", "Chelsea", "aw", 0.7),
        (4, date(2022, 12, 31), "Arsenal", "Brighton", "d", 0.4),
    ],
    columns=COLUMNS,
)


def test_load_predictions_types_each_row_and_rejects_bad_ones(run_task):
    csv = (
        "id,matchDate,homeTeam,awayTeam,preds,probability\n"
        "1,2022-12-30,Spurs,Leeds,HW,0.6\n"
        "2,not a date,Fulham,Wolves,hw,0.5\n"
    )

    result = run_task("load_predictions", given={"seeds/predictions.csv": csv})

    result.expect_rows([{"id": 1, "matchDate": date(2022, 12, 30), "preds": "hw"}])
    assert [(reject["record"], reject["field"]) for reject in result.rejects] == [(2, "matchDate")]


def test_task_one_shows_the_predictions_and_writes_no_table(run_task):
    result = run_task("task_one", given={"predictions": PREDICTIONS})

    result.expect_rows(None)
    assert "Chelsea" in result.printed


def test_task_two_counts_each_outcome_of_30_december(run_task):
    result = run_task("task_two", given={"predictions": PREDICTIONS})

    result.expect_rows(
        [
            {"matchDate": date(2022, 12, 30), "preds": "hw", "count_preds": 2},
            {"matchDate": date(2022, 12, 30), "preds": "aw", "count_preds": 1},
        ]
    )


def test_task_two_checks_run_with_the_task(run_task):
    config = {"checks": [{"unique": "preds"}, {"row_count": {"min": 3}}]}

    result = run_task("task_two", given={"predictions": PREDICTIONS}, config=config)

    assert not result.ok  # two outcomes on 30 December: row_count(min=3) fails the task
    assert result.check("unique(preds)").status == "pass"
    assert result.check("row_count(min=3)").status == "fail"


def test_task_three_counts_each_outcome_of_31_december(run_task):
    result = run_task("task_three", given={"predictions": PREDICTIONS})

    result.expect_rows([{"matchDate": date(2022, 12, 31), "preds": "d", "count_preds": 1}])


def test_task_four_shows_31_december_and_writes_no_table(run_task):
    result = run_task("task_four", given={"predictions": PREDICTIONS})

    result.expect_rows(None)
    assert "Arsenal" in result.printed and "Chelsea" not in result.printed
