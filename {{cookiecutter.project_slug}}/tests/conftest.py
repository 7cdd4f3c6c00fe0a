"""The project's tests: yours in ``tests/models/`` (and anywhere outside ``tests/framework/``),
the framework's in ``tests/framework/``. The plugin gives every test the ``pipeline_db``,
``session`` and ``run_task`` fixtures and collects ``test_*.yml`` task cases (README, "Testing
your tasks")."""

pytest_plugins = ["{{ cookiecutter.package_name }}.testing.plugin"]
