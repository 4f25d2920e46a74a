"""Ed25519 signatures of flags files, so a compromised bucket or CDN cannot flip flags.

The signature is *detached*: ``flags.yaml`` is published with ``flags.yaml.sig`` next to
it, a line holding the base64 of the 64-byte signature of the file's exact bytes. Any
static server, bucket or CDN serves the pair unchanged, and the flags file itself stays
a plain flags file (``flagport validate`` reads it as it is).

Keys: the private key is a PEM file (PKCS#8, as ``openssl genpkey -algorithm ed25519``
writes and ``flagport keygen`` writes); the public key the provider is given is the
base64 of its 32 raw bytes, short enough for an environment variable.

Built on ``cryptography`` (the ``flagport[url]`` extra), imported only when a signature
is made or checked.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import importlib.util
from types import ModuleType
from typing import TYPE_CHECKING

from flagport.errors import ConfigurationError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = [
    "SIGNATURE_SUFFIX",
    "generate_private_key",
    "public_key",
    "public_key_text",
    "require",
    "require_installed",
    "sign",
    "verify",
]

#: Appended to the flags file's name (or URL) to name its signature.
SIGNATURE_SUFFIX = ".sig"
_SIGNATURE_BYTES = 64
_PUBLIC_KEY_BYTES = 32


def require(module: str, needed_for: str = "reading flags from a URL") -> ModuleType:
    """Import a dependency of the ``url`` extra, or say how to install it.

    :param needed_for: what needs it, as the error says (``"signing flags files"``).
    :raises ConfigurationError: the module is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise _not_installed(module, needed_for) from None


def require_installed(*modules: str) -> None:
    """Check that dependencies of the ``url`` extra are installed, without importing
    them (options are checked at construction, which stays cheap).

    :raises ConfigurationError: one of them is not installed.
    """
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a parent package missing, or half-imported
            found = False
        if not found:
            raise _not_installed(module)


def _not_installed(module: str, needed_for: str = "reading flags from a URL") -> ConfigurationError:
    top = module.split(".")[0]
    return ConfigurationError(
        f"{needed_for} needs {top!r}, which is not installed; "
        "install the extra: pip install 'flagport[url]'"
    )


def _crypto(module: str) -> ModuleType:
    # keygen, sign and the provider's public_key use it without any URL in sight.
    return require(module, "signing flags files and checking their signatures")


def _ed25519() -> ModuleType:
    return _crypto("cryptography.hazmat.primitives.asymmetric.ed25519")


def generate_private_key() -> bytes:
    """A new private key, as PEM (PKCS#8, unencrypted)."""
    serialization = _crypto("cryptography.hazmat.primitives.serialization")
    key = _ed25519().Ed25519PrivateKey.generate()
    pem: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem


def _private_key(pem: bytes, source: str) -> Ed25519PrivateKey:
    serialization = _crypto("cryptography.hazmat.primitives.serialization")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"{source}: not an unencrypted PEM private key ({exc}); make one with "
            "`flagport keygen` or `openssl genpkey -algorithm ed25519`"
        ) from None
    if not isinstance(key, _ed25519().Ed25519PrivateKey):
        raise ConfigurationError(
            f"{source}: a {type(key).__name__}, not an ed25519 key; make one with `flagport keygen`"
        )
    ed25519_key: Ed25519PrivateKey = key
    return ed25519_key


def public_key_text(pem: bytes, source: str = "private key") -> str:
    """The public key of a PEM private key, as the provider's ``public_key`` option."""
    serialization = _crypto("cryptography.hazmat.primitives.serialization")
    raw = (
        _private_key(pem, source)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode("ascii")


def sign(data: bytes, pem: bytes, source: str = "private key") -> str:
    """The detached signature of ``data``: one line of base64, with its newline."""
    signature = _private_key(pem, source).sign(data)
    return base64.b64encode(signature).decode("ascii") + "\n"


def _decoded(text: str | bytes, size: int) -> bytes | None:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == size else None


def public_key(text: str) -> Ed25519PublicKey:
    """Parse the ``public_key`` option.

    :raises ValueError: not the base64 of 32 bytes.
    """
    raw = _decoded(text, _PUBLIC_KEY_BYTES)
    if raw is None:
        raise ValueError(
            "public_key must be the base64 of an ed25519 public key (32 bytes), as "
            "`flagport keygen` prints it"
        )
    key: Ed25519PublicKey = _ed25519().Ed25519PublicKey.from_public_bytes(raw)
    return key


def verify(data: bytes, signature: bytes | None, key: Ed25519PublicKey, source: str) -> None:
    """Check ``data`` against its detached signature.

    :param source: the flags file's location, named in the error.
    :raises ConfigurationError: no signature, a malformed one, or one that does not
        verify with ``key``.
    """
    where = f"{source}{SIGNATURE_SUFFIX}"
    if signature is None:
        raise ConfigurationError(
            f"{source}: refused: no signature at {where}, and a public_key is configured; "
            "sign the file (flagport sign FILE --key KEY) and publish FILE.sig beside it"
        )
    raw = _decoded(signature, _SIGNATURE_BYTES)
    if raw is None:
        raise ConfigurationError(
            f"{source}: refused: {where} is not a signature (expected one line of base64 "
            "of 64 bytes, as flagport sign writes)"
        )
    exceptions = _crypto("cryptography.exceptions")
    try:
        key.verify(raw, data)
    except exceptions.InvalidSignature:
        raise ConfigurationError(
            f"{source}: refused: the signature in {where} does not match the file for the "
            "configured public_key; the file was changed after signing, or signed with "
            "another key: re-sign it with the key whose public half is configured"
        ) from None
