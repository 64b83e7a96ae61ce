import subprocess
import sys

import pytest

from nplab.cli import main


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_help_and_version(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "protocols" in out
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.startswith("nplab, version")
    code, out, _ = run(["protocols", "show", "--help"], capsys)
    assert code == 0 and "NAME_OR_PATH" in out


def test_usage_error_exit_2(capsys):
    code, _, err = run(["no-such-command"], capsys)
    assert code == 2 and "No such command" in err


def test_input_error_exit_2_no_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[protocol]\nname="x"\nversion="1"\nkind="surgery"\n[parameters]\nmodel="CCI"\n'
        'nerve="s"\nligatures=4\nligature_material="silk"\nligatur=1\n'
    )
    code, _, err = run(["protocols", "show", str(bad)], capsys)
    assert code == 2
    assert "unknown key 'ligatur'" in err and str(bad) in err
    assert "Traceback" not in err


def test_internal_error_exit_1_with_hint(monkeypatch, capsys):
    import nplab.cli.protocols as mod

    def boom():
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(mod, "list_protocols", boom)
    code, _, err = run(["protocols", "list"], capsys)
    assert code == 1 and "--verbose" in err and "Traceback" not in err
    code, _, err = run(["--verbose", "protocols", "list"], capsys)
    assert code == 1 and "Traceback" in err


def test_protocols_list_json_and_module_entry(capsys):
    code, out, _ = run(["protocols", "list"], capsys)
    assert code == 0 and "cci" in out
    res = subprocess.run(
        [sys.executable, "-m", "nplab", "protocols", "show", "snl", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0 and '"name": "snl"' in res.stdout


def test_output_may_not_overwrite_an_input(tmp_path):
    import pandas as pd
    import pytest

    from nplab.cli._common import write_result
    from nplab.errors import InputError

    src = tmp_path / "in.csv"
    src.write_text("a\n1\n")
    with pytest.raises(InputError, match="overwrite an input"):
        write_result(pd.DataFrame({"a": [2]}), src, inputs=[src])
    assert src.read_text() == "a\n1\n"
