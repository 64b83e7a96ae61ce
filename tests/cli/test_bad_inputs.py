"""Bad-input corpus of issue 18 (items 4 and 5): silent acceptance, garbage messages.

Every case goes through ``nplab.cli.main`` and must end with exit 2 and one bounded
line on stderr that names the file (and the column where there is one), without
pandas/numpy wording, and without writing the output.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from nplab.cli import MAX_MESSAGE, main, one_line
from nplab.errors import InputError, plain_numbers
from nplab.tables import read_table

PANDAS_WORDING = ("np.float64", "np.int64", "engine manually", "C error", "tokenizing",
                  "codec can't decode", "Traceback", "DataFrame", "dtype")


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exc.value.code, out.err


def assert_one_clean_line(code: int, err: str, *names: str) -> None:
    assert code == 2, err
    assert err.startswith("nplab: error: ") and err.count("\n") == 1, err
    assert len(err) <= MAX_MESSAGE + 40
    assert err.isprintable() or err[:-1].isprintable()
    for word in PANDAS_WORDING:
        assert word not in err, (word, err)
    for name in names:
        assert name in err, (name, err)


@pytest.fixture
def hargreaves_trials(repo_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    for name in ("trials_small.csv", "animals_small.csv"):
        shutil.copy(repo_dir / "tests" / "hargreaves" / "data" / name, tmp_path / name)
    return tmp_path / "trials_small.csv", tmp_path / "animals_small.csv"


# ---------------------------------------------------------- duplicated columns


def _duplicate(src: Path, column: str, dst: Path) -> Path:
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    cols = list(df.columns)
    header = ",".join([*cols, column])
    rows = [",".join([*r, r[cols.index(column)]]) for r in df.itertuples(index=False)]
    dst.write_text("\n".join([header, *rows]) + "\n")
    return dst


def test_vonfrey_two_responses_columns(tmp_path, capsys):
    sheet = tmp_path / "vf.csv"
    sheet.write_text("animal,paw,timepoint,responses,responses\n"
                     "r1,left,BL,OOOXOXOX,XXXX\n")
    code, err = run(["vonfrey", sheet, "-p", "vonfrey-updown-rat", "-o", tmp_path / "o.csv"], capsys)
    assert_one_clean_line(code, err, "vf.csv", "column 'responses'", "appears twice")
    assert not (tmp_path / "o.csv").exists()


def test_hargreaves_two_latency_columns(hargreaves_trials, tmp_path, capsys):
    trials, animals = hargreaves_trials
    _duplicate(trials, "latency_s", trials)
    code, err = run(["hargreaves", trials, "-p", "hargreaves-rat", "--animals", animals, "-o", tmp_path / "o.csv"],
                    capsys)
    assert_one_clean_line(code, err, "trials_small.csv", "column 'latency_s'", "appears twice")
    assert not (tmp_path / "o.csv").exists()


def test_doseresponse_two_resp_columns(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("conc,resp,resp\n0,1,9\n1,0.9,9\n10,0.5,9\n100,0.1,9\n")
    code, err = run(["doseresponse", "fit", data, "--x", "conc", "--y", "resp",
                     "-o", tmp_path / "o.csv"], capsys)
    assert_one_clean_line(code, err, "d.csv", "column 'resp'")


@pytest.mark.parametrize("header", ["a,b, a", "a,a.1,a", "a,b,b"])
def test_read_table_refuses_repeated_column_names(tmp_path, header):
    p = tmp_path / "t.csv"
    p.write_text(header + "\n1,2,3\n")
    with pytest.raises(InputError, match="appears twice"):
        read_table(p)


def test_read_table_keeps_names_that_only_look_mangled(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a.1,b.2\n1,2\n")
    assert list(read_table(p).columns) == ["a.1", "b.2"]


def test_read_table_refuses_repeated_column_names_in_xlsx(tmp_path):
    p = tmp_path / "t.xlsx"
    pd.DataFrame([[1, 2, 3]], columns=["x", "y", "z"]).rename(
        columns={"z": "x"}).to_excel(p, index=False)
    with pytest.raises(InputError, match=r"column 'x'.*appears twice"):
        read_table(p)


# ---------------------------------------------------------------- vonfrey ids


def test_vonfrey_paw_middle_refused_with_allowed_values(tmp_path, capsys):
    sheet = tmp_path / "vf.csv"
    sheet.write_text("animal,paw,timepoint,responses\nr1,left,BL,OOOXOXOX\n"
                     "r2,middle,BL,OOOXOXOX\n")
    code, err = run(["vonfrey", sheet, "-p", "vonfrey-updown-rat", "-o", tmp_path / "o.csv"], capsys)
    assert_one_clean_line(code, err, "vf.csv", "row 3", "column 'paw'", "'middle' is not a paw",
                          "ipsi, contra, left or right")


def test_vonfrey_sheet_without_timepoint_refused(tmp_path, capsys):
    sheet = tmp_path / "vf.csv"
    sheet.write_text("animal,paw,responses\nr1,left,OOOXOXOX\n")
    code, err = run(["vonfrey", sheet, "-p", "vonfrey-updown-rat", "-o", tmp_path / "o.csv"], capsys)
    assert_one_clean_line(code, err, "vf.csv", "column 'timepoint'", "--timepoint")
    assert not (tmp_path / "o.csv").exists()
    # an explicit time point is recorded in the output
    code, err = run(["vonfrey", sheet, "-p", "vonfrey-updown-rat", "--timepoint", "day7", "-o", tmp_path / "o.csv"], capsys)
    assert code == 0, err
    out = pd.read_csv(tmp_path / "o.csv")
    assert list(out.columns[:3]) == ["animal", "paw", "timepoint"]
    assert out["timepoint"].tolist() == ["day7"]
    both = tmp_path / "both.csv"
    both.write_text("animal,paw,timepoint,responses\nr1,left,BL,OOOXOXOX\n")
    code, err = run(["vonfrey", both, "-p", "vonfrey-updown-rat", "--timepoint", "day7", "-o", tmp_path / "o2.csv"], capsys)
    assert_one_clean_line(code, err, "both.csv", "--timepoint")


# ------------------------------------------------------ unreadable files, wording


def _binary(p: Path) -> Path:
    p.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 20)
    return p


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("bin.csv", None, ["binary data"]),
        ("nul.csv", b"conc,rootl\n" + b"\x00" * 3000 + b"\n", ["binary data"]),
        ("zip.csv", b"PK\x03\x04" + b"\x01" * 100, ["Excel workbook"]),
        ("semi_mixed.csv", b"conc;rootl\n1,5;2.5\n2,5;3\n", ["semicolon", "decimal commas",
                                                              "row 2, column 'conc'", "points"]),
        ("bar.csv", b"conc|rootl\n1|2\n2|3\n", ["vertical bar", "comma-separated"]),
        ("tab.csv", b"conc\trootl\n1\t2\n2\t3\n", ["tab-separated"]),
        ("comma.tsv", b"conc,rootl\n1,2\n2,3\n", ["comma (,)-separated"]),
        ("latin1.csv", "conc,rootl,note\n1,2,Müller\n".encode("latin-1"), ["not UTF-8"]),
        ("ragged.csv", b"conc,rootl\n1,2\n2,3,4,5\n", ["row 3", "4 fields"]),
        ("text.xlsx", b"conc,rootl\n1,2\n", ["Excel workbook"]),
        ("wide.csv", ("A\x00B" * 1500).encode(), ["binary data"]),
        ("negative.csv", b"conc,rootl\n-1,2\n2,3\n3,1\n4,1\n5,0.5\n", ["negative dose -1"]),
    ],
)
def test_doseresponse_unreadable_file_one_short_line(tmp_path, capsys, name, content, words):
    p = tmp_path / name
    if content is None:
        _binary(p)
    else:
        p.write_bytes(content)
    code, err = run(["doseresponse", "fit", p, "--x", "conc", "--y", "rootl",
                     "-o", tmp_path / "o.csv"], capsys)
    assert_one_clean_line(code, err, name, *words)
    assert len(err) < 400
    assert not (tmp_path / "o.csv").exists()


def test_missing_column_message_is_bounded(tmp_path, capsys):
    p = tmp_path / "wide.csv"
    p.write_text(",".join(f"column_with_a_long_name_{i}" * 3 for i in range(300)) + "\n"
                 + ",".join("1" * 300) + "\n")
    code, err = run(["doseresponse", "fit", p, "--x", "conc", "--y", "rootl",
                     "-o", tmp_path / "o.csv"], capsys)
    assert_one_clean_line(code, err, "wide.csv", "column 'conc'", "more")


def test_one_line_and_plain_numbers():
    assert plain_numbers("negative dose np.float64(-1.0), n np.int64(3), np.str_('a')") == \
        "negative dose -1.0, n 3, 'a'"
    assert str(InputError(f"value {__import__('numpy').float64(2.5)!r}")) == "value 2.5"
    line = one_line("bad \x00\x1b[31m cell\n" + "x" * 5000)
    assert "\n" not in line and "\x00" not in line and "\x1b" not in line
    assert len(line) <= MAX_MESSAGE and line.endswith("(message cut)")


# ---------------------------------------------------------------- disk full


def test_no_space_left_names_the_output(tmp_path, capsys, monkeypatch):
    data = tmp_path / "d.csv"
    data.write_text("conc,rootl\n0,8\n1,7.9\n3,6\n10,3\n30,1\n100,0.5\n")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "results" / "fit.csv"
    code, err = run(["doseresponse", "fit", data, "--x", "conc", "--y", "rootl", "-o", out],
                    capsys)
    assert_one_clean_line(code, err, str(out), "No space left on device")
    assert not out.exists() and not list(out.parent.glob(".*.tmp"))


def test_no_space_left_in_a_staged_run_names_the_output_not_the_stage(tmp_path, monkeypatch):
    from nplab.cli import _file_system_error
    from nplab.tables import staged_outputs, write_table

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as exc:
        with staged_outputs(tmp_path / "OUT") as stage:
            write_table(pd.DataFrame({"a": [1]}), stage / "tables" / "t.csv")
    msg = _file_system_error(exc.value)
    assert msg.startswith(f"{tmp_path / 'OUT' / 'tables' / 't.csv'}: No space left on device")
    with pytest.raises(OSError) as exc:
        with staged_outputs(tmp_path / "OUT") as stage:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # a plain write
    assert _file_system_error(exc.value).startswith(f"{tmp_path / 'OUT'}: No space left")
