"""Finds models: the shipped ones by name, or any model file by path.

Kept free of yaml so that listing names (for ``--help`` and shell
completion) costs nothing.
"""

from __future__ import annotations

from pathlib import Path

from ptfree_cli.errors import LookupFailed

#: The shipped models, oldest kernel first; the last is the default.
SHIPPED = ("v6.1", "v6.12", "series-v2", "v6.14", "v6.15", "v7.0", "v7.2")


def shipped_dir() -> Path:
    """Where the shipped model files are: package data once installed, else
    ``configs/`` of the source tree."""
    here = Path(__file__).resolve().parent
    installed = here / "models"
    return installed if installed.is_dir() else here.parent / "configs"


def shipped() -> list[tuple[str, Path]]:
    """(name, path) of every shipped model, oldest first."""
    d = shipped_dir()
    return [(name, d / f"{name}.yaml") for name in SHIPPED if (d / f"{name}.yaml").is_file()]


def default_name() -> str:
    return SHIPPED[-1]


def _near(path: Path) -> Path:
    """``path`` relative to the working directory when it lies below it, so
    that locations in messages and reports read ``configs/v6.14.yaml``."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def locate(name_or_path: str | None) -> Path:
    """The file of a shipped model named ``name_or_path``, or that path.

    :raises LookupFailed: when it is neither.
    """
    if name_or_path is None:
        name_or_path = default_name()
    for name, path in shipped():
        if name == name_or_path:
            return _near(path)
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or "/" in name_or_path or candidate.exists():
        return candidate
    import difflib

    known = [n for n, _ in shipped()]
    close = difflib.get_close_matches(name_or_path, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; shipped models: {', '.join(known)}"
    raise LookupFailed(f"unknown model '{name_or_path}'{hint}")


def policies_dir() -> Path:
    return Path(__file__).resolve().parent / "policies"


def shipped_policies() -> list[str]:
    """Names of the shipped policies (``default`` is built in)."""
    return ["default", *sorted(p.stem for p in policies_dir().glob("*.yaml"))]


def locate_policy(name_or_path: str) -> Path | None:
    """The file of a shipped policy, or that path; None for ``default``.

    :raises LookupFailed: when it is neither.
    """
    if name_or_path == "default":
        return None
    shipped_file = policies_dir() / f"{name_or_path}.yaml"
    if "/" not in name_or_path and shipped_file.is_file():
        return _near(shipped_file)
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or "/" in name_or_path or candidate.exists():
        return candidate
    raise LookupFailed(f"unknown policy '{name_or_path}'; shipped policies: {', '.join(shipped_policies())}")


def quick_keys(path: Path, section: str) -> list[str]:
    """The keys of a top-level ``section`` of a model file, read line by line
    without yaml, for shell completion (which must answer at once).  Sees the
    block style the shipped models use; anything else gives no names."""
    keys: list[str] = []
    inside = False
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            inside = line.rstrip() == f"{section}:"
            continue
        if inside and line.startswith("  ") and not line.startswith("   "):
            name = line.strip().split(":", 1)[0].strip()
            if name and name.replace("_", "").replace(".", "").isalnum():
                keys.append(name)
    return keys


def shipped_rules() -> Path:
    """The extraction rules ``ptfree extract`` and ``ptfree verify`` use by default."""
    return Path(__file__).resolve().parent / "rulesets" / "x86-64.yaml"
