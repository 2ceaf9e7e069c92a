"""Tools for the people who write the knowledge base: `kb check`, `kb stats`, `eval`, `fit`. They sit above the
pipeline: they run the matcher and the renderer over the knowledge base, and nothing below imports them."""
