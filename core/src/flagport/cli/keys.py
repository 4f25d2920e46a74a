"""``flagport keygen`` and ``flagport sign``: ed25519 signatures of flags files.

A provider given ``public_key`` refuses a file fetched from its ``url`` unless
``url + ".sig"`` holds a signature of its exact bytes by the matching private key (see
:mod:`flagport.providers.local.signing`).
"""

from __future__ import annotations

from pathlib import Path

import click

from flagport.cli._output import fail, say, write_output
from flagport.cli.local import _load
from flagport.providers.local.signing import (
    SIGNATURE_SUFFIX,
    generate_private_key,
    public_key_text,
    sign,
)

__all__ = ["keygen_command", "sign_command"]


@click.command("keygen")
@click.argument("key_file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace KEY_FILE if it exists.")
def keygen_command(key_file: str, force: bool) -> None:
    """Make an ed25519 key pair for signing flags files; print the public key.

    The private key is written to KEY_FILE (PEM, readable by its owner only); keep it
    where the files are published from. The public key, printed on stdout, is the
    provider's public_key option.

    \b
    flagport keygen flags.key
    """
    path = Path(key_file)
    if path.exists() and not force:
        fail(f"{path} exists; choose another file or pass --force to replace it")
    pem = generate_private_key()
    # Created readable by its owner only, never world-readable for an instant.
    write_output(path, pem, private=True)
    say(f"private key written to {path} (keep it secret)", err=True)
    click.echo(public_key_text(pem, str(path)))


@click.command("sign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The private key (PEM), as written by flagport keygen.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    help=f"Where to write the signature [default: FILE{SIGNATURE_SUFFIX}].",
)
def sign_command(file: str, key_file: str, output: str | None) -> None:
    """Sign a flags file: write its detached ed25519 signature to FILE.sig.

    The file is validated first: a file with problems is not signed. Publish FILE.sig
    beside FILE; a provider given the public key refuses the file without it.

    \b
    flagport sign flags.yaml --key flags.key
    """
    if _load(file, "statsig") is None:
        raise SystemExit(1)
    data = Path(file).read_bytes()
    signature = sign(data, Path(key_file).read_bytes(), key_file)
    target = Path(output or file + SIGNATURE_SUFFIX)
    write_output(target, signature)
    say(f"signed {file}: {target}")
