"""The example pipeline's tasks, each run on a few given rows (see README, "Testing your tasks").

``run_task(name, given={table: rows})`` runs the task's real code in a throwaway database that
holds only the given tables; ``expect_rows`` compares what it wrote, in any order.
"""

from datetime import date

PREDICTIONS = [
    {
        "id": 1,
        "matchDate": date(2022, 12, 30),
        "homeTeam": "Spurs",
        "awayTeam": "Leeds",
        "preds": "hw",
        "probability": 0.6,
    },
    {
        "id": 2,
        "matchDate": date(2022, 12, 30),
        "homeTeam": "Fulham",
        "awayTeam": "Wolves",
        "preds": "hw",
        "probability": 0.5,
    },
    {
        "id": 3,
        "matchDate": date(2022, 12, 30),
        "homeTeam": "Everton",
        "awayTeam": "Chelsea",
        "preds": "aw",
        "probability": 0.7,
    },
    {
        "id": 4,
        "matchDate": date(2022, 12, 31),
        "homeTeam": "Arsenal",
        "awayTeam": "Brighton",
        "preds": "d",
        "probability": 0.4,
    },
]


def test_load_predictions_types_each_row_and_rejects_bad_ones(run_task):
    csv = (
        "id,matchDate,homeTeam,awayTeam,preds,probability\n"
        "1,2022-12-30,Spurs,Leeds,HW,0.6\n"
        "2,not a date,Fulham,Wolves,hw,0.5\n"
    )
    result = run_task("load_predictions", given={"seeds/predictions.csv": csv})
    result.expect_rows(
        [
            {
                "id": 1,
                "matchDate": date(2022, 12, 30),
                "homeTeam": "Spurs",
                "preds": "hw",
                "probability": 0.6,
            }
        ]
    )
    assert [(r["record"], r["field"]) for r in result.rejects] == [(2, "matchDate")]


def test_task_one_shows_the_predictions(run_task):
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
