"""`match --explain`: for one message, the candidates, the evidence for each and why it was answered,
offered or left."""

from __future__ import annotations

from bot.match.decision import Decided, Model, undecided_paste
from bot.match.evidence import Evidence

SHOWN = 6  # candidates listed
TERMS = 6  # contributions listed per candidate


def explain(model: Model, evidence: Evidence, decided: Decided) -> str:
    shown = " ".join(evidence.text.split())
    out = [f"message: {shown[:300]!r}{' …' if len(shown) > 300 else ''}"]
    facts = []
    if evidence.systems:
        facts.append("names " + ", ".join(sorted(evidence.systems)))
    else:
        facts.append("names no system")
    if evidence.unknown_codes:
        facts.append("unknown code " + ", ".join(evidence.unknown_codes))
    first = decided.weighed[0].candidate.features if decided.weighed else {}
    if first:
        facts.append(f"asks or reports trouble: {'yes' if first['asks'] else 'no'}")
        facts.append(f"trouble words: {round(first['trouble'] * 3)}")
    out.append("; ".join(facts))
    needs = ", ".join(f"{name} p ≥ {g.answer:.3f}" for name, g in model.groups.items())
    out.append(f"to answer, a candidate needs ({needs}); to be offered, p ≥ {model.suggest:.3f}")
    if not decided.weighed:
        out.append("no candidates: nothing in the message points at an entry")
        return "\n".join(out)
    out.append("")
    biases = ", ".join(f"{name} {g.bias:+.2f}" for name, g in model.groups.items())
    out.append(f"{'candidate':<28} {'p':>6}  verdict   evidence (what each adds to the log-odds; biases: {biases})")
    for w in decided.weighed[:SHOWN]:
        parts = sorted(model.contributions(w.candidate.features).items(), key=lambda kv: abs(kv[1]), reverse=True)
        evidence_text = ", ".join(f"{name} {value:+.2f}" for name, value in parts[:TERMS]) or "none"
        out.append(f"{w.candidate.entry_id:<28} {w.probability:>6.3f}  {w.verdict:<9} {evidence_text}")
    if len(decided.weighed) > SHOWN:
        out.append(f"… and {len(decided.weighed) - SHOWN} more below")
    out.append("")
    out.append("answered: " + (", ".join(h.entry_id for h in decided.answers) or "nothing")
               + "; offered: " + (", ".join(h.entry_id for h in decided.suggestions) or "nothing"))
    best = decided.weighed[0]
    needed = model.answer_at(best.candidate.features)
    if not decided.answers and best.probability >= needed and undecided_paste(best.candidate):
        out.append(f"why: {best.candidate.entry_id} is probable, but the text is as close to other messages "
                   "and does not say which: offered, not answered")
    elif not decided.answers:
        out.append(f"why: the most probable, {best.candidate.entry_id}, has p {best.probability:.3f}, "
                   f"below the {needed:.3f} needed to answer")
    elif len(decided.weighed) > 1:
        runner = next((w for w in decided.weighed if w.verdict != "answered"), None)
        if runner is not None:
            at = model.answer_at(runner.candidate.features)
            reason = ("only one entry is answered unless the text holds another's code or message"
                      if runner.probability >= at else f"p {runner.probability:.3f} < {at:.3f}")
            out.append(f"why not {runner.candidate.entry_id}: {reason}")
    return "\n".join(out)
