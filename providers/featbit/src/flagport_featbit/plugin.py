"""flagport-featbit plugin registration (filled in by the provider work)."""
