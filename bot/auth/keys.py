"""Per-deployment secret keys: the configured value, or one generated in the data directory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

SECRETS_DIR_NAME = "secrets"
"""Folder under the data directory that holds generated keys (readable by the owner only)."""


def load_or_create_key(configured: SecretStr | None, data_dir: Path, name: str) -> bytes:
    """Return ``configured``, else the key kept in ``data_dir/secrets/<name>.key``.

    The file is created once (mode 0600) and shared by every process using the same data
    directory, so they all sign and verify with the same key; two processes racing to create
    it end up with the one that was written first.
    """
    if configured is not None:
        return configured.get_secret_value().encode()
    path = Path(data_dir) / SECRETS_DIR_NAME / f"{name}.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
