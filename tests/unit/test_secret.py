"""Where the key that protects personal IDs comes from: GETIHU_SECRET, or a file outside the repository."""

import pytest

from flows.errors import ConfigurationError
from flows.home import REPOSITORY
from flows.secret import SECRET_FILE_VARIABLE, SECRET_VARIABLE, secret_from_environment


@pytest.fixture
def environment(monkeypatch):
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    monkeypatch.delenv(SECRET_FILE_VARIABLE, raising=False)
    return monkeypatch


def key_file(path, text="a key from the secret store\n", mode=0o600):
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def refusal(environment) -> str:
    with pytest.raises(ConfigurationError) as caught:
        secret_from_environment()
    return str(caught.value)


def test_the_key_comes_from_the_variable(environment):
    environment.setenv(SECRET_VARIABLE, "a key")
    assert secret_from_environment() == b"a key"


def test_without_a_key_the_run_refuses_and_says_where_a_key_may_come_from(environment):
    environment.setenv(SECRET_VARIABLE, "  ")
    message = refusal(environment)
    assert f"没有设置 {SECRET_VARIABLE}" in message and SECRET_FILE_VARIABLE in message


def test_the_key_comes_from_an_owner_only_file_outside_the_repository(environment, tmp_path):
    environment.setenv(SECRET_FILE_VARIABLE, str(key_file(tmp_path / "secret")))
    assert secret_from_environment() == b"a key from the secret store"


def test_a_key_file_others_can_read_is_refused_with_the_command_that_fixes_it(environment, tmp_path):
    path = key_file(tmp_path / "secret", mode=0o644)
    environment.setenv(SECRET_FILE_VARIABLE, str(path))
    message = refusal(environment)
    assert "其他用户也能读取密钥文件（权限 644）" in message and f"chmod 600 {path}" in message


def test_a_key_file_inside_the_repository_is_refused_even_through_a_symlink(environment, tmp_path):
    inside = key_file(REPOSITORY / ".test-secret-inside-the-repository")
    try:
        (tmp_path / "link").symlink_to(inside)
        environment.setenv(SECRET_FILE_VARIABLE, str(tmp_path / "link"))
        assert "在代码仓库" in refusal(environment)
    finally:
        inside.unlink()


@pytest.mark.parametrize(
    ("name", "text", "expected"), [("missing", None, "无法读取密钥文件"), ("empty", "\n", "密钥文件是空的")]
)
def test_a_missing_or_empty_key_file_is_refused_naming_it(environment, tmp_path, name, text, expected):
    path = tmp_path / name
    if text is not None:
        key_file(path, text)
    environment.setenv(SECRET_FILE_VARIABLE, str(path))
    message = refusal(environment)
    assert f"{SECRET_FILE_VARIABLE}={path}" in message and expected in message


def test_a_key_from_both_the_variable_and_a_file_is_refused(environment, tmp_path):
    environment.setenv(SECRET_VARIABLE, "a key")
    environment.setenv(SECRET_FILE_VARIABLE, str(key_file(tmp_path / "secret")))
    assert "请只设置其中一个" in refusal(environment)


def test_a_key_with_a_trailing_newline_is_the_same_key_from_the_variable_and_from_a_file(environment, tmp_path):
    # issue 13, item 1: `GETIHU_SECRET=$(cat file)` and `GETIHU_SECRET="$(cat file)\n"` must key alike
    environment.setenv(SECRET_VARIABLE, "a key from the secret store\n")
    from_variable = secret_from_environment()
    environment.delenv(SECRET_VARIABLE)
    environment.setenv(SECRET_FILE_VARIABLE, str(key_file(tmp_path / "secret")))
    assert from_variable == secret_from_environment() == b"a key from the secret store"
