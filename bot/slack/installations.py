"""Installations read from the database, kept in memory for a short while: each event does not cost a
query, a change another instance made (a rotated token, an uninstall) is seen within KEEP_SECONDS, and while
the database does not answer, the teams already seen are answered with what was last read."""

from __future__ import annotations

import logging
import threading
import time
from logging import Logger

from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("fixit.slack")
KEEP_SECONDS = 60.0
FAILURES = (SQLAlchemyError, OSError)


class KeptInstallations(InstallationStore):
    def __init__(self, underlying: InstallationStore, keep_seconds: float = KEEP_SECONDS) -> None:
        self.underlying = underlying
        self.keep_seconds = keep_seconds
        self._kept: dict[tuple, tuple[float, object]] = {}
        self._changes: dict[tuple, int] = {}   # (enterprise, team) → saves and deletes seen: a read that
        self._lock = threading.Lock()          # overlapped one must not keep what it read

    @property
    def logger(self) -> Logger:
        return log

    def _read(self, key: tuple, read):
        now = time.monotonic()
        with self._lock:
            at, found = self._kept.get(key, (0.0, None))
            changes = self._changes.get(key[1:3], 0)
        if found is not None and now - at < self.keep_seconds:
            return found
        try:
            found = read()
        except FAILURES as exc:
            if found is None:
                raise
            log.warning("installation store unavailable (%s): answering %s with the installation last read",
                        type(exc).__name__, "/".join(filter(None, key[1:3])) or "an org")
            return found
        with self._lock:
            if found is None:
                self._kept.pop(key, None)
            elif self._changes.get(key[1:3], 0) == changes:
                self._kept[key] = (now, found)
        return found

    def _forget(self, enterprise_id: str | None, team_id: str | None) -> None:
        with self._lock:
            self._changes[(enterprise_id, team_id)] = self._changes.get((enterprise_id, team_id), 0) + 1
            for key in [k for k in self._kept if k[1:3] == (enterprise_id, team_id)]:
                del self._kept[key]

    def save(self, installation: Installation):
        self.underlying.save(installation)
        self._forget(installation.enterprise_id, installation.team_id)

    def save_bot(self, bot: Bot):
        self.underlying.save_bot(bot)
        self._forget(bot.enterprise_id, bot.team_id)

    def find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                 is_enterprise_install: bool | None = False) -> Bot | None:
        if is_enterprise_install:
            team_id = None
        return self._read(("bot", enterprise_id, team_id), lambda: self.underlying.find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install))

    def find_installation(self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
                          is_enterprise_install: bool | None = False) -> Installation | None:
        if is_enterprise_install:
            team_id = None
        return self._read(("installation", enterprise_id, team_id, user_id),
                          lambda: self.underlying.find_installation(enterprise_id=enterprise_id, team_id=team_id,
                                                                    user_id=user_id,
                                                                    is_enterprise_install=is_enterprise_install))

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.underlying.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        self._forget(enterprise_id, team_id)

    def delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                            user_id: str | None = None) -> None:
        self.underlying.delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)
        self._forget(enterprise_id, team_id)

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.underlying.delete_all(enterprise_id=enterprise_id, team_id=team_id)
        self._forget(enterprise_id, team_id)
