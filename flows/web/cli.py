"""``getihu web``: serve the web front of a home with uvicorn (docs/web.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def web(
    ctx: typer.Context,
    home: Annotated[Path, typer.Option(metavar="目录", help="主目录：已发布的数据仓库和异议登记库所在目录")] = Path(
        "data"
    ),
    host: Annotated[str, typer.Option(metavar="地址", help="监听地址；放在 nginx 之后时保持 127.0.0.1")] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="端口", help="监听端口")] = 8080,
    proxy: Annotated[
        str | None,
        typer.Option(
            metavar="地址",
            help="可信的反向代理地址（如 127.0.0.1）：据其 X-Forwarded-For 识别访问者地址（限流按访问者计）",
        ),
    ] = None,
    https: Annotated[bool, typer.Option("--https", help="经 HTTPS 访问时加上：会话 Cookie 只经 HTTPS 发送")] = False,
) -> None:
    """提供网页：查询公示（按名称或统一社会信用代码查询分型结果、本省分型标准）、异议申诉和受理台。

    只读打开已发布的数据仓库（发布新周期时自动换用新文件，不妨碍运行）；只写入异议登记库。核对经营者身份证件号码
    要用与运行相同的个人信息密钥：GETIHU_SECRET（或 GETIHU_SECRET_FILE）。会话签名密钥取自 GETIHU_WEB_SECRET，
    未设置时首次启动在 <主目录>/web/session.key 生成。受理台的经办人账号：getihu web user。
    """
    if ctx.invoked_subcommand is not None:  # getihu web user …: manage accounts, serve nothing
        return
    import uvicorn

    from flows.errors import EXIT_INPUT, PipelineStop
    from flows.secret import secret_from_environment
    from flows.web.app import create_app

    try:
        secret = secret_from_environment()
    except PipelineStop as e:
        typer.echo(f"getihu web：{e}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    app = create_app(home.resolve(), secret=secret, https_only=https)
    typer.echo(f"getihu web：http://{host}:{port}/ （按 Ctrl-C 停止）")
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=proxy is not None,
        forwarded_allow_ips=proxy,
        server_header=False,
        access_log=True,
        log_level="info",
    )


#: ``getihu web`` serves; ``getihu web user …`` manages the handlers' accounts of the desk (flows/web/users.py).
app = typer.Typer(
    name="web",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    options_metavar="[选项]",
    subcommand_metavar="[命令 [参数]...]",
)
app.callback()(web)
app.add_typer(__import__("flows.web.users", fromlist=["app"]).app, name="user")
