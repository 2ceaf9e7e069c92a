"""Knowledge base: YAML entries, validated and loaded."""

from bot.kb.loader import KnowledgeBase, load_knowledge_base, read_chatter
from bot.kb.model import QA, Entry, Fix, Link, Problem

__all__ = ["QA", "Entry", "Fix", "KnowledgeBase", "Link", "Problem", "load_knowledge_base", "read_chatter"]
