"""Input stays confined: nothing is read from outside the inbox, a cycle's paths cannot climb out of the home,
and what is typed into ``getihu query`` is only ever a value."""

from dataclasses import replace

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.errors import ConfigurationError, InputError
from flows.home import cycle_for
from flows.stages.ingest import ingest
from flows.stages.publish import publish
from tests.support.inbox import cycle, registration_row, valid_row, write_csv
from tests.support.stage_fixture import Fixture, write_cycle


def delivered(inbox):
    write_csv(inbox / "registration.csv", [registration_row(1), registration_row(2)])
    return inbox


@pytest.mark.parametrize("name", ["penalty.csv", "inbox.toml"])
def test_a_symbolic_link_out_of_the_inbox_is_refused_naming_it_and_nothing_is_loaded(tmp_path, name):
    inbox = delivered(tmp_path / "inbox")
    outside = write_csv(tmp_path / "elsewhere" / "penalty.csv", [valid_row("penalty", 1)])
    (inbox / name).symlink_to(outside)
    c = cycle(tmp_path / "home", inbox)
    with pytest.raises(InputError) as caught:
        ingest(c)
    assert str(caught.value) == (
        f"{inbox / name}：是指向收件目录之外 {outside} 的符号链接；请把报送的文件本身放进收件目录"
    )
    assert not c.raw_db.exists()


def test_a_symbolic_link_within_the_inbox_and_a_linked_inbox_folder_are_read(tmp_path):
    real = delivered(tmp_path / "delivered")
    write_csv(real / "archive" / "penalty-2025.csv", [valid_row("penalty", 1)])
    (real / "penalty.csv").symlink_to(real / "archive" / "penalty-2025.csv")
    (tmp_path / "inbox").symlink_to(real)  # e.g. data/inbox/41/2025 -> a shared drive
    result = ingest(cycle(tmp_path / "home", tmp_path / "inbox"))
    assert result.rows == {"registration": 2, "penalty": 1}


@pytest.mark.parametrize("province", ["..", "../41", "4/", "41/..", "４１"])
def test_a_province_that_is_not_two_digits_cannot_name_a_path(tmp_path, province):
    with pytest.raises(ConfigurationError, match="应为两位数字的省级行政区划代码"):
        cycle_for(province, None, 2025, tmp_path, None, None, b"key")


# --- getihu query binds what is typed ---------------------------------------------------------------------

INJECTION = "小店'); DROP TABLE directory; --"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    fixture = Fixture()
    named = [replace(b, name=INJECTION) if b.n == 3 else b for b in fixture.businesses]
    publish(write_cycle(home, replace(fixture, businesses=named)))
    return home


def query(home, text):
    return CliRunner().invoke(app, ["query", text, "--home", str(home)], env={"COLUMNS": "200"})


def test_a_name_shaped_like_sql_injection_is_found_as_data_and_changes_nothing(home):
    found = query(home, INJECTION)
    assert found.exit_code == 0, found.output
    assert INJECTION in found.output and "41-20250731" in found.output
    again = query(home, INJECTION[:4])  # the directory is still there, all of it
    assert again.exit_code == 0 and INJECTION in again.output


@pytest.mark.parametrize("text", ["%", "_", "' OR '1'='1", "\\"])
def test_wildcards_and_quotes_match_only_themselves(home, text):
    result = query(home, text)
    assert result.exit_code == 1
    assert "没有统一社会信用代码或注册号为" in result.output and "Traceback" not in result.output
