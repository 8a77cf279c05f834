"""Handlers' accounts for the web desk: ``<home>/objections/accounts.sqlite3``, beside the objection store.

An account is a login name, the handler's name that the store records on every event the account makes (the
``--handler`` of the command line), an Argon2id hash of the password and whether it may log in. The hash is made
by ``argon2-cffi`` with a fresh random salt each time (two accounts with the same password have different
hashes); the clear password is never stored, logged or echoed. Accounts are disabled, never deleted, so the
events they signed keep a name that still means someone.

Kept in a file of its own, not in ``objections.sqlite3``: the store's tables are copied into the published
warehouse at every publish (``flows.objections.warehouse_tables``) and a password hash must never travel there.
The file is created readable by its owner only.

Failed logins are counted per login name and per client address in the same file (so every worker process of
the web front sees them): after ``LOCK_AFTER`` failures within ``WINDOW`` the login (or the address, after
``ADDRESS_LOCK_AFTER``) is refused for ``WINDOW`` even with the right password — guessing is throttled to a few
tries a quarter of an hour. A successful login clears the login's failures.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sqlite3
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from flows.home import now_in_china
from flows.objections.store import BUSY_TIMEOUT_MS, store_dir

ACCOUNTS_FILE = "accounts.sqlite3"

#: Failures of one login within WINDOW after which it is refused until WINDOW has passed since the last one.
LOCK_AFTER = 5
#: Failures from one client address (over every login) within WINDOW after which the address is refused.
ADDRESS_LOCK_AFTER = 20
WINDOW = dt.timedelta(minutes=15)
#: Shortest password accepted (characters).
MIN_PASSWORD = 10

#: argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB, p=4), a 16-byte random salt per hash; about half a second
#: a hash on a busy 2-core machine. Read at each call, so tests of the throttle may use a cheaper one.
HASHER = PasswordHasher()


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified when the login is unknown, so an unknown login costs the same time as a wrong password."""
    return hasher.hash("getihu: no such account")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    login TEXT PRIMARY KEY,             -- 登录名
    handler TEXT NOT NULL UNIQUE,       -- 经办人: the name recorded on the events the account makes
    password_hash TEXT NOT NULL,        -- Argon2id PHC string (salt inside); the clear password is never kept
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,  -- a session made before it is no longer valid
    disabled_at TEXT,
    last_login_at TEXT
);
CREATE TABLE IF NOT EXISTS login_failures (
    failure_id INTEGER PRIMARY KEY AUTOINCREMENT,
    login TEXT NOT NULL,                -- as typed (it may name no account)
    address TEXT NOT NULL,              -- the client's address
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_login ON login_failures (login, at);
CREATE INDEX IF NOT EXISTS login_failures_address ON login_failures (address, at);
CREATE TRIGGER IF NOT EXISTS accounts_kept BEFORE DELETE ON accounts
BEGIN SELECT RAISE(ABORT, 'accounts are disabled, never deleted'); END;
"""


class AccountError(Exception):
    """An account operation refused; the message is for the person at the terminal or the browser."""


@dataclass(frozen=True)
class Account:
    login: str
    handler: str
    active: bool
    created_at: str
    password_changed_at: str
    disabled_at: str | None
    last_login_at: str | None


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt came to: the account when it succeeded, else why not (for the page: never says
    whether the login exists)."""

    account: Account | None
    throttled: bool = False


def accounts_path(home: Path) -> Path:
    return store_dir(home) / ACCOUNTS_FILE


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text or "").strip()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符")
    if password != password.strip():
        raise AccountError("密码首尾不能有空格")


