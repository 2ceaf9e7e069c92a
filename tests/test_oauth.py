"""Many workspaces: Slack's OAuth install through the served app, each team answered with its own token and
seeing only its own data, rotation, uninstall, Enterprise Grid and Slack Connect; against a loopback Slack
that speaks oauth.v2.access, auth.test and the Web API."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from slack_harness import (
    SECRET,
    FakeSlack,
    FixitServer,
    SlackSender,
    Team,
    envelope,
    eventually,
    message,
    same_arguments_as_bolt,
)

from bot.settings import Settings
from bot.slack.app import build_runtime
from bot.slack.home import home_view

AUTHORIZE = "https://slack.com/oauth/v2/authorize"


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A person's browser: keeps the cookies it is given, does not follow redirects (to Slack, which is not
    here). Bolt's state cookie is `Secure`: a browser sends it back over the HTTPS in front of Fixit; the tests
    talk plain HTTP to the app behind it, so the cookie is sent back by hand."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(NoRedirects)

    def get(self, path: str):
        """Status, headers (looked up case-insensitively) and body."""
        request = urllib.request.Request(self.base + path, headers={
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {})
        try:
            with self.opener.open(request, timeout=10) as response:
                status, headers, body = response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, headers, body = exc.code, exc.headers, exc.read().decode()
        for cookie in headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return status, headers, body

    def install(self, fake: FakeSlack, team: Team) -> int:
        """/slack/install, Slack's consent (the code for `team`), then /slack/oauth_redirect."""
        status, headers, _ = self.get("/slack/install")
        assert status == 302
        state = urllib.parse.parse_qs(urllib.parse.urlparse(headers["Location"]).query)["state"][0]
        code = f"code-{team.id}-{len(fake.teams)}"
        fake.teams[code] = team
        return self.get(f"/slack/oauth_redirect?code={code}&state={state}")[0]


def settings_for(fake: FakeSlack, database_url: str) -> Settings:
    return Settings(client_id=fake.client_id, client_secret=fake.client_secret, signing_secret=SECRET,
                    api_url=fake.api_url, database_url=database_url, kb_poll_seconds=0, kb_last_good="")


@pytest.fixture(scope="module")
def server(fake, tmp_path_factory):
    db = tmp_path_factory.mktemp("oauth") / "fixit.db"
    server = FixitServer(build_runtime(settings_for(fake, f"sqlite:///{db}"), watch=False))
    yield server
    server.close()


@pytest.fixture
def browser(server):
    return Browser(server.url.removesuffix("/slack/events"))


def event_for(team: str, text: str, ts: str, channel: str = "C0001", enterprise: str = "",
              installed_for: str = "", org_wide: bool = False, event_type: str = "message") -> dict:
    """An Events API body as Slack sends it to the installation of `installed_for` (default: `team`)."""
    body = envelope({**message(text, ts=ts, channel=channel), "type": event_type, "team": team})
    body.update(team_id=team, context_team_id=installed_for or team, enterprise_id=enterprise or None,
                is_ext_shared_channel=bool(installed_for and installed_for != team))
    body["authorizations"] = [{"enterprise_id": enterprise or None, "team_id": None if org_wide else
                               (installed_for or team), "user_id": "UFIXIT", "is_bot": True,
                               "is_enterprise_install": org_wide}]
    return body


def send(server, body: dict):
    return SlackSender(server.url).send(json.dumps(body).encode(), "application/json")


def test_install_redirects_to_slack_with_the_client_id_scopes_and_a_state(browser, fake):
    status, headers, _ = browser.get("/slack/install")
    assert status == 302 and headers["Location"].startswith(AUTHORIZE + "?")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(headers["Location"]).query)
    assert query["client_id"] == [fake.client_id] and len(query["state"][0]) > 20
    assert set(query["scope"][0].split(",")) >= {"chat:write", "commands", "channels:history", "users:read"}
    assert "slack-app-oauth-state" in (headers.get("Set-Cookie") or "")


