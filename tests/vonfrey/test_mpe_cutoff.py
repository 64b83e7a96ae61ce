"""%MPE cut-off from the kit actually used (issue 13.1) and the protocol required by the
CLI (issue 13.2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nplab.cli import main
from nplab.errors import ProtocolError
from nplab.protocols import load_protocol
from nplab.stats.endpoints import endpoints
from nplab.vonfrey import check_kit_consistency, mpe_cutoff_g


def test_cutoff_comes_from_the_kit() -> None:
    assert mpe_cutoff_g("vonfrey-updown-mouse") == 2.0  # was the rat ceiling 15 g
    assert mpe_cutoff_g("vonfrey-updown-rat") == 15.0
    assert mpe_cutoff_g("vonfrey-sudo") == 2.0
    assert mpe_cutoff_g(load_protocol("vonfrey-updown-mouse", kind="vonfrey",
                                      mpe_cutoff_g=1.0)) == 1.0


def test_ceiling_of_another_kit_is_refused() -> None:
    proto = load_protocol("vonfrey-updown-mouse", kind="vonfrey", boundary="chaplan")
    with pytest.raises(ProtocolError, match="above_value_g = 15 g does not belong to kit "
                                            "'mouse-9'"):
        check_kit_consistency(proto)
    with pytest.raises(ProtocolError, match="mpe_cutoff_g"):
        mpe_cutoff_g(load_protocol("vonfrey-updown-mouse", kind="vonfrey", mpe_cutoff_g=15.0))


def test_mouse_mpe_with_the_mouse_cutoff() -> None:
    """pre 0.4 g, post 1.0 g, log10 scale: %MPE = log(1/0.4)/log(2/0.4) = 56.93 %."""
    d = pd.DataFrame({"animal": "m1", "paw": "ipsi", "time": ["BL", "pre", 1.0],
                      "threshold_g": [1.4, 0.4, 1.0]})
    ep = endpoints(d, dv="threshold_g", subject="animal", time="time", baseline="BL",
                   predose="pre", cutoff=mpe_cutoff_g("vonfrey-updown-mouse"), paw="paw")
    mpe = ep.loc[ep["endpoint"] == "mpe", "value"].iloc[0]
    assert mpe == pytest.approx(100 * np.log10(2.5) / np.log10(5.0), abs=1e-9)


def _sheet(tmp_path):
    p = tmp_path / "mouse.csv"
    pd.DataFrame({"animal": ["m1", "m2"], "paw": "left", "timepoint": "d7",
                  "responses": ["OOXOXO", "OXOXOX"]}).to_csv(p, index=False)
    return p


def test_cli_requires_protocol_and_names_it(tmp_path, capsys) -> None:
    sheet = _sheet(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["vonfrey", str(sheet), "-o", str(tmp_path / "o.csv")])
    assert exc.value.code == 2
    assert "--protocol" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()
    with pytest.raises(SystemExit) as exc:
        main(["vonfrey", str(sheet), "-p", "vonfrey-updown-mouse", "-o", str(tmp_path / "o.csv")])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "protocol vonfrey-updown-mouse" in out and "kit mouse-9" in out
