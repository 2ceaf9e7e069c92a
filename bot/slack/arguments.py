"""Listeners and their matchers called with just the arguments they name.

For each matcher it tries and each listener it runs, Bolt builds every keyword argument a listener could ask
for (the body cut eight ways, a dozen context utilities, every context key) and keeps the few named: two
builds per message event (docs/benchmarks.md counts them). Here each named argument is fetched the way Bolt's
`build_required_kwargs` fetches it; a listener that names anything else gets Bolt's own build.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt.kwargs_injection import build_required_kwargs
from slack_bolt.listener import Listener
from slack_bolt.listener.custom_listener import CustomListener
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher
from slack_bolt.request import BoltRequest
from slack_bolt.request.payload_utils import (
    to_action,
    to_command,
    to_event,
    to_message,
    to_options,
    to_shortcut,
    to_view,
)
from slack_bolt.response import BoltResponse

Fetch = Callable[[BoltRequest, BoltResponse], object]

# what `build_required_kwargs` passes under each of these names (tests/test_slack_app.py compares the two)
FETCH: dict[str, Fetch] = {
    "body": lambda request, _: request.body,
    "event": lambda request, _: to_event(request.body),
    "command": lambda request, _: to_command(request.body),
    "action": lambda request, _: to_action(request.body),
    "shortcut": lambda request, _: to_shortcut(request.body),
    "view": lambda request, _: to_view(request.body),
    "options": lambda request, _: to_options(request.body),
    "message": lambda request, _: to_message(request.body),
    "client": lambda request, _: request.context.client,
    "context": lambda request, _: request.context,
    "ack": lambda request, _: request.context.ack,
    "respond": lambda request, _: request.context.respond,
    "say": lambda request, _: request.context.say,
    "req": lambda request, _: request,
    "request": lambda request, _: request,
    "resp": lambda _, response: response,
    "response": lambda _, response: response,
}


def fetchers(names: list[str]) -> list[tuple[str, Fetch]] | None:
    """How to fetch each named argument; None when one of them is not in FETCH."""
    if not all(name in FETCH for name in names):
        return None
    return [(name, FETCH[name]) for name in names]


class DirectListener(CustomListener):
    """A registered listener, run with the arguments it names (Bolt's build for any other name)."""

    def __init__(self, listener: CustomListener) -> None:
        self.__dict__.update(vars(listener))
        self.matchers = [DirectMatcher(m) if DirectMatcher.fits(m) else m for m in listener.matchers]
        names = list(self.arg_names)
        self._fetch = fetchers(names[1:] if names[:1] in (["self"], ["cls"]) else names)  # a method: as Bolt does

    def arguments(self, request: BoltRequest, response: BoltResponse) -> dict:
        if self._fetch is None:
            return build_required_kwargs(logger=self.logger, required_arg_names=self.arg_names, request=request,
                                         response=response, this_func=self.ack_function)
        return {name: fetch(request, response) for name, fetch in self._fetch}

    def run_ack_function(self, *, request: BoltRequest, response: BoltResponse):
        return self.ack_function(**self.arguments(request, response))


class DirectMatcher(BuiltinListenerMatcher):
    """Bolt's own matchers (event type, action id, command...) read the body alone."""

    def __init__(self, matcher: BuiltinListenerMatcher) -> None:
        self.__dict__.update(vars(matcher))

    @staticmethod
    def fits(matcher) -> bool:
        return type(matcher) is BuiltinListenerMatcher and list(matcher.arg_names) == ["body"]

    def matches(self, req: BoltRequest, resp: BoltResponse) -> bool:
        return self.func(req.body)


def direct(listener: Listener) -> Listener:
    return DirectListener(listener) if type(listener) is CustomListener else listener
