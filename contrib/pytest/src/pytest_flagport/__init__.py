"""pytest-flagport."""