class Accounts:
    """One connection to a home's accounts file; use as a context manager."""

    def __init__(self, home: Path, clock=now_in_china) -> None:
        self.clock = clock
        path = accounts_path(home)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # owner only, before anything is written
        self.con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self.con.row_factory = sqlite3.Row
        self.con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.con.execute("PRAGMA journal_mode = WAL")
        self.con.executescript(_SCHEMA)

    def __enter__(self) -> Accounts:
        return self

    def __exit__(self, *exc) -> None:
        self.con.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.con.execute("BEGIN IMMEDIATE")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def _now(self) -> dt.datetime:
        return self.clock()

    def _utc(self) -> dt.datetime:
        """Failures are timed in UTC, so their ISO strings compare in time order whatever the clock's zone."""
        return self.clock().astimezone(dt.UTC)

    # --- administration (getihu web user …) -----------------------------------------------------------

    def add(self, login: str, handler: str, password: str) -> Account:
        login, handler = _clean(login), _clean(handler)
        if not login or any(c.isspace() for c in login):
            raise AccountError("登录名不能为空，也不能含空格")
        if not handler:
            raise AccountError("须写明经办人姓名（--handler），它记入该账号办理的每一步")
        check_password(password)
        digest = HASHER.hash(password)
        now = self._now().isoformat()
        with self._transaction():
            if self.con.execute("SELECT 1 FROM accounts WHERE login = ?", (login,)).fetchone():
                raise AccountError(f"登录名 {login} 已存在")
            if self.con.execute("SELECT 1 FROM accounts WHERE handler = ?", (handler,)).fetchone():
                raise AccountError(f"经办人 {handler} 已有账号：同一经办人只设一个账号，办理记录才不含糊")
            self.con.execute(
                "INSERT INTO accounts (login, handler, password_hash, active, created_at, password_changed_at) "
                "VALUES (?, ?, ?, 1, ?, ?)",
                (login, handler, digest, now, now),
            )
        return self.get(login)

    def get(self, login: str) -> Account:
        row = self.con.execute("SELECT * FROM accounts WHERE login = ?", (_clean(login),)).fetchone()
        if row is None:
            raise AccountError(f"没有登录名为 {login} 的账号")
        return _account(row)

    def all(self) -> list[Account]:
        return [_account(r) for r in self.con.execute("SELECT * FROM accounts ORDER BY login").fetchall()]

    def set_active(self, login: str, active: bool) -> Account:
        account = self.get(login)
        with self._transaction():
            self.con.execute(
                "UPDATE accounts SET active = ?, disabled_at = ? WHERE login = ?",
                (int(active), None if active else self._now().isoformat(), account.login),
            )
        return self.get(login)

    def set_password(self, login: str, password: str) -> Account:
        account = self.get(login)
        check_password(password)
        digest = HASHER.hash(password)
        with self._transaction():
            self.con.execute(
                "UPDATE accounts SET password_hash = ?, password_changed_at = ? WHERE login = ?",
                (digest, self._now().isoformat(), account.login),
            )
        return self.get(login)

    # --- logging in ----------------------------------------------------------------------------------

    def _failures_since(self, column: str, value: str, since: dt.datetime) -> list[str]:
        rows = self.con.execute(
            f"SELECT at FROM login_failures WHERE {column} = ? AND at > ? ORDER BY at", (value, since.isoformat())
        ).fetchall()
        return [r[0] for r in rows]

    def throttled(self, login: str, address: str) -> bool:
        """Too many recent failures for this login or from this address."""
        since = self._utc() - WINDOW
        return (
            len(self._failures_since("login", _clean(login), since)) >= LOCK_AFTER
            or len(self._failures_since("address", address, since)) >= ADDRESS_LOCK_AFTER
        )

    def log_in(self, login: str, password: str, address: str) -> LoginResult:
        """Check a login; a failure is recorded, a success clears the login's failures. A throttled login or
        address is refused without looking at the password (and the attempt counts as a failure)."""
        login = _clean(login)
        now = self._utc()
        if self.throttled(login, address):
            self._fail(login, address, now)
            return LoginResult(None, throttled=True)
        row = self.con.execute("SELECT * FROM accounts WHERE login = ?", (login,)).fetchone()
        try:
            HASHER.verify(row["password_hash"] if row else _dummy_hash(HASHER), password)
            ok = row is not None and bool(row["active"])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            self._fail(login, address, now)
            return LoginResult(None)
        with self._transaction():
            self.con.execute("DELETE FROM login_failures WHERE login = ?", (login,))
            values = [self._now().isoformat()]
            sets = "last_login_at = ?"
            if HASHER.check_needs_rehash(row["password_hash"]):  # parameters raised since it was hashed
                sets += ", password_hash = ?"
                values.append(HASHER.hash(password))
            self.con.execute(f"UPDATE accounts SET {sets} WHERE login = ?", (*values, login))
        return LoginResult(self.get(login))

    def _fail(self, login: str, address: str, now: dt.datetime) -> None:
        with self._transaction():
            self.con.execute(
                "INSERT INTO login_failures (login, address, at) VALUES (?, ?, ?)", (login, address, now.isoformat())
            )
            # what can no longer count is not kept
            self.con.execute("DELETE FROM login_failures WHERE at <= ?", ((now - 2 * WINDOW).isoformat(),))

    def current(self, login: str, password_changed_at: str) -> Account | None:
        """The account behind a session: None once it is disabled, gone or its password changed since."""
        row = self.con.execute("SELECT * FROM accounts WHERE login = ?", (login,)).fetchone()
        if row is None or not row["active"] or row["password_changed_at"] != password_changed_at:
            return None
        return _account(row)


def _account(row: sqlite3.Row) -> Account:
    return Account(
        login=row["login"],
        handler=row["handler"],
        active=bool(row["active"]),
        created_at=row["created_at"],
        password_changed_at=row["password_changed_at"],
        disabled_at=row["disabled_at"],
        last_login_at=row["last_login_at"],
    )


def open_accounts(home: Path, clock=now_in_china) -> Accounts:
    return Accounts(home, clock)
