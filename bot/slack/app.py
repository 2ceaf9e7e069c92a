"""Builds the Bolt app and serves it: Socket Mode, or HTTP through an ASGI server (uvicorn)."""

from __future__ import annotations

import gc
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from slack_bolt import App
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.answer import Answerer
from bot.checks.redact import install_log_redaction
from bot.checks.workspaces import load_workspaces
from bot.kb.watch import Reloader
from bot.pipeline import Fixit
from bot.settings import Settings
from bot.slack import listeners
from bot.slack.deliver import Delivery
from bot.slack.http import FixitRequestHandler
from bot.slack.retry import Landed, SlackFaults, post_id_of
from bot.slack.transport import KeptClients, KeptConnections, KeptWebClient
from bot.store.resilient import ResilientStore

log = logging.getLogger("fixit.slack")
LISTENER_THREADS = 8


def api_logger() -> logging.Logger:
    """slack_sdk's logger, with a level. slack_sdk formats every request's whole body for a debug line when
    its logger's own level is unset (it reads NOTSET as DEBUG): about 50 us per card posted, for nothing."""
    logger = logging.getLogger("slack_sdk.web.base_client")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.DEBUG if logging.getLogger().isEnabledFor(logging.DEBUG) else logging.INFO)
    return logger


def build_client(settings: Settings, connections: KeptConnections | None = None,
                 landed: Landed | None = None) -> KeptWebClient:
    """The Web API client: kept connections; rate limits waited out; server errors, dropped connections and
    garbled replies retried without posting twice (`bot/slack/retry.py`)."""
    connections = connections or KeptConnections(settings.ca_file)
    client = KeptWebClient(token=settings.bot_token, base_url=settings.api_url, timeout=10, logger=api_logger(),
                           connections=connections)
    # in place of slack_sdk's default ConnectionErrorRetryHandler, which posts again after a dropped
    # connection even when Slack had taken the post
    client.retry_handlers = [RateLimitErrorRetryHandler(max_retry_count=3),
                             SlackFaults(landed_in(settings.api_url, connections), landed or Landed())]
    return client


def landed_in(api_url: str, connections: KeptConnections):
    """Whether a post (by its metadata id) is already in its conversation: the thread's replies, or the
    channel's latest messages for a post outside a thread."""
    def landed(token: str, message: dict) -> str:
        client = KeptWebClient(token=token, base_url=api_url, timeout=5, logger=api_logger(), connections=connections)
        channel, thread = message.get("channel", ""), message.get("thread_ts")
        if thread:
            found = client.conversations_replies(channel=channel, ts=thread, include_all_metadata=True, limit=200)
        else:
            found = client.conversations_history(channel=channel, include_all_metadata=True, limit=20)
        wanted = post_id_of(message)
        return next((str(m.get("ts")) for m in found.get("messages") or [] if post_id_of(m) == wanted), "")
    return landed


class ConfigError(ValueError):
    """A setting the server cannot start with; the message names it and what to write instead."""


@dataclass
class Runtime:
    app: App
    answerer: Answerer
    delivery: Delivery
    reloader: Reloader
    store: ResilientStore
    clients: KeptClients


def build_runtime(settings: Settings, watch: bool = True) -> Runtime:
    reloader = Reloader(settings.kb_path, lambda kb: Fixit(kb).prerendered(), interval=settings.kb_poll_seconds,
                        keep=Path(settings.kb_last_good) if settings.kb_last_good else None)
    if not reloader.current.kb.entries:
        raise ConfigError(f"FIXIT_KB_DIR: {settings.kb_path}: no knowledge-base entries could be loaded "
                          f"({'; '.join(map(str, reloader.current.kb.problems[:3])) or 'no entry files'}); "
                          f"point it at a folder of entries, or leave it empty for the bundled one")
    store = ResilientStore(settings.database_url, settings.unmatched_retention_days)
    install_log_redaction()
    answerer = Answerer(lambda: reloader.current, store, settings, load_workspaces(settings.workspaces_file))
    connections, landed = KeptConnections(settings.ca_file), Landed()
    client = build_client(settings, connections, landed)
    clients = KeptClients(client, connections)
    delivery = Delivery(answerer, connections, landed)
    app = App(signing_secret=settings.signing_secret or None, client=client, process_before_response=False,
              # listeners wait on the database and the Slack API, but matching holds the GIL: a few threads
              listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="fixit"),
              request_verification_enabled=bool(settings.signing_secret),
              # middleware for what Fixit does not use (say/respond/complete objects, custom-function
              # tokens, the AI-assistant threads), built for every request otherwise
              attaching_conversation_kwargs_enabled=False, attaching_function_token_enabled=False,
              ignoring_self_assistant_message_events_enabled=False)

    @app.middleware
    def provide(context, next):  # noqa: A002 (Bolt passes `next` by that name)
        """Every listener's answer layer, and the kept client for its token in place of the new WebClient Bolt
        builds for each request."""
        context["delivery"] = delivery
        if context.bot_token:
            context["client"] = clients.for_token(context.bot_token, context.team_id)
        next()

    listeners.register(app, settings)

    @app.error
    def on_error(error, body, logger):
        logger.error("listener failed (%s) for %s", type(error).__name__, (body or {}).get("type"))

    # The knowledge base and its index are large and live as long as the process: keep them out of the
    # cyclic garbage collector's full passes, which would otherwise rescan them every few requests.
    gc.freeze()
    if watch:
        if settings.kb_poll_seconds:
            reloader.start()
        try:
            signal.signal(signal.SIGHUP, lambda *_: reloader.reload())
        except (ValueError, AttributeError):  # not the main thread, or no SIGHUP on this platform
            pass
    return Runtime(app, answerer, delivery, reloader, store, clients)


def asgi_app(runtime: Runtime) -> FixitRequestHandler:
    return FixitRequestHandler(runtime.app, runtime.answerer.settings.signing_secret, path="/slack/events")


def asgi_from_environment():
    """ASGI app factory for uvicorn worker processes: each builds its own runtime from the environment."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asgi_app(build_runtime(Settings.load()))


def serve_http(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    if not settings.signing_secret:
        raise SystemExit("fixit: SLACK_SIGNING_SECRET is required for HTTP mode")
    if workers > 1:  # worker processes share the store (claims are made in the database)
        if settings.kb_dir:  # workers read their settings from the environment: pass on `--kb`
            os.environ["FIXIT_KB_DIR"] = settings.kb_dir
        log.info("serving /slack/events on http://%s:%d with %d workers", host, port, workers)
        uvicorn.run("bot.slack.app:asgi_from_environment", factory=True, host=host, port=port, workers=workers,
                    log_level="info", access_log=False)
    else:
        app = asgi_app(build_runtime(settings))   # a setting it cannot start with stops it here, before "serving"
        log.info("serving /slack/events on http://%s:%d", host, port)
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def serve_socket_mode(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    runtime = build_runtime(settings)
    log.info("connecting to Slack in Socket Mode")
    SocketModeHandler(runtime.app, settings.app_token).start()
