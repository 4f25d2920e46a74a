"""flagport plugin registering the openfeature provider (filled in by the bridge work)."""
