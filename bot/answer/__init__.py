"""The answer layer: what Fixit says to each kind of request, as typed answers the edges deliver."""

from bot.answer.answerer import Answerer, checked_card, checked_cards, usage
from bot.answer.types import Answer, Card, Checked, Message, Where, read_value

__all__ = ["Answer", "Answerer", "Card", "Checked", "Message", "Where", "checked_card", "checked_cards", "read_value",
           "usage"]
