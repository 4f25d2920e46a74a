"""The ``local`` provider: flags from a file, evaluated in process."""
