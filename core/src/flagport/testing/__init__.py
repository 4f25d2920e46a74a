"""Test utilities for flagport and for third-party provider authors.

``flagport.testing.conformance.ProviderConformance`` is the shared behavioural suite
every provider runs (import it from a test module; it needs pytest).
"""
