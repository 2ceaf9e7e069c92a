"""Live workspace checks against loopback fakes that speak Sage Intacct XML, QuickBooks Online and Xero JSON."""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime

import pytest
from checks_fakes import SENDER, SESSION, USER, FakeIntacct, qbo_fake, xero_fake
from conftest import run_cli

from bot.checks.runner import CheckRunner
from bot.checks.workspaces import WorkspacesError, load_workspaces
from bot.checks.xero import xero_date

PASTE = ("INT771 Export Error: Export not completed. The batches for this reporting period are closed in Sage "
         "Intacct. Reopen the period or change the export date in Workspace configurations. (report R0012)")
TODAY = date(2026, 4, 2)


def settings_file(tmp_path, export_date="SUBMITTED"):
    path = tmp_path / "acme-settings.yaml"
    path.write_text(f"connection: intacct\nconfig:\n  export:\n    exportDate: {export_date}\n"
                    "reports:\n  - reportID: R0012\n    submitted: 2026-03-28\n    lastExpenseDate: 2026-03-20\n",
                    encoding="utf-8")
    return path


def workspaces_file(tmp_path, monkeypatch, intacct=None, qbo=None, xero=None, export_date="SUBMITTED"):
    settings_file(tmp_path, export_date)
    monkeypatch.setenv("T_SENDER_PW", SENDER[1])
    monkeypatch.setenv("T_USER_PW", USER[2])
    monkeypatch.setenv("T_QBO", "qbo-t0ken-xyz")
    monkeypatch.setenv("T_XERO", "xero-t0ken-xyz")
    providers = ["      - type: settings_file\n        path: acme-settings.yaml\n"]
    if intacct:
        providers.append(f"      - type: sage_intacct\n        endpoint: {intacct.url}/ia/xml/xmlgw.phtml\n"
                         f"        sender_id: {SENDER[0]}\n        sender_password_env: T_SENDER_PW\n"
                         f"        company_id: {USER[0]}\n        user_id: {USER[1]}\n"
                         "        user_password_env: T_USER_PW\n")
    if qbo:
        providers.append(f"      - type: quickbooks_online\n        realm_id: '42'\n        token_env: T_QBO\n"
                         f"        base_url: {qbo.url}\n")
    if xero:
        providers.append(f"      - type: xero\n        tenant_id: tenant-1\n        token_env: T_XERO\n"
                         f"        base_url: {xero.url}/api.xro/2.0\n")
    path = tmp_path / "workspaces.yml"
    path.write_text("workspaces:\n  - name: acme\n    channels: [CACME]\n    teams: [T0001]\n    admins: [UADMIN]\n"
                    "    providers:\n" + "".join(providers), encoding="utf-8")
    return path


@pytest.fixture
def intacct():
    fake = FakeIntacct()
    yield fake
    fake.close()


@pytest.fixture
def qbo():
    fake = qbo_fake("qbo-t0ken-xyz", book_close="2026-03-31")
    yield fake
    fake.close()


@pytest.fixture
def xero():
    millis = int(datetime(2026, 3, 31, tzinfo=UTC).timestamp() * 1000)
    fake = xero_fake("xero-t0ken-xyz", period_lock=f"/Date({millis}+0000)/", year_end="2025-12-31T00:00:00")
    yield fake
    fake.close()


def run_checks(kb, path, entry_id="INT771", paste=PASTE, runner=None):
    runner = runner or CheckRunner(today=lambda: TODAY)
    return runner.run(load_workspaces(path).get("acme"), kb.get(entry_id), paste)


def test_intacct_happy_path_says_which_fix_applies(kb, tmp_path, monkeypatch, intacct):
    report = run_checks(kb, workspaces_file(tmp_path, monkeypatch, intacct=intacct))
    text = "\n".join(report.lines)
    assert ("Your workspace exports with *Submitted date*; report R0012 was submitted on 03/28/2026, and the Sage "
            "Intacct AP summary 'Bills March 2026' and expense summary 'Expenses March 2026' for March 2026 are "
            "closed → *switch the export date to Exported date*") in text
    assert "the integration user `xml_gateway` lacks the Close books permission → *give it the Open books" in text
    assert report.failures == {} and report.bad_credentials == []
    # the request envelope: login first, then the read functions on the session
    first, second = intacct.requests[0][3].decode(), intacct.requests[1][3].decode()
    assert "<getAPISession/>" in first and f"<password>{USER[2]}</password>" in first
    assert f"<sessionid>{SESSION}</sessionid>" in second and "<object>APBILLBATCH</object>" in second
    assert "<value>03/01/2026</value>" in second and "<value>03/31/2026</value>" in second


