"""Bolt listeners, one module per kind. Each is a module-level function (callable on its own in a test) that
translates a payload into a call on the answer layer and delivers the answer; `register(app, settings)` hooks
them up.

They are plain listeners, not lazy ones: on a long-running server Bolt acknowledges Events API requests at
once and runs listeners in its executor (`process_before_response=False`), so a lazy listener would only add
a deep copy of every request. The answer layer and the delivery come from the context (`app.py`'s middleware).
"""

from bot.slack.listeners import actions, commands, events, home, shortcuts


def register(app, settings) -> None:
    for module in (events, commands, shortcuts, actions, home):
        module.register(app, settings)
