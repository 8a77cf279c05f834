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
            f"{SECRET_VARIABLE} 和 {SECRET_FILE_VARIABLE} 同时设置了；请只设置其中一个，以明确由哪个密钥保护证件号码。"
        )
    if secret_file.strip():
        return secret_from_file(Path(secret_file))
    if not secret.strip():
        raise ConfigurationError(
            f"没有设置 {SECRET_VARIABLE}。它是保护经营者和参保人身份证件号码的密钥（号码只以该密钥下的 HMAC-SHA256 "
            f"键值保存），没有它不能运行。请从密钥管理处取得并设置 {SECRET_VARIABLE}（或把 {SECRET_FILE_VARIABLE} "
            "设为存放密钥的文件：放在代码仓库之外，仅所有者可读），并且每个周期使用同一个密钥，键值才能前后对照。"
            "（make run 和测试使用各自的开发用密钥。）"
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
        raise ConfigurationError(f"{where}：无法读取密钥文件（{e}）") from None
    if resolved.is_relative_to(REPOSITORY):
        raise ConfigurationError(
            f"{where}：密钥文件在代码仓库 {REPOSITORY} 之内，可能被提交；请放到仓库之外（如 /etc/getihu/secret）。"
        )
    if mode & 0o077:
        raise ConfigurationError(
            f"{where}：其他用户也能读取密钥文件（权限 {mode & 0o777:o}）；请改为仅所有者可读：chmod 600 {path}"
        )
    if not secret:
        raise ConfigurationError(f"{where}：密钥文件是空的")
    return secret.encode()
