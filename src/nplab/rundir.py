"""The output folder of a run: safe names, one run at a time, staging leftovers, stale outputs.

Everything an ``nplab`` run writes goes below its output folder (OUTDIR) and nowhere
else:

* :func:`safe_component` checks a name that becomes one component of a path (a study
  id, a cohort, a label in a figure name) before it is joined to OUTDIR;
  :func:`require_inside` checks a built path, after resolving symbolic links, is
  still below OUTDIR.
* :func:`run_lock` lets one run at a time write into OUTDIR: a lock file
  ``OUTDIR/.nplab.lock`` holds an advisory ``flock`` (released by the kernel when the
  process dies, so a killed run never blocks later ones) and records the PID and host
  of its owner for the message a second run gets.
* Staging folders ``OUTDIR/.nplab-stage-*`` (:func:`nplab.tables.staged_outputs`)
  record their owner (:func:`mark_stage`); :func:`clean_stale_stages` removes those
  whose owner is dead, e.g. after a ``kill -9``.
* :func:`previous_outputs` and :func:`remove_stale_outputs`: a rerun into the folder
  of an earlier run deletes the earlier outputs it did not write itself, but only
  those whose bytes still match the earlier manifest (a file edited since is kept, and
  said so).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import socket
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from nplab.errors import InputError


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Streamed SHA-256 of a file (hex digest)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()

__all__ = [
    "LOCK_NAME",
    "OWNER_NAME",
    "STAGE_PREFIX",
    "clean_stale_stages",
    "mark_stage",
    "previous_outputs",
    "remove_stale_outputs",
    "require_inside",
    "run_lock",
    "safe_component",
]

#: Name of the lock file in an output folder.
LOCK_NAME = ".nplab.lock"
#: Prefix of the staging folders of :func:`nplab.tables.staged_outputs`.
STAGE_PREFIX = ".nplab-stage-"
#: File inside a staging folder naming the run (PID and host) that owns it.
OWNER_NAME = ".nplab-owner"
#: A staging folder without an owner file (written by an nplab older than the lock)
#: is removed only when it is at least this old (seconds).
LEGACY_STAGE_AGE = 3600.0

_SAFE_EXPECTED = (
    "a name without '/', '\\', NUL or control characters, not '.' or '..', not starting "
    "with '.' or white space, at most 200 characters"
)


def safe_component(
    name: object,
    what: str,
    *,
    file: str | os.PathLike[str] | None = None,
    column: str | None = None,
) -> str:
    """Return ``str(name)`` if it can be one path component below an output folder.

    Refused: empty names, ``.`` and ``..``, names containing a path separator (``/``
    or ``\\``, so also absolute paths), NUL or other control characters, names
    starting with ``.`` (hidden, and reserved for nplab's own ``.nplab-*`` files) or
    with white space, and names longer than 200 characters.

    Parameters
    ----------
    name
        The candidate (study id, cohort, label ...).
    what
        What the name is, for the message (``"study id"``, ``"cohort"``).
    file, column
        Where the name came from, for the message.

    Raises
    ------
    InputError
        Naming the value, what it is, and what is allowed.
    """
    text = str(name)
    reason = None
    if not text.strip():
        reason = "is empty"
    elif text in {".", ".."}:
        reason = "would name the parent or the same folder"
    elif "/" in text or "\\" in text:
        reason = "contains a path separator"
    elif "\x00" in text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        reason = "contains NUL or another control character"
    elif text.startswith("."):
        reason = "starts with '.'"
    elif text != text.lstrip() or text != text.rstrip():
        reason = "starts or ends with white space"
    elif len(text) > 200 or len(os.fsencode(text)) > 240:
        reason = "is too long"
    if reason is None:
        return text
    shown = repr(text if len(text) <= 60 else text[:57] + "...")
    raise InputError(
        f"the {what} {shown} cannot name a folder or file below the output folder: "
        f"it {reason}",
        file=file,
        column=column,
        expected=_SAFE_EXPECTED,
    )


def require_inside(root: str | os.PathLike[str], path: str | os.PathLike[str],
                   *, what: str = "output") -> Path:
    """Return ``path`` if it lies below ``root`` once symbolic links are resolved.

    Catches ``..`` in built paths and symbolic links inside the output folder that
    point out of it (``OUTDIR/tables -> /elsewhere``).

    Raises
    ------
    InputError
        Naming the path, where it leads, and the folder.
    """
    base = Path(root).resolve()
    full = Path(path).resolve()
    if full == base or full.is_relative_to(base):
        return Path(path)
    raise InputError(
        f"the {what} {path} would be written outside the output folder (it leads to "
        f"{full}, e.g. through a symbolic link)",
        file=root,
        expected="every output below the output folder; remove the link or choose "
        "another -o folder",
    )


# ---------------------------------------------------------------------------- lock


def _owner_text() -> str:
    return f"{os.getpid()} {socket.gethostname()}\n"


def _read_owner(path: Path) -> tuple[int | None, str]:
    """(PID, host) written in a lock or owner file; (None, "") when unreadable."""
    try:
        parts = path.read_text(encoding="utf-8").split()
        return int(parts[0]), (parts[1] if len(parts) > 1 else "")
    except (OSError, ValueError, IndexError):
        return None, ""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _owner_dead(pid: int | None, host: str) -> bool:
    """True only when the owner is certainly gone (this host, PID not running)."""
    if pid is None:
        return False
    if host and host != socket.gethostname():
        return False  # another machine: cannot tell
    return pid != os.getpid() and not _pid_alive(pid)


_HELD: dict[Path, list] = {}  # lock file -> [fd, depth]: reentrant within one process


def _try_lock(path: Path) -> int | None:
    """Open and ``flock`` the lock file; the fd when taken, None when held elsewhere."""
    import fcntl

    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return None
            raise
        # the holder we waited for may have unlinked the file: lock the current one
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


@contextlib.contextmanager
def run_lock(outdir: str | os.PathLike[str], *, timeout: float = 0.0,
             poll: float = 0.2) -> Iterator[Path]:
    """Hold the lock of ``outdir`` (created if needed) for the duration of the block.

    A second run into the same folder waits up to ``timeout`` seconds and then stops
    with an :class:`InputError` naming the folder and the PID (and host) of the run
    holding it.  The lock is an advisory ``flock`` on ``OUTDIR/.nplab.lock``, so the
    lock of a run that was killed is free again at once (its stale PID is simply
    overwritten).  Reentrant within one process.  The lock file is removed on release.

    Yields
    ------
    pathlib.Path
        The lock file.
    """
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    path = (out / LOCK_NAME).resolve()
    if path in _HELD:
        _HELD[path][1] += 1
        try:
            yield path
        finally:
            _HELD[path][1] -= 1
        return
    deadline = time.monotonic() + max(timeout, 0.0)
    while (fd := _try_lock(path)) is None:
        if time.monotonic() >= deadline:
            pid, host = _read_owner(path)
            who = f"PID {pid}" + (f" on {host}" if host else "") if pid else "another process"
            raise InputError(
                f"another nplab run ({who}) is writing into this output folder",
                file=out,
                expected=f"one run per output folder: wait for it to finish or choose "
                f"another -o folder (the lock is {path})",
            )
        time.sleep(poll)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, _owner_text().encode())
        _HELD[path] = [fd, 1]
        yield path
    finally:
        _HELD.pop(path, None)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # while still locked: a waiter then re-checks the inode
        os.close(fd)


# -------------------------------------------------------------------- staging


def mark_stage(stage: str | os.PathLike[str]) -> None:
    """Record this process (PID and host) as the owner of a staging folder."""
    (Path(stage) / OWNER_NAME).write_text(_owner_text(), encoding="utf-8")


def clean_stale_stages(outdir: str | os.PathLike[str]) -> list[Path]:
    """Remove staging folders of dead runs from ``outdir``; return the folders removed.

    Only directories named ``.nplab-stage-*`` directly in ``outdir`` (not symbolic
    links) whose owner file names a process of this host that is no longer running,
    or, for folders without an owner file (older nplab), that are older than
    :data:`LEGACY_STAGE_AGE`.  Call it while holding :func:`run_lock`, so that no
    other run is creating a stage at the same time.
    """
    removed = []
    out = Path(outdir)
    if not out.is_dir():
        return removed
    for d in sorted(out.glob(STAGE_PREFIX + "*")):
        if d.is_symlink() or not d.is_dir():
            continue
        owner = d / OWNER_NAME
        if owner.is_file():
            stale = _owner_dead(*_read_owner(owner))
        else:
            try:
                stale = time.time() - d.stat().st_mtime > LEGACY_STAGE_AGE
            except OSError:
                stale = False
        if stale:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


# ------------------------------------------------------------ stale outputs


def previous_outputs(outdir: str | os.PathLike[str]) -> dict[str, str]:
    """Outputs (path relative to ``outdir`` -> sha256) of an earlier run's manifest.

    Empty when ``outdir/manifest.json`` is missing or is not a readable nplab manifest.
    """
    try:
        record = json.loads((Path(outdir) / "manifest.json").read_text(encoding="utf-8"))
        return {str(o["path"]): str(o["sha256"]) for o in record["outputs"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def remove_stale_outputs(
    outdir: str | os.PathLike[str],
    previous: Mapping[str, str],
    current: set[str] | frozenset[str] | Mapping[str, object],
) -> list[str]:
    """Delete an earlier run's outputs that this run did not write; list what was kept.

    A file is deleted only when it is listed in the earlier manifest (``previous``,
    from :func:`previous_outputs`), lies inside ``outdir`` (symbolic links resolved),
    is not ``manifest.json``, and its sha256 still equals the recorded one.  A file
    edited since the earlier run is kept.

    Returns
    -------
    list of str
        ``"<path>: <why it was kept>"`` for every stale output left in place.
    """
    root = Path(outdir).resolve()
    kept = []
    for rel in sorted(set(previous) - set(current)):
        f = (root / rel).resolve()
        if not f.is_relative_to(root):
            kept.append(f"{rel}: kept, it is outside the output folder")
        elif f == root / "manifest.json" or not f.is_file():
            continue
        elif sha256_file(f) != previous[rel]:
            kept.append(f"{rel}: kept, edited since the earlier run (sha256 differs from "
                        "its manifest)")
        else:
            f.unlink()
    return kept
