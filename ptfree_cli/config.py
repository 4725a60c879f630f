"""Reads configurations: a kernel ``.config`` file or an inline ``PARAVIRT=n,PT_RECLAIM=y``.

Both give a user assignment (option -> wanted value) with the location of
each value, for :func:`ptfree_cli.kconfig.resolve` to complete as ``make
olddefconfig`` would.  ``m`` reads as ``y`` (see :mod:`ptfree_cli.kconfig`).
A ``.config`` names thousands of symbols the model does not know; they are
ignored.  An inline list is typed by hand, so an unknown name there is an
error that suggests the nearest known ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ptfree_cli.errors import ConfigError, Location, ModelError
from ptfree_cli.model import Model

INLINE = "<--config>"
_SET = re.compile(r"CONFIG_([A-Za-z0-9_]+)=(.*)\Z")
_UNSET = re.compile(r"# CONFIG_([A-Za-z0-9_]+) is not set\Z")
_VALUES = {"y": True, "m": True, "n": False}


@dataclass(frozen=True)
class UserConfig:
    """What the user asked for, before Kconfig has its say."""

    values: dict[str, bool]
    origins: dict[str, Location]
    source: str


def looks_inline(text: str) -> bool:
    """An inline list has ``=`` and is not an existing file."""
    return "=" in text and not Path(text).exists()


def read(model: Model, text: str) -> UserConfig:
    """Read ``text`` as an inline list or as the path of a ``.config``."""
    return parse_inline(model, text) if looks_inline(text) else read_file(model, Path(text))


def parse_inline(model: Model, text: str) -> UserConfig:
    values: dict[str, bool] = {}
    origins: dict[str, Location] = {}
    col = 1
    for item in text.split(","):
        where = Location(INLINE, 1, col + len(item) - len(item.lstrip()))
        col += len(item) + 1
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if name.startswith("CONFIG_"):
            name = name[len("CONFIG_") :]
        if not sep or not name:
            raise ConfigError(f"expected NAME=y|n, found {item!r}", where)
        if name not in model.option_map:
            from ptfree_cli.loader import suggest

            known = sorted(model.option_map)
            hint = suggest(name, known) or f"; its options are {', '.join(known)}"
            raise ConfigError(f"unknown option {name} in model {model.name}{hint}", where)
        if value not in _VALUES:
            raise ConfigError(f"{name}={value}: the value must be y, m or n", where)
        values[name] = _VALUES[value]
        origins[name] = where
    return UserConfig(values, origins, INLINE)


def read_file(model: Model, path: Path) -> UserConfig:
    from ptfree_cli.loader import read_bytes

    try:
        data = read_bytes(path, "configuration")
    except ModelError as exc:
        message = exc.message
        names = [n.strip().removeprefix("CONFIG_") for n in str(path).split(",")]
        if message == "no such file" and all(n in model.option_map for n in names):
            message += f"; an inline list gives each option a value, e.g. {names[0]}=y"
        raise ConfigError(message, exc.location) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # A .config is not always UTF-8: string values (CONFIG_CMDLINE,
        # CONFIG_LOCALVERSION...) hold whatever bytes the user typed, and
        # Kconfig itself reads bytes.  Only the ASCII CONFIG_ lines matter
        # here, and latin-1 maps every byte to one character, so those read
        # the same and columns still count bytes.
        text = data.decode("latin-1")
    return parse_config(model, text, str(path))


def parse_config(model: Model, text: str, file: str) -> UserConfig:
    """Parse ``.config`` text: ``CONFIG_X=y`` and ``# CONFIG_X is not set``."""
    values: dict[str, bool] = {}
    origins: dict[str, Location] = {}
    # Lines end at \n only, as Kconfig reads them: str.splitlines() would also
    # break inside a value at \x85, \x0c or \u2028 and misnumber the lines.
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        where = Location(file, lineno, len(raw) - len(raw.lstrip()) + 1)
        m = _SET.match(line)
        if m:
            name, value = m.group(1), m.group(2).strip()
        elif (u := _UNSET.match(line)) is not None:
            name, value = u.group(1), "n"
        elif line.startswith("CONFIG_"):
            raise ConfigError(f"malformed line {line[:60]!r}: expected CONFIG_NAME=value", where)
        else:
            continue
        if name not in model.option_map:
            continue
        if value not in _VALUES:
            raise ConfigError(f"CONFIG_{name}={value[:40]}: the value must be y, m or n", where)
        values[name] = _VALUES[value]
        origins[name] = where
    return UserConfig(values, origins, file)
