"""flagport provider for growthbook."""
