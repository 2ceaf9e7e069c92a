"""App Home: published when opened, and again for each search, system choice or "Show"."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.slack.home import SEARCH, SHOW, SYSTEM, home_view

log = logging.getLogger("fixit.slack")


def publish(client, context, user_id: str, **what) -> None:
    answerer = context["delivery"].answerer
    try:
        client.views_publish(user_id=user_id, view=home_view(answerer.fixit, answerer.store,
                                                             team=context.get("team_id"), **what))
    except (SlackApiError, OSError) as exc:
        log.warning("views.publish for %s failed: %s", user_id, exc)


def opened(event, client, context) -> None:
    if event.get("tab", "home") == "home":
        publish(client, context, event["user"])


def searched(ack, body, client, context) -> None:
    ack()
    publish(client, context, body["user"]["id"], query=body["actions"][0].get("value") or "")


def browsed(ack, body, client, context) -> None:
    ack()
    option = body["actions"][0].get("selected_option") or {}
    publish(client, context, body["user"]["id"], system=option.get("value", ""))


def shown(ack, body, client, context) -> None:
    ack()
    publish(client, context, body["user"]["id"], show=body["actions"][0].get("value", ""))


def register(app, settings) -> None:
    app.event("app_home_opened")(opened)
    app.action(SEARCH)(searched)
    app.action(SYSTEM)(browsed)
    app.action(SHOW)(shown)
