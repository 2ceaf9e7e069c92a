"""App Home: published when opened, and again for each search, system choice or "Show"."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.authoring.gaps import RecentGaps
from bot.slack.home import SEARCH, SHOW, SYSTEM, home_view
from bot.slack.listeners.where import team_of

log = logging.getLogger("fixit.slack")
GAPS = RecentGaps()  # the App Home's, for every runtime in this process


def publish(client, context, body, user_id: str, **what) -> None:
    answerer = context["delivery"].answerer
    team = team_of(body, context)
    gaps = GAPS.of(answerer.store, answerer.fixit, team) if user_id in answerer.settings.kb_admins else None
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
