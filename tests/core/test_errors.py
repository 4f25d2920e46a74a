"""Errors: their messages are safe to print."""

from __future__ import annotations

from flagport.errors import ConfigurationError, Location, printable


def test_a_configuration_error_shows_control_characters_inert() -> None:
    # A key of a hostile flags file reached logs and terminals with its escape sequences.
    assert printable("plain text\n\ttabbed") == "plain text\n\ttabbed"
    assert printable("a\x1b[31mb\x07\x9b") == "a\\x1b[31mb\\x07\\x9b"
    error = ConfigurationError("f.yaml: 1 problem", [(Location("f.yaml", "gates.g\x1b[2J"), "x")])
    assert str(error) == "f.yaml: 1 problem\n  f.yaml at gates.g\\x1b[2J: x"
    assert error.problems[0][0].path == "gates.g\x1b[2J"  # the data keeps the name as read
