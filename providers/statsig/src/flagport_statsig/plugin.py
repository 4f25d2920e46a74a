"""flagport-statsig plugin registration (filled in by the provider work)."""