def test_open_period_and_granted_permissions(kb, tmp_path, monkeypatch, intacct):
    intacct.batches = {"APBILLBATCH": [("Bills March 2026", "03/31/2026", "Open")]}
    intacct.policies = {"Open books": "Enable", "Close books": "Enable"}
    text = "\n".join(run_checks(kb, workspaces_file(tmp_path, monkeypatch, intacct=intacct)).lines)
    assert "the Sage Intacct summaries for March 2026 are open, so a closed period is not what stopped" in text
    assert "has the Open books and Close books permissions, so the permissions fix is already in place" in text


def test_exported_date_setting_checks_todays_period(kb, tmp_path, monkeypatch, intacct):
    intacct.batches = {"APBILLBATCH": [("Bills April 2026", "04/30/2026", "Open")]}
    text = "\n".join(run_checks(kb, workspaces_file(tmp_path, monkeypatch, intacct=intacct,
                                                     export_date="EXPORTED")).lines)
    assert "an export today would post on 04/02/2026" in text
    assert "<value>04/01/2026</value>" in intacct.requests[1][3].decode()


@pytest.mark.parametrize("mode, reason, bad_credentials", [
    ("control_fail", "the request was refused (XL03000006: Incorrect Intacct XML Partner ID or password.)", True),
    ("auth_fail", "sign-in failed (XL03000006: Sign-in information is incorrect)", True),
    ("result_fail", "query failed (BL01001973: You do not have permission for this query.)", False),
    ("broken_xml", "unreadable response (malformed XML)", False),
    ("http500", "server error (HTTP 500)", False),
])
def test_each_intacct_failure_degrades_to_a_note(kb, tmp_path, monkeypatch, intacct, mode, reason, bad_credentials):
    intacct.mode = mode
    report = run_checks(kb, workspaces_file(tmp_path, monkeypatch, intacct=intacct))
    assert report.failures == {"Sage Intacct": reason}
    assert report.lines == [f"Couldn't verify the period in Sage Intacct (Sage Intacct: {reason}).",
                            f"Couldn't verify the integration user's permissions (Sage Intacct: {reason})."]
    assert (report.bad_credentials == ["Sage Intacct"]) is bad_credentials


def test_a_hanging_provider_is_cut_off_by_the_budget(kb, tmp_path, monkeypatch, intacct):
    intacct.mode = "hang"
    started = time.monotonic()
    report = run_checks(kb, workspaces_file(tmp_path, monkeypatch, intacct=intacct),
                        runner=CheckRunner(budget=1.0, today=lambda: TODAY))
    assert time.monotonic() - started < 3
    assert report.failures == {"Sage Intacct": "timed out"}


def test_results_are_cached(kb, tmp_path, monkeypatch, intacct):
    path = workspaces_file(tmp_path, monkeypatch, intacct=intacct)
    runner = CheckRunner(today=lambda: TODAY)
    first = run_checks(kb, path, runner=runner)
    count = len(intacct.requests)
    second = run_checks(kb, path, runner=runner)
    assert second.lines == first.lines and len(intacct.requests) == count
    expired = CheckRunner(today=lambda: TODAY, cache_seconds=0)
    run_checks(kb, path, runner=expired)
    run_checks(kb, path, runner=expired)
    assert len(intacct.requests) == count + 4


def test_secrets_never_reach_logs_or_messages(kb, tmp_path, monkeypatch, intacct, caplog):
    intacct.mode = "auth_fail"
    with caplog.at_level(logging.DEBUG):
        report = run_checks(kb, workspaces_file(tmp_path, monkeypatch, intacct=intacct))
        logging.getLogger("fixit.checks").warning("debug dump <password>%s</password> %s", USER[2], SENDER[1])
    everything = caplog.text + "\n".join(report.lines) + str(report.failures)
    for secret in (USER[2], SENDER[1], SESSION):
        assert secret not in everything
    assert "***" in caplog.text


def test_quickbooks_online_book_close_date(kb, tmp_path, monkeypatch, qbo):
    report = run_checks(kb, workspaces_file(tmp_path, monkeypatch, qbo=qbo), entry_id="ONL888",
                        paste="ONL888 on report R0012")
    assert report.lines == ["Your workspace exports with *Submitted date*; report R0012 was submitted on "
                            "03/28/2026, but the QuickBooks Online books are closed through 03/31/2026 → "
                            "*change the export date* or reopen the period."]
    method, path, headers, _ = qbo.requests[0]
    assert path.startswith("/v3/company/42/preferences") and headers["Authorization"] == "Bearer qbo-t0ken-xyz"


