"""Users: accounts, argon2id password hashes, roles and login checks."""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass

import aiosqlite
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from stemtube.db import fetch_row, fetch_rows

_hasher = PasswordHasher()  # argon2id with the library's current defaults
# Verified against when the user does not exist, so both paths take as long.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 8


class UserError(ValueError):
    """A user request that cannot be done, with a stable error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class User:
    id: int
    username: str
    is_admin: bool
    session_epoch: int

    @property
    def auth_id(self) -> str:
        """The id kept in the session cookie; a password reset changes it."""
        return f"{self.id}:{self.session_epoch}"


def _row_to_user(row: aiosqlite.Row) -> User:
    return User(row["id"], row["username"], bool(row["is_admin"]), row["session_epoch"])


def check_username(username: str) -> str:
    username = (username or "").strip()
    if not USERNAME.match(username):
        raise UserError(
            "INVALID_USERNAME",
            "A username is 1 to 64 letters, digits or the characters _ . @ -",
        )
    return username


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise UserError(
            "WEAK_PASSWORD", f"A password needs at least {MIN_PASSWORD} characters."
        )
    return password


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def count_users(db: aiosqlite.Connection) -> int:
    (count,) = await fetch_row(db, "SELECT COUNT(*) FROM users")
    return count


async def create_user(
    db: aiosqlite.Connection, username: str, password: str, *, is_admin: bool = False
) -> User:
    """Add a user; raises UserError for a bad or taken name or a weak password."""
    username = check_username(username)
    password_hash = await hash_password(check_password(password))
    row = await fetch_row(
        db,
        "INSERT INTO users (username, password_hash, is_admin) VALUES (?, ?, ?) "
        "ON CONFLICT (username) DO NOTHING RETURNING *",
        (username, password_hash, int(is_admin)),
    )
    await db.commit()
    if row is None:
        raise UserError("USERNAME_TAKEN", f"The username {username!r} is taken.")
    return _row_to_user(row)


async def set_password(db: aiosqlite.Connection, username: str, password: str) -> User:
    """Give a user a new password and end every session they have."""
    password_hash = await hash_password(check_password(password))
    row = await fetch_row(
        db,
        "UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1 "
        "WHERE username = ? RETURNING *",
        (password_hash, username),
    )
    await db.commit()
    if row is None:
        raise UserError("USER_NOT_FOUND", f"There is no user {username!r}.")
    return _row_to_user(row)


async def get_user(db: aiosqlite.Connection, user_id: int) -> User | None:
    row = await fetch_row(db, "SELECT * FROM users WHERE id = ?", (user_id,))
    return _row_to_user(row) if row else None


async def list_users(db: aiosqlite.Connection) -> list[User]:
    return [
        _row_to_user(row)
        for row in await fetch_rows(db, "SELECT * FROM users ORDER BY username")
    ]


async def user_from_auth_id(
    db: aiosqlite.Connection, auth_id: str | None
) -> User | None:
    """The user a session cookie names, if it still exists and is still valid."""
    if not auth_id:
        return None
    user_id, _, epoch = auth_id.partition(":")
    if not (user_id + epoch).isascii() or not (user_id.isdigit() and epoch.isdigit()):
        return None
    user = await get_user(db, int(user_id))
    if user is None or user.session_epoch != int(epoch):
        return None
    return user


async def authenticate(
    db: aiosqlite.Connection, username: str, password: str
) -> User | None:
    """The user when the password is right, else None (in the same time)."""
    row = await fetch_row(db, "SELECT * FROM users WHERE username = ?", (username,))
    stored = row["password_hash"] if row else _DUMMY_HASH
    try:
        await asyncio.to_thread(_hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _hasher.check_needs_rehash(stored):
        await db.execute(
            "UPDATE users SET password_hash = ? WHERE id = ?",
            (await hash_password(password), row["id"]),
        )
        await db.commit()
    return _row_to_user(row)


async def ensure_first_admin(db: aiosqlite.Connection) -> tuple[str, str] | None:
    """With no users at all, create ``admin`` with a one-time random password.

    Returns (username, password) to show once on the console, or None.
    """
    if await count_users(db):
        return None
    password = secrets.token_urlsafe(12)
    user = await create_user(db, "admin", password, is_admin=True)
    return user.username, password


async def accept_disclaimer(db: aiosqlite.Connection, user_id: int) -> str:
    """Record that the user accepted the disclaimer (once); return when."""
    await db.execute(
        "UPDATE users SET disclaimer_accepted_at = "
        "strftime('%Y-%m-%dT%H:%M:%S', 'now') "
        "WHERE id = ? AND disclaimer_accepted_at IS NULL",
        (user_id,),
    )
    await db.commit()
    return await disclaimer_accepted_at(db, user_id)


async def disclaimer_accepted_at(db: aiosqlite.Connection, user_id: int) -> str | None:
    row = await fetch_row(
        db, "SELECT disclaimer_accepted_at FROM users WHERE id = ?", (user_id,)
    )
    return row[0] if row else None


async def _existing(db: aiosqlite.Connection, user_id: int) -> User:
    user = await get_user(db, user_id) if 0 < user_id < 2**63 else None
    if user is None:
        raise UserError("USER_NOT_FOUND", f"There is no user with id {user_id}.")
    return user


#: True when an admin other than the row's own user exists (in a WHERE).
_OTHER_ADMINS = (
    "EXISTS (SELECT 1 FROM users o WHERE o.is_admin = 1 AND o.id != users.id)"
)


def _last_admin() -> UserError:
    return UserError(
        "LAST_ADMIN",
        "This is the last admin; make another user an admin first.",
    )


async def edit_user(
    db: aiosqlite.Connection,
    user_id: int,
    *,
    username: str | None = None,
    is_admin: bool | None = None,
) -> User:
    """Rename a user or change their role; the last admin stays an admin."""
    user = await _existing(db, user_id)
    new_name = check_username(username) if username is not None else user.username
    new_role = user.is_admin if is_admin is None else is_admin
    try:
        # One statement, so two admins demoting each other at once cannot
        # both pass the count.
        async with db.execute(
            "UPDATE users SET username = ?, is_admin = ? WHERE id = ? "
            f"AND (? = 1 OR is_admin = 0 OR {_OTHER_ADMINS})",
            (new_name, int(new_role), user_id, int(new_role)),
        ) as cursor:
            changed = cursor.rowcount
    except aiosqlite.IntegrityError:
        raise UserError(
            "USERNAME_TAKEN", f"The username {new_name!r} is taken."
        ) from None
    await db.commit()
    if not changed:
        await _existing(db, user_id)
        raise _last_admin()
    return await _existing(db, user_id)


async def reset_password(db: aiosqlite.Connection, user_id: int, password: str) -> User:
    """Set a user's password by id; their sessions end."""
    user = await _existing(db, user_id)
    return await set_password(db, user.username, password)


async def delete_user(db: aiosqlite.Connection, user_id: int) -> User:
    """Delete a user and their lists (not the songs); never the last admin."""
    user = await _existing(db, user_id)
    async with db.execute(
        f"DELETE FROM users WHERE id = ? AND (is_admin = 0 OR {_OTHER_ADMINS})",
        (user_id,),
    ) as cursor:
        deleted = cursor.rowcount
    await db.commit()
    if not deleted:
        await _existing(db, user_id)
        raise _last_admin()
    return user
