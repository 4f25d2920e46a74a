"""flagport provider for featbit."""
