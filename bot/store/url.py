"""What is wrong with a database URL that can never work, said before anything is served."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

EXAMPLES = "sqlite:///fixit.db, or postgresql+psycopg://user:password@host/fixit"
DRIVERS = {"psycopg": "pip install 'fixit[postgres]' (or: pip install 'psycopg[binary]')",
           "psycopg2": "pip install psycopg2-binary, or write postgresql+psycopg:// and pip install 'psycopg[binary]'"}


def url_problem(text: str) -> str:
    """'' when the URL names a database SQLAlchemy can open with an installed driver; else one line naming
    FIXIT_DATABASE_URL, what is wrong and what to write."""
    try:
        url = make_url(text)
    except ArgumentError:
        return f"FIXIT_DATABASE_URL: {shape(text)} is not a database URL: write one like {EXAMPLES}"
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        return (f"FIXIT_DATABASE_URL: {url.drivername!r} is not a database SQLAlchemy knows: Fixit's store runs on "
                f"sqlite and postgresql ({EXAMPLES})")
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        driver = url.get_driver_name()
        return (f"FIXIT_DATABASE_URL: the {url.get_backend_name()} driver {driver!r} is not installed "
                f"({exc.name or exc}): {DRIVERS.get(driver, f'install it, or write one like {EXAMPLES}')}")
    return ""


def shape(text: str) -> str:
    """The URL as it may be shown: its scheme, never a password."""
    scheme, sep, _ = text.partition("://")
    return repr(f"{scheme}://…") if sep else repr(text[:40])
