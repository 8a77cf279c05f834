"""Properties of the round (hypothesis): monotone in the score, order-free, within quota, one per operator."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.classification.helpers import ROUND_DAY, D, application, business, recognition, standards
from transforms.classification.round import classification_round

REGIONS = ("410102", "410103")
TYPES = ("生存型", "成长型", "发展型")


@st.composite
def provinces(draw):
    n = draw(st.integers(1, 25))
    operators = draw(st.lists(st.sampled_from("PQRSTUVW"), min_size=n, max_size=n))
    businesses = [
        business(
            f"B{i:02d}",
            region=draw(st.sampled_from(REGIONS)),
            type_=draw(st.sampled_from(TYPES)),
            operator=operators[i],
            points=draw(st.integers(0, 3)),
        )
        for i in range(n)
    ]
    apps = [
        application(
            f"A{i:02d}",
            b.uscc,
            on=D(2025, 8, draw(st.integers(16, 31))),
            relaxation=draw(st.sampled_from([None, "残疾人"])),
        )
        for i, b in enumerate(businesses)
        if draw(st.booleans()) or i == 0
    ]
    held = [
        recognition(f"R{i}", b.uscc, D(2024, 11, 30), region=b.region_code, operator=b.operator_key)
        for i, b in enumerate(businesses)
        if draw(st.integers(0, 9)) == 0
    ]
    counts = {r: draw(st.integers(0, 80)) for r in REGIONS}
    return businesses, apps, held, counts


def run(businesses, apps, held, counts):
    return classification_round(
        2025, apps, {b.uscc: b for b in businesses}, counts, [], [], [], held, [], standards(), ROUND_DAY, None
    )


def winners(result):
    return {d.application.application_no for d in result.decisions if d.outcome == "拟认定"}


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(provinces(), st.randoms())
def test_row_order_never_matters(province, rnd):
    businesses, apps, held, counts = province
    shuffled = list(apps)
    rnd.shuffle(shuffled)
    held2 = list(held)
    rnd.shuffle(held2)
    assert run(businesses, apps, held, counts) == run(businesses, shuffled, held2, counts)


@FAST
@given(provinces(), st.data())
def test_raising_a_score_never_loses_a_place(province, data):
    businesses, apps, held, counts = province
    before = winners(run(businesses, apps, held, counts))
    if not before:
        return
    no = data.draw(st.sampled_from(sorted(before)))
    uscc = next(a.uscc for a in apps if a.application_no == no)
    raised = [
        replace(b, features={**b.features, "valid_patents": 1, "years_established": 9}) if b.uscc == uscc else b
        for b in businesses
    ]
    assert no in winners(run(raised, apps, held, counts))


@FAST
@given(provinces())
def test_valid_recognitions_never_exceed_a_units_quota_unless_held_before(province):
    businesses, apps, held, counts = province
    result = run(businesses, apps, held, counts)
    for q in result.quota:
        assert q.candidates == 0 or q.held + q.candidates <= q.places


@FAST
@given(provinces())
def test_no_operator_holds_two_in_one_county(province):
    businesses, apps, held, counts = province
    by_uscc = {b.uscc: b for b in businesses}
    result = run(businesses, apps, held, counts)
    holders = [(by_uscc[r.uscc].region_code, by_uscc[r.uscc].operator_key) for r in held]
    new = [(d.business.region_code, d.business.operator_key) for d in result.decisions if d.outcome == "拟认定"]
    for pair in new:
        assert pair not in holders
    assert len(new) == len(set(new))


def test_the_same_inputs_give_the_same_list():
    rnd = random.Random(7)
    businesses = [business(f"B{i}", operator=f"P{i % 5}", points=rnd.randint(0, 3)) for i in range(40)]
    apps = [application(f"A{i}", f"B{i}") for i in range(40)]
    assert run(businesses, apps, [], {"410102": 100}) == run(businesses, apps, [], {"410102": 100})
