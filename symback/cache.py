"""The compile cache: a finished compile stored on disk, found again by a hash of its input.

An entry is one JSON file, `<key>.json`, in the cache folder. The key is the sha256 of the
expression text, every option of `symback.compile`, the symback version and a fingerprint of
symback's code and templates, so any change of input, option, version or code is a miss. The entry holds the generated source and what a
`Compiled` needs besides (inputs, wrt, outputs, backend, stats, modes, module name, the
warnings the compile gave), plus a sha256 digest of all of it.

Reading an entry never executes anything: it is JSON (never pickle), every field is checked
for its type, and the digest must match, so a truncated, corrupted or hand-edited entry is a
miss (and is recompiled and rewritten), never an exception. The generated source runs only
when the module is first used, as after any compile. The digest detects corruption, not a
deliberate forger: whoever can write the cache folder can write a matching digest, as they
could edit the installed package. So entries are read only from a folder owned by the user
and not writable by others (otherwise the cache is not used), created with mode 0700.

Writes go through a temporary file and a rename (`write_atomic`), so two processes compiling
the same key each write a complete entry and the last rename wins; readers see a whole entry
or none. A write that fails (a read-only folder, a full disk) is ignored: the cache is an
optimisation, never a reason for a compile to fail.

The folder: `SYMBACK_CACHE_DIR` if set; else `platformdirs.user_cache_dir("symback")` when
platformdirs is installed (`pip install 'symback[cache]'`); else `$XDG_CACHE_HOME/symback`,
else `~/.cache/symback`. `SYMBACK_CACHE=0` turns the cache off unless `cache=True` is
passed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

from ._version import __version__
from .errors import SymbackError

FORMAT = 1
_ENTRY = re.compile(r"[0-9a-f]{64}\.json\Z")
_TEMP = re.compile(r"\.[0-9a-f]{64}\.json\..*\.tmp\Z")     # left by write_atomic if killed
_OFF = ("0", "false", "no", "off")


def directory() -> Path:
    """The cache folder (it may not exist yet)."""
    override = os.environ.get("SYMBACK_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    try:
        import platformdirs
    except ImportError:
        platformdirs = None
    if platformdirs is not None:
        return Path(platformdirs.user_cache_dir("symback", appauthor=False))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "symback"


def enabled(cache: bool | None) -> bool:
    """Whether to use the cache: `cache` if given, else on unless SYMBACK_CACHE=0."""
    if cache is not None:
        return cache
    return os.environ.get("SYMBACK_CACHE", "1").strip().lower() not in _OFF


def key(expr: Any, options: dict[str, Any]) -> str | None:
    """The entry key of a compile, or None when its arguments are not plain text, names,
    numbers and flags (such a compile is not cached; it may well be an error)."""
    if isinstance(expr, (list, tuple)):
        expr = list(expr)
    if not _plain(expr) or not all(_plain(v) for v in options.values()):
        return None
    options = {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}
    blob = json.dumps({"symback": __version__, "code": code_fingerprint(), "format": FORMAT,
                       "expr": expr, "options": options}, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A sha256 of the names, sizes and modification times of symback's own code and
    templates (as Python's .pyc files check their source), once per process: a checkout
    whose code changed without a new version number (development) gets no stale modules."""
    from .render import templates_dir
    package = Path(__file__).resolve().parent
    files = sorted(package.glob("*.py")) + sorted(templates_dir().glob("*.j2"))
    digest = hashlib.sha256()
    for path in files:
        try:
            st = path.stat()
            digest.update(f"{path.name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        except OSError:
            digest.update(f"{path.name}\0missing\0".encode())
    return digest.hexdigest()


def _plain(value: Any) -> bool:
    if value is None or type(value) in (str, bool, int):
        return True
    return type(value) in (list, tuple) and all(type(v) is str for v in value)


def _digest(entry_key: str, meta: dict[str, Any], source: str) -> str:
    blob = json.dumps({"key": entry_key, "meta": meta, "source": source}, sort_keys=True,
                      ensure_ascii=True)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()


def _trusted(folder: Path) -> bool:
    """The folder exists, is ours and is not writable by others (POSIX; elsewhere: exists)."""
    try:
        st = folder.stat()
    except OSError:
        return False
    if not folder.is_dir():
        return False
    if hasattr(os, "getuid") and sys.platform != "win32":
        return st.st_uid == os.getuid() and not st.st_mode & 0o022
    return True


def load(entry_key: str) -> dict[str, Any] | None:
    """The checked entry `{"meta": ..., "source": ...}` for `entry_key`, or None (a miss:
    absent, unreadable, truncated, corrupted, of another format, or an untrusted folder)."""
    folder = directory()
    if not _trusted(folder):
        return None
    try:
        data = json.loads((folder / f"{entry_key}.json").read_bytes())
        if (not isinstance(data, dict) or data.get("format") != FORMAT
                or data.get("key") != entry_key):
            return None
        meta, source = data["meta"], data["source"]
        if not isinstance(source, str) or not _valid_meta(meta):
            return None
        if data.get("digest") != _digest(entry_key, meta, source):
            return None
    except Exception:           # any unreadable entry is a miss (OSError, ValueError,
        return None             # RecursionError from hostile nesting, ...)
    return {"meta": meta, "source": source}


_STR_TUPLES = ("inputs", "wrt", "outputs")


def _valid_meta(meta: Any) -> bool:
    """Every field a `Compiled` is built from is there, of its type."""
    if not isinstance(meta, dict):
        return False
    for field in _STR_TUPLES:
        items = meta.get(field)
        if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
            return False
    if not isinstance(meta.get("backend"), str) or not isinstance(meta.get("name"), str):
        return False
    stats, modes = meta.get("stats"), meta.get("modes")
    if not isinstance(stats, dict) or not all(
            isinstance(k, str) and type(v) is int for k, v in stats.items()):
        return False
    if not isinstance(modes, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in modes.items()):
        return False
    shapes = meta.get("shapes")
    if not isinstance(shapes, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(type(i) is int for i in v)
            for k, v in shapes.items()):
        return False
    sparsity = meta.get("sparsity")
    if not isinstance(sparsity, dict) or not all(
            isinstance(k, str) and isinstance(m, list) and len(m) == 3
            and all(isinstance(part, list) and all(type(i) is int for i in part) for part in m)
            for k, m in sparsity.items()):
        return False
    warned = meta.get("warnings")
    if not isinstance(warned, list):
        return False
    for w in warned:
        if not isinstance(w, dict) or not isinstance(w.get("message"), str):
            return False
        if not all(w.get(k) is None or type(w.get(k)) is int for k in ("line", "column",
                                                                       "width")):
            return False
        if not (w.get("source_line") is None or isinstance(w.get("source_line"), str)):
            return False
    return True


def store(entry_key: str, meta: dict[str, Any], source: str,
          write_atomic: Callable[[Path, str], Path]) -> bool:
    """Write the entry with `write_atomic` (`symback.api.write_atomic`: a temporary file,
    then a rename); False, and nothing raised, if it cannot be written."""
    folder = directory()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return False
    if not _trusted(folder):
        return False
    entry = {"format": FORMAT, "key": entry_key, "symback": __version__,
             "digest": _digest(entry_key, meta, source), "meta": meta, "source": source}
    try:
        write_atomic(folder / f"{entry_key}.json", json.dumps(entry, ensure_ascii=True))
    except (SymbackError, OSError):
        return False
    return True


def info() -> dict[str, Any]:
    """The folder, whether it is used, the number of entries and their total size."""
    folder = directory()
    entries = _entries(folder)
    size = 0
    for path in entries:
        try:
            size += path.stat().st_size
        except OSError:
            pass
    usable = _trusted(folder) or not folder.exists()
    return {"directory": str(folder), "exists": folder.is_dir(), "usable": usable,
            "enabled": enabled(None), "entries": len(entries), "bytes": size}


def clear() -> int:
    """Remove every entry (and leftover temporary file); returns how many entries. Other
    files in the folder are left alone."""
    folder = directory()
    removed = 0
    for path in _entries(folder, temporaries=True):
        try:
            path.unlink()
        except OSError:
            continue
        removed += _ENTRY.match(path.name) is not None
    return removed


def _entries(folder: Path, temporaries: bool = False) -> list[Path]:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [folder / n for n in names
            if _ENTRY.match(n) or (temporaries and _TEMP.match(n))]
