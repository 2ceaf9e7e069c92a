"""Builds the Bolt app and serves it: Socket Mode, or HTTP through an ASGI server (uvicorn)."""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event

from slack_bolt import App
from slack_bolt.logger import get_bolt_app_logger, get_bolt_logger
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.answer import Answerer
from bot.checks.redact import install_log_redaction
from bot.checks.workspaces import WorkspacesError, load_workspaces
from bot.kb.last_good import with_last_good
from bot.kb.loader import load_knowledge_base
from bot.kb.watch import Reloader
from bot.pipeline import Fixit
from bot.settings import Settings
from bot.slack import install, listeners
from bot.slack.allocator import MemoryRelease
from bot.slack.arguments import direct
from bot.slack.cpu import share_the_interpreter
from bot.slack.deliver import Delivery
from bot.slack.health import probe, serve_probes
from bot.slack.http import FixitRequestHandler
from bot.slack.install import oauth_settings
from bot.slack.retry import Landed, SlackFaults, post_id_of
from bot.slack.transport import KeptClients, KeptConnections, KeptWebClient
from bot.store.resilient import ResilientStore
from bot.store.url import url_problem

log = logging.getLogger("fixit.slack")
LISTENER_THREADS = 8
DRAIN_SECONDS = 20.0   # a Kubernetes pod gets 30 s between SIGTERM and SIGKILL by default
STARTUP_LOGGER = logging.getLogger("fixit.slack.startup")
STARTUP_LOGGER.setLevel(logging.CRITICAL)


def api_logger() -> logging.Logger:
    """slack_sdk's logger, with a level. slack_sdk formats every request's whole body for a debug line when
    its logger's own level is unset (it reads NOTSET as DEBUG): work on every card posted, for nothing."""
    logger = logging.getLogger("slack_sdk.web.base_client")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.DEBUG if logging.getLogger().isEnabledFor(logging.DEBUG) else logging.INFO)
    return logger


