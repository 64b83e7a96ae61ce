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


def test_console_exit_keeps_codes_output_and_exit_handlers(tmp_path):
    """Run as the console script, nplab leaves without the interpreter's module
    teardown (nplab.cli._exit_now): exit codes, every byte of a large output and the
    exit handlers (here: a temporary folder's clean-up) must survive that."""
    probe = (
        "import sys, tempfile\n"
        "keep = tempfile.TemporaryDirectory(dir=sys.argv[1])\n"
        "sys.argv = ['nplab', *sys.argv[2:]]\n"
        "from nplab.cli import main\n"
        "main()\n"
    )

    def console(*args):
        return subprocess.run([sys.executable, "-c", probe, str(tmp_path), *args],
                              capture_output=True, text=True, check=False)

    ok = console("protocols", "show", "snl", "--json")
    assert ok.returncode == 0 and ok.stdout.rstrip().endswith("}")
    import json

    assert json.loads(ok.stdout)["name"] == "snl"  # complete, nothing lost at exit
    bad = console("protocols", "show", str(tmp_path / "missing.toml"))
    assert bad.returncode == 2 and "nplab: error:" in bad.stderr
    usage = console("no-such-command")
    assert usage.returncode == 2 and "No such command" in usage.stderr
    assert list(tmp_path.iterdir()) == []  # each run's temporary folder was removed


def test_warnings_are_one_nplab_line(capsys, monkeypatch):
    import warnings

    import click

    from nplab import cli as cli_module

    @click.command("warns")
    def warns():
        warnings.warn("singular mixed-model fit:\nsimplify the random part", UserWarning,
                      stacklevel=1)

    monkeypatch.setitem(cli_module.cli.commands, "warns", warns)
    before = warnings.showwarning
    code, _, err = run(["warns"], capsys)
    assert code == 0
    assert err == "nplab: warning: singular mixed-model fit:\\nsimplify the random part\n"
    assert warnings.showwarning is before  # restored after the command
    with pytest.warns(UserWarning, match="singular"):  # --verbose: Python's own handling
        run(["--verbose", "warns"], capsys)
