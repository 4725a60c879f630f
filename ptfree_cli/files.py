"""Writing output files safely: atomically, never over a file without --force,
never outside the directory the user named."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from ptfree_cli.errors import Location, PtfreeError

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def safe_name(*parts: str) -> str:
    """A file name built from model data: every character outside
    ``[A-Za-z0-9._+-]`` becomes ``_`` and leading dots are dropped, so that
    no name can climb out of its directory (``..``) or hide."""
    name = "-".join(_UNSAFE.sub("_", p) for p in parts).lstrip(".")
    return name or "_"


def write_atomic(path: Path, text: str, force: bool = False) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same
    directory and a rename, so that an interrupted run leaves the old file.

    :raises PtfreeError: when ``path`` exists and ``force`` is false, or it
        cannot be written.
    """
    if path.exists() and not force:
        raise PtfreeError("exists; pass --force to replace it", Location(str(path)))
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise PtfreeError(f"cannot write: {exc.strerror or exc}", Location(str(path))) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PtfreeError(f"cannot write: {exc.strerror or exc}", Location(str(path))) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def inside(directory: Path, name: str) -> Path:
    """``directory / name``, refusing any name that would leave ``directory``."""
    target = (directory / name).resolve()
    if target.parent != directory.resolve():
        raise PtfreeError(f"refusing to write {name!r} outside {directory}", Location(str(directory)))
    return directory / name
