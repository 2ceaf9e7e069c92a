"""slack_sdk's WebClient encodes every call's JSON body and decodes every reply through its module's `json`,
and Bolt parses every request body through its own; `use_orjson()` points both names at orjson, which does
the work several times faster (a card's body, and Slack's reply, which carries the posted message back:
the figures are in docs/benchmarks.md). Everything else stays slack_sdk's and Bolt's own.

What orjson cannot encode (a lone surrogate from a hostile paste, an integer past 64 bits) or decode goes
through the standard library as before, so no call fails for it and a garbled reply raises the same error.
"""

from __future__ import annotations

import json

import orjson
from slack_bolt.request import internals as bolt_request
from slack_sdk.web import base_client

_OPTIONS = orjson.OPT_NON_STR_KEYS   # as json.dumps, which writes {1: …} as {"1": …}


class OrjsonCodec:
    """The part of the `json` module slack_sdk's base client and Bolt use: dumps, loads, and
    decoder.JSONDecodeError (orjson's decode error is a subclass of it)."""

    decoder = json.decoder

    @staticmethod
    def dumps(obj, **kwargs) -> bytes | str:
        if kwargs:
            return json.dumps(obj, **kwargs)
        try:
            return orjson.dumps(obj, option=_OPTIONS)
        except TypeError:   # orjson.JSONEncodeError
            return json.dumps(obj)

    @staticmethod
    def loads(data, **kwargs):
        if kwargs:
            return json.loads(data, **kwargs)
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:   # what the standard library reads orjson does not (NaN): its answer
            return json.loads(data)


def encode(obj) -> bytes:
    """A JSON body, as bytes (what a response_url post sends)."""
    body = OrjsonCodec.dumps(obj)
    return body.encode() if isinstance(body, str) else body


def use_orjson() -> None:
    """Make this process's WebClients and Bolt's request parsing use orjson (idempotent)."""
    base_client.json = OrjsonCodec
    bolt_request.json = OrjsonCodec
