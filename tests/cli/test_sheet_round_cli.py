"""Issue 13 items 6, 8 and 12 on the command line: ``--sheet``/``book.xlsx#Sheet``,
``--round N`` (rounded copies beside full-precision tables), the ``stats mixed`` summary.

Reference: the full-precision table written by the same command without ``--round``
(must be byte-identical) and Python's ``format(x, ".3g")`` for the rounded copy.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nplab.cli import main


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.fixture()
def long_table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for a in range(12):
        group = ["vehicle", "drug", "sham"][a % 3]
        u = rng.normal(0, 0.3)
        for t, time in enumerate(["BL", "D7", "D14"]):
            rows.append({"animal": f"r{a:02d}", "Treatment group": group, "time": time,
                         "Pain Score": 1 + 0.2 * t - 0.3 * (group == "drug") + u
                         + rng.normal(0, 0.2)})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture()
def book(tmp_path, long_table):
    path = tmp_path / "lab book.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(xl, sheet_name="Cover", index=False)
        long_table.to_excel(xl, sheet_name="Von Frey", index=False)
    return path


ANOVA = ["--dv", "Pain Score", "--between", "Treatment group", "--within", "time",
         "--subject", "animal"]  # fmt: skip


def test_sheet_option_and_hash_path(tmp_path, capsys, book):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    code, _, err = run(["stats", "anova", book, "--sheet", "Von Frey", "-o", a, *ANOVA], capsys)
    assert code == 0, err
    code, _, err = run(["stats", "anova", f"{book}#Von Frey", "-o", b, *ANOVA], capsys)
    assert code == 0, err
    assert a.read_bytes() == b.read_bytes()
    manifest = json.loads((tmp_path / "a.csv.manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["sheet"] == "Von Frey"
    assert manifest["inputs"][0]["path"].endswith("lab book.xlsx")
    # errors name the sheet; the default sheet is the first one
    code, _, err = run(["stats", "anova", book, "-o", tmp_path / "c.csv", *ANOVA], capsys)
    assert code == 2 and "lab book.xlsx, sheet 'Cover', column 'Pain Score'" in err
    code, _, err = run(["stats", "anova", book, "--sheet", "VF", "-o", tmp_path / "c.csv",
                        *ANOVA], capsys)  # fmt: skip
    assert code == 2 and "has no sheet 'VF'" in err and "'Von Frey'" in err


def test_round_writes_a_rounded_copy_and_keeps_full_precision(tmp_path, capsys, long_table):
    data = tmp_path / "data.csv"
    long_table.to_csv(data, index=False)
    full, other = tmp_path / "aov.csv", tmp_path / "plain.csv"
    code, _, err = run(["stats", "anova", data, "-o", full, "--round", "3", *ANOVA], capsys)
    assert code == 0, err
    code, _, err = run(["stats", "anova", data, "-o", other, *ANOVA], capsys)
    assert code == 0, err
    assert full.read_bytes() == other.read_bytes()  # full precision unchanged by --round
    assert not (tmp_path / "plain.rounded.csv").exists()
    got = pd.read_csv(tmp_path / "aov.rounded.csv")
    ref = pd.read_csv(full)
    for col in ref.columns:
        if ref[col].dtype == float:
            want = [v if not np.isfinite(v) or v == 0 else float(format(v, ".3g"))
                    for v in ref[col]]  # fmt: skip
            np.testing.assert_array_equal(got[col].to_numpy(), want)
    assert (got["p"] != ref["p"]).any()
    manifest = json.loads((tmp_path / "aov.csv.manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["round"] == 3
    assert [o["path"].rsplit("/", 1)[-1] for o in manifest["outputs"]] == [
        "aov.csv", "aov.rounded.csv"]


def test_mixed_one_line_summary_and_quoted_names(tmp_path, capsys, long_table):
    data = tmp_path / "data.csv"
    long_table.to_csv(data, index=False)
    out = tmp_path / "lmm.csv"
    code, text, err = run(["stats", "mixed", data, "-o", out, "--dv", "Pain Score", "--between",
                           "Treatment group", "--within", "time", "--subject", "animal",
                           "--anova"], capsys)  # fmt: skip
    assert code == 0, err
    lines = text.strip().splitlines()
    assert len(lines) == 1
    assert "36 observations from 12 animals" in lines[0]
    assert 'Q("Pain Score") ~ C(Q("Treatment group")) * C(time)' in lines[0]
    assert f"-> {out}, {tmp_path / 'lmm.anova.csv'}" in lines[0]
    code, _, err = run(["stats", "mixed", data, "-o", out, "--formula", "Pain Score ~ C(time)",
                        "--subject", "animal"], capsys)  # fmt: skip
    assert code == 2 and "column 'Pain Score'" in err and 'Q("Pain Score")' in err
