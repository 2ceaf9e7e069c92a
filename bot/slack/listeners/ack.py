"""The acknowledgement every listener sends at once; the work runs after it (Bolt's lazy listeners)."""


def ack_now(ack) -> None:
    ack()
