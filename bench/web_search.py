"""Public search latency of the web front on a large warehouse, under a bounded local load.

    .venv/bin/python -m bench.web_search --businesses 10000000 --data bench/data --clients 50 --seconds 30 \\
        [--record BENCHMARKS.md]

The warehouse is **synthesised directly with DuckDB** (documented as such in the record): the tables the public
pages read — ``directory`` (one yearly cycle of province 41, sorted by key as publish writes it), ``cycles`` and
``regions`` — with the warehouse's column names and types, names made of a county, a word from a list of shop
words and a number, so that a word matches about 1/len(WORDS) of the businesses. It is not a typed province:
building 10M rows takes about a minute instead of a 10-minute cycle, and the pages read nothing else.

The web front runs as ``getihu web`` does (uvicorn, one process, ``create_app``) with the rate limits raised out
of the way; ``--clients`` concurrent clients (asyncio + httpx, keep-alive) each loop for ``--seconds``: half of the
requests search an existing USCC, a third search a name part (a shop word and a number prefix: tens of matches),
the rest a shop word alone (1/len(WORDS) of the directory: a paginated list of thousands), and each latency is
recorded by kind. A 3-second warm-up is not recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    "面馆",
    "小吃",
    "超市",
    "便利店",
    "水果店",
    "理发店",
    "五金店",
    "服装店",
    "药店",
    "茶叶店",
    "烟酒店",
    "粮油店",
    "烧烤",
    "饺子馆",
    "包子铺",
    "蛋糕店",
    "花店",
    "书店",
    "文具店",
    "眼镜店",
    "手机店",
    "家电维修",
    "汽车维修",
    "洗车店",
    "快递点",
    "干洗店",
    "裁缝店",
    "鞋店",
    "母婴店",
    "宠物店",
    "农资店",
    "建材店",
    "灯具店",
    "家具店",
    "布艺店",
    "烟花店",
    "早餐店",
    "火锅店",
    "酒馆",
    "奶茶店",
]  # 40 words: a word alone matches 1/40 of the businesses
COUNTIES = ["410102", "410103", "410104", "410105", "410106", "410108", "410122", "410181", "410182", "410183"]


def build(path: Path, businesses: int) -> None:
    """The tables the public pages read, ``businesses`` rows of one yearly cycle of province 41."""
    from reference import regions

    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    con.execute("SET preserve_insertion_order = true")
    words = "[" + ", ".join(f"'{w}'" for w in WORDS) + "]"
    counties = "[" + ", ".join(f"'{c}'" for c in COUNTIES) + "]"
    con.execute(
        f"""
        CREATE TABLE directory AS
        SELECT '41' AS province, '41-20250731' AS cycle_id, key AS business_key, key AS uscc, NULL::VARCHAR AS reg_no,
               '郑州市' || (CASE region_code WHEN '410105' THEN '金水区' ELSE '' END) || 'X记' || word || i::VARCHAR
                   AS name,
               region_code, 'H6210' AS industry_code,
               (['生存型', '成长型', '发展型', '不符合分型条件'])[1 + (hash(i) % 4)::INTEGER] AS business_type,
               ['NO_CONDITION'] AS reasons, []::VARCHAR[] AS conditions_met, []::VARCHAR[] AS criteria_failed,
               'HA' AS ruleset_id, '2024.1' AS ruleset_version, DATE '2025-07-31' AS as_of, 'H62' AS industry
        FROM (
            SELECT i, {counties}[1 + (i % {len(COUNTIES)})::INTEGER] AS region_code,
                   {words}[1 + ((i // 7) % {len(WORDS)})::INTEGER] AS word,
                   '92' || {counties}[1 + (i % {len(COUNTIES)})::INTEGER] || lpad(i::VARCHAR, 9, '0') || 'A' AS key
            FROM range({businesses}) t(i)
        )
        ORDER BY business_key
        """
    )
    con.execute(
        """CREATE TABLE cycles AS SELECT '41' AS province, '41-20250731' AS cycle_id, DATE '2025-07-31' AS as_of,
           2024 AS report_year, 'yearly' AS cycle_kind, 'HA' AS ruleset_id, '2024.1' AS ruleset_version"""
    )
    frame = regions()  # noqa: F841 — read by DuckDB's replacement scan
    con.execute("CREATE TABLE regions AS SELECT * FROM frame")
    con.execute("CHECKPOINT")
    con.close()
    index(path)


def index(path: Path) -> float | None:
    """Build the name index on ``path`` as publish does (same function, same connection settings) unless it is
    there; the seconds it took, or None."""
    from flows.storage.name_index import INDEX_TABLES, add_name_index
    from flows.storage.warehouse import BUILD_CONFIG

    con = duckdb.connect(str(path), config=BUILD_CONFIG)
    try:
        con.execute("SET enable_progress_bar = false")
        present = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if set(INDEX_TABLES) <= present:
            return None
        began = time.perf_counter()
        add_name_index(con)
        con.execute("CHECKPOINT")
        return time.perf_counter() - began
    finally:
        con.close()


def serve(home: Path, port: int) -> None:
    import uvicorn

    from flows.secret import DEVELOPMENT_SECRET
    from flows.web.app import create_app
    from flows.web.security import WebLimits

    unlimited = WebLimits(search="1000000000/minute", filing="1000000000/minute")
    app = create_app(home, secret=DEVELOPMENT_SECRET.encode(), limits=unlimited)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(url: str, businesses: int, clients: int, seconds: float, warmup: float) -> dict[str, list[float]]:
    import httpx

    latencies: dict[str, list[float]] = {"uscc": [], "name part": [], "common word": [], "errors": []}
    start = time.perf_counter()
    stop = start + warmup + seconds

    async def client(number: int) -> None:
        rng = random.Random(number)
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            while time.perf_counter() < stop:
                roll = rng.random()
                i = rng.randrange(businesses)
                if roll < 0.5:
                    kind, q = "uscc", f"92{COUNTIES[i % len(COUNTIES)]}{i:09d}A"
                elif roll < 0.83:
                    kind, q = "name part", f"{WORDS[(i // 7) % len(WORDS)]}{str(i)[:4]}"
                else:
                    kind, q = "common word", WORDS[i % len(WORDS)]
                began = time.perf_counter()
                response = await http.get("/search", params={"q": q})
                took = time.perf_counter() - began
                if began - start < warmup:
                    continue
                if response.status_code != 200 or "没有找到" in response.text:
                    latencies["errors"].append(took)
                latencies[kind].append(took)

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--businesses", type=int, default=10_000_000)
    parser.add_argument("--data", type=Path, default=Path("bench/data"))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--record", type=Path)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.port)

    home = args.data / f"web-{args.businesses}"
    home.mkdir(parents=True, exist_ok=True)
    warehouse = home / "warehouse.duckdb"
    began = time.perf_counter()
    if not warehouse.exists():
        build(warehouse, args.businesses)
    built = time.perf_counter() - began
    indexed = index(warehouse)
    port = _free_port()
    env = os.environ | {"GETIHU_WEB_SECRET": "bench-only"}
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.web_search", "--serve", str(home), "--port", str(port)], cwd=ROOT, env=env
    )
    try:
        import httpx

        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        load_before = os.getloadavg()[0]
        latencies = asyncio.run(_load(f"http://127.0.0.1:{port}", args.businesses, args.clients, args.seconds, 3))
        load_after = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait()

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    total = sum(len(v) for k, v in latencies.items() if k != "errors")
    lines = [
        f"## Public search latency (web front) — {args.businesses:,} businesses, {args.clients} clients × "
        f"{args.seconds:g} s ({dt.date.today()}, commit {commit.strip()})",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}; Python "
        f"{platform.python_version()}, duckdb {duckdb.__version__}. Load average {load_before:.1f} before, "
        f"{load_after:.1f} after; the server (one uvicorn process) and the clients share the machine.",
        "",
        f"    .venv/bin/python -m bench.web_search --businesses {args.businesses} --data {args.data} "
        f"--clients {args.clients} --seconds {args.seconds:g}",
        "",
        f"Warehouse synthesised directly with DuckDB (`bench/web_search.py`: `directory`, `cycles`, `regions` only, "
        f"not a typed province){f', built in {built:.0f} s' if built > 1 else ''}"
        f"{f'; its name index (`flows/storage/name_index.py`) built in {indexed:.0f} s' if indexed else ''}. "
        "Requests to `/search?q=` over 127.0.0.1, each answered with the full HTML page.",
        "",
        "| request | requests | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in ("uscc", "name part", "common word"):
        values = latencies[kind]
        if values:
            lines.append(
                f"| {kind} | {len(values):,} | {_quantile(values, 0.5) * 1000:.0f} | "
                f"{_quantile(values, 0.99) * 1000:.0f} | {max(values) * 1000:.0f} |"
            )
    everything = [v for k, vs in latencies.items() if k != "errors" for v in vs]
    lines.append(
        f"| **all** | {total:,} | {_quantile(everything, 0.5) * 1000:.0f} | "
        f"{_quantile(everything, 0.99) * 1000:.0f} | {max(everything) * 1000:.0f} |"
    )
    lines += [
        "",
        f"Throughput {total / args.seconds:.1f} requests/s; failed or empty answers: {len(latencies['errors'])}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.record:
        old = args.record.read_text(encoding="utf-8")
        head, _, rest = old.partition("\n## ")
        args.record.write_text(head.rstrip("\n") + "\n\n" + text + "\n## " + rest, encoding="utf-8")


if __name__ == "__main__":
    main()
