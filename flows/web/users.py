"""``getihu web user``: handlers' accounts of the web desk (``flows.objections.accounts``). Chinese help.

The password is never an argument (it would stay in the shell's history and in the process list): it is typed at
a hidden prompt, twice, or read as one line from standard input with ``--password-stdin`` (for a script that
takes it from a secret store).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

app = typer.Typer(
    name="user",
    help="办理台经办人账号：新增、列出、停用、启用、改密码。密码只从提示或标准输入读取，不作为参数。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    options_metavar="[选项]",
    subcommand_metavar="命令 [参数]...",
)

Home = Annotated[Path, typer.Option("--home", metavar="目录", help="主目录（其中 objections/ 存放异议库和账号库）")]
Login = Annotated[str, typer.Argument(metavar="登录名", help="登录名（不含空格）")]
FromStdin = Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取一行作为密码（供脚本使用），不提示")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = typer.prompt("密码", hide_input=True)
    if typer.prompt("再输入一次密码", hide_input=True) != first:
        typer.echo("getihu web user: 两次输入的密码不一致；未作更改", err=True)
        raise typer.Exit(1)
    return first


def _fail(error: Exception) -> typer.Exit:
    typer.echo(f"getihu web user: {error}", err=True)
    return typer.Exit(1)


@app.command()
def add(
    login: Login,
    handler: Annotated[str, typer.Option("--handler", metavar="姓名", help="经办人姓名或工号：记入该账号办理的每一步")],
    home: Home = Path("data"),
    password_stdin: FromStdin = False,
) -> None:
    """新增经办人账号（密码加盐哈希存放，明文不保存）。"""
    from flows.objections.accounts import AccountError, open_accounts

    password = _password(password_stdin)
    try:
        with open_accounts(home) as accounts:
            account = accounts.add(login, handler, password)
    except AccountError as e:
        raise _fail(e) from None
    typer.echo(f"已新增账号 {account.login}（经办人 {account.handler}）")


@app.command("list")
def list_(home: Home = Path("data")) -> None:
    """列出全部账号：登录名、经办人、是否启用、创建、最近登录。"""
    from flows.objections.accounts import open_accounts

    with open_accounts(home) as accounts:
        rows = accounts.all()
    table = Table()
    for header in ("登录名", "经办人", "状态", "创建时间", "最近登录", "停用时间"):
        table.add_column(header, overflow="fold")
    for a in rows:
        cells = (a.login, a.handler, "启用" if a.active else "停用", a.created_at, a.last_login_at, a.disabled_at)
        table.add_row(*(Text(c or "") for c in cells))
    Console().print(table)
    if not rows:
        typer.echo("还没有账号：用 getihu web user add 登录名 --handler 姓名 新增第一个经办人。")


@app.command()
def disable(login: Login, home: Home = Path("data")) -> None:
    """停用账号：不能再登录，已登录的会话随即失效；账号和它办理的记录保留。"""
    from flows.objections.accounts import AccountError, open_accounts

    try:
        with open_accounts(home) as accounts:
            account = accounts.set_active(login, False)
    except AccountError as e:
        raise _fail(e) from None
    typer.echo(f"已停用账号 {account.login}（经办人 {account.handler}）")


@app.command()
def enable(login: Login, home: Home = Path("data")) -> None:
    """重新启用停用的账号。"""
    from flows.objections.accounts import AccountError, open_accounts

    try:
        with open_accounts(home) as accounts:
            account = accounts.set_active(login, True)
    except AccountError as e:
        raise _fail(e) from None
    typer.echo(f"已启用账号 {account.login}（经办人 {account.handler}）")


@app.command()
def password(login: Login, home: Home = Path("data"), password_stdin: FromStdin = False) -> None:
    """重设密码；该账号已登录的会话随即失效。"""
    from flows.objections.accounts import AccountError, open_accounts

    new = _password(password_stdin)
    try:
        with open_accounts(home) as accounts:
            account = accounts.set_password(login, new)
    except AccountError as e:
        raise _fail(e) from None
    typer.echo(f"已重设账号 {account.login} 的密码")