def test_two_teams_installed_through_the_flow_are_each_answered_with_their_own_token(browser, fake, server):
    assert browser.install(fake, Team("T0AAA")) == 200
    assert browser.install(fake, Team("T0BBB")) == 200
    tokens = {call.args["code"].split("-")[1]: None for call in fake.of("oauth.v2.access")}
    assert {"T0AAA", "T0BBB"} <= set(tokens)
    send(server, event_for("T0AAA", "INT771", "1700090000.000001"))
    send(server, event_for("T0BBB", "NS0012", "1700090000.000002"))
    eventually(lambda: fake.posts_in("1700090000.000001") and fake.posts_in("1700090000.000002"))
    (a,), (b,) = fake.posts_in("1700090000.000001"), fake.posts_in("1700090000.000002")
    assert a.token.startswith("xoxe.xoxb-T0AAA-") and b.token.startswith("xoxe.xoxb-T0BBB-")


def test_a_forged_or_reused_state_is_refused(browser, fake, server):
    fake.teams["code-forged"] = Team("T0EVIL")
    status, _, page = browser.get("/slack/oauth_redirect?code=code-forged&state=made-up")
    assert status >= 400 and "code-forged" in fake.teams   # never exchanged
    status, headers, _ = browser.get("/slack/install")
    state = urllib.parse.parse_qs(urllib.parse.urlparse(headers["Location"]).query)["state"][0]
    fake.teams["code-once"] = Team("T0ONCE")
    assert browser.get(f"/slack/oauth_redirect?code=code-once&state={state}")[0] == 200
    fake.teams["code-twice"] = Team("T0TWICE")
    assert browser.get(f"/slack/oauth_redirect?code=code-twice&state={state}")[0] >= 400
    assert "code-twice" in fake.teams   # never exchanged


def test_each_team_sees_only_its_own_statistics(browser, fake, server):
    browser.install(fake, Team("T0CCC"))
    browser.install(fake, Team("T0DDD"))
    send(server, event_for("T0CCC", "INT035", "1700090001.000001", channel="C0CCC"))
    send(server, event_for("T0CCC", "our exports keep failing with some error nobody has seen before",
                           "1700090001.000002", channel="C0CCC", event_type="app_mention"))
    eventually(lambda: fake.posts_in("1700090001.000001") and fake.posts_in("1700090001.000002"))
    runtime = server.runtime
    fixit, store = runtime.reloader.current, runtime.store
    mine, theirs = (json.dumps(home_view(fixit, store, team=t)) for t in ("T0CCC", "T0DDD"))
    assert "INT035" in mine and "INT035" not in theirs
    assert store.unmatched_count(team="T0CCC") == 1 and store.unmatched_count(team="T0DDD") == 0


