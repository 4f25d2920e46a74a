"""The local provider's options for reading its flags file from a URL.

Declared here, apart from the file options, so that the URL source's options read as
one group; :class:`~flagport.providers.local.provider.LocalOptions` inherits them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, field_validator

from flagport._documents import FORMATS
from flagport._field_defaults import new_dict
from flagport.errors import ConfigurationError
from flagport.provider import ProviderOptions
from flagport.settings_files import PathOption
from flagport.urls import HttpUrlOption

__all__ = ["UrlOptions", "url_format"]


def url_format(url: str) -> str:
    """The flags file format of ``url``, by the extension of its path.

    :raises ConfigurationError: the path has no known extension.
    """
    suffix = Path(urlsplit(url).path).suffix
    fmt = FORMATS.get(suffix.lower())
    if fmt is None:
        # The path itself is not quoted: a signed or tokenised URL carries its secret there.
        ends = f"in {suffix[:20]!r}" if suffix else "without an extension"
        raise ConfigurationError(
            f"url: its path ends {ends}; it must end in .yaml, .yml, .json or .toml, "
            "which says how to read the file"
        )
    return fmt


class UrlOptions(ProviderOptions):
    """Options of the ``local`` provider's URL source (``url=`` instead of ``path=``)."""

    # A base class: only LocalOptions is validated, and is built then.
    model_config = ConfigDict(defer_build=True)

    url: HttpUrlOption | None = Field(
        default=None,
        description=(
            "Read the flags file from this http(s) URL instead of a path, polling it "
            "with conditional requests (needs the flagport[url] extra)."
        ),
    )
    poll_interval: float = Field(
        default=30.0, gt=0, le=86400, description="Seconds between two requests to the URL."
    )
    poll_jitter: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description=(
            "Each pause is lengthened by a random share of itself up to this fraction, "
            "so a fleet started together does not poll in lock-step."
        ),
    )
    timeout: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description=(
            "Seconds one request (file and signature) may take; also the longest start() "
            "waits for a first version before serving defaults."
        ),
    )
    backoff_max: float = Field(
        default=300.0,
        gt=0,
        description="The longest pause between retries while the URL fails (doubling until).",
    )
    headers: dict[str, str] = Field(
        default_factory=new_dict,
        description=(
            "HTTP headers sent with every request, e.g. Authorization; values of "
            "secret-named headers are masked wherever options are shown."
        ),
    )
    cache_path: Annotated[str | None, PathOption()] = Field(
        default=None,
        description=(
            "Keep the last good file here: served when the URL is down at start-up, and "
            "shared by the processes of one host, of which only one polls."
        ),
    )
    public_key: str | None = Field(
        default=None,
        description=(
            "Refuse a file whose ed25519 signature (URL + '.sig', written by "
            "`flagport sign`) does not verify with this base64 public key."
        ),
    )

    # The extra is checked here, not at start(): a client built without it would
    # construct, then serve every flag's default.
    @field_validator("url")
    @classmethod
    def _an_http_client(cls, url: str | None) -> str | None:
        if url is not None:
            from flagport.providers.local.signing import require_installed

            require_installed("httpx", "httpcore")
        return url

    @field_validator("cache_path")
    @classmethod
    def _a_file_lock(cls, path: str | None) -> str | None:
        if path is not None:
            from flagport.providers.local.signing import require_installed

            require_installed("filelock")
        return path

    @field_validator("public_key")
    @classmethod
    def _a_public_key(cls, text: str | None) -> str | None:
        if text is not None:
            from flagport.providers.local.signing import public_key

            public_key(text)
        return text
