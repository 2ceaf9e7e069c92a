"""Loopback fakes of the systems live checks ask: a Sage Intacct XML gateway that parses the request
envelope (control, authentication, functions), and QuickBooks Online / Xero JSON APIs."""

from __future__ import annotations

import json
import time
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from loopback import LoopbackServer

SENDER = ("acme-sender", "s3nder-Pa55")
USER = ("ACME", "xml_gateway", "us3r-Pa55")
SESSION = "SeSsIoN-0123456789abcdef"


class ProviderFake(LoopbackServer):
    """A provider's API: records every request; `mode` makes it fail the way a real one can."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict, bytes]] = []
        self.mode = "ok"
        super().__init__()

    def respond(self, method, path, headers, body):
        self.requests.append((method, path, headers, body))
        if self.mode == "hang":
            time.sleep(30)
            return None
        status, content_type, payload = self.reply(method, path, headers, body)
        return status, {"Content-Type": content_type, **({"Retry-After": "30"} if status == 429 else {})}, payload

    def reply(self, method, path, headers, body) -> tuple[int, str, bytes]:
        raise NotImplementedError


def _error(number: str, text: str) -> str:
    return (f"<errormessage><error><errorno>{number}</errorno><description></description>"
            f"<description2>{escape(text)}</description2><correction></correction></error></errormessage>")


class FakeIntacct(ProviderFake):
    """Modes: ok, control_fail, auth_fail, result_fail, broken_xml, http500, hang."""

    def __init__(self) -> None:
        super().__init__()
        self.batches = {"APBILLBATCH": [("Bills March 2026", "03/31/2026", "Closed")],
                        "EEXPENSESBATCH": [("Expenses March 2026", "03/31/2026", "Closed")]}
        self.user_status = "active"
        self.policies = {"Open books": "Enable", "Close books": "None"}

    def reply(self, method, path, headers, body):
        if self.mode == "http500":
            return 500, "text/plain", b"oops"
        if self.mode == "broken_xml":
            return 200, "text/xml", b"<response><control><status>success</status>"
        request = ElementTree.fromstring(body)
        control = request.find("control")
        sender_ok = (control.findtext("senderid"), control.findtext("password")) == SENDER
        control_xml = (f"<control><status>{'success' if sender_ok and self.mode != 'control_fail' else 'failure'}"
                       f"</status><senderid>{escape(control.findtext('senderid') or '')}</senderid>"
                       f"<controlid>{escape(control.findtext('controlid') or '')}</controlid>"
                       "<uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control>")
        if not sender_ok or self.mode == "control_fail":
            return 200, "text/xml", (f"<response>{control_xml}"
                                     f"{_error('XL03000006', 'Incorrect Intacct XML Partner ID or password.')}"
                                     "</response>").encode()
        auth = request.find("operation/authentication")
        login = auth.find("login")
        if login is not None:
            auth_ok = (login.findtext("companyid"), login.findtext("userid"), login.findtext("password")) == USER
        else:
            auth_ok = auth.findtext("sessionid") == SESSION
        if not auth_ok or self.mode == "auth_fail":
            return 200, "text/xml", (f"<response>{control_xml}<operation><authentication><status>failure</status>"
                                     f"<userid>{escape(USER[1])}</userid><companyid>ACME</companyid></authentication>"
                                     f"{_error('XL03000006', 'Sign-in information is incorrect')}"
                                     "</operation></response>").encode()
        results = "".join(self.result(f) for f in request.findall("operation/content/function"))
        return 200, "text/xml", (f"<response>{control_xml}<operation><authentication><status>success</status>"
                                 f"<userid>{USER[1]}</userid><companyid>ACME</companyid><sessiontimestamp>"
                                 f"2026-03-30T10:00:00-07:00</sessiontimestamp></authentication>{results}"
                                 "</operation></response>").encode()

    def result(self, function) -> str:
        cid = function.get("controlid")
        call = function[0]
        name = call.tag
        if self.mode == "result_fail" and name != "getAPISession":
            return (f"<result><status>failure</status><function>{name}</function><controlid>{cid}</controlid>"
                    f"{_error('BL01001973', 'You do not have permission for this query.')}</result>")
        if name == "getAPISession":
            data = (f"<data><api><sessionid>{SESSION}</sessionid><endpoint>{self.url}/ia/xml/xmlgw.phtml</endpoint>"
                    "</api></data>")
        elif name == "query":
            obj = call.findtext("object")
            if obj == "USERINFO":
                login = call.findtext("filter/equalto/value")
                data = (f'<data listtype="USERINFO" count="1"><USERINFO><LOGINID>{escape(login)}</LOGINID>'
                        f"<STATUS>{self.user_status}</STATUS></USERINFO></data>")
            else:
                rows = "".join(f"<{obj}><RECORDNO>{i}</RECORDNO><TITLE>{escape(t)}</TITLE><BATCHDATE>{d}</BATCHDATE>"
                               f"<OPEN>{o}</OPEN><STATUS>active</STATUS></{obj}>"
                               for i, (t, d, o) in enumerate(self.batches.get(obj, []), 1))
                data = f'<data listtype="{obj}" count="{len(self.batches.get(obj, []))}">{rows}</data>'
        elif name == "getUserPermissions":
            policies = "".join(f"<policy><policyName>{p}</policyName><rights>{r}</rights></policy>"
                               for p, r in self.policies.items())
            data = ("<data><permissions><appSubscription><applicationName>General Ledger</applicationName>"
                    f"<policies>{policies}</policies></appSubscription></permissions></data>")
        else:
            data = "<data/>"
        return (f"<result><status>success</status><function>{name}</function><controlid>{cid}</controlid>"
                f"{data}</result>")


class FakeJsonApi(ProviderFake):
    """QuickBooks Online or Xero. Modes: ok, unauthorized, rate_limited, http500, broken_json, hang."""

    def __init__(self, token: str, body: dict) -> None:
        super().__init__()
        self.token, self.body = token, body

    def reply(self, method, path, headers, body):
        if headers.get("Authorization") != f"Bearer {self.token}" or self.mode == "unauthorized":
            return 401, "application/json", b'{"Fault":{"Error":[{"Message":"AuthenticationFailed"}]}}'
        if self.mode == "rate_limited":
            return 429, "application/json", b'{"Fault":{"type":"ThrottleExceeded"}}'
        if self.mode == "http500":
            return 503, "application/json", b"{}"
        if self.mode == "broken_json":
            return 200, "application/json", b'{"Preferences": {'
        return 200, "application/json", json.dumps(self.body).encode()


def qbo_fake(token: str, book_close: str | None = "2026-03-31") -> FakeJsonApi:
    prefs = {"AccountingInfoPrefs": {"TrackDepartments": False}}
    if book_close:
        prefs["AccountingInfoPrefs"]["BookCloseDate"] = book_close
    return FakeJsonApi(token, {"Preferences": prefs, "time": "2026-04-02T10:00:00-07:00"})


def xero_fake(token: str, period_lock: str = "/Date(1711843200000+0000)/", year_end: str = "") -> FakeJsonApi:
    org = {"Name": "Globex", "PeriodLockDate": period_lock, "OrganisationID": "org-1"}
    if year_end:
        org["EndOfYearLockDate"] = year_end
    return FakeJsonApi(token, {"Id": "x", "Status": "OK", "Organisations": [org]})
