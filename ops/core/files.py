"""Local files: secrets written atomically with mode 0600, config files rewritten only when they change."""
from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Atomically write text readable by the owner only (0600), so a crash never leaves half a secret."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def private_dir(path: Path) -> Path:
    """A directory only its owner can enter (0700), created if missing."""
    path = Path(path).expanduser()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def read_text(path: Path) -> str | None:
    """The stripped content of a file, or None when it does not exist or is empty."""
    try:
        return Path(path).read_text().strip() or None
    except FileNotFoundError:
        return None


def write_if_changed(path: Path, text: str, mode: int = 0o644) -> bool:
    """Write text unless the file already holds it; True when it was written."""
    path = Path(path)
    if path.exists() and path.read_text() == text:
        return False
    path.write_text(text)
    os.chmod(path, mode)
    return True
