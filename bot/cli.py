"""`python -m bot …`: the command line. Every command drives the same pipeline as Slack."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.kb import load_knowledge_base
from bot.pipeline import Fixit
from bot.settings import Settings

MAX_STDIN_BYTES = 5_000_000


class CliError(Exception):
    """A user-facing failure: each argument printed as one line, exit status 2."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        args.settings = settings_for(args)   # built once; every command reads its settings from here
        return args.handler(args)
    except CliError as exc:
        for problem in exc.args:
            print(f"fixit: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Fixit: answers accounting-export errors.")
    sub = parser.add_subparsers(title="commands")

    def command(name: str, handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--kb", type=Path, default=None,
                       help="knowledge base folder (default: $FIXIT_KB_DIR, else this repo's knowledge/)")
        p.set_defaults(handler=handler)
        return p

    p = command("ask", cmd_ask, "answer one paste, as it would be posted")
    p.add_argument("text", nargs="*", help="the paste (read from stdin when omitted or '-')")
    p.add_argument("--blocks", action="store_true", help="print the Block Kit JSON instead of text")
    p.add_argument("--full", action="store_true", help="the full card, not its first screen")
    p.add_argument("--workspace", default="", help="run the live checks of this workspace (FIXIT_WORKSPACES)")
    p.add_argument("--workspaces", default="", help="workspaces file (default: $FIXIT_WORKSPACES)")

    p = command("match", cmd_match, "match pastes and print which entries would answer")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--jsonl", action="store_true",
                     help='read lines {"text": …} on stdin, write one JSON result line per input')
    how.add_argument("--explain", metavar="TEXT", nargs="?", const="-",
                     help="for one text (stdin when omitted or '-'): the candidates, the evidence and the decision")

    p = command("eval", cmd_eval, "score the matcher on a labelled JSONL file")
    p.add_argument("file", type=Path)
    p.add_argument("--show", type=int, default=20, help="how many failures to list (default 20)")
    p.add_argument("--min-pastes", type=float, default=0.0, help="exit 1 below this paste accuracy (0-1)")
    p.add_argument("--min-silence", type=float, default=0.0, help="exit 1 below this chatter silence (0-1)")

    p = command("fit", cmd_fit, "fit the decision model on labelled messages (writes bot/match/model.json)")
    p.add_argument("files", nargs="*", type=Path, help="labelled JSONL / chatter .txt files (default: the dev sets)")
    p.add_argument("--out", type=Path, default=None, help="where to write the model (default: bot/match/model.json)")

    p = command("console", cmd_console, "offline console on the knowledge base")
    p = command("run", cmd_run, "Slack (Socket Mode) when tokens are configured, else the offline console")
    p = command("serve", cmd_serve, "serve Slack: Socket Mode (SLACK_APP_TOKEN), or HTTP with --http")
    p.add_argument("--http", action="store_true", help="serve Bolt's /slack/events over HTTP (ASGI, uvicorn)")
    p.add_argument("--host", default="0.0.0.0", help="HTTP address (default %(default)s)")
    p.add_argument("--port", type=int, default=3000, help="HTTP port (default %(default)s)")
    p.add_argument("--workers", type=int, default=1, help="HTTP worker processes (default %(default)s)")

    kb = sub.add_parser("kb", help="knowledge-base tools").add_subparsers(title="kb commands")
    p = kb.add_parser("check", help="validate the KB, its examples and the chatter baseline")
    p.add_argument("--kb", type=Path, default=None)
    p.add_argument("--chatter", type=Path, default=None, help="chatter baseline (default: KB/chatter.txt)")
    p.set_defaults(handler=cmd_kb_check)
    p = kb.add_parser("stats", help="entries per system and kind, gaps, closest pairs, entries due a review")
    p.add_argument("--kb", type=Path, default=None)
    p.add_argument("--stale-days", type=int, default=365, metavar="N",
                   help="list entries not reviewed for more than N days, most answered first (default %(default)s)")
    p.set_defaults(handler=cmd_kb_stats)
    p = kb.add_parser("import", help="write a draft entry from a published help article (Markdown)")
    p.add_argument("article", type=Path, help="the article's .md file")
    p.add_argument("--kb", type=Path, default=None)
    p.add_argument("--system", default="", help="the system it is about (default: from its code or path)")
    p.add_argument("--out", type=Path, default=None,
                   help="folder to write ID.yaml in (default: the system's folder of the KB)")
    p.add_argument("--force", action="store_true", help="replace the file if it exists")
    p.set_defaults(handler=cmd_kb_import)
    p = kb.add_parser("gaps", help="unmatched pastes grouped by error, unknown codes, answers voted Not it")
    p.add_argument("--kb", type=Path, default=None)
    p.add_argument("--days", type=int, default=30, help="the last N days (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--team", default=None, help="one Slack team's pastes and votes (default: every team's)")
    p.set_defaults(handler=cmd_kb_gaps)
    return parser


