"""Fetch Debian's real kernel source trees into a cache outside the repository.

The real-tree test tier (tests/realtree/) and benchmarks/bench_realtree.py
read whole kernel trees as the oracle; no kernel code is ever committed.  This
script downloads Debian's ``linux-source-X`` packages with ``apt-get
download``, using a sources list, package lists and archive cache of its own
(``-o Dir::Etc::SourceList=...``) so that the machine's apt configuration is
never touched.  Its mirrors are the machine's own (read from
/etc/apt/sources.list and /etc/apt/sources.list.d), with the suite swapped, so
no address is written into the repository.

Each tree is unpacked once into ``CACHE/trees/<name>`` and reused by later
runs; ``CACHE/trees/<name>.version`` records the package version read.

    python3 tests/realtree/fetch.py              # every tree
    python3 tests/realtree/fetch.py 6.12 7.2     # some
    python3 tests/realtree/fetch.py --print-cache

The cache is ``$PTFREE_REALTREE_CACHE``, else ``$XDG_CACHE_HOME/ptfree-realtree``,
else ``~/.cache/ptfree-realtree``; it is safe to delete.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Package:
    name: str  # the tree's name in the cache (a kernel version)
    package: str  # Debian's binary package
    suite: str  # Debian suite it is taken from
    archive: str  # "debian" or "debian-security": which mirror of the machine's


TREES = (
    Package("6.1", "linux-source-6.1", "bookworm", "debian"),
    Package("6.12", "linux-source-6.12", "bookworm-security", "debian-security"),
    Package("7.2", "linux-source-7.2", "sid", "debian"),
    Package("7.3", "linux-source-7.3", "experimental", "debian"),
)
# Debian's real .config files for 6.12 (the x86 ones are read by the tests).
CONFIGS = Package("config-6.12", "linux-config-6.12", "bookworm-security", "debian-security")
ALL = {p.name: p for p in (*TREES, CONFIGS)}
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def cache_dir() -> Path:
    explicit = os.environ.get("PTFREE_REALTREE_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ptfree-realtree"


def tree_dir(name: str, cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / "trees" / name


def machine_mirrors() -> dict[str, str]:
    """The machine's own Debian mirrors: {"debian": URI, "debian-security": URI}."""
    texts: list[str] = []
    etc = Path("/etc/apt")
    for path in [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*"))]:
        if path.is_file() and path.suffix in ("", ".list", ".sources"):
            texts.append(path.read_text(errors="replace"))
    uris: list[str] = []
    for text in texts:
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            m = re.match(r"URIs:\s*(.+)", line)
            if m:
                uris.extend(m.group(1).split())
            m = re.match(r"deb\s+(?:\[[^]]*\]\s+)?(\S+)", line)
            if m:
                uris.append(m.group(1))
    found: dict[str, str] = {}
    for uri in uris:
        tail = uri.rstrip("/").rsplit("/", 1)[-1]
        if tail in ("debian", "debian-security") and tail not in found:
            found[tail] = uri.rstrip("/")
    if "debian" in found and "debian-security" not in found:
        found["debian-security"] = found["debian"] + "-security"
    return found


def apt_options(cache: Path) -> list[str]:
    apt = cache / "apt"
    # Empty directories of our own: none of the machine's sources or pins.
    return [
        f"-o=Dir::Etc::SourceList={apt / 'sources.list'}",
        f"-o=Dir::Etc::SourceParts={apt / 'empty'}",
        f"-o=Dir::State::Lists={apt / 'lists'}",
        f"-o=Dir::Cache={apt / 'cache'}",
        f"-o=Dir::Etc::Preferences={apt / 'empty' / 'preferences'}",
        f"-o=Dir::Etc::PreferencesParts={apt / 'empty'}",
        # The private lists are read by this user; apt's sandbox user could not write them.
        "-o=APT::Sandbox::User=" + _user(),
        "-o=Debug::NoLocking=1",
        "-o=Acquire::Languages=none",
    ]


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def apt_update(cache: Path, packages: list[Package]) -> None:
    mirrors = machine_mirrors()
    lines = []
    for suite, archive in sorted({(p.suite, p.archive) for p in packages}):
        if archive not in mirrors:
            sys.exit(f"fetch: no {archive} mirror in the machine's apt sources")
        lines.append(f"deb [signed-by={KEYRING}] {mirrors[archive]} {suite} main")
    apt = cache / "apt"
    for sub in ("lists/partial", "cache/archives/partial", "empty"):
        (apt / sub).mkdir(parents=True, exist_ok=True)
    (apt / "sources.list").write_text("\n".join(lines) + "\n")
    subprocess.run(["apt-get", *apt_options(cache), "-qq", "update"], check=True)


def candidate(cache: Path, package: str) -> str:
    out = subprocess.run(
        ["apt-cache", *apt_options(cache), "policy", package], check=True, capture_output=True, text=True
    ).stdout
    m = re.search(r"Candidate:\s*(\S+)", out)
    if not m or m.group(1) == "(none)":
        sys.exit(f"fetch: {package} is not in the suites fetched")
    return m.group(1)


def fetch(pkg: Package, cache: Path) -> Path:
    """Download and unpack one package unless the cache holds it; return the tree."""
    dest = tree_dir(pkg.name, cache)
    stamp = dest.with_name(pkg.name + ".version")
    if dest.is_dir() and stamp.is_file():
        return dest
    version = candidate(cache, pkg.package)
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["apt-get", *apt_options(cache), "-qq", "download", f"{pkg.package}={version}"], check=True, cwd=debs
    )
    (deb,) = [p for p in debs.glob(f"{pkg.package}_*.deb") if _deb_version(p) == version]
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        subprocess.run(["dpkg-deb", "-x", str(deb), tmp], check=True)
        staging = Path(tmp) / "tree"
        if pkg is CONFIGS:
            shutil.move(str(Path(tmp) / "usr/src"), staging)
        else:
            (tarball,) = Path(tmp, "usr/src").glob("linux-source-*.tar.*")
            staging.mkdir()
            # GNU tar with xz on every core where it can: several times Python's tarfile.
            subprocess.run(["tar", "-xf", str(tarball), "-C", str(staging), "--strip-components=1"], check=True)
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(dest)
    stamp.write_text(f"{pkg.package} {version}\n")
    deb.unlink()
    return dest


