"""Handlers' accounts (flows/objections/accounts.py) and ``getihu web user``: salted Argon2 hashes, no clear
password anywhere in the home, disabled accounts refused, failed logins throttled per login and per address."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from flows.cli import app as getihu
from flows.objections import accounts
from flows.objections.accounts import LOCK_AFTER, WINDOW, AccountError, accounts_path, open_accounts
from flows.objections.store import store_dir

PASSWORD = "金水区-窗口-2025秋"
ADDRESS = "127.0.0.1"


def every_byte_under(folder) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_two_accounts_with_one_password_get_different_salted_hashes_and_no_clear_password_is_kept(tmp_path):
    with open_accounts(tmp_path) as book:
        book.add("wangwu", "王五", PASSWORD)
        book.add("zhaoliu", "赵六", PASSWORD)
        hashes = [r[0] for r in book.con.execute("SELECT password_hash FROM accounts ORDER BY login")]
    assert hashes[0] != hashes[1]
    assert all(h.startswith("$argon2id$") for h in hashes)
    salts = [h.split("$")[4] for h in hashes]  # $argon2id$v=19$m=..,t=..,p=..$<salt>$<hash>
    assert salts[0] != salts[1]
    kept = every_byte_under(store_dir(tmp_path))
    assert PASSWORD.encode("utf-8") not in kept and PASSWORD.encode("gb18030") not in kept
    assert accounts_path(tmp_path).stat().st_mode & 0o077 == 0  # readable by its owner only
    with open_accounts(tmp_path) as book:
        assert book.log_in("wangwu", PASSWORD, ADDRESS).account.handler == "王五"


def test_accounts_are_not_in_the_objection_store_whose_tables_reach_the_warehouse(tmp_path, cheap_hashes):
    from flows.objections.store import open_store, store_path

    with open_store(tmp_path):
        pass
    with open_accounts(tmp_path) as book:
        book.add("wangwu", "王五", PASSWORD)
    con = sqlite3.connect(store_path(tmp_path))
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    con.close()
    assert "accounts" not in tables and accounts_path(tmp_path) != store_path(tmp_path)


def test_a_wrong_password_is_refused_and_after_five_the_login_is_throttled_even_with_the_right_one(
    tmp_path, clock, cheap_hashes
):
    with open_accounts(tmp_path, clock) as book:
        book.add("wangwu", "王五", PASSWORD)
        for _ in range(LOCK_AFTER):
            result = book.log_in("wangwu", "wrong-password-1", ADDRESS)
            assert result.account is None and not result.throttled
            clock.advance(seconds=10)
        refused = book.log_in("wangwu", PASSWORD, ADDRESS)
        assert refused.account is None and refused.throttled
        clock.advance(seconds=WINDOW.total_seconds() + 1)  # a quarter of an hour after the last attempt
        assert book.log_in("wangwu", PASSWORD, ADDRESS).account.login == "wangwu"
        # a success clears the login's failures: four more wrong ones do not lock it yet
        for _ in range(LOCK_AFTER - 1):
            assert not book.log_in("wangwu", "wrong-password-1", ADDRESS).throttled
        assert book.log_in("wangwu", PASSWORD, ADDRESS).account is not None


def test_one_address_guessing_many_logins_is_throttled(tmp_path, clock, cheap_hashes):
    with open_accounts(tmp_path, clock) as book:
        book.add("wangwu", "王五", PASSWORD)
        for n in range(accounts.ADDRESS_LOCK_AFTER):
            book.log_in(f"guess{n}", "wrong-password-1", "10.0.0.9")
        assert book.log_in("wangwu", PASSWORD, "10.0.0.9").throttled
        assert book.log_in("wangwu", PASSWORD, "10.0.0.10").account is not None  # another desk is not


def test_a_disabled_account_cannot_log_in_and_its_sessions_end(tmp_path, clock, cheap_hashes):
    with open_accounts(tmp_path, clock) as book:
        account = book.add("wangwu", "王五", PASSWORD)
        assert book.current("wangwu", account.password_changed_at) is not None
        book.set_active("wangwu", False)
        assert book.log_in("wangwu", PASSWORD, ADDRESS).account is None
        assert book.current("wangwu", account.password_changed_at) is None
        book.set_active("wangwu", True)
        assert book.log_in("wangwu", PASSWORD, ADDRESS).account is not None
        clock.advance(minutes=1)
        book.set_password("wangwu", "另一个足够长的新密码2026")
        assert book.current("wangwu", account.password_changed_at) is None  # a password change ends sessions
        assert book.log_in("wangwu", PASSWORD, ADDRESS).account is None
        with pytest.raises(Exception, match="never deleted"):
            book.con.execute("DELETE FROM accounts")


def test_accounts_refuse_short_passwords_and_a_second_login_or_handler_of_the_same_name(tmp_path, cheap_hashes):
    with open_accounts(tmp_path) as book:
        with pytest.raises(AccountError, match="至少 10 个字符"):
            book.add("wangwu", "王五", "short")
        book.add("wangwu", "王五", PASSWORD)
        with pytest.raises(AccountError, match="已存在"):
            book.add("wangwu", "王五五", PASSWORD)
        with pytest.raises(AccountError, match="已有账号"):
            book.add("wangwu2", "王五", PASSWORD)
        with pytest.raises(AccountError, match="不能为空"):
            book.add("wang wu", "王五六", PASSWORD)


def test_getihu_web_user_reads_the_password_from_the_prompt_or_stdin_never_an_argument(tmp_path, cheap_hashes):
    runner = CliRunner()

    def user_app_invoke(args, **kw):
        return runner.invoke(getihu, ["web", "user", *args], **kw)

    home = str(tmp_path)
    added = user_app_invoke(["add", "wangwu", "--handler", "王五", "--home", home], input=f"{PASSWORD}\n" * 2)
    assert added.exit_code == 0, added.output
    assert "已新增账号 wangwu（经办人 王五）" in added.output and PASSWORD not in added.output
    mismatch = user_app_invoke(
        ["add", "zhaoliu", "--handler", "赵六", "--home", home], input=f"{PASSWORD}\nanother-password-2026\n"
    )
    assert mismatch.exit_code == 1 and "两次输入的密码不一致" in mismatch.output
    piped = user_app_invoke(
        ["add", "zhaoliu", "--handler", "赵六", "--home", home, "--password-stdin"], input=f"{PASSWORD}\n"
    )
    assert piped.exit_code == 0, piped.output
    assert user_app_invoke(["disable", "zhaoliu", "--home", home]).exit_code == 0
    listed = user_app_invoke(["list", "--home", home], terminal_width=200)
    assert listed.exit_code == 0
    assert "wangwu" in listed.output and "王五" in listed.output and "停用" in listed.output
    assert "argon2" not in listed.output
    refused = user_app_invoke(["add", "x", "--handler", "某", "--home", home, "--password-stdin"], input="短\n")
    assert refused.exit_code == 1 and "至少 10 个字符" in refused.output
    unknown = user_app_invoke(["disable", "nobody", "--home", home])
    assert unknown.exit_code == 1 and "没有登录名为 nobody 的账号" in unknown.output
    with open_accounts(tmp_path) as book:
        assert book.log_in("wangwu", PASSWORD, ADDRESS).account is not None
        assert book.log_in("zhaoliu", PASSWORD, ADDRESS).account is None
    assert PASSWORD.encode() not in every_byte_under(store_dir(tmp_path))
