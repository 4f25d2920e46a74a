"""flagport provider for statsig."""
