"""Sage Intacct XML Web Services (read-only): are the summaries covering a date closed, and may the
integration user post into closed periods?

One session per check: `getAPISession` with the sender and user credentials, then one request on that
session holding the read functions (`query` on APBILLBATCH and EEXPENSESBATCH, `query` on USERINFO,
`getUserPermissions`). Each of the response's three levels (control, authentication, result) can fail.
"""

from __future__ import annotations

import calendar
import itertools
import logging
from datetime import date
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import httpx
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from bot.checks.base import Fact, ProviderError, Question, http_client, http_failure
from bot.checks.redact import REDACT, RedactingFilter

log = logging.getLogger("fixit.checks.intacct")
log.addFilter(RedactingFilter())

DEFAULT_ENDPOINT = "https://api.intacct.com/ia/xml/xmlgw.phtml"
BOOKS_POLICIES = ("open books", "close books")
NOT_GRANTED = {"", "none", "no", "disable", "disabled", "false"}
_control_ids = itertools.count(1)


class SageIntacct:
    name = "Sage Intacct"
    system = "Sage Intacct"
    provides = frozenset({"period_closed", "integration_user_active", "books_permission"})

    def __init__(self, sender_id: str, sender_password: str, company_id: str, user_id: str, user_password: str,
                 endpoint: str = DEFAULT_ENDPOINT, integration_user: str = "") -> None:
        self.endpoint = endpoint
        self.sender_id, self.sender_password = sender_id, sender_password
        self.company_id, self.user_id, self.user_password = company_id, user_id, user_password
        self.integration_user = integration_user or user_id
        REDACT.add(sender_password, user_password)

    # -- the wire --

    def envelope(self, auth: str, functions: list[tuple[str, str]]) -> bytes:
        content = "".join(f'<function controlid="{cid}">{body}</function>' for cid, body in functions)
        return (
            '<?xml version="1.0" encoding="UTF-8"?><request><control>'
            f"<senderid>{escape(self.sender_id)}</senderid><password>{escape(self.sender_password)}</password>"
            f"<controlid>fixit-{next(_control_ids)}</controlid><uniqueid>false</uniqueid>"
            "<dtdversion>3.0</dtdversion><includewhitespace>false</includewhitespace></control>"
            f"<operation><authentication>{auth}</authentication><content>{content}</content></operation></request>"
        ).encode()

    def post(self, client: httpx.Client, url: str, body: bytes) -> dict[str, Element]:
        """Send a request; the results by control id, or ProviderError for any failed level."""
        try:
            response = client.post(url, content=body, headers={"Content-Type": "application/xml"})
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise http_failure(exc) from None
        try:
            root = ElementTree.fromstring(response.content)
        except (ElementTree.ParseError, DefusedXmlException, ValueError):
            raise ProviderError("unreadable response (malformed XML)") from None
        if root.tag != "response":
            raise ProviderError("unreadable response (not an Intacct response)")
        if _text(root, "control/status") != "success":
            raise ProviderError(f"the request was refused ({_error(root)})", bad_credentials=True)
        if _text(root, "operation/authentication/status") != "success":
            raise ProviderError(f"sign-in failed ({_error(root.find('operation'))})", bad_credentials=True)
        results = {}
        for result in root.findall("operation/result"):
            if _text(result, "status") != "success":
                raise ProviderError(f"{_text(result, 'function') or 'a function'} failed ({_error(result)})")
            results[_text(result, "controlid")] = result
        return results

    def login(self, client: httpx.Client) -> tuple[str, str]:
        login = (f"<login><userid>{escape(self.user_id)}</userid><companyid>{escape(self.company_id)}</companyid>"
                 f"<password>{escape(self.user_password)}</password></login>")
        result = self.post(client, self.endpoint, self.envelope(login, [("session", "<getAPISession/>")]))
        session = _text(result.get("session"), "data/api/sessionid")
        endpoint = _text(result.get("session"), "data/api/endpoint") or self.endpoint
        if not session:
            raise ProviderError("unreadable response (no session id)")
        REDACT.add(session)
        return session, endpoint

    # -- the facts --

    def facts(self, question: Question) -> dict[str, Fact]:
        with http_client() as client:
            session, endpoint = self.login(client)
            functions = [("user", _query("USERINFO", ["LOGINID", "STATUS"],
                                         f"<equalto><field>LOGINID</field><value>{escape(self.integration_user)}"
                                         "</value></equalto>")),
                         ("permissions", f"<getUserPermissions><userId>{escape(self.integration_user)}</userId>"
                                         "</getUserPermissions>")]
            if question.posting_date:
                first, last = _month(question.posting_date)
                between = (f"<and><greaterthanorequalto><field>BATCHDATE</field><value>{first}</value>"
                           f"</greaterthanorequalto><lessthanorequalto><field>BATCHDATE</field><value>{last}</value>"
                           "</lessthanorequalto></and>")
                fields = ["RECORDNO", "TITLE", "BATCHDATE", "OPEN", "STATUS"]
                functions += [("ap", _query("APBILLBATCH", fields, between)),
                              ("ee", _query("EEXPENSESBATCH", fields, between))]
            results = self.post(client, endpoint, self.envelope(f"<sessionid>{escape(session)}</sessionid>",
                                                                functions))
        facts = {}
        who = f"the integration user `{self.integration_user}`"
        user = results.get("user")
        record = user.find("data/USERINFO") if user is not None else None
        if record is not None:
            status = _text(record, "STATUS").lower()
            facts["integration_user_active"] = Fact(status == "active", f"{who} is {status or 'of unknown status'}")
        permissions = results.get("permissions")
        if permissions is not None and permissions.find("data") is not None:
            granted = {(_text(p, "policyName")).strip().lower(): _text(p, "rights").strip().lower()
                       for p in permissions.iter("policy")}
            missing = [name for name in BOOKS_POLICIES if granted.get(name, "") in NOT_GRANTED]
            text = (f"{who} has the Open books and Close books permissions" if not missing else
                    f"{who} lacks the {' and '.join(m.capitalize() for m in missing)} permission"
                    f"{'s' if len(missing) > 1 else ''}")
            facts["books_permission"] = Fact(not missing, text)
        if question.posting_date:
            summaries = [(kind, s) for kind, key in (("AP", "ap"), ("expense", "ee")) if results.get(key) is not None
                         for s in results[key].findall("data/*")]
            if summaries:
                closed = [f"{kind} summary '{_text(s, 'TITLE')}'" for kind, s in summaries
                          if _text(s, "OPEN").lower() != "open"]
                month = question.posting_date.strftime("%B %Y")
                facts["period_closed"] = Fact(bool(closed), (
                    f"the Sage Intacct {' and '.join(closed)} for {month} "
                    f"{'is' if len(closed) == 1 else 'are'} closed") if closed else
                    f"the Sage Intacct summaries for {month} are open")
        return facts


def _query(obj: str, fields: list[str], condition: str) -> str:
    select = "".join(f"<field>{f}</field>" for f in fields)
    return f"<query><object>{obj}</object><select>{select}</select><filter>{condition}</filter></query>"


def _month(day: date) -> tuple[str, str]:
    last = calendar.monthrange(day.year, day.month)[1]
    return f"{day.month:02d}/01/{day.year}", f"{day.month:02d}/{last:02d}/{day.year}"


def _text(element: Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _error(element: Element | None) -> str:
    """`XL03000006: Sign-in information is incorrect` from an errormessage under `element` (or the root)."""
    if element is None:
        return "no details"
    error = element.find("errormessage/error")
    if error is None:
        error = element.find(".//errormessage/error")
    if error is None:
        return "no details"
    number = _text(error, "errorno")
    words = _text(error, "description2") or _text(error, "description")
    return REDACT(": ".join(x for x in (number, words) if x)) or "no details"
