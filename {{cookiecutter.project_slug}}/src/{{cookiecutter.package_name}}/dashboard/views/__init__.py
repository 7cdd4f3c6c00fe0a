"""One module per dashboard page, each with the ``render()`` the navigation calls.

Not named ``pages/``: Streamlit would take a ``pages/`` folder beside app.py for a multipage
app of its own and run these modules as scripts on a direct link such as ``/runs``.
"""
