"""The MySQL/MariaDB server the tests may use: ``MYSQL_URL``, and ``REQUIRE_MYSQL=1`` in CI."""

from __future__ import annotations

import os

import pytest

BACKENDS = ["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)]


def mysql_server_url() -> str | None:
    """The MySQL server to test against, or a skip (a failure under REQUIRE_MYSQL=1)."""
    url = os.environ.get("MYSQL_URL")
    if url:
        return url
    if os.environ.get("REQUIRE_MYSQL") == "1":
        pytest.fail("REQUIRE_MYSQL=1 but MYSQL_URL is not set: start MySQL and export MYSQL_URL")
    pytest.skip("MYSQL_URL is not set; these tests need a MySQL/MariaDB server")
    return None
