"""How long the ids that Fixit stores may be, in characters: the store's columns are made this wide, and an id
is checked against its width where it first comes in (a knowledge-base entry's id when the KB loads), so that
no database is ever asked to hold one longer (PostgreSQL refuses it)."""

ENTRY_ID_CHARS = 64     # a knowledge-base entry's id, as answers and feedback record it
EVENT_ID_CHARS = 128    # a Slack event id, or an interaction's trigger id, as de-duplication records it
