"""A small shop whose checkout and search are driven by feature flags."""