@pytest.mark.parametrize("fake_name, entry_id, what", [
    ("qbo", "ONL888", "Couldn't verify the book close date in QuickBooks Online (QuickBooks Online: {})."),
    ("xero", "XERO33", "Couldn't verify Xero's lock dates (Xero: {})."),
])
@pytest.mark.parametrize("mode, reason", [
    ("unauthorized", "credentials were rejected (HTTP 401)"), ("rate_limited", "rate limited (HTTP 429)"),
    ("http500", "server error (HTTP 503)"), ("broken_json", "unreadable response (malformed JSON)"),
])
def test_json_provider_failures_degrade_to_a_note(kb, tmp_path, monkeypatch, request, fake_name, entry_id, what,
                                                  mode, reason):
    fake = request.getfixturevalue(fake_name)
    fake.mode = mode
    report = run_checks(kb, workspaces_file(tmp_path, monkeypatch, **{fake_name: fake}), entry_id=entry_id,
                        paste=f"{entry_id} R0012")
    name = "QuickBooks Online" if fake_name == "qbo" else "Xero"
    assert report.failures == {name: reason}
    assert report.lines == [what.format(reason)]
    assert (report.bad_credentials == [name]) is (mode == "unauthorized")


def test_xero_lock_dates(kb, tmp_path, monkeypatch, xero):
    report = run_checks(kb, workspaces_file(tmp_path, monkeypatch, xero=xero), entry_id="XERO33",
                        paste="XERO33 R0012")
    assert report.lines == ["Your workspace exports with *Submitted date*; report R0012 was submitted on "
                            "03/28/2026, on or before the lock: Xero's lock date is 03/31/2026 → *move the lock "
                            "date* in Xero, or export with a later date."]
    assert xero.requests[0][2]["Xero-tenant-id"] == "tenant-1"
    assert xero_date("/Date(1711843200000+0000)/") == date(2024, 3, 31)
    assert xero_date("2024-03-31T00:00:00") == date(2024, 3, 31) and xero_date("") is None


def test_providers_of_another_system_are_not_asked(kb, tmp_path, monkeypatch, intacct):
    report = run_checks(kb, workspaces_file(tmp_path, monkeypatch, intacct=intacct), entry_id="ONL888")
    assert intacct.requests == []
    assert report.lines == []  # nothing confirmed about QuickBooks Online: nothing said


def test_workspaces_file_rejects_written_secrets_and_names_the_problem(tmp_path):
    bad = tmp_path / "w.yml"
    bad.write_text("workspaces:\n  - name: acme\n    providers:\n      - type: xero\n        tenant_id: t\n"
                   "        token: abc\n", encoding="utf-8")
    with pytest.raises(WorkspacesError, match="token must not be written in the file"):
        load_workspaces(bad)
    bad.write_text("workspaces:\n  - name: acme\n    providers:\n      - type: sage_intacct\n", encoding="utf-8")
    with pytest.raises(WorkspacesError, match="sage_intacct provider needs company_id"):
        load_workspaces(bad)
    bad.write_text("workspaces:\n  - name: acme\n    providers:\n      - type: xero\n        tenant_id: t\n"
                   "        token_env: SLACK_BOT_TOKEN\n        base_url: https://collector.example\n",
                   encoding="utf-8")
    with pytest.raises(WorkspacesError, match="token_env: SLACK_BOT_TOKEN is one of Fixit's or Slack's own settings"):
        load_workspaces(bad)
    bad.write_text("workspaces: [", encoding="utf-8")
    with pytest.raises(WorkspacesError, match=r"w\.yml:1: malformed YAML"):
        load_workspaces(bad)


def test_missing_credential_env_var_is_a_note_not_a_crash(kb, tmp_path, monkeypatch, intacct):
    path = workspaces_file(tmp_path, monkeypatch, intacct=intacct)
    monkeypatch.delenv("T_USER_PW")
    report = run_checks(kb, path)
    assert "T_USER_PW is empty: set it in the environment or .env" in " ".join(report.lines)


def test_provider_secrets_set_in_dotenv_reach_the_checks(tmp_path, monkeypatch, intacct):
    """`.env` fills in what the environment leaves unset, secrets named by FIXIT_WORKSPACES included: `ask`
    run from a folder whose .env holds the Intacct passwords (and the environment does not) checks with them."""
    from conftest import cli_env

    path = workspaces_file(tmp_path, monkeypatch, intacct=intacct)
    (tmp_path / ".env").write_text(f"T_SENDER_PW={SENDER[1]}\nT_USER_PW='{USER[2]}'\n", encoding="utf-8")
    env = {k: v for k, v in cli_env(FIXIT_WORKSPACES=str(path)).items() if not k.startswith("T_")}
    done = run_cli("ask", "--workspace", "acme", PASTE, cwd=tmp_path, env=env)
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr
    assert "Sage Intacct AP summary 'Bills March 2026'" in out and "credential not configured" not in out
    assert intacct.requests  # signed in with the passwords from .env
    (tmp_path / ".env").unlink()
    without = run_cli("ask", "--workspace", "acme", PASTE, cwd=tmp_path, env=env)
    assert "T_SENDER_PW is empty: set it in the environment or .env" in without.stdout.decode()


