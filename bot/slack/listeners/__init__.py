"""Bolt listeners, one module per kind; each exposes `register(app, service)`.

Listeners stay thin: acknowledge at once, then (lazily, after the ack) parse the payload and call the
service, which runs the same pipeline as the CLI.
"""

from bot.slack.listeners import actions, commands, events, home, shortcuts


def register(app, service) -> None:
    for module in (events, commands, shortcuts, actions, home):
        module.register(app, service)
