"""flagport <-> OpenFeature bridge."""
