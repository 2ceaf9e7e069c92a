"""App Home: published when opened, and again for each search, system choice or "Show"."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.slack.home import SEARCH, SHOW, SYSTEM, home_view
from bot.slack.listeners.ack import ack_now

log = logging.getLogger("fixit.slack")


def register(app, service) -> None:
    def publish(client, user_id: str, **what) -> None:
        try:
            client.views_publish(user_id=user_id, view=home_view(service.fixit, service.store, **what))
        except (SlackApiError, OSError) as exc:
            log.warning("views.publish for %s failed: %s", user_id, exc)

    def opened(event, client):
        if event.get("tab", "home") == "home":
            publish(client, event["user"])

    def searched(body, client):
        publish(client, body["user"]["id"], query=body["actions"][0].get("value") or "")

    def browsed(body, client):
        option = body["actions"][0].get("selected_option") or {}
        publish(client, body["user"]["id"], system=option.get("value", ""))

    def shown(body, client):
        publish(client, body["user"]["id"], show=body["actions"][0].get("value", ""))

    app.event("app_home_opened")(ack=ack_now, lazy=[opened])
    app.action(SEARCH)(ack=ack_now, lazy=[searched])
    app.action(SYSTEM)(ack=ack_now, lazy=[browsed])
    app.action(SHOW)(ack=ack_now, lazy=[shown])
