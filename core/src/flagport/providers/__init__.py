"""Providers that ship with flagport and need no vendor SDK."""
