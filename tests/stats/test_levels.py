"""One level-order rule in every table of nplab.stats (issue 14 item 5).

The data set lists its groups as vehicle, drug B, drug A and its time points as BL, D14,
2h, 1h — an order of first appearance that differs from the sorted one (drug A, drug B,
vehicle; 1h, 2h, BL, D14).  Every table must follow the order of first appearance, and
``levels=`` must override it everywhere, with the same numbers (compared by key).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nplab import stats
from nplab.errors import InputError
from nplab.stats._design import factorial_design
from nplab.stats._levels import level_order
from nplab.stats.endpoints import endpoints

GROUPS = ["vehicle", "drug B", "drug A"]
TIMES = ["BL", "D14", "2h", "1h"]
HOURS = {"BL": "BL", "D14": "D14", "2h": 2, "1h": 1}
GIVEN = {"group": ["drug A", "drug B", "vehicle"], "time": ["BL", "D14", "1h", "2h"]}


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(14)
    shift = {"vehicle": 0.0, "drug B": 0.3, "drug A": 0.6}
    trend = {"BL": 1.0, "D14": 0.2, "2h": 0.5, "1h": 0.6}
    rows = []
    for i in range(15):  # animals interleaved: vehicle, drug B, drug A, vehicle, ...
        g = GROUPS[i % 3]
        for t in TIMES:
            y = trend[t] + (shift[g] if t not in ("BL", "D14") else 0.0) + rng.normal(0, 0.2)
            rows.append({"animal": f"a{i + 1:02d}", "group": g, "time": t, "hours": HOURS[t],
                         "threshold_g": 10 ** y})
    d = pd.DataFrame(rows)
    d["y"] = np.log10(d["threshold_g"])
    assert list(dict.fromkeys(d["group"])) == GROUPS and list(dict.fromkeys(d["time"])) == TIMES
    return d


def _pairs(order: list) -> list[tuple]:
    return [(order[i], order[j]) for i in range(len(order)) for j in range(i + 1, len(order))]


def _tables(d: pd.DataFrame, levels: dict | None) -> dict[str, pd.DataFrame]:
    """Every table of nplab.stats that lists levels, for one level mapping."""
    kw = {} if levels is None else {"levels": levels}
    glev = None if levels is None else {"group": levels["group"]}
    at = d[d["time"] == "2h"]
    fit = stats.mixed_model(d, dv="y", between="group", within="time", subject="animal",
                            control="vehicle", **kw)
    two = d[(d["time"] == "2h") & d["group"].isin(["drug B", "drug A"])]
    return {
        "anova": stats.mixed_anova(d, dv="y", between="group", within="time",
                                   subject="animal", **kw),
        "fixed": fit.fixed,
        "emmeans": fit.emmeans(["group", "time"]),
        "lmm_dunnett": fit.dunnett("group", control="vehicle", by="time"),
        "dunnett": stats.dunnett(at, dv="y", group="group", control="vehicle", **kw),
        "dunnett_by_time": stats.dunnett_by_time(d, "y", "group", "time", "animal",
                                                 control="vehicle", **kw),
        "tukey_by_time": stats.posthoc_by_time(d, "y", "group", "time", "animal",
                                               method="tukey", **kw),
        "tukey": stats.tukey(at, dv="y", group="group", **kw),
        "pairwise": stats.pairwise(at, dv="y", group="group", **kw),
        "kruskal": stats.kruskal(at, dv="y", group="group", **kw),
        "dunn": stats.dunn(at, dv="y", group="group", **kw),
        "dunn_control": stats.dunn(at, dv="y", group="group", control="vehicle", **kw),
        "friedman": stats.friedman(d, dv="y", within="time", subject="animal", group="group",
                                   **kw),
        "mann_whitney": stats.mann_whitney(two, dv="y", group="group", **kw),
        "hedges_g": stats.hedges_g(at, dv="y", group="group", **kw),
        "hedges_g_control": stats.hedges_g(at, dv="y", group="group", control="vehicle", **kw),
        "endpoints": endpoints(d, dv="threshold_g", subject="animal", time="hours",
                               baseline="BL", predose="D14", group="group",
                               **({} if glev is None else {"levels": glev})),
    }


@pytest.mark.parametrize("given", [False, True], ids=["first_appearance", "levels_given"])
def test_every_table_follows_one_level_order(data, given):
    levels = GIVEN if given else None
    g_order = GIVEN["group"] if given else GROUPS
    t_order = GIVEN["time"] if given else TIMES
    treated = [g for g in g_order if g != "vehicle"]
    t = _tables(data, levels)

    # the cells mixed_anova analyses
    design = factorial_design(data, dv="y", subject="animal", between=["group"],
                              within=["time"], levels=levels)
    assert design.between_levels == [g_order] and design.within_levels == [t_order]
    # fixed effects: reference = control (vehicle), then the other levels in level order
    terms = list(t["fixed"]["term"])
    assert [s for s in terms if s.startswith("C(group)[T.") and ":" not in s] == [
        f"C(group)[T.{g}]" for g in treated]
    assert [s for s in terms if s.startswith("C(time)[T.") and ":" not in s] == [
        f"C(time)[T.{x}]" for x in t_order[1:]]
    em = t["emmeans"]
    assert list(zip(em["group"], em["time"], strict=True)) == [
        (g, x) for g in g_order for x in t_order]
    for name in ("lmm_dunnett", "dunnett_by_time"):
        tab = t[name]
        assert list(zip(tab["time"], tab["group"], strict=True)) == [
            (x, g) for x in t_order for g in treated], name
    assert list(t["dunnett"]["group"]) == treated
    for name in ("tukey", "pairwise", "dunn", "hedges_g"):
        assert list(zip(t[name]["a"], t[name]["b"], strict=True)) == _pairs(g_order), name
    tb = t["tukey_by_time"]
    assert list(zip(tb["time"], tb["a"], tb["b"], strict=True)) == [
        (x, *p) for x in t_order for p in _pairs(g_order)]
    for name in ("dunn_control", "hedges_g_control"):
        assert list(t[name]["a"]) == treated and set(t[name]["b"]) == {"vehicle"}, name
    assert list(t["friedman"]["group"]) == g_order
    mw = t["mann_whitney"].iloc[0]
    assert [mw["a"], mw["b"]] == treated
    ep = t["endpoints"]
    assert list(dict.fromkeys(ep["group"])) == g_order
    assert t["kruskal"].loc[0, "k"] == 3


def test_given_levels_change_only_the_order(data):
    first, given = _tables(data, None), _tables(data, GIVEN)
    keys = {"anova": ["source"], "emmeans": ["group", "time"], "lmm_dunnett": ["time", "group"],
            "dunnett": ["group"], "dunnett_by_time": ["time", "group"], "kruskal": ["k"],
            "friedman": ["group"], "hedges_g_control": ["a"], "dunn_control": ["a"],
            "endpoints": ["animal", "endpoint", "time"]}
    for name, key in keys.items():
        a = first[name].sort_values(key).reset_index(drop=True)
        b = given[name].sort_values(key).reset_index(drop=True)
        # the mixed model's REML optimum is found from another parametrisation: 1e-6
        rtol = 1e-6 if name in ("emmeans", "lmm_dunnett") else 1e-9
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=rtol, atol=1e-12,
                                      obj=name)
    # all-pairs tables: the same pairs, each possibly reversed (difference changes sign)
    for name, stat in (("tukey", "diff"), ("dunn", "z"), ("hedges_g", "g")):
        a = {(r.a, r.b): getattr(r, stat) for r in first[name].itertuples()}
        for r in given[name].itertuples():
            want = a[(r.a, r.b)] if (r.a, r.b) in a else -a[(r.b, r.a)]
            assert getattr(r, stat) == pytest.approx(want, rel=1e-9), name
    # the mixed model: the same fit whatever the level order (reference = vehicle in both)
    np.testing.assert_allclose(first["fixed"].set_index("term").loc[
        given["fixed"]["term"], "estimate"], given["fixed"]["estimate"], rtol=1e-6, atol=1e-9)


def test_control_is_the_reference_but_not_the_first_row(data):
    fit = stats.mixed_model(data, dv="y", between="group", within="time", subject="animal",
                            control="drug A")
    terms = [s for s in fit.fixed["term"] if s.startswith("C(group)[T.") and ":" not in s]
    assert terms == ["C(group)[T.vehicle]", "C(group)[T.drug B]"]
    assert list(dict.fromkeys(fit.emmeans("group")["group"])) == GROUPS
    assert list(fit.dunnett("group", control="drug A")["group"]) == ["vehicle", "drug B"]


def test_a_level_missing_from_the_given_levels_is_named(data):
    with pytest.raises(InputError, match=r"level '2h' of 'time' is not among the given") as exc:
        stats.dunnett_by_time(data, "y", "group", "time", "animal", control="vehicle",
                              levels={"time": ["BL", "D14", "1h"]})
    assert exc.value.column == "time"
    with pytest.raises(InputError, match="'drug A' of 'group'"):
        stats.kruskal(data, dv="y", group="group", levels={"group": ["vehicle", "drug B"]})
    with pytest.raises(InputError, match="given twice"):
        level_order(data["group"], "group", given=["vehicle", "drug B", "drug A", "vehicle"])


def test_level_order_rule():
    s = pd.Series([6, 1, 2, 4, 1], name="time")
    assert level_order(s) == [6, 1, 2, 4]  # numbers are not sorted: first appearance
    assert level_order(s, given=["1", "2", "4", "6", "8"]) == [1, 2, 4, 6]  # text matches
    cat = pd.Series(pd.Categorical(["b", "a", "b"], categories=["a", "b", "c"]))
    assert level_order(cat) == ["a", "b"]  # a Categorical's category order, unused dropped
    assert level_order(pd.Series(["x", "ctl", "y"]), control="ctl") == ["ctl", "x", "y"]
    with pytest.raises(InputError, match="control 'z' is not a level"):
        level_order(pd.Series(["x", "y"]), "grp", control="z")
    with pytest.raises(InputError, match="blank cell"):
        level_order(pd.Series(["x", None]), "grp")