def build_client(settings: Settings, connections: KeptConnections | None = None,
                 landed: Landed | None = None) -> KeptWebClient:
    """The Web API client: kept connections; rate limits waited out; server errors, dropped connections and
    garbled replies retried without posting twice (`bot/slack/retry.py`)."""
    connections = connections or KeptConnections(settings.ca_file)
    client = KeptWebClient(token=settings.bot_token or None, base_url=settings.api_url, timeout=10, logger=api_logger(),
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
    """Settings the server cannot start with; one line each, naming the setting and what to write instead."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Runtime:
    app: App
    answerer: Answerer
    delivery: Delivery
    reloader: Reloader
    store: ResilientStore
    clients: KeptClients
    identity: dict = field(default_factory=dict)   # auth.test's answer: the bot user, bot id, team
    listeners: ThreadPoolExecutor | None = None

    def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """On shutdown, once no new request comes in: let the listeners finish deciding, the lanes post what
        they hold, and the workspace checks update their cards, within `timeout` in all (Slack does not
        retry an event it had acknowledged)."""
        deadline = time.monotonic() + timeout
        if self.listeners is not None:   # within the deadline: a hung listener must not use up the grace period
            waiting = threading.Thread(target=self.listeners.shutdown, kwargs={"wait": True}, daemon=True)
            waiting.start()
            waiting.join(timeout)
        posted = self.delivery.lanes.wait_idle(max(0.0, deadline - time.monotonic()))
        self.delivery.after.shutdown(wait=posted, cancel_futures=not posted)
        if not posted:
            log.warning("shutting down with answers still being posted (%.0f s were not enough)", timeout)
        else:
            log.info("every answer in flight was posted; shutting down")


MODE_SETTINGS = {
    "http": [("signing_secret", "SLACK_SIGNING_SECRET", "is required for HTTP mode: copy the Signing Secret "
                                                        "from the app's Basic Information")],
    "socket": [("app_token", "SLACK_APP_TOKEN", "is required for Socket Mode: generate an App-Level Token with "
                                                "connections:write (Basic Information), or serve --http")],
}


def startup_problems(settings: Settings, mode: str, kb, client: KeptWebClient) -> tuple[list[str], object, dict]:
    """Every setting the server cannot start with (one line each), the workspaces and auth.test's answer."""
    problems = list(settings.problems)
    problems += [f"{name} {what}" for attr, name, what in MODE_SETTINGS.get(mode, []) if not getattr(settings, attr)]
    if settings.oauth and mode == "socket":
        problems.append("SLACK_CLIENT_ID: installing in many workspaces (OAuth) needs HTTP mode: run serve --http, "
                        "or unset SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for one workspace's bot token")
    if settings.oauth and settings.bot_token:
        problems.append("SLACK_BOT_TOKEN: leave it empty when installing through OAuth (SLACK_CLIENT_ID): each "
                        "workspace's token comes from its installation")
    if settings.oauth and settings.escalation_channel:
        problems.append("FIXIT_ESCALATION_CHANNEL: a channel of one workspace, which the others' installations "
                        "cannot post in: leave it empty when installing through OAuth")
    if not settings.bot_token and not settings.oauth:
        problems.append("SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from the app's "
                        "OAuth & Permissions page (or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install "
                        "through OAuth)")
    if problem := url_problem(settings.database_url):
        problems.append(problem)
    if not kb.entries:
        problems.append(f"FIXIT_KB_DIR: {settings.kb_path}: no knowledge-base entries could be loaded "
                        f"({'; '.join(map(str, kb.problems[:3])) or 'no entry files'}); "
                        f"point it at a folder of entries, or leave it empty for the bundled one")
    workspaces = None
    try:
        workspaces = load_workspaces(settings.workspaces_file, settings.environment)
    except WorkspacesError as exc:
        problems.append(f"FIXIT_WORKSPACES: {exc}")
    identity = {"installed": "oauth"} if settings.oauth else {}
    if settings.bot_token and not settings.oauth:
        identity, problem = who_am_i(client, settings.api_url)
        problems += [problem] if problem else []
    return problems, workspaces, identity


def check_startup(settings: Settings, mode: str) -> None:
    """The same checks as build_runtime, without building: for a parent process that only starts workers."""
    kb = with_last_good(load_knowledge_base(settings.kb_path, settings.tool_name),
                        Path(settings.kb_last_good) if settings.kb_last_good else None, settings.tool_name)
    problems, _, _ = startup_problems(settings, mode, kb, build_client(settings))
    if problems:
        raise ConfigError(problems)


def build_runtime(settings: Settings, watch: bool = True, mode: str = "") -> Runtime:
    """Everything the app serves with. Every setting it cannot start with is found first and raised at once
    (ConfigError); nothing is served, started or stored before that."""
    reloader = Reloader(settings.kb_path, lambda kb: Fixit(kb).prerendered(), interval=settings.kb_poll_seconds,
                        keep=Path(settings.kb_last_good) if settings.kb_last_good else None,
                        tool_name=settings.tool_name)
    connections, landed = KeptConnections(settings.ca_file), Landed()
    client = build_client(settings, connections, landed)
    problems, workspaces, identity = startup_problems(settings, mode, reloader.current.kb, client)
    if problems:
        raise ConfigError(problems)
    store = ResilientStore(settings.database_url, settings.unmatched_retention_days)
    install_log_redaction()
    answerer = Answerer(lambda: reloader.current, store, settings, workspaces)
    clients = KeptClients(client, connections)
    delivery = Delivery(answerer, connections, landed)
    quiet_bolt_about_its_client()
    # listeners wait on the database and the Slack API, but matching holds the GIL: a few threads
    executor = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="fixit")
    app = FixitApp(clients, signing_secret=settings.signing_secret or None, client=client,
                   process_before_response=False, listener_executor=executor,
                   oauth_settings=oauth_settings(settings, client) if settings.oauth else None,
                   # the HTTP edge checks every request's signature before Bolt reads it (bot/slack/http.py), and
                   # Socket Mode's requests are not signed: Bolt's own check would hash each body a second time
                   request_verification_enabled=False,
                   # middleware for what Fixit does not use (say/respond/complete objects, custom-function
                   # tokens, the AI-assistant threads), built for every request otherwise
                   attaching_conversation_kwargs_enabled=False, attaching_function_token_enabled=False,
                   ignoring_self_assistant_message_events_enabled=False)

    app.use(Provide(delivery, clients))

    listeners.register(app, settings)
    install.register(app, store)

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
    return Runtime(app, answerer, delivery, reloader, store, clients, identity, executor)


class FixitApp(App):
    """Bolt's App, handing each request the kept client for its token where Bolt would build a new WebClient
    (with a lookup of four proxy variables in the environment) for every request, only to have `Provide`
    replace it. With one fixed token nothing changes a request's client. With OAuth (no fixed token) Bolt's
    own way stays: its authorization writes the installation's token into that request's new client. Each
    listener is registered as a `DirectListener` (bot/slack/arguments.py). The requests it dispatches, over
    HTTP or Socket Mode, are counted for `MemoryRelease` (bot/slack/allocator.py)."""

    def __init__(self, clients: KeptClients, **kwargs) -> None:
        super().__init__(**kwargs)
        self.kept_clients = clients
        self.memory = MemoryRelease()

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        self.memory.counted()
        return super().dispatch(req)

    def _register_listener(self, *args, **kwargs):
        registered = super()._register_listener(*args, **kwargs)
        self._listeners[-1] = direct(self._listeners[-1])
        return registered

    def _init_context(self, req: BoltRequest) -> None:
        if self._token is None:
            super()._init_context(req)
            return
        # what Bolt's own `_init_context` sets (tests/test_slack_app.py compares the two, for the Bolt installed)
        context = req.context
        context["logger"] = get_bolt_app_logger(app_name=self.name, base_logger=self._base_logger)
        context["token"] = self._token
        context["client"] = self.kept_clients.for_token(self._token, context.team_id)
        context["listener_runner"] = self.listener_runner


