"""The store as the command line reads it: only a database that is there (a SQLite file that does not exist
is not created), and one line saying why when it cannot be read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.store import Store
from bot.store.resilient import STORE_ERRORS, first_line, sqlite_file
from bot.store.url import url_problem


class StoreUnreachable(Exception):
    """The store cannot be read: one line saying why."""


@contextmanager
def existing_store(url: str) -> Iterator[Store]:
    problem = url_problem(url)
    if problem:
        raise StoreUnreachable(problem)
    file = sqlite_file(url)
    if file is not None and not file.expanduser().is_file():
        raise StoreUnreachable(f"no store at {file}: nothing was recorded there (FIXIT_DATABASE_URL names the "
                               f"database the bot writes)")
    store = None
    try:
        store = Store(url)
        yield store
    except (ArgumentError, *STORE_ERRORS) as exc:
        shown = make_url(url).render_as_string(hide_password=True)
        raise StoreUnreachable(f"the store at {shown} cannot be read: {first_line(exc)}") from None
    finally:
        if store is not None:
            store.engine.dispose()
