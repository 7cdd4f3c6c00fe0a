"""Write seeds/predictions.csv: football match predictions for the example pipeline.

Seeded, so the file is the same on every machine; nothing is downloaded. Run it again after
changing the constants below:  python scripts/generate_seed_data.py
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

SEED = 20221230
MATCHES_PER_DAY = 12
FIRST_DAY = date(2022, 12, 24)
DAYS = 8
TEAMS = (
    "Arsenal",
    "Aston Villa",
    "Bournemouth",
    "Brentford",
    "Brighton",
    "Chelsea",
    "Crystal Palace",
    "Everton",
    "Fulham",
    "Leeds",
    "Leicester",
    "Liverpool",
    "Man City",
    "Man United",
    "Newcastle",
    "Forest",
    "Southampton",
    "Spurs",
    "West Ham",
    "Wolves",
)
TARGET = Path(__file__).resolve().parents[1] / "seeds" / "predictions.csv"
FIELDS = ("id", "matchDate", "homeTeam", "awayTeam", "preds", "probability")


def rows(rng: random.Random) -> list[dict[str, object]]:
    """One row per match: the predicted result (hw home win, d draw, aw away win)."""
    result = []
    for day in range(DAYS):
        match_date = FIRST_DAY + timedelta(days=day)
        for _ in range(MATCHES_PER_DAY):
            home, away = rng.sample(TEAMS, 2)
            preds = rng.choices(("hw", "d", "aw"), weights=(45, 27, 28))[0]
            result.append(
                {
                    "id": len(result) + 1,
                    "matchDate": match_date.isoformat(),
                    "homeTeam": home,
                    "awayTeam": away,
                    "preds": preds,
                    "probability": round(rng.uniform(0.34, 0.9), 3),
                }
            )
    return result


def main() -> None:
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with TARGET.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows(random.Random(SEED)))
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
