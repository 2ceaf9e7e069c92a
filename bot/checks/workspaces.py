"""`FIXIT_WORKSPACES`: which Slack channels (or teams) belong to which workspace, and its providers.

Secrets are never written in the file: a provider names the variable holding each one (`token_env:
ACME_QBO_TOKEN`), set in the environment or in `.env` like every other setting. See `workspaces.example.yml`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.checks.base import ProviderError
from bot.checks.intacct import DEFAULT_ENDPOINT, SageIntacct
from bot.checks.quickbooks_online import DEFAULT_BASE_URL as QBO_URL
from bot.checks.quickbooks_online import QuickBooksOnline
from bot.checks.settings_file import SettingsFile
from bot.checks.xero import DEFAULT_BASE_URL as XERO_URL
from bot.checks.xero import Xero
from bot.settings import Environment

SECRET_KEYS = {"password", "sender_password", "user_password", "token", "secret", "access_token"}
# a provider's secret is never one of these: a workspaces file could otherwise send the bot's own tokens to a host
OWN_SETTINGS = ("SLACK_", "FIXIT_")


class WorkspacesError(ValueError):
    """The workspaces file is wrong; the message names the file and the workspace."""


@dataclass
class ProviderSpec:
    """A provider as configured; built (its secrets read from `environment`) only when a check runs."""

    kind: str
    options: dict
    environment: Mapping[str, str] = field(repr=False, compare=False)

    def build(self, base: Path):
        o = self.options
        if self.kind == "settings_file":
            path = Path(o["path"])
            return SettingsFile(path if path.is_absolute() else base / path)
        if self.kind == "sage_intacct":
            return SageIntacct(o["sender_id"], self.secret("sender_password_env"), o["company_id"], o["user_id"],
                               self.secret("user_password_env"), o.get("endpoint", DEFAULT_ENDPOINT),
                               o.get("integration_user", ""))
        if self.kind == "quickbooks_online":
            return QuickBooksOnline(str(o["realm_id"]), self.secret("token_env"), o.get("base_url", QBO_URL))
        if self.kind == "xero":
            return Xero(str(o["tenant_id"]), self.secret("token_env"), o.get("base_url", XERO_URL))
        raise WorkspacesError(f"unknown provider type {self.kind!r}")

    def secret(self, key: str) -> str:
        name = self.options[key]
        value = (self.environment.get(name) or "").strip()
        if not value:
            raise ProviderError(f"credential not configured ({name} is empty: set it in the environment or .env)")
        return value


REQUIRED = {
    "settings_file": {"path"},
    "sage_intacct": {"sender_id", "sender_password_env", "company_id", "user_id", "user_password_env"},
    "quickbooks_online": {"realm_id", "token_env"},
    "xero": {"tenant_id", "token_env"},
}


@dataclass
class Workspace:
    name: str
    channels: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    admins: tuple[str, ...] = ()
    providers: list[ProviderSpec] = field(default_factory=list)
    base: Path = Path(".")


class Workspaces:
    def __init__(self, workspaces: list[Workspace]) -> None:
        self.by_name = {w.name: w for w in workspaces}

    def __bool__(self) -> bool:
        return bool(self.by_name)

    def get(self, name: str) -> Workspace | None:
        return self.by_name.get(name)

    def for_channel(self, channel: str, team: str = "") -> Workspace | None:
        """The workspace a channel is mapped to. A workspace that names its Slack teams is one only for them: in
        a channel shared with another organisation (Slack Connect), the other team's events are not checked
        against this workspace's accounts."""
        return next((w for w in self.by_name.values()
                     if channel in w.channels and not (team and w.teams and team not in w.teams)), None)

    def for_conversation(self, channel: str, team: str) -> Workspace | None:
        """The workspace a channel belongs to, else the one of its Slack team; never chosen by the user."""
        return self.for_channel(channel, team) or next(
            (w for w in self.by_name.values() if team and team in w.teams), None)


def load_workspaces(path: str | Path | None, environment: Mapping[str, str] | None = None) -> Workspaces:
    environment = Environment(os.environ) if environment is None else environment
    if not path:
        return Workspaces([])
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise WorkspacesError(f"{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise WorkspacesError(f"{path}:{mark.line + 1 if mark else 1}: malformed YAML") from None
    items = data.get("workspaces") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise WorkspacesError(f"{path}: needs a `workspaces:` list")
    workspaces = []
    for n, item in enumerate(items, 1):
        where = f"{path}: workspace {n}"
        if not isinstance(item, dict) or not item.get("name"):
            raise WorkspacesError(f"{where}: needs a name")
        where = f"{path}: workspace {item['name']!r}"
        specs = []
        for p in item.get("providers") or []:
            kind = (p or {}).get("type") if isinstance(p, dict) else None
            if kind not in REQUIRED:
                raise WorkspacesError(f"{where}: provider type must be one of {', '.join(sorted(REQUIRED))}")
            leaked = SECRET_KEYS & set(p)
            if leaked:
                raise WorkspacesError(f"{where}: {', '.join(sorted(leaked))} must not be written in the file; "
                                      f"name an environment variable instead (e.g. {sorted(leaked)[0]}_env)")
            borrowed = sorted(f"{k}: {v}" for k, v in p.items()
                              if k.endswith("_env") and str(v).upper().startswith(OWN_SETTINGS))
            if borrowed:
                raise WorkspacesError(f"{where}: {borrowed[0]} is one of Fixit's or Slack's own settings; name a "
                                      f"variable of the provider's own (e.g. ACME_QBO_TOKEN)")
            missing = REQUIRED[kind] - set(p)
            if missing:
                raise WorkspacesError(f"{where}: {kind} provider needs {', '.join(sorted(missing))}")
            specs.append(ProviderSpec(kind, {k: v for k, v in p.items() if k != "type"}, environment))
        workspaces.append(Workspace(
            name=str(item["name"]), channels=frozenset(map(str, item.get("channels") or [])),
            teams=frozenset(map(str, item.get("teams") or [])), admins=tuple(map(str, item.get("admins") or [])),
            providers=specs, base=path.parent))
    return Workspaces(workspaces)
