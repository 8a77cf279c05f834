"""``getihu serve`` / ``make serve`` serve the 名特优新 deployments beside the typing cycle's (issue 16's leftover), the
way the typing deployments are served: a flow per province (the province fixed, not a field of the run form), every
field and every deployment described in Chinese, defaults that need nothing filled in. Built, never served: no
Prefect server is started (design.md: the ephemeral server is slow)."""

from __future__ import annotations

import prefect
from typer.testing import CliRunner

from flows.classification.flow import PARAMETER_HELP, REVIEW_FLOWS, ROUND_FLOWS, run_name
from flows.cli import app
from flows.cycle import served_deployments
from flows.home import now_in_china


def by_name(home) -> dict:
    return {d.name: d for d in served_deployments(["23", "41"], home)}


def test_serve_serves_the_typing_and_the_classification_deployments_of_each_province(tmp_path):
    assert sorted(by_name(tmp_path)) == [
        "mtyx-review-23",
        "mtyx-review-41",
        "mtyx-round-23",
        "mtyx-round-41",
        "rerun-23",
        "rerun-41",
        "yearly-23",
        "yearly-41",
    ]


def test_a_province_without_a_classification_standard_gets_only_the_typing_deployments(tmp_path):
    assert "99" not in ROUND_FLOWS
    assert sorted(d.name for d in served_deployments(["99"], tmp_path)) == ["rerun-99", "yearly-99"]


def test_the_classification_deployments_run_on_their_days_against_the_home(tmp_path):
    made = by_name(tmp_path)
    (review,) = made["mtyx-review-41"].schedules
    (round_,) = made["mtyx-round-41"].schedules
    assert (review.schedule.cron, review.schedule.timezone) == ("0 2 8 8 *", "Asia/Shanghai")  # after 1 August
    assert (round_.schedule.cron, round_.schedule.timezone) == ("0 2 16 8 *", "Asia/Shanghai")  # mid-August
    for name in ("mtyx-round-41", "mtyx-review-23"):
        assert made[name].parameters == {"home": str(tmp_path)}
    assert made["mtyx-round-41"].flow_name == "getihu-mtyx-round"
    assert made["mtyx-review-23"].flow_name == "getihu-mtyx-review"
    assert made["mtyx-round-41"].entrypoint.endswith("flows/classification/flow.py:mtyx_round_41")
    assert made["mtyx-review-23"].entrypoint.endswith("flows/classification/flow.py:mtyx_review_23")


def test_the_run_form_has_no_province_and_every_field_and_deployment_is_described_in_chinese(tmp_path):
    for name, deployment in by_name(tmp_path).items():
        if not name.startswith("mtyx-"):
            continue
        properties = deployment._parameter_openapi_schema.model_dump()["properties"]
        assert set(properties) == {"year", "home", "inbox"}
        for field, schema in properties.items():
            assert schema["description"] == PARAMETER_HELP[field]
        # left empty: this year, and the home the deployment passes
        assert properties["year"]["default"] is None and properties["inbox"]["default"] is None
        assert deployment.description.startswith(f"省份 {name[-2:]} 的名特优新")
    assert "province" not in REVIEW_FLOWS["41"].parameters.model_dump()["properties"]


def test_a_classification_run_is_named_by_step_province_and_year():
    assert run_name("round", "41", {"year": 2025}) == "mtyx-round-41-2025"
    assert run_name("review", "23", {}) == f"mtyx-review-23-{now_in_china().year}"


def test_getihu_serve_hands_prefect_the_classification_deployments(tmp_path, monkeypatch):
    served: list = []
    monkeypatch.setattr(prefect, "serve", lambda *deployments, **_: served.extend(deployments))
    env = {"PREFECT_API_URL": "http://127.0.0.1:1/api", "GETIHU_SECRET": "test-secret-serve-0123456789abcdef"}
    result = CliRunner().invoke(app, ["serve", "--province", "41", "--home", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output
    assert sorted(d.name for d in served) == ["mtyx-review-41", "mtyx-round-41", "rerun-41", "yearly-41"]
