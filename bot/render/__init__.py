"""Renderer: KB entries to Slack Block Kit and text, through sandboxed Jinja templates."""

from bot.render.renderer import Rendered, Renderer, RenderError

__all__ = ["RenderError", "Rendered", "Renderer"]