def test_cli_ask_with_workspace(tmp_path, monkeypatch, intacct):
    path = workspaces_file(tmp_path, monkeypatch, intacct=intacct)
    done = run_cli("ask", "--workspaces", str(path), "--workspace", "acme", PASTE)
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr
    assert "*Your workspace*" in out
    assert "Your workspace exports with *Submitted date*; report R0012 was submitted on 03/28/2026" in out
    missing = run_cli("ask", "--workspaces", str(path), "--workspace", "nope", "INT771")
    assert missing.returncode == 2 and b"no workspace named 'nope'" in missing.stderr
    intacct.mode = "auth_fail"
    degraded = run_cli("ask", "--workspaces", str(path), "--workspace", "acme", PASTE)
    text = degraded.stdout.decode()
    assert degraded.returncode == 0 and "1. Sign in to Sage Intacct" in text
    assert "Couldn't verify the period in Sage Intacct" in text
    assert USER[2].encode() not in degraded.stdout + degraded.stderr


def test_settings_file_in_json_with_last_expense_date(tmp_path):
    import json

    from bot.checks.base import Question
    from bot.checks.settings_file import SettingsFile, posting_date

    path = tmp_path / "s.json"
    path.write_text(json.dumps({"connection": "xero", "config": {
        "export": {"exportDate": "LAST_EXPENSE", "exporter": "ap@globex.example"},
        "autoSync": {"enabled": False}, "postToNextOpenPeriod": True},
        "reports": [{"reportID": "R00J5K2LM8P", "submitted": "2026-03-28", "lastExpenseDate": "2026-02-27"}]}),
        encoding="utf-8")
    provider = SettingsFile(path)
    facts = provider.facts(Question("globex", None))
    assert facts["export_date"].value == "last_expense"
    assert facts["export_date"].text == "Your workspace exports with *Date of last expense*"
    assert facts["auto_sync"].value is False and facts["post_to_next_open_period"].value is True
    assert facts["preferred_exporter"].value == "ap@globex.example"
    day, text = posting_date("last_expense", "R00J5K2LM8P", provider.reports()["R00J5K2LM8P"], TODAY)
    assert day == date(2026, 2, 27) and text == "report R00J5K2LM8P has its last expense on 02/27/2026"
    assert posting_date("submitted", "R404", {}, TODAY) is None
    path.write_text("{not json", encoding="utf-8")
    from bot.checks.base import ProviderError
    with pytest.raises(ProviderError, match="not valid YAML/JSON"):
        provider.facts(Question("globex", None))


def test_the_facts_a_kb_entry_may_check_are_the_facts_providers_give():
    """The KB schema keeps its own list (loading the KB must not import the providers): it may not drift."""
    from bot.checks.intacct import SageIntacct
    from bot.checks.quickbooks_online import QuickBooksOnline
    from bot.checks.settings_file import SettingsFile
    from bot.checks.xero import Xero
    from bot.kb.schema import FACTS

    given = SageIntacct.provides | QuickBooksOnline.provides | Xero.provides | SettingsFile.provides
    assert FACTS == given | {"posting_date"}  # the runner works out the posting date from the settings


def test_a_workspace_that_names_its_teams_is_checked_only_for_them(tmp_path):
    """Slack Connect: a channel of acme's shared with another company. Acme's events there are checked against
    acme's accounts; the other company's are not."""
    path = tmp_path / "workspaces.yml"
    path.write_text("workspaces:\n  - name: acme\n    channels: [C0SHARED]\n    teams: [T0ACME]\n"
                    "  - name: open\n    channels: [C0OPEN]\n", encoding="utf-8")
    workspaces = load_workspaces(path)
    assert workspaces.for_channel("C0SHARED", "T0ACME").name == "acme"
    assert workspaces.for_channel("C0SHARED", "T0GUEST") is None
    assert workspaces.for_conversation("C0SHARED", "T0GUEST") is None
    assert workspaces.for_channel("C0OPEN", "T0ANY").name == "open"   # no teams named: the channel decides