def _deb_version(path: Path) -> str:
    # name_version_arch.deb, with ':' of an epoch spelled %3a
    return path.name.split("_")[1].replace("%3a", ":")


def version_of(name: str, cache: Path | None = None) -> str:
    """The Debian package and version a cached tree was unpacked from."""
    stamp = tree_dir(name, cache).with_name(name + ".version")
    return stamp.read_text().strip() if stamp.is_file() else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"trees to fetch (default: all of {', '.join(ALL)})")
    parser.add_argument("--print-cache", action="store_true", help="print the cache directory and exit")
    args = parser.parse_args(argv)
    cache = cache_dir()
    if args.print_cache:
        print(cache)
        return 0
    unknown = [n for n in args.names if n not in ALL]
    if unknown:
        parser.error(f"unknown tree {unknown[0]}; known: {', '.join(ALL)}")
    wanted = [ALL[n] for n in args.names] or list(ALL.values())
    missing = [p for p in wanted if not (tree_dir(p.name, cache).is_dir() and version_of(p.name, cache))]
    if missing:
        cache.mkdir(parents=True, exist_ok=True)
        apt_update(cache, missing)
        # Two at a time: download and xz are each one core's work.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for tree in pool.map(lambda p: fetch(p, cache), missing):
                print(f"fetch: {tree} ({version_of(tree.name, cache)})", flush=True)
    for p in wanted:
        if p not in missing:
            print(f"fetch: {tree_dir(p.name, cache)} ({version_of(p.name, cache)}, cached)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
