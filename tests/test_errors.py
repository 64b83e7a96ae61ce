from nplab.errors import InputError, NplabError, ProtocolError, row_number


def test_message_names_file_row_column_expected():
    err = InputError(
        "'abc' is not valid", file="t.csv", row=5, column="latency_s", expected="a number"
    )
    assert str(err) == "t.csv, row 5, column 'latency_s': 'abc' is not valid (expected a number)"
    assert isinstance(err, NplabError)
    assert (err.file, err.row, err.column) == ("t.csv", 5, "latency_s")


def test_sweep_in_message_and_protocol_error_is_input_error():
    err = ProtocolError("bad", file="p.toml", column="cutoff_s")
    assert isinstance(err, InputError)
    assert str(err) == "p.toml, column 'cutoff_s': bad"
    assert "sweep 3" in str(InputError("clipped", file="a.abf", sweep=3))


def test_row_number_is_spreadsheet_row():
    assert row_number(0) == 2
    assert row_number(10) == 12
