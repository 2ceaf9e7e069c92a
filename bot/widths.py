"""How long the ids that Fixit stores may be, in characters. The store's columns are made this wide, and an id
from a source Fixit does not control is held to its width where it comes in: a knowledge-base entry's id when
the KB loads, an interaction's trigger id when it is de-duplicated. A value still too wide for its column is
refused by PostgreSQL, and the store leaves that row out (bot/store/resilient.py)."""

ENTRY_ID_CHARS = 64     # a knowledge-base entry's id, as answers and feedback record it
EVENT_ID_CHARS = 128    # a Slack event id, or an interaction's trigger id, as de-duplication records it
