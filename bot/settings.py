"""Settings from the environment, with a `.env` file filling in what the environment leaves unset."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

CHANNEL_MODES = ("auto", "mention-only", "off")
# the bot scopes Fixit asks for when installed through OAuth (manifest.yml's; a test keeps the two the same)
BOT_SCOPES = ("app_mentions:read", "channels:history", "groups:history", "im:history", "mpim:history", "chat:write",
              "commands", "users:read")
DEFAULT_KB_DIR = Path(__file__).resolve().parent.parent / "knowledge"


class Environment(Mapping[str, str]):
    """The variables settings were read from (the environment over `.env`): looked up by name, never shown
    whole. Its repr is a count, and a copy (`dataclasses.asdict`, `copy.deepcopy`) is the same object."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"<Environment: {len(self._values)} variables>"

    def __deepcopy__(self, memo) -> Environment:
        return self


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; `#` comments, blank lines and `export ` prefixes allowed; quotes stripped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


@dataclass
class Settings:
    # the secrets are left out of repr (and so out of any log or traceback that shows a Settings)
    bot_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///fixit.db"
    kb_dir: str = ""
    slash_command: str = "/fixit"
    default_mode: str = "auto"
    channel_modes: dict[str, str] = field(default_factory=dict)
    unmatched_retention_days: int = 30
    workspaces_file: str = ""
    kb_poll_seconds: float = 2.0   # how often the server looks for KB edits; 0: only on SIGHUP
    ca_file: str = ""              # CA bundle trusted for Slack's API (SSL_CERT_FILE); empty: the system's
    kb_last_good: str = ""         # where the last good KB is kept for restarts; empty: nowhere
    tool_name: str = ""            # the expense tool's name in answers (FIXIT_TOOL_NAME); empty: the KB's own
    client_id: str = ""            # SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: installed through OAuth, many teams
    client_secret: str = field(default="", repr=False)
    scopes: tuple[str, ...] = BOT_SCOPES
    redirect_uri: str = ""         # SLACK_REDIRECT_URI; empty: the app's one (Slack uses the first configured)
    escalation_channel: str = ""   # FIXIT_ESCALATION_CHANNEL: where "Ask a person" posts; empty: not offered
    escalation_group: str = ""     # FIXIT_ESCALATION_GROUP: a user group (S…) mentioned there
    kb_admins: frozenset[str] = frozenset()   # FIXIT_KB_ADMINS: user ids who see gaps and may save drafts
    drafts_dir: str = ".fixit/drafts"         # FIXIT_DRAFTS_DIR: where "Save as a KB draft" writes
    health_port: int = 0           # Socket Mode: serve /healthz and /readyz on this port; 0: not at all
    health_host: str = "0.0.0.0"
    cpu_pinning: bool = True       # FIXIT_CPU_PINNING: each server process's threads on one CPU (bot/slack/cpu.py)
    # other apps whose messages Fixit answers like a person's paste: app or bot ids, by channel ("*": every one)
    answer_apps: dict[str, frozenset[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)   # what Settings.load(strict=False) could not use
    # every variable read: the environment over `.env`, where a provider's secret named in FIXIT_WORKSPACES is
    # looked up (out of repr too)
    environment: Mapping[str, str] = field(default_factory=lambda: Environment(os.environ), repr=False,
                                           compare=False)

    def answers_app(self, channel: str, ids: set[str]) -> bool:
        """Whether a message another app posted in `channel` (with these app and bot ids) may be answered."""
        allowed = self.answer_apps.get("*", frozenset()) | self.answer_apps.get(channel, frozenset())
        return bool(allowed & ids)

    @property
    def kb_path(self) -> Path:
        """The knowledge base folder: FIXIT_KB_DIR (or `--kb`), else this repository's `knowledge/`."""
        if self.kb_dir:
            return Path(self.kb_dir)
        return DEFAULT_KB_DIR if DEFAULT_KB_DIR.is_dir() else Path.cwd() / "knowledge"

    @property
    def slack_configured(self) -> bool:
        return bool(self.bot_token)

    @property
    def oauth(self) -> bool:
        """Installed through Slack's OAuth flow into any number of workspaces, rather than one bot token."""
        return bool(self.client_id or self.client_secret)

    @classmethod
    def load(cls, env: dict[str, str] | None = None, env_file: Path | None = Path(".env"),
             strict: bool = True) -> Settings:
        """The settings; SettingsError naming every bad one at once (setting, what it holds, what to write).
        Not `strict`: the problems are kept in `problems` instead, for the server to say with its own."""
        values = {**(read_env_file(env_file) if env_file else {}), **(os.environ if env is None else env)}
        get = lambda key, default="": (values.get(key) or default).strip()  # noqa: E731
        problems: list[str] = []

        def checked(read, *args, default=None):
            try:
                return read(*args)
            except ValueError as exc:
                problems.append(str(exc))
                return default

        settings = cls(
            bot_token=get("SLACK_BOT_TOKEN"),
            signing_secret=get("SLACK_SIGNING_SECRET"),
            app_token=get("SLACK_APP_TOKEN"),
            api_url=get("SLACK_API_URL", cls.api_url),
            database_url=get("FIXIT_DATABASE_URL", cls.database_url),
            kb_dir=get("FIXIT_KB_DIR"),
            slash_command=get("FIXIT_SLASH_COMMAND", cls.slash_command),
            default_mode=get("FIXIT_DEFAULT_MODE", "auto"),
            unmatched_retention_days=int(checked(number, get, "FIXIT_UNMATCHED_RETENTION_DAYS", 30,
                                                 "a number of days", default=30)),
            workspaces_file=get("FIXIT_WORKSPACES"),
            kb_poll_seconds=checked(number, get, "FIXIT_KB_POLL_SECONDS", 2.0,
                                    "a number of seconds (0: reload on SIGHUP only)", default=2.0),
            ca_file=get("SSL_CERT_FILE"),
            kb_last_good=get("FIXIT_KB_LAST_GOOD", ".fixit/kb-last-good"),
            tool_name=get("FIXIT_TOOL_NAME"),
            client_id=get("SLACK_CLIENT_ID"),
            client_secret=get("SLACK_CLIENT_SECRET"),
            scopes=tuple(filter(None, (s.strip() for s in get("SLACK_SCOPES").split(",")))) or BOT_SCOPES,
            redirect_uri=get("SLACK_REDIRECT_URI"),
            escalation_channel=get("FIXIT_ESCALATION_CHANNEL"),
            escalation_group=get("FIXIT_ESCALATION_GROUP"),
            drafts_dir=get("FIXIT_DRAFTS_DIR", cls.drafts_dir),
            kb_admins=frozenset(filter(None, (u.strip() for u in get("FIXIT_KB_ADMINS").split(",")))),
            health_port=int(checked(number, get, "FIXIT_HEALTH_PORT", 0, "a port number (empty: no health port)",
                                    default=0)),
            health_host=get("FIXIT_HEALTH_HOST", cls.health_host),
            environment=Environment(values),
        )
        if settings.ca_file and not Path(settings.ca_file).is_file():
            problems.append(f"SSL_CERT_FILE: {settings.ca_file!r} is not a file (a PEM bundle of the CAs to trust, "
                            f"or leave it empty for the system's)")
        for key, prefix, what in (("SLACK_BOT_TOKEN", "xoxb-", "the Bot User OAuth Token (OAuth & Permissions)"),
                                  ("SLACK_APP_TOKEN", "xapp-", "an App-Level Token (Basic Information)")):
            value = get(key)
            if value and not value.startswith(prefix):
                problems.append(f"{key}: a {value[:5]!r}… token is not one Fixit can use: write {what}, which "
                                f"starts with {prefix}")
        if not settings.slash_command.startswith("/"):
            settings.slash_command = "/" + settings.slash_command
        if not settings.api_url.endswith("/"):
            settings.api_url += "/"
        settings.channel_modes = checked(parse_channel_modes, get("FIXIT_CHANNEL_MODES"), default={})
        apps = checked(parse_app_ids, get("FIXIT_ANSWER_APPS"), "FIXIT_ANSWER_APPS", default=frozenset())
        channels_file = get("FIXIT_CHANNELS_FILE")
        if channels_file:
            default, modes, by_channel = checked(read_channels_file, Path(channels_file), default=("", {}, {}))
            settings.default_mode = default or settings.default_mode
            settings.channel_modes = {**modes, **settings.channel_modes}
            settings.answer_apps = by_channel
        if apps:
            settings.answer_apps = {**settings.answer_apps, "*": settings.answer_apps.get("*", frozenset()) | apps}
        if settings.default_mode not in CHANNEL_MODES:
            problems.append(f"FIXIT_DEFAULT_MODE: {settings.default_mode!r}: write one of {', '.join(CHANNEL_MODES)}")
        if bool(settings.client_id) != bool(settings.client_secret):
            missing = "SLACK_CLIENT_SECRET" if settings.client_id else "SLACK_CLIENT_ID"
            problems.append(f"{missing} is not set: the OAuth install needs both SLACK_CLIENT_ID and "
                            f"SLACK_CLIENT_SECRET (Basic Information → App Credentials), or neither for one bot token")
        if settings.escalation_channel:
            checked(check_channel_id, settings.escalation_channel, "FIXIT_ESCALATION_CHANNEL")
        if settings.escalation_group and not re.match(r"^S[A-Z0-9]+$", settings.escalation_group):
            problems.append(f"FIXIT_ESCALATION_GROUP: {settings.escalation_group!r} is not a user group id: use the "
                            f"group's id (S0123ABCD, in its profile's ⋯ menu → Copy group ID), not its @handle")
        bad_admins = sorted(u for u in settings.kb_admins if not re.match(r"^[UW][A-Z0-9]+$", u))
        if bad_admins:
            problems.append(f"FIXIT_KB_ADMINS: {', '.join(map(repr, bad_admins))}: write member ids (U0123ABCD, in "
                            f"a profile's ⋯ menu → Copy member ID), comma separated")
        pinning = get("FIXIT_CPU_PINNING", "on").lower()
        if pinning in ("on", "off"):
            settings.cpu_pinning = pinning == "on"
        else:
            problems.append(f"FIXIT_CPU_PINNING: {pinning!r}: write on (each server process keeps its threads on "
                            f"one CPU) or off (the kernel moves them between CPUs)")
        if settings.health_port > 65535:
            problems.append(f"FIXIT_HEALTH_PORT: {settings.health_port} is not a port (1-65535, empty: none)")
        if problems and strict:
            raise SettingsError(problems)
        settings.problems = problems
        return settings


class SettingsError(ValueError):
    """Every setting Fixit cannot run with, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def number(get, key: str, default: float, what: str) -> float:
    """A setting that must be a finite number >= 0 (`what` says which, in the error); `default` when unset."""
    text = get(key)
    try:
        value = float(text) if text else default
    except ValueError:
        value = -1
    if not 0 <= value < float("inf"):
        raise ValueError(f"{key} must be {what}, not {text!r}")
    return value


_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]+$")


def parse_channel_modes(text: str) -> dict[str, str]:
    """`C0123=mention-only,C0456=off` → {channel: mode}."""
    modes = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        channel, equals, mode = (part.strip() for part in item.partition("="))
        if not equals:
            raise ValueError(f"FIXIT_CHANNEL_MODES: {item!r}: write CHANNEL_ID=MODE, e.g. C0123ABCD=off "
                             f"(pairs separated by commas)")
        check_channel_id(channel, f"FIXIT_CHANNEL_MODES: {item!r}")
        if mode not in CHANNEL_MODES:
            raise ValueError(f"FIXIT_CHANNEL_MODES: {item!r}: mode must be one of {', '.join(CHANNEL_MODES)}")
        modes[channel] = mode
    return modes


def check_channel_id(channel: str, where: str) -> None:
    if not channel:
        raise ValueError(f"{where}: the channel id is missing (e.g. C0123ABCD=off)")
    if not _CHANNEL_ID.match(channel):
        raise ValueError(f"{where}: {channel!r} is not a channel id: use the id Slack shows in the channel's "
                         f"details (C0123ABCD), not its name")


_APP_ID = re.compile(r"^[AB][A-Z0-9]{5,}$")


def parse_app_ids(items, where: str) -> frozenset[str]:
    """App ids (A…) or bot ids (B…), comma separated or as a list."""
    if isinstance(items, str):
        items = [part.strip() for part in items.split(",")]
    if not isinstance(items, list):
        raise ValueError(f"{where}: write a list of app ids, e.g. [A0123ABCD]")
    ids = frozenset(str(item).strip() for item in items if str(item).strip())
    for app_id in ids:
        if not _APP_ID.match(app_id):
            raise ValueError(f"{where}: {app_id!r} is not an app id: use the app's id (A0123ABCD, in its "
                             f"message's details or the app's settings) or its bot id (B0123ABCD), not its name")
    return ids


def read_channels_file(path: Path) -> tuple[str, dict[str, str], dict[str, frozenset[str]]]:
    """A YAML file `{default: auto, channels: {C0123: mention-only}, apps: {"*": [A0123], C0456: [A0789]}}`."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"FIXIT_CHANNELS_FILE: {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("channels") or {}, dict):
        raise ValueError(f"FIXIT_CHANNELS_FILE: {path}: write a mapping, e.g. `default: auto` and "
                         f"`channels: {{C0123ABCD: mention-only}}` (see channels.example.yml)")
    # YAML reads a bare `off` as false (and `on` as true)
    as_mode = lambda v: "off" if v is False else "auto" if v is True else str(v)  # noqa: E731
    channels = {str(k).strip(): as_mode(v) for k, v in (data.get("channels") or {}).items()}
    for channel in channels:
        check_channel_id(channel, f"FIXIT_CHANNELS_FILE: {path}")
    bad = [f"{k}={v}" for k, v in channels.items() if v not in CHANNEL_MODES]
    default = as_mode(data["default"]) if data.get("default") is not None else ""
    if bad or (default and default not in CHANNEL_MODES):
        raise ValueError(f"{path}: modes must be one of {', '.join(CHANNEL_MODES)} ({', '.join(bad) or default})")
    apps = data.get("apps") or {}
    if not isinstance(apps, dict):
        raise ValueError(f"FIXIT_CHANNELS_FILE: {path}: `apps` maps a channel id (or \"*\" for every channel) to "
                         f"a list of app ids, e.g. `apps: {{\"*\": [A0123ABCD]}}`")
    by_channel = {}
    for channel, ids in apps.items():
        channel = str(channel).strip()
        if channel != "*":
            check_channel_id(channel, f"FIXIT_CHANNELS_FILE: {path}: apps")
        by_channel[channel] = parse_app_ids(ids, f"FIXIT_CHANNELS_FILE: {path}: apps: {channel}")
    return default, channels, by_channel
