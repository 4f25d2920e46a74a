"""flagport-growthbook plugin registration (filled in by the provider work)."""
