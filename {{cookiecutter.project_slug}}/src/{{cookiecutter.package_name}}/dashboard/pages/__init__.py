"""One module per dashboard page; each has a ``render()`` the navigation calls."""
