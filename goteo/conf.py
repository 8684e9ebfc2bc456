"""Reading goteo's configuration from the environment.

Every setting has a working default, so goteo runs with nothing set. Secrets are read
here and nowhere else; they are never printed or logged.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def env_str(name: str, default: str = "") -> str:
    """The variable's value with surrounding spaces removed, or ``default``."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip()


def env_int(name: str, default: int) -> int:
    """An integer variable; a malformed value is an error that names the variable."""
    raw = env_str(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} debe ser un número entero, no {raw!r}") from None


def env_bool(name: str, default: bool = False) -> bool:
    """A yes/no variable: 1, true, yes, si, on are true; 0, false, no, off are false."""
    raw = env_str(name).lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "y", "si", "sí", "on"}


def data_dir() -> Path:
    """The folder that holds the SQLite database, the secret key and the outbox.

    GOTEO_DATA_DIR, or ``goteo-data`` in the user's home folder, so that cron, the Task
    Scheduler and a person at the keyboard all find the same database.
    """
    raw = env_str("GOTEO_DATA_DIR")
    path = Path(raw).expanduser() if raw else Path.home() / "goteo-data"
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(folder: Path) -> str:
    """SECRET_KEY from the environment, or one generated once and kept in ``folder``."""
    from_env = env_str("SECRET_KEY") or env_str("DJANGO_SECRET_KEY")
    if from_env:
        return from_env
    key_file = folder / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(50)
    key_file.write_text(key, encoding="utf-8")
    with contextlib.suppress(OSError):  # filesystems without permissions (Windows)
        key_file.chmod(0o600)
    return key
