"""Output folder hardening (issue 18, items 1, 6, 7, 8): nothing is written outside
OUTDIR, one run per folder, staging folders of killed runs are cleaned, stale outputs
are deleted only when unedited."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nplab.cli import main
from nplab.errors import InputError
from nplab.rundir import (
    LOCK_NAME,
    OWNER_NAME,
    STAGE_PREFIX,
    clean_stale_stages,
    previous_outputs,
    remove_stale_outputs,
    require_inside,
    run_lock,
    safe_component,
)
from nplab.tables import staged_outputs

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _run_cli(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    return exc.value.code, capsys.readouterr().err


def _python(code: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


# ------------------------------------------------------------------ names (item 1)

BAD_NAMES = ["../../escaped", "..", ".", "/tmp/abs", "a/b", "a\\b", "a\x00b", "a\nb",
             ".hidden", "", "  ", " lead", "x" * 201]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_safe_component_refuses(name):
    with pytest.raises(InputError) as exc:
        safe_component(name, "study id", column="study.id")
    msg = str(exc.value)
    assert "study id" in msg and "cannot name a folder" in msg and "\x00" not in msg
    assert "\n" not in msg and len(msg) < 400


@pytest.mark.parametrize("name", ["snl-sample", "cohort 1", "2024_A", "Ratte-ß", "1.5"])
def test_safe_component_accepts(name):
    assert safe_component(name, "cohort") == name


def test_require_inside_catches_symlink_out(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "tables").symlink_to(elsewhere)
    assert require_inside(out, out / "figures" / "a.png") == out / "figures" / "a.png"
    with pytest.raises(InputError, match="outside the output folder"):
        require_inside(out, out / "tables" / "a.csv")
    with pytest.raises(InputError, match="outside the output folder"):
        require_inside(out, out / ".." / "x")


@pytest.fixture()
def two_studies(repo_dir: Path, tmp_path: Path):
    shutil.copytree(repo_dir / "sample_data" / "snl", tmp_path / "snl")
    text = (repo_dir / "sample_data" / "snl_study.toml").read_text()

    def make(study_id: str, name: str) -> Path:
        p = tmp_path / name
        p.write_text(text.replace('id = "snl-sample"', f"id = {json.dumps(study_id)}"))
        return p

    return make


def _files_below(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.mark.parametrize("study_id", ["../../escaped", "..", "/tmp/nplab-abs-escape", "a/b"])
def test_run_refuses_study_id_that_leaves_outdir(two_studies, tmp_path, capsys, study_id):
    a = two_studies(study_id, "a.toml")
    b = two_studies("fine", "b.toml")
    before = _files_below(tmp_path)
    code, err = _run_cli(["run", a, b, "-o", tmp_path / "deep" / "OUT"], capsys)
    assert code == 2 and "cannot name a folder" in err and "study.id" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert _files_below(tmp_path) == before  # nothing written anywhere, not even OUT
    assert not Path("/tmp/nplab-abs-escape").exists()


def test_run_refuses_study_folder_symlinked_out(two_studies, tmp_path, capsys):
    a, b = two_studies("first", "a.toml"), two_studies("second", "b.toml")
    out, elsewhere = tmp_path / "OUT", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "second").symlink_to(elsewhere)
    code, err = _run_cli(["run", a, b, "-o", out], capsys)
    assert code == 2 and "outside the output folder" in err
    assert list(elsewhere.iterdir()) == [] and list(out.iterdir()) == [out / "second"]


def test_run_by_cohort_refuses_cohort_with_separator(two_studies, tmp_path, capsys):
    a = two_studies("snl", "a.toml")
    animals = tmp_path / "snl" / "animals.csv"
    lines = animals.read_text().splitlines()
    cols = lines[1].split(",")
    cols[6] = "../../x"
    lines[1] = ",".join(cols)
    animals.write_text("\n".join(lines) + "\n")
    code, err = _run_cli(["run", a, "--by-cohort", "-o", tmp_path / "OUT"], capsys)
    assert code == 2 and "cohort '../../x'" in err and "path separator" in err
    assert not (tmp_path / "OUT").exists() and not (tmp_path / "x").exists()


def test_staged_outputs_never_move_through_symlink_out(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "tables").symlink_to(elsewhere)
    with pytest.raises(InputError, match="outside the output folder"):
        with staged_outputs(out) as stage:
            (stage / "report.html").write_text("r")
            (stage / "tables").mkdir()
            (stage / "tables" / "t.csv").write_text("t")
    assert list(elsewhere.iterdir()) == []
    assert not (out / "report.html").exists()  # nothing moved: all checked first
    assert not list(out.glob(STAGE_PREFIX + "*")) and not (out / LOCK_NAME).exists()


# ---------------------------------------------------------------- lock (item 7)

_HOLD = """
    import sys, time
    from nplab.rundir import run_lock
    with run_lock(sys.argv[1] if len(sys.argv) > 1 else {out!r}):
        print("locked", flush=True)
        time.sleep(60)