def test_the_uninstall_listeners_get_the_arguments_bolt_would_give_them(server):
    """The OAuth app's own listeners (methods of `Uninstalls`) are called as Bolt would call them."""
    bodies = [(json.dumps(envelope({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UB"]}})),
               "application/json"),
              (json.dumps(envelope({"type": "app_uninstalled"})), "application/json")]
    assert same_arguments_as_bolt(server.runtime.app, bodies) == 2


def test_tokens_revoked_removes_the_installation_and_the_team_is_not_answered(browser, fake, server):
    browser.install(fake, Team("T0REV"))
    send(server, event_for("T0REV", "INT771", "1700090002.000001"))
    eventually(lambda: fake.posts_in("1700090002.000001"))
    revoked = envelope({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UT0REVBOT"]}})
    revoked.update(team_id="T0REV", authorizations=[{"team_id": "T0REV", "enterprise_id": None}])
    assert send(server, revoked)[0] == 200
    store = server.runtime.app.installation_store
    eventually(lambda: store.find_bot(enterprise_id=None, team_id="T0REV") is None)
    send(server, event_for("T0REV", "INT771", "1700090002.000002"))
    fake.settle(1.0)
    assert fake.posts_in("1700090002.000002") == []


def test_an_uninstalled_team_loses_its_installation_and_its_data(browser, fake, server):
    browser.install(fake, Team("T0BYE"))
    send(server, event_for("T0BYE", "INT771", "1700090003.000001", channel="C0BYE"))
    eventually(lambda: fake.posts_in("1700090003.000001"))
    assert server.runtime.store.most_answered(team="T0BYE")
    gone = envelope({"type": "app_uninstalled"})
    gone.update(team_id="T0BYE", authorizations=[{"team_id": "T0BYE", "enterprise_id": None}])
    assert send(server, gone)[0] == 200
    eventually(lambda: server.runtime.app.installation_store.find_installation(
        enterprise_id=None, team_id="T0BYE") is None and not server.runtime.store.most_answered(team="T0BYE"))


def test_a_rotating_token_about_to_expire_is_refreshed_before_answering(browser, fake, server):
    browser.install(fake, Team("T0ROT", expires_in=60))   # Bolt refreshes tokens that expire within 2 hours
    send(server, event_for("T0ROT", "INT771", "1700090004.000001"))
    eventually(lambda: fake.posts_in("1700090004.000001"))
    (post,) = fake.posts_in("1700090004.000001")
    refreshes = [c for c in fake.of("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"]
    assert refreshes and post.token == "xoxe.xoxb-T0ROT-2"


def test_an_org_wide_install_answers_every_workspace_of_the_org(browser, fake, server):
    assert browser.install(fake, Team("E0ORG", enterprise="E0ORG", org_wide=True)) == 200
    send(server, event_for("T0ORGA", "INT771", "1700090005.000001", enterprise="E0ORG", org_wide=True))
    send(server, event_for("T0ORGB", "NS0012", "1700090005.000002", enterprise="E0ORG", org_wide=True))
    eventually(lambda: fake.posts_in("1700090005.000001") and fake.posts_in("1700090005.000002"))
    assert {p.token for ts in ("1700090005.000001", "1700090005.000002") for p in fake.posts_in(ts)} == {
        "xoxe.xoxb-E0ORG-1"}


def test_an_org_wide_installs_app_home_shows_only_that_workspaces_statistics(browser, fake, server):
    """Bolt has no team for an org-wide install: the workspace the request came from is whose data it is."""
    browser.install(fake, Team("E0HOME", enterprise="E0HOME", org_wide=True))
    send(server, event_for("T0HOMEA", "INT088", "1700090009.000001", enterprise="E0HOME", org_wide=True))
    send(server, event_for("T0HOMEB", "ONL888", "1700090009.000002", enterprise="E0HOME", org_wide=True))
    eventually(lambda: fake.posts_in("1700090009.000001") and fake.posts_in("1700090009.000002"))
    fake.forget_calls()
    opened = envelope({"type": "app_home_opened", "user": "U0HOMEA", "channel": "D0HOME", "tab": "home"})
    opened.update(team_id="T0HOMEA", enterprise_id="E0HOME", authorizations=[
        {"enterprise_id": "E0HOME", "team_id": None, "user_id": "UFIXIT", "is_bot": True,
         "is_enterprise_install": True}])
    send(server, opened)
    (published,) = fake.wait_for("views.publish")
    view = published.args["view"]
    view = json.dumps(view if isinstance(view, dict) else json.loads(view))
    assert "INT088" in view and "ONL888" not in view and "INT035" not in view


def test_in_a_shared_channel_the_receiving_teams_installation_answers(browser, fake, server):
    browser.install(fake, Team("T0HOST"))
    # someone of T0GUEST (which has not installed Fixit) writes in a channel shared with T0HOST
    send(server, event_for("T0GUEST", "INT771", "1700090006.000001", installed_for="T0HOST"))
    eventually(lambda: fake.posts_in("1700090006.000001"))
    (post,) = fake.posts_in("1700090006.000001")
    assert post.token.startswith("xoxe.xoxb-T0HOST-")


def test_a_team_admin_sets_a_channels_mode_with_fixit_config(browser, fake, server):
    browser.install(fake, Team("T0CFG", admins=("UADMIN",)))
    sender = SlackSender(server.url)

    def config(text: str, user: str, name: str):
        return sender.command(text, fake.response_url(name), channel="C0CFG", user=user, team="T0CFG",
                              channel_name="exports")

    status, body = config("config off", "UNOTADMIN", "c0")
    assert status == 200 and "admins" in json.loads(body)["text"].lower()
    status, body = config("config off", "UADMIN", "c1")
    assert "I now run *off*" in json.loads(body)["blocks"][0]["text"]["text"]
    send(server, event_for("T0CFG", "INT771", "1700090007.000001", channel="C0CFG"))
    send(server, event_for("T0CFG", "INT771", "1700090007.000002", channel="C0OTHER"))
    eventually(lambda: fake.posts_in("1700090007.000002"))
    fake.settle()
    assert fake.posts_in("1700090007.000001") == []
    status, body = config("config", "UNOTADMIN", "c2")
    assert "I run *off*" in json.loads(body)["blocks"][0]["text"]["text"]


@pytest.mark.skipif(not os.environ.get("FIXIT_TEST_POSTGRES_URL"),
                    reason="set FIXIT_TEST_POSTGRES_URL (.ci/run starts a PostgreSQL when it can)")
def test_two_instances_on_one_postgresql_share_installations(fake, tmp_path):
    from sqlalchemy import create_engine, text

    url = os.environ["FIXIT_TEST_POSTGRES_URL"]
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in ("slack_installations", "slack_bots", "slack_oauth_states"):
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()
    first = FixitServer(build_runtime(settings_for(fake, url), watch=False))
    second = FixitServer(build_runtime(settings_for(fake, url), watch=False))
    try:
        assert Browser(first.url.removesuffix("/slack/events")).install(fake, Team("T0PGA")) == 200
        ts = f"{time.time():.6f}"   # the database outlives the run: a thread of its own
        send(second, {**event_for("T0PGA", "INT771", ts), "event_id": f"EvPG{ts}"})
        eventually(lambda: fake.posts_in(ts))
        assert fake.posts_in(ts)[0].token.startswith("xoxe.xoxb-T0PGA-")
    finally:
        first.close()
        second.close()


def test_oauth_settings_are_named_when_half_there():
    with pytest.raises(ValueError, match="SLACK_CLIENT_SECRET is not set"):
        Settings.load(env={"SLACK_CLIENT_ID": "1.2"}, env_file=None)


def test_another_instances_revocation_is_seen_and_an_outage_answers_known_teams(fake, tmp_path):
    """Two instances on one database: what one deletes, the other stops answering with once its kept copy is
    older than its keep time; and while the installation tables cannot be read, a team already seen is still
    answered with the installation last read."""
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = FixitServer(build_runtime(settings_for(fake, url), watch=False))
    second = FixitServer(build_runtime(settings_for(fake, url), watch=False))
    try:
        assert Browser(first.url.removesuffix("/slack/events")).install(fake, Team("T0TWO")) == 200
        send(second, event_for("T0TWO", "INT771", "1700090010.000001"))
        eventually(lambda: fake.posts_in("1700090010.000001"))

        second.runtime.app.installation_store.keep_seconds = 0   # read again each time: fall back only on failure
        engine = create_engine(url, connect_args={"timeout": 30})   # the servers write the same file meanwhile
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE slack_bots RENAME TO slack_bots_away"))
            conn.execute(text("ALTER TABLE slack_installations RENAME TO slack_installations_away"))
        send(second, event_for("T0TWO", "INT771", "1700090010.000002"))
        eventually(lambda: fake.posts_in("1700090010.000002"), timeout=30)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE slack_bots_away RENAME TO slack_bots"))
            conn.execute(text("ALTER TABLE slack_installations_away RENAME TO slack_installations"))
        engine.dispose()

        revoked = envelope({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UT0TWOBOT"]}})
        revoked.update(team_id="T0TWO", authorizations=[{"team_id": "T0TWO", "enterprise_id": None}])
        assert send(first, revoked)[0] == 200
        eventually(lambda: first.runtime.app.installation_store.find_installation(
            enterprise_id=None, team_id="T0TWO") is None)
        send(second, event_for("T0TWO", "INT771", "1700090010.000003"))
        fake.settle(1.0)
        assert fake.posts_in("1700090010.000003") == []
    finally:
        first.close()
        second.close()
