"""App Home: published when opened, and again for each search, system choice or "Show"."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk.errors import SlackApiError

from bot.authoring.gaps import knowledge_gaps
from bot.slack.home import SEARCH, SHOW, SYSTEM, home_view
from bot.slack.listeners.where import team_of

log = logging.getLogger("fixit.slack")
GAPS_SECONDS = 60.0   # the gaps are worked out at most this often per team (clustering reads the whole window)
GAPS_DAYS = 30


class RecentGaps:
    """The gaps last worked out, by team and knowledge base (a reload is a new one); at most MAX_TEAMS kept."""

    MAX_TEAMS = 100

    def __init__(self) -> None:
        self._by_team: dict[tuple[str, int, int], tuple[float, object]] = {}
        self._lock = threading.Lock()

    def of(self, answerer, team: str):
        fixit, now = answerer.fixit, time.monotonic()
        key = (team, id(answerer), id(fixit))
        with self._lock:
            at, gaps = self._by_team.get(key, (0.0, None))
            if gaps is not None and now - at < GAPS_SECONDS:
                return gaps
        gaps = knowledge_gaps(answerer.store, fixit.kb, fixit.matcher, days=GAPS_DAYS, team=team)
        with self._lock:
            self._by_team[key] = (now, gaps)
            while len(self._by_team) > self.MAX_TEAMS:
                self._by_team.pop(next(iter(self._by_team)))
        return gaps


GAPS = RecentGaps()


def publish(client, context, body, user_id: str, **what) -> None:
    answerer = context["delivery"].answerer
    team = team_of(body, context)
    gaps = GAPS.of(answerer, team) if user_id in answerer.settings.kb_admins else None
    try:
        client.views_publish(user_id=user_id, view=home_view(answerer.fixit, answerer.store, team=team, gaps=gaps,
                                                             **what))
    except (SlackApiError, OSError) as exc:
        log.warning("views.publish for %s failed: %s", user_id, exc)


def opened(event, body, client, context) -> None:
    if event.get("tab", "home") == "home":
        publish(client, context, body, event["user"])


def searched(ack, body, client, context) -> None:
    ack()
    publish(client, context, body, body["user"]["id"], query=body["actions"][0].get("value") or "")


def browsed(ack, body, client, context) -> None:
    ack()
    option = body["actions"][0].get("selected_option") or {}
    publish(client, context, body, body["user"]["id"], system=option.get("value", ""))


def shown(ack, body, client, context) -> None:
    ack()
    publish(client, context, body, body["user"]["id"], show=body["actions"][0].get("value", ""))


def register(app, settings) -> None:
    app.event("app_home_opened")(opened)
    app.action(SEARCH)(searched)
    app.action(SYSTEM)(browsed)
    app.action(SHOW)(shown)