"""


def test_second_run_refused_naming_folder_and_pid(tmp_path):
    out = tmp_path / "out"
    holder = _python(_HOLD.format(out=str(out)))
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(InputError) as exc:
            with run_lock(out):
                pass
        msg = str(exc.value)
        assert str(out) in msg and f"PID {holder.pid}" in msg and "another nplab run" in msg
        with pytest.raises(InputError, match="another nplab run"):
            with staged_outputs(out):
                pass
    finally:
        holder.kill()
        holder.wait()
    # the kernel released the killed holder's lock: the next run takes it over
    with run_lock(out) as lock:
        assert lock.read_text().split()[0] == str(os.getpid())
    assert not lock.exists()


def test_stale_lock_file_with_dead_pid_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    (tmp_path / LOCK_NAME).write_text(f"{dead.stdout.strip()} somehost\n")
    with run_lock(tmp_path) as lock, run_lock(tmp_path):  # reentrant in one process
        assert lock.read_text().split()[0] == str(os.getpid())
    assert not (tmp_path / LOCK_NAME).exists()


def test_waiting_run_gets_the_lock_when_the_first_ends(tmp_path):
    out = tmp_path / "out"
    holder = _python("""
        import sys, time
        from nplab.rundir import run_lock
        with run_lock(sys.argv[1]):
            print("locked", flush=True)
            sys.stdin.readline()
    """.replace("sys.argv[1]", repr(str(out))), stdin=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "locked"
        waiter = _python(f"""
            from nplab.rundir import run_lock
            with run_lock({str(out)!r}, timeout=120, poll=0.05) as lock:
                print("got", open(lock).read().split()[0], flush=True)
        """)
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.wait() == 0
        got = waiter.stdout.readline().split()
        assert waiter.wait() == 0 and got == ["got", str(waiter.pid)]
    finally:
        holder.kill()
        holder.wait()


# ------------------------------------------------------------ staging (item 6)


def test_stage_of_killed_run_is_removed_by_next_run(tmp_path):
    out = tmp_path / "out"
    victim = _python(f"""
        import os, signal
        from nplab.tables import staged_outputs
        with staged_outputs({str(out)!r}) as stage:
            (stage / "tables").mkdir()
            (stage / "tables" / "half.csv").write_text("a\\n1\\n")
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    assert victim.wait() == -signal.SIGKILL
    left = list(out.glob(STAGE_PREFIX + "*"))
    assert len(left) == 1 and (left[0] / OWNER_NAME).read_text().split()[0] == str(victim.pid)
    with staged_outputs(out) as stage:
        (stage / "report.html").write_text("ok")
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]


def test_stage_of_live_run_and_foreign_folders_are_kept(tmp_path):
    live = _python("import time; time.sleep(60)")
    try:
        mine = tmp_path / f"{STAGE_PREFIX}live"
        mine.mkdir()
        (mine / OWNER_NAME).write_text(f"{live.pid} {os.uname().nodename}\n")
        other_host = tmp_path / f"{STAGE_PREFIX}remote"
        other_host.mkdir()
        (other_host / OWNER_NAME).write_text("1 some-other-machine\n")
        legacy = tmp_path / f"{STAGE_PREFIX}legacy"  # no owner file, recent: kept
        legacy.mkdir()
        user = tmp_path / "nplab-stage-notours"
        user.mkdir()
        link = tmp_path / f"{STAGE_PREFIX}link"
        link.symlink_to(user)
        assert clean_stale_stages(tmp_path) == []
        assert all(p.exists() for p in (mine, other_host, legacy, user, link))
        os.utime(legacy, (0, 0))  # a year-old owner-less stage of an older nplab
        assert clean_stale_stages(tmp_path) == [legacy]
    finally:
        live.kill()
        live.wait()
    assert clean_stale_stages(tmp_path) == [mine]


# -------------------------------------------------------- stale outputs (item 8)


def _manifest(out: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    outputs = [{"path": rel, "sha256": hashlib.sha256(d).hexdigest()} for rel, d in files.items()]
    (out / "manifest.json").write_text(json.dumps({"outputs": outputs}))


def test_previous_outputs_reads_hashes(tmp_path):
    _manifest(tmp_path, {"tables/a.csv": b"a\n"})
    assert previous_outputs(tmp_path) == {
        "tables/a.csv": hashlib.sha256(b"a\n").hexdigest()}
    (tmp_path / "manifest.json").write_text("not json")
    assert previous_outputs(tmp_path) == {}
    assert previous_outputs(tmp_path / "none") == {}


def test_remove_stale_outputs_deletes_only_unedited(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    _manifest(out, {"tables/old.csv": b"old\n", "tables/edited.csv": b"v1\n",
                    "tables/kept.csv": b"k\n", "tables/gone.csv": b"g\n"})
    (out / "tables" / "gone.csv").unlink()
    previous = previous_outputs(out)
    previous["../victim.txt"] = hashlib.sha256(b"v").hexdigest()
    previous["manifest.json"] = "x"
    (tmp_path / "victim.txt").write_bytes(b"v")
    (out / "tables" / "edited.csv").write_bytes(b"edited by hand\n")
    (out / "notes.txt").write_text("user file")
    kept = remove_stale_outputs(out, previous, {"tables/kept.csv"})
    assert not (out / "tables" / "old.csv").exists()
    assert (out / "tables" / "edited.csv").read_bytes() == b"edited by hand\n"
    assert (out / "tables" / "kept.csv").exists() and (out / "notes.txt").exists()
    assert (tmp_path / "victim.txt").exists() and (out / "manifest.json").exists()
    assert kept == ["../victim.txt: kept, it is outside the output folder",
                    "tables/edited.csv: kept, edited since the earlier run (sha256 differs "
                    "from its manifest)"]
