"""Every command refuses to overwrite its inputs and checks figure names before writing.

Regression tests of the cross-cutting review: ``nplab hargreaves``, ``nplab doseresponse
fit`` and ``nplab stats report`` overwrote the input table when an output (``-o``,
``--ed-output``, ``--differences``, ``--paragraph`` ...) named it, and a bad ``--figure``
name left the tables and manifests of a failed run (exit 2) behind.
"""

import shutil

import pytest

from nplab.cli import main
from nplab.errors import InputError
from nplab.figures import figure_format, save_figure


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exc.value.code, out.err


@pytest.fixture
def hargreaves_inputs(repo_dir, tmp_path):
    for name in ("trials_small.csv", "animals_small.csv"):
        shutil.copy(repo_dir / "tests" / "hargreaves" / "data" / name, tmp_path / name)
    return tmp_path / "trials_small.csv", tmp_path / "animals_small.csv"


@pytest.fixture
def ryegrass(repo_dir, tmp_path):
    target = tmp_path / "ryegrass.csv"
    shutil.copy(repo_dir / "tests" / "doseresponse" / "reference" / "ryegrass.csv", target)
    return target


@pytest.fixture
def cci_table(repo_dir, tmp_path):
    target = tmp_path / "cci.csv"
    shutil.copy(repo_dir / "tests" / "stats" / "reference" / "anova_data_cci.csv", target)
    return target


def _assert_refused(code, err, victim, before):
    assert code == 2
    assert err.startswith("nplab: error: ") and err.count("\n") == 1
    assert "would overwrite an input file" in err and "Traceback" not in err
    assert victim.read_bytes() == before


@pytest.mark.parametrize("option", ["-o", "--differences", "--km", "--figure"])
def test_hargreaves_never_overwrites_trials(hargreaves_inputs, tmp_path, capsys, option):
    trials, animals = hargreaves_inputs
    before = trials.read_bytes()
    victim = trials if option != "--figure" else trials.with_suffix(".png")
    if option == "--figure":  # a figure named like an input (an animals table saved as .png)
        shutil.copy(animals, victim)
        before = victim.read_bytes()
        args = ["hargreaves", trials, "-p", "hargreaves-rat", "--animals", victim, "-o", tmp_path / "o.csv"]
    else:
        args = ["hargreaves", trials, "-p", "hargreaves-rat", "--animals", animals]
        args += [] if option == "-o" else ["-o", tmp_path / "o.csv"]
    code, err = run([*args, option, victim], capsys)
    _assert_refused(code, err, victim, before)
    assert not (tmp_path / "o.csv").exists()


def test_hargreaves_never_overwrites_animals(hargreaves_inputs, tmp_path, capsys):
    trials, animals = hargreaves_inputs
    before = animals.read_bytes()
    code, err = run(["hargreaves", trials, "-p", "hargreaves-rat", "--animals", animals, "-o", animals], capsys)
    _assert_refused(code, err, animals, before)


@pytest.mark.parametrize("option", ["-o", "--ed-output"])
def test_doseresponse_never_overwrites_data(ryegrass, tmp_path, capsys, option):
    before = ryegrass.read_bytes()
    args = ["doseresponse", "fit", ryegrass, "--x", "conc", "--y", "rootl", "--ed", "50"]
    if option != "-o":
        args += ["-o", tmp_path / "o.csv"]
    code, err = run([*args, option, ryegrass], capsys)
    _assert_refused(code, err, ryegrass, before)
    assert not (tmp_path / "o.csv").exists()


def test_doseresponse_bad_figure_writes_nothing(ryegrass, tmp_path, capsys):
    out = tmp_path / "o.csv"
    args = ["doseresponse", "fit", ryegrass, "--x", "conc", "--y", "rootl", "-o", out]
    code, err = run([*args, "--figure", tmp_path / "f.txt"], capsys)
    assert code == 2 and "f.txt" in err and "unsupported figure format" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ryegrass.csv"]


_REPORT = ["--dv", "log_threshold", "--between", "group", "--within", "time",
           "--subject", "animal", "--control", "sham"]  # fmt: skip


