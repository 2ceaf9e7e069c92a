"""Fixit: recognises accounting-export errors pasted in Slack and answers with the fix."""

__version__ = "0.1.0"
