"""The deployments ``make serve`` serves: the yearly cycle on its schedule, reruns on demand."""

from pathlib import Path

from flows.cycle import deployments


def by_name(home: Path) -> dict:
    return {d.name: d for d in deployments(["23", "41"], home)}


def test_each_province_has_a_yearly_and_a_rerun_deployment_of_the_cycle_flow(tmp_path):
    made = by_name(tmp_path)
    assert sorted(made) == ["rerun-23", "rerun-41", "yearly-23", "yearly-41"]
    assert {d.flow_name for d in made.values()} == {"getihu-cycle"}
    assert made["yearly-41"].parameters == {"province": "41", "home": str(tmp_path)}
    assert made["rerun-23"].parameters == {"province": "23", "home": str(tmp_path)}


def test_the_yearly_run_is_1_august_at_2_in_the_morning_in_china_and_reruns_have_no_schedule(tmp_path):
    made = by_name(tmp_path)
    (yearly,) = made["yearly-41"].schedules
    assert (yearly.schedule.cron, yearly.schedule.timezone) == ("0 2 1 8 *", "Asia/Shanghai")
    assert not made["rerun-41"].schedules
