"""pytest-flagport plugin (filled in by the pytest work)."""