class Provide(Middleware):
    """Every listener's answer layer; with OAuth, the kept client for the installation's token in place of
    the new WebClient Bolt built for the request (`FixitApp`). A Middleware subclass, not a function: for a
    function Bolt builds every keyword argument a middleware could ask for, on every request."""

    def __init__(self, delivery: Delivery, clients: KeptClients) -> None:
        self.delivery, self.clients = delivery, clients

    def process(self, *, req, resp, next):  # noqa: A002 (Bolt passes `next` by that name)
        context = req.context
        context["delivery"] = self.delivery
        if context.bot_token and not isinstance(context.client, KeptWebClient):
            context["client"] = self.clients.for_token(context.bot_token, context.team_id)
        return next()


def who_am_i(client: KeptWebClient, api_url: str) -> tuple[dict, str]:
    """auth.test's answer for the bot token, or a problem naming the setting to fix. One attempt, on the
    client's connections, without slack_sdk's own error lines: the problem says it once."""
    once = KeptWebClient(token=client.token, base_url=client.base_url, timeout=10, connections=client.connections,
                         logger=STARTUP_LOGGER)
    try:
        return dict(once.auth_test().data), ""
    except SlackApiError as exc:
        error = exc.response.get("error", "")
        return {}, (f"SLACK_BOT_TOKEN: Slack refused it ({error}): copy the Bot User OAuth Token (xoxb-…) from the "
                    f"app's OAuth & Permissions page; reinstall the app if it was uninstalled or the token revoked")
    except (OSError, ValueError) as exc:
        return {}, (f"SLACK_API_URL: could not reach the Slack Web API at {api_url} ({type(exc).__name__}: "
                    f"{str(exc)[:160]}); check the network, a proxy, or SSL_CERT_FILE")


class _ClientGivenOnPurpose(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused whenever a client is given as well; Fixit gives its own
    (kept connections, retries) on purpose, built from that same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def quiet_bolt_about_its_client() -> None:
    logger = get_bolt_logger(App)
    if not any(isinstance(f, _ClientGivenOnPurpose) for f in logger.filters):
        logger.addFilter(_ClientGivenOnPurpose())


def asgi_app(runtime: Runtime) -> FixitRequestHandler:
    return FixitRequestHandler(runtime.app, runtime.answerer.settings.signing_secret, path="/slack/events",
                               probe=lambda path: probe(runtime, path), on_shutdown=runtime.drain)


def asgi_from_environment():
    """ASGI app factory for uvicorn worker processes: each builds its own runtime from the environment."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.load()
    share_the_interpreter(settings.cpu_pinning)
    return asgi_app(build_runtime(settings, mode="http"))


def serve_http(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    if workers > 1:  # worker processes share the store (claims are made in the database)
        check_startup(settings, "http")
        if settings.kb_dir:  # workers read their settings from the environment: pass on `--kb`
            os.environ["FIXIT_KB_DIR"] = settings.kb_dir
        log.info("serving /slack/events on http://%s:%d with %d workers", host, port, workers)
        uvicorn.run("bot.slack.app:asgi_from_environment", factory=True, host=host, port=port, workers=workers,
                    log_level="info", access_log=False)
    else:
        share_the_interpreter(settings.cpu_pinning)  # before the runtime starts its threads
        app = asgi_app(build_runtime(settings, mode="http"))   # a bad setting stops it here, before "serving"
        log.info("serving /slack/events on http://%s:%d", host, port)
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def start_socket_mode(settings: Settings):
    """Connected to Slack in Socket Mode (and serving the probes on FIXIT_HEALTH_PORT, when set): the
    runtime, the handler and the probes' server (None without a port)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    runtime = build_runtime(settings, mode="socket")
    handler = SocketModeHandler(runtime.app, settings.app_token)
    probes = None
    if settings.health_port:
        probes = serve_probes(runtime, settings.health_host, settings.health_port, handler.client.is_connected)
    log.info("connecting to Slack in Socket Mode")
    try:
        handler.connect()
    except SlackApiError as exc:
        if probes is not None:
            probes.shutdown()
        raise ConfigError([f"SLACK_APP_TOKEN: Slack refused it ({exc.response.get('error', '')}): generate an "
                           f"App-Level Token with the connections:write scope (Basic Information)"]) from None
    log.info("connected to Slack in Socket Mode")
    return runtime, handler, probes


def serve_socket_mode(settings: Settings) -> None:
    share_the_interpreter(settings.cpu_pinning)  # before the runtime starts its threads
    runtime, handler, probes = start_socket_mode(settings)
    stop = Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    log.info("stopping: no new events from Slack; posting the answers in flight")
    handler.close()   # Slack sends the events it has not delivered to another connection, or retries them
    runtime.drain()
    if probes is not None:
        probes.shutdown()
