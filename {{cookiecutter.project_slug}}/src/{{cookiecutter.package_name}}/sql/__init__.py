"""The SQL layer: a Spark-like DataFrame over SQLAlchemy Core, atomic materializations, checks.

Everything composes into one SQL statement that the database runs; nothing is pulled into
Python unless an action (``collect``, ``show``, ``to_pandas``...) asks for rows.
"""

from .freshness import freshness  # noqa: F401 (also makes `freshness` known to settings.yml)
