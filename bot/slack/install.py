"""Installed in many workspaces: Bolt's OAuth flow (`/slack/install`, `/slack/oauth_redirect`), with its
installations and OAuth states in the same database as the rest of the store (slack_sdk's SQLAlchemy stores),
token rotation (Bolt refreshes a rotating token before it expires), and uninstalls.

Installations are also kept in this process's memory for a minute once read (`installations.py`): a
database that stops answering does not stop the teams already seen from being answered, and what another
instance changed is seen within that minute."""

from __future__ import annotations

import logging
import threading

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.listener.builtins import TokenRevocationListeners
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings
from bot.slack.installations import KeptInstallations

log = logging.getLogger("fixit.slack")
STATE_SECONDS = 600        # how long an install link stays good
TABLES_RETRY_SECONDS = 5.0


def oauth_settings(settings: Settings, client: WebClient) -> OAuthSettings:
    """`client`: what token rotation calls oauth.v2.access with (Bolt's default is a new WebClient on
    slack.com, past SLACK_API_URL and the kept connections)."""
    engine = create_engine(settings.database_url, future=True, **(
        {"connect_args": {"check_same_thread": False}} if settings.database_url.startswith("sqlite") else {}))
    installations = SQLAlchemyInstallationStore(client_id=settings.client_id, engine=engine)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine)
    create_tables_when_reachable(installations, states)
    oauth = OAuthSettings(
        client_id=settings.client_id, client_secret=settings.client_secret, scopes=list(settings.scopes),
        redirect_uri=settings.redirect_uri or None,
        install_page_rendering_enabled=False,   # /slack/install goes straight to Slack's consent screen
        installation_store=KeptInstallations(installations), state_store=states,
        state_expiration_seconds=STATE_SECONDS)
    # bot_only: Fixit asks for bot scopes only; looking up each user's own installation would read the
    # database for every event (a miss is not cached), so an outage would silence even known teams
    oauth.authorize = InstallationStoreAuthorize(
        client_id=oauth.client_id, client_secret=oauth.client_secret, installation_store=oauth.installation_store,
        token_rotation_expiration_minutes=oauth.token_rotation_expiration_minutes, client=client, logger=log,
        bot_only=True)
    return oauth


def create_tables_when_reachable(*stores) -> None:
    """The stores' tables, now, or (the database down at start) in the background once it answers."""
    def create() -> bool:
        try:
            for store in stores:
                store.create_tables()
            return True
        except (SQLAlchemyError, OSError) as exc:
            log.error("FIXIT_DATABASE_URL: the installation tables could not be made (%s); trying again every "
                      "%g s", type(exc).__name__, TABLES_RETRY_SECONDS)
            return False

    if not create():
        def retry() -> None:
            while not stop.wait(TABLES_RETRY_SECONDS) and not create():
                pass
        stop = threading.Event()
        threading.Thread(target=retry, name="fixit-install-tables", daemon=True).start()


class Uninstalls:
    """The listeners for uninstalls: `tokens_revoked` for the bot deletes the team's installation (Fixit asks for
    bot scopes only, so nothing is left to answer with; Bolt's own listener deletes the bot but leaves the
    installation row that authorize reads its token from); `app_uninstalled` deletes the installation and
    everything Fixit stored for that team."""

    def __init__(self, installation_store, store) -> None:
        self.installation_store, self.store = installation_store, store
        self.revocations = TokenRevocationListeners(installation_store)

    def revoked(self, event, context) -> None:
        self.revocations.handle_tokens_revoked_events(event, context)
        if (event.get("tokens") or {}).get("bot"):
            self.installation_store.delete_all(enterprise_id=context.enterprise_id, team_id=context.team_id)
            log.info("bot token revoked in team %s (enterprise %s): its installation deleted", context.team_id,
                     context.enterprise_id)

    def uninstalled(self, context) -> None:
        self.revocations.handle_app_uninstalled_events(context)
        self.store.forget_team(context.team_id or "")
        log.info("uninstalled from team %s (enterprise %s): its installation and data deleted",
                 context.team_id, context.enterprise_id)


def register(app, store) -> None:
    """With OAuth, the uninstall listeners (`Uninstalls`)."""
    if app.oauth_flow is None:
        return
    uninstalls = Uninstalls(app.installation_store, store)
    app.event("tokens_revoked")(uninstalls.revoked)
    app.event("app_uninstalled")(uninstalls.uninstalled)
