"""Writing output files safely: atomically, never over a file without --force,
never outside the directory the user named."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

from ptfree_cli.errors import Location, PtfreeError

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")
#: The longest name :func:`inside` allows: 255 bytes (NAME_MAX on Linux and
#: most file systems) less what the temporary file's name adds to it.
MAX_NAME = 255 - len("..") - 8 - len(".tmp")


def safe_name(*parts: str) -> str:
    """A file name built from model data: every character outside
    ``[A-Za-z0-9._+-]`` becomes ``_`` and leading dots are dropped, so that
    no name can climb out of its directory (``..``) or hide."""
    name = "-".join(_UNSAFE.sub("_", p) for p in parts).lstrip(".")
    return name or "_"


def may_write(path: Path, force: bool) -> None:
    """Refuse, as :func:`write_atomic` would, a ``path`` that exists (without
    ``force``) or cannot even be looked at; writes nothing."""
    try:
        exists = path.exists()
    except OSError as exc:  # ENAMETOOLONG, EACCES on a parent...: not "missing"
        raise PtfreeError(f"cannot write: {exc.strerror or exc}", Location(str(path))) from None
    if exists and not force:
        raise PtfreeError("exists; pass --force to replace it", Location(str(path)))


def write_atomic_bytes(path: Path, data: bytes, force: bool = False) -> None:
    """:func:`write_atomic` for binary data (a PNG)."""
    write_atomic(path, data, force)


def write_atomic(path: Path, text: str | bytes, force: bool = False) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same
    directory and a rename, so that an interrupted run leaves the old file.

    :raises PtfreeError: when ``path`` exists and ``force`` is false, or it
        cannot be written.
    """
    may_write(path, force)
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        special = path.exists() and not stat.S_ISREG(path.stat().st_mode)
    except OSError:
        special = False
    if special:
        # /dev/null, /dev/stdout, a FIFO: written to, never replaced by a
        # rename (as root, a rename would put a plain file at /dev/null).
        try:
            with open(path, "wb") as f:
                f.write(data)
        except OSError as exc:
            raise PtfreeError(f"cannot write: {exc.strerror or exc}", Location(str(path))) from None
        return
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise PtfreeError(f"cannot write: {exc.strerror or exc}", Location(str(path))) from None
    try:
        # mkstemp creates the file 0600; give it the mode the file had, or
        # the one a plain open() would have given a new file.
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), _mode_for(path))
            f.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PtfreeError(f"cannot write: {exc.strerror or exc}", Location(str(path))) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    """The permissions of ``path`` if it exists, else 0666 less the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def inside(directory: Path, name: str) -> Path:
    """``directory / name``, refusing any name that would leave ``directory``
    or that is too long to be a file name there."""
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > MAX_NAME:
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise PtfreeError(
            f"refusing to write {shown!r}: the name is {size} bytes; the limit is {MAX_NAME}", Location(str(directory))
        )
    target = (directory / name).resolve()
    if target.parent != directory.resolve():
        raise PtfreeError(f"refusing to write {name!r} outside {directory}", Location(str(directory)))
    return directory / name