def load(args):
    directory = args.settings.kb_path
    kb = load_knowledge_base(directory, args.settings.tool_name)
    for problem in kb.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if not kb.entries:
        raise CliError(f"no knowledge-base entries could be loaded from {directory}")
    return kb


def read_stdin() -> str:
    data = sys.stdin.buffer.read(MAX_STDIN_BYTES)
    return data.decode("utf-8", errors="replace")


def cmd_ask(args) -> int:
    text = " ".join(args.text) if args.text and args.text != ["-"] else read_stdin()
    fixit = Fixit(load(args))
    reply = fixit.reply(text)
    if reply.cards and args.workspace:
        rendered = with_workspace_checks(args, fixit, reply, text)
    elif reply.cards and args.full:
        rendered = [fixit.card(h.entry_id, h.faq_index, full=True) for h in reply.match.answers]
    elif reply.cards:
        rendered = reply.cards
    elif reply.suggestions:
        rendered = [reply.suggestions]
    else:
        rendered = [fixit.no_match(reply.match)]
    if args.blocks:
        blocks = [block for card in rendered for block in card.blocks]
        print(json.dumps({"blocks": blocks, "text": rendered[0].fallback}, ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(card.text for card in rendered))
    return 0


def with_workspace_checks(args, fixit: Fixit, reply, text: str) -> list:
    import logging

    from bot.answer import checked_cards
    from bot.checks.redact import install_log_redaction
    from bot.checks.runner import CheckRunner
    from bot.checks.workspaces import WorkspacesError, load_workspaces

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    path = args.workspaces or args.settings.workspaces_file
    if not path:
        raise CliError("--workspace needs a workspaces file: set FIXIT_WORKSPACES or pass --workspaces FILE")
    try:
        workspace = load_workspaces(path, args.settings.environment).get(args.workspace)
    except WorkspacesError as exc:
        raise CliError(str(exc)) from None
    if workspace is None:
        raise CliError(f"no workspace named {args.workspace!r} in {path}")
    return checked_cards(fixit, CheckRunner(), workspace, reply, text)


def cmd_match(args) -> int:
    fixit = Fixit(load(args))
    if args.explain is not None:
        from bot.match.explain import explain

        text = read_stdin() if args.explain == "-" else args.explain
        evidence, decided = fixit.matcher.weigh(text)
        print(explain(fixit.matcher.model, evidence, decided))
        return 0
    out = sys.stdout
    for n, line in enumerate(sys.stdin.buffer, 1):
        try:
            row = json.loads(line.decode("utf-8", errors="replace"))
            text = row["text"] if isinstance(row, dict) else None
            if not isinstance(text, str):
                raise ValueError('needs a "text" string')
        except (ValueError, KeyError) as exc:
            if not line.strip():
                continue
            out.write(json.dumps({"answers": [], "suggestions": [], "error": f"line {n}: {exc}"}) + "\n")
            continue
        result = fixit.matcher.match(text)
        out.write(json.dumps({
            "answers": result.answer_ids,
            "suggestions": result.suggestion_ids,
            "scores": {h.entry_id: h.score for h in result.answers + result.suggestions},
            **({"unknown_codes": result.unknown_codes} if result.unknown_codes else {}),
        }) + "\n")
        out.flush()
    return 0


def cmd_eval(args) -> int:
    from bot.authoring.evaluate import evaluate, format_eval
    from bot.wording import counted

    if not args.file.is_file():
        raise CliError(f"{args.file}: no such file")
    fixit = Fixit(load(args))
    report = evaluate(fixit.matcher, args.file)
    if not report.pastes.total and not report.chatter.total:
        problems = "; ".join(report.bad_lines[:3])
        raise CliError(f"{args.file}: no labelled lines to score"
                       + (f" ({problems})" if problems else "") + ': write one {"text": …, "expect": [ids]} per line')
    print(format_eval(report, args.show))
    if report.bad_lines and (args.min_pastes or args.min_silence):
        print(f"fixit: {counted(len(report.bad_lines), 'malformed line')} in {args.file}: a threshold is not "
              f"checked on a partial file", file=sys.stderr)
        return 1
    if report.pastes.rate < args.min_pastes or report.chatter.rate < args.min_silence:
        return 1
    return 0


def cmd_fit(args) -> int:
    from bot.authoring.fit import DEV_SETS, fit
    from bot.match.decision import MODEL_FILE, Model
    from bot.wording import counted

    try:
        import numpy  # noqa: F401
    except ImportError:
        raise CliError("fitting needs numpy, a development dependency: pip install -e '.[dev]'") from None
    paths = args.files or DEV_SETS
    for path in paths:
        if not path.is_file():
            raise CliError(f"{path}: no such file")
    out = args.out or MODEL_FILE
    base = Model.load(out if out.is_file() else MODEL_FILE)
    try:
        model = fit(load(args), paths, base)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    out.write_text(model.to_json(), encoding="utf-8")
    answers = ", ".join(f"{name} at {g.answer:.3f}" for name, g in model.groups.items())
    print(f"wrote {out}: answer {answers}, suggest at {model.suggest:.3f}, "
          f"{counted(sum(len(g.weights) for g in model.groups.values()), 'weight')}, from "
          f"{counted(model.about['messages'], 'message')}")
    for kind, s in model.about["cross_validated"].items():
        print(f"  {kind:<18} n={s['n']:<5} exact/silent {s['exact_or_silent']:.1%}  "
              f"offered/quiet {s['offered_or_quiet']:.1%}")
    return 0


def cmd_kb_check(args) -> int:
    from bot.authoring.check import check_knowledge_base, format_report

    kb = load_knowledge_base(args.settings.kb_path, args.settings.tool_name)
    report = check_knowledge_base(kb, args.chatter)
    print(format_report(report, kb))
    return 0 if report.ok else 1


def cmd_kb_stats(args) -> int:
    from bot.authoring.stats import answered_counts, format_stale, format_stats

    if args.stale_days < 0:
        raise CliError("--stale-days must be 0 or more")
    kb = load(args)
    print(format_stats(kb))
    counts, why = answered_counts(args.settings.database_url, max(args.stale_days, 1), len(kb) + len(kb.drafts))
    print(format_stale(kb, args.stale_days, counts, why))
    return 0


def cmd_kb_import(args) -> int:
    from bot.authoring.article import ArticleError, build_draft, find_system, read_article
    from bot.kb.loader import load_entry

    kb = load_knowledge_base(args.settings.kb_path, args.settings.tool_name)
    if not kb.systems.systems:
        raise CliError(f"{kb.directory}: the KB's systems.yaml does not load", *map(str, kb.problems[:3]))
    try:
        article = read_article(args.article)
        draft = build_draft(article, kb, find_system(article, kb.systems, kb.codes, args.system))
    except ArticleError as exc:
        raise CliError(str(exc)) from None
    folder = args.out if args.out is not None else kb.directory / draft.system.folder
    path = folder / f"{draft.id}.yaml"
    if path.exists() and not args.force:
        raise CliError(f"{path} exists: pass --force to replace it")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(draft.text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{path}: cannot write it ({exc.strerror or exc})") from None
    inside = kb.directory.resolve() in path.resolve().parents
    _, problems = load_entry(path, (kb.systems, kb.codes), kb.directory if inside else None, kb.tool_name)
    print(f"wrote {path}: draft {draft.kind} entry {draft.id} ({draft.system.name}), from {args.article}")
    for problem in problems:
        print(f"problem: {problem}")
    checks = ", the message's [placeholders]" if draft.kind != "faq" else ""
    more = ("describes: how people say it in Slack without the code" if draft.kind != "faq"
            else "also: other ways people ask each question")
    print("still to do before it is served:",
          "  - rewrite title, summary, causes, steps, notes and answers in your own words (they are the article's)",
          f"  - check kind: {draft.kind} (a guess){checks} and the examples",
          f"  - add {more}",
          f"  - run python -m bot kb check{'' if inside else ' (once the file is in the KB)'}, then remove the line "
          "draft: true", sep="\n")
    return 1 if problems else 0


def cmd_kb_gaps(args) -> int:
    from bot.authoring.gaps import format_gaps, read_gaps
    from bot.store.existing import StoreUnreachable

    if args.days < 1:
        raise CliError("--days must be at least 1")
    fixit = Fixit(load(args))
    try:
        gaps = read_gaps(args.settings.database_url, fixit.kb, fixit.matcher, args.days, args.team)
    except StoreUnreachable as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(gaps.to_dict(), ensure_ascii=False, indent=2) if args.json else format_gaps(gaps))
    return 0


def cmd_console(args) -> int:
    from bot.console import run_console

    return run_console(Fixit(load(args)))


def settings_for(args) -> Settings:
    """The settings, from the environment and `.env`, with the command line's `--kb` over FIXIT_KB_DIR."""
    settings = Settings.load(strict=False)
    # the server says these with its own start-up problems, all at once; every other command stops here
    if settings.problems and args.handler not in (cmd_serve, cmd_run):
        raise CliError(*settings.problems)
    if getattr(args, "kb", None):
        settings.kb_dir = str(args.kb)
    return settings


def cmd_run(args) -> int:
    settings = args.settings
    if settings.slack_configured and settings.app_token:
        return cmd_serve(args)
    if settings.problems:
        raise CliError(*settings.problems)
    if settings.slack_configured:
        print("fixit: SLACK_BOT_TOKEN is set but SLACK_APP_TOKEN is not; run `python -m bot serve --http` for "
              "HTTP mode. Opening the offline console.", file=sys.stderr)
    return cmd_console(args)


def cmd_serve(args) -> int:
    import logging

    from bot.slack.allocator import cap_malloc_arenas

    cap_malloc_arenas()  # before the server starts any thread
    from bot.slack.app import ConfigError, serve_http, serve_socket_mode

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if getattr(args, "http", False):
            serve_http(args.settings, args.host, args.port, args.workers)
        else:
            serve_socket_mode(args.settings)
    except ConfigError as exc:
        raise CliError(*exc.problems) from None
    return 0