def test_stats_report_never_overwrites_data(cci_table, tmp_path, capsys):
    before = cci_table.read_bytes()
    args = ["stats", "report", cci_table, "-o", tmp_path / "r.csv", *_REPORT]
    code, err = run([*args, "--paragraph", cci_table], capsys)
    _assert_refused(code, err, cci_table, before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cci.csv"]


def test_stats_report_bad_figure_writes_nothing(cci_table, tmp_path, capsys):
    args = ["stats", "report", cci_table, "-o", tmp_path / "r.csv", *_REPORT]
    code, err = run([*args, "--figure", tmp_path / "r.bmp"], capsys)
    assert code == 2 and "r.bmp" in err and "unsupported figure format" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cci.csv"]


def test_figure_format_and_reproducible_save(tmp_path):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    assert figure_format(tmp_path / "a.PNG") == "png"
    with pytest.raises(InputError, match=r"a\.svg.*unsupported.*expected \.png\)"):
        figure_format(tmp_path / "a.svg", ("png",))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    for fmt in ("png", "svg", "pdf"):
        a = save_figure(fig, tmp_path / f"a.{fmt}")
        b = save_figure(fig, tmp_path / f"b.{fmt}")
        assert a.read_bytes() == b.read_bytes()
    plt.close(fig)


def test_ephys_ic50_never_replaces_its_per_sweep_input(tmp_path, capsys):
    """``--per-sweep OUT/per_sweep.csv -o OUT`` replaced the input table with the output."""
    experiment = tmp_path / "experiment.csv"
    experiment.write_text("cell,file,drug,conc_um,holding_mv,condition\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    per_sweep = out / "per_sweep.csv"
    per_sweep.write_text("file,sweep\n", encoding="utf-8")
    before = per_sweep.read_bytes()
    args = ["ephys", "ic50", experiment, "--per-sweep", per_sweep, "-o", out, "--no-figures"]
    code, err = run(args, capsys)
    _assert_refused(code, err, per_sweep, before)
    assert sorted(p.name for p in out.iterdir()) == ["per_sweep.csv"]


@pytest.mark.parametrize("sub", [["anova", "--dv", "y"], ["kruskal", "--dv", "y", "--group", "g"]])
def test_stats_missing_table_is_one_nplab_error_line(tmp_path, capsys, sub):
    missing = tmp_path / "nope.csv"
    code, err = run(["stats", sub[0], missing, "-o", tmp_path / "o.csv", *sub[1:]], capsys)
    assert code == 2
    assert err == f"nplab: error: {missing}: file not found\n"


def test_internal_error_hint_gives_the_command_to_rerun(monkeypatch, capsys):
    """--verbose is an option of 'nplab' itself (it fails after the subcommand)."""
    import nplab.cli.protocols as mod

    def boom():
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(mod, "list_protocols", boom)
    code, err = run(["protocols", "list", "--json"], capsys)
    assert code == 1 and "Traceback" not in err
    assert err.rstrip().endswith("nplab --verbose protocols list --json")


def test_two_outputs_with_one_name_are_refused(hargreaves_inputs, ryegrass, tmp_path, capsys):
    trials, animals = hargreaves_inputs
    same = tmp_path / "o.csv"
    code, err = run(["hargreaves", trials, "-p", "hargreaves-rat", "--animals", animals, "-o", same,
                     "--differences", same], capsys)  # fmt: skip
    assert code == 2 and "two outputs of the run name the same file" in err
    code, err = run(["doseresponse", "fit", ryegrass, "--x", "conc", "--y", "rootl", "--ed", "50",
                     "-o", same, "--ed-output", same], capsys)  # fmt: skip
    assert code == 2 and "two outputs of the run name the same file" in err
    assert not same.exists()


def test_stats_mixed_checks_outputs_and_options_before_writing(cci_table, tmp_path, capsys):
    base = ["stats", "mixed", cci_table, "-o", tmp_path / "m.csv", "--formula",
            "log_threshold ~ C(group) * C(time)", "--subject", "animal"]  # fmt: skip
    before = cci_table.read_bytes()
    code, err = run([*base, "--emmeans", "group", "--emmeans-output", cci_table], capsys)
    _assert_refused(code, err, cci_table, before)
    code, err = run([*base, "--dunnett-group", "group"], capsys)
    assert code == 2 and "--dunnett-group needs --control" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cci.csv"]


def test_file_system_errors_are_exit_2_naming_the_output(tmp_path, capsys):
    """An output under a plain file (or in a read-only folder) was 'internal error' (exit 1)
    naming nplab's temporary file."""
    sheet = tmp_path / "vf.csv"
    sheet.write_text("animal,timepoint,responses\nr1,BL,OOOXOXOX\n", encoding="utf-8")
    blocker = tmp_path / "plain_file"
    blocker.write_text("x", encoding="utf-8")
    code, err = run(["vonfrey", sheet, "-p", "vonfrey-updown-rat", "-o", blocker / "out.csv"], capsys)
    assert code == 2 and err.startswith("nplab: error: ") and err.count("\n") == 1
    assert "plain_file" in err and "internal error" not in err and ".tmp" not in err


def test_file_system_error_names_the_output_not_the_temporary_file():
    from nplab.cli import _file_system_error

    exc = FileNotFoundError(2, "No such file or directory", "/proc/.x.csv.jlyplmo6.tmp")
    assert _file_system_error(exc).startswith("/proc/x.csv: No such file or directory")
