"""The expense tool's name in the KB's prose: `{tool}` (`{Tool}` at the start of a sentence).

Entries say what to do in the expense tool ("In {tool}, go to *Settings > Workspaces*"); its name is data:
`expense_tool:` in systems.yaml, which a deployment may override (FIXIT_TOOL_NAME). The loader fills it in,
so the index, the matcher, the cards and kb check all read the real name. Only prose is filled in: an
error's own text (`message`, `variants`), and what people write (`examples`, `describes`, an FAQ's `also`)
stay as they are, and so do the names of things that are called that in another product whatever the
deployment calls the tool (NetSuite's *Expensify Integration* role).
"""

from __future__ import annotations

import string

TOOL, TOOL_START = "tool", "Tool"   # `{Tool}`: the name with a capital, to start a sentence with
GENERIC_TOOL_NAME = "the expense tool"  # when neither the KB nor the deployment names it
HOW = "write {tool} for the expense tool's name ({Tool} to start a sentence), {{ or }} for a brace itself"


def tool_names(name: str) -> dict[str, str]:
    """What `{tool}` and `{Tool}` become: "the expense tool" → "The expense tool" at a sentence's start."""
    return {TOOL: name, TOOL_START: name[:1].upper() + name[1:]}


def placeholder_problem(text: str, allowed: frozenset[str] | set[str] = frozenset((TOOL, TOOL_START))) -> str:
    """What is wrong with the `{placeholders}` of a text ("" when nothing): a stray brace, an unknown name,
    a format spec."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return f"has a stray {{ or }}: {HOW}"
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed:
            known = ", ".join("{" + n + "}" for n in sorted(allowed, key=placeholder_order))
            return f"uses {{{name}}}, which is not a placeholder here (these are: {known}); {HOW}"
        if spec or conversion:
            return f"writes {{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}: " \
                   f"write {{{name}}} alone"
    return ""


def placeholder_order(name: str) -> tuple[str, bool]:
    """Alphabetical, {tool} before {Tool}."""
    return name.lower(), name[:1].isupper()


def fill(text: str, name: str, keep_others: bool = False) -> str:
    """`text` with `{tool}` and `{Tool}` replaced by the tool's `name` (`text` has no placeholder problem).

    keep_others: the text is formatted again later (a check's `{export_date}`, `{reason}`): the other
    placeholders and the escaped braces are kept, and braces in the name escaped."""
    names = tool_names(name)
    out = []
    for literal, field, _, _ in string.Formatter().parse(text):
        out.append(escape(literal) if keep_others else literal)
        if field is None:
            continue
        if field in names:
            out.append(escape(names[field]) if keep_others else names[field])
        else:
            out.append("{" + field + "}")
    return "".join(out)


def escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")
