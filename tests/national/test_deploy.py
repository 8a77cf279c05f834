"""The national assembly's deployment: 16 August, 02:00 Asia/Shanghai; and the command line wiring."""

from typer.testing import CliRunner

from flows.cli import app
from flows.national.deploy import assembly_deployment
from tests.national.conftest import receive


def test_the_assembly_runs_on_16_august_at_2_in_the_morning_in_china(tmp_path):
    deployment = assembly_deployment(tmp_path)
    assert deployment.flow_name == "getihu-national-assembly"
    assert deployment.parameters == {"home": str(tmp_path)}
    (schedule,) = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 16 8 *", "Asia/Shanghai")


def test_getihu_national_assemble_prints_what_was_not_accepted(tmp_path, packages):
    receive(tmp_path, {"41": packages["41"]}, arrived="2025-08-20T08:00:00+08:00")
    result = CliRunner().invoke(app, ["national", "assemble", "--year", "2025", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "河南省（41）：逾期接收" in result.output and "8月15日后送达" in result.output
    assert "江苏省（32）：未报送" in result.output
    assert "report" in result.output and (tmp_path / "assembly" / "2025" / "report.html").is_file()


def test_getihu_national_run_refuses_bad_province_lists_and_rulesets_before_starting_anything(tmp_path):
    runner = CliRunner()
    for arguments in (["--provinces", "4x"], ["--provinces", "41", "--ruleset", "41:rules.toml"]):
        result = runner.invoke(app, ["national", "run", "--year", "2025", "--home", str(tmp_path), *arguments])
        assert result.exit_code == 2
    assert not (tmp_path / "provinces").exists()
