"""The secret that keys personal identifiers: from GETIHU_SECRET, GETIHU_SECRET_FILE, or the development key."""

from __future__ import annotations

import os
from pathlib import Path

from flows.errors import ConfigurationError
from flows.home import REPOSITORY

#: The environment variable holding the key that protects personal IDs (outputs.md, "Set-up and commands").
SECRET_VARIABLE = "GETIHU_SECRET"


#: Or: the path of a file holding that key, outside the repository and readable by its owner only.
SECRET_FILE_VARIABLE = "GETIHU_SECRET_FILE"


#: The key ``make run`` and the tests set: it protects nothing, and a run using it says so.
DEVELOPMENT_SECRET = "getihu-development-key-NOT-FOR-PRODUCTION"


def secret_from_environment() -> bytes:
    """The key for personal IDs from ``GETIHU_SECRET``, or from the file ``GETIHU_SECRET_FILE`` names; a run
    without one refuses to start."""
    secret = os.environ.get(SECRET_VARIABLE, "")
    secret_file = os.environ.get(SECRET_FILE_VARIABLE, "")
    if secret.strip() and secret_file.strip():
        raise ConfigurationError(
            f"both {SECRET_VARIABLE} and {SECRET_FILE_VARIABLE} are set; set one of them, so that it is clear which "
            "key protects the ID numbers."
        )
    if secret_file.strip():
        return secret_from_file(Path(secret_file))
    if not secret.strip():
        raise ConfigurationError(
            f"{SECRET_VARIABLE} is not set. It is the key that protects operators' and insured people's ID "
            "numbers (they are stored only as HMAC-SHA256 keys under it), so a run without it refuses to start. "
            f"Set {SECRET_VARIABLE} from your secret store (or {SECRET_FILE_VARIABLE} to a file holding it, outside "
            "the repository, readable by its owner only), and keep it the same from cycle to cycle so that keys "
            "stay comparable. (make run and the tests set a development key of their own.)"
        )
    # surrounding white space is dropped, as from a key file: `echo key > file`, a copied line or a shell here-string
    # must give the same key as the key itself, so that the same key always gives the same keys
    return secret.strip().encode()


def secret_from_file(path: Path) -> bytes:
    """The key held in ``path`` (surrounding white space dropped): a file outside the repository, owner-only."""
    where = f"{SECRET_FILE_VARIABLE}={path}"
    try:
        resolved = path.resolve(strict=True)
        mode = resolved.stat().st_mode
        secret = resolved.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigurationError(f"{where}: cannot read the key file ({e})") from None
    if resolved.is_relative_to(REPOSITORY):
        raise ConfigurationError(
            f"{where}: the key file is inside the repository {REPOSITORY}, where it could be committed; keep it "
            "outside (e.g. /etc/getihu/secret)."
        )
    if mode & 0o077:
        raise ConfigurationError(
            f"{where}: the key file can be read by other users (mode {mode & 0o777:o}); make it readable by its "
            f"owner only: chmod 600 {path}"
        )
    if not secret:
        raise ConfigurationError(f"{where}: the key file is empty")
    return secret.encode()
