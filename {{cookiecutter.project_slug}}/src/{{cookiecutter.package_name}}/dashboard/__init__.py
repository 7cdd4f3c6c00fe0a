"""The Streamlit dashboard: runs, task timelines, the DAG, tables and ingest, read-only.

Nothing else in the package imports this subpackage: it needs Streamlit (the ``dashboard``
extra), and a project generated without the dashboard does not have it.
"""
