import os

import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.tables import (
    atomic_write,
    read_table,
    sha256_file,
    staged_outputs,
    to_numeric_column,
    write_table,
)


def test_read_csv_and_xlsx(tmp_path):
    df = pd.DataFrame({"animal": ["a1", "a2"], "latency_s": [10.5, 12.0]})
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_excel(tmp_path / "t.xlsx", index=False)
    for name in ("t.csv", "t.xlsx"):
        got = read_table(tmp_path / name, required=["animal"])
        pd.testing.assert_frame_equal(got, df, check_dtype=False)
        # a workbook's source names the sheet read (errors split it: "t.xlsx, sheet 'Sheet1'")
        assert got.attrs["source"].endswith(name + ("#Sheet1" if name.endswith("xlsx") else ""))


def test_missing_column_and_file(tmp_path):
    (tmp_path / "t.csv").write_text("animal,x\n1,2\n")
    with pytest.raises(InputError, match=r"t.csv, column 'latency_s': required column is missing"):
        read_table(tmp_path / "t.csv", required=["animal", "latency_s"])
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_table(tmp_path / "empty.csv")


def test_numeric_column_names_row(tmp_path):
    (tmp_path / "t.csv").write_text("latency_s\n1.5\n2\nfast\n")
    df = read_table(tmp_path / "t.csv")
    with pytest.raises(InputError) as exc:
        to_numeric_column(df, "latency_s")
    assert exc.value.row == 4 and exc.value.column == "latency_s"
    assert "'fast'" in str(exc.value)


def test_write_table_csv_parquet_deterministic(tmp_path):
    df = pd.DataFrame({"a": [0.1, 1 / 3, 2.0], "b": ["x", "y", "z"]})
    p1 = write_table(df, tmp_path / "o1.csv")
    p2 = write_table(df, tmp_path / "o2.csv")
    assert p1.read_bytes() == p2.read_bytes()
    assert p1.read_text().splitlines()[2] == "0.3333333333333333,y"
    write_table(df, tmp_path / "o.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o.parquet"), df)


def test_atomic_write_leaves_target_untouched_on_failure(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_staged_outputs_all_or_nothing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValueError), staged_outputs(out) as stage:
        (stage / "a.csv").write_text("a")
        raise ValueError
    assert list(out.iterdir()) == []
    with staged_outputs(out) as stage:
        (stage / "a.csv").write_text("a")
        (stage / "fig").mkdir()
        (stage / "fig" / "b.png").write_text("b")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "a.csv",
        "fig/b.png",
    ]


def test_sha256_known_value(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    # FIPS 180-2 example "abc"
    assert sha256_file(tmp_path / "f") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_outputs_get_the_usual_file_mode(tmp_path):
    import os

    import pandas as pd

    from nplab.tables import write_table

    umask = os.umask(0o022)
    try:
        out = write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    finally:
        os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o644


def test_unsupported_output_suffix_is_an_input_error(tmp_path):
    import pandas as pd
    import pytest

    from nplab.errors import InputError
    from nplab.tables import write_table

    with pytest.raises(InputError, match=r"\.xlsx.*expected a name ending in \.csv or \.parquet"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.xlsx")
    assert not list(tmp_path.iterdir())


def test_identifier_columns_are_read_as_text(tmp_path):
    from nplab.tables import read_table

    p = tmp_path / "ids.csv"
    p.write_text("animal,cell,value\n007,01,1.5\n7,1,2\n")
    df = read_table(p)
    assert df["animal"].tolist() == ["007", "7"] and df["cell"].tolist() == ["01", "1"]
    assert df["value"].tolist() == [1.5, 2.0]
