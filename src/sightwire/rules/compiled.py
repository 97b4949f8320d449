"""Rules checked and compiled once: trigger, condition, attribute templates, gate.

Problems are reported with the rule's path in the config (``rules[2].when``), so
``sightwire validate`` and the engine give the same messages.

>>> from sightwire.config.rules import RuleConfig
>>> rule = RuleConfig.model_validate({"name": "r", "on": {"line": "exit"}, "when": "object.x >"})
>>> compiled, problems = compile_rule(rule, 0)
>>> [path for path, _ in problems]
[('rules', 0, 'when')]
>>> print(problems[0][1])
syntax: object.x > (column 11: the expression ends too early, expecting a value)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sightwire.analysis.triggers import Trigger
from sightwire.config.rules import LEVEL_KINDS, RuleConfig
from sightwire.rules.condition import Expression, ExpressionError, Needs, needs_of
from sightwire.rules.controls import RuleGate
from sightwire.rules.scope import BUILT_IN, LOOKUP_ERROR
from sightwire.rules.template import Template

Path = tuple[str | int, ...]
Problem = tuple[Path, str]


class RuleConfigError(ValueError):
    """Rules that cannot be used; ``problems`` lists (config path, message) pairs."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{_dotted(p)}: {m}" for p, m in problems))


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(slots=True)
class RuleStats:
    """What a rule did with the observations that matched its trigger."""

    matched: int = 0
    fired: int = 0
    cooling: int = 0
    not_met: int = 0
    condition_errors: int = 0
    lookup_errors: int = 0
    last_condition_error: str | None = None


@dataclass(slots=True)
class CompiledRule:
    """A rule ready to evaluate."""

    config: RuleConfig
    trigger: Trigger
    condition: Expression | None
    attributes: dict[str, Template]
    gate: RuleGate
    needs: Needs  # the variables (and fields) its condition and attributes read
    stats: RuleStats = field(default_factory=RuleStats)

    @property
    def name(self) -> str:
        return self.config.name


def rule_names(rule: RuleConfig) -> frozenset[str]:
    """The variables a rule's expressions may use."""
    lookup = {rule.lookup, LOOKUP_ERROR} if rule.lookup else {LOOKUP_ERROR}
    return BUILT_IN | lookup


def compile_rule(
    rule: RuleConfig, index: int, lookups: Collection[str] | None = None
) -> tuple[CompiledRule | None, list[Problem]]:
    """``rule`` (the ``index``-th) compiled, or None and the problems found.

    ``lookups`` are the names under ``lookups:``; when the rule's lookup is not
    among them (reported elsewhere), its expressions may use any of them, so one
    misspelt name is one problem, not two.
    """
    where: Path = ("rules", index)
    names = rule_names(rule)
    if lookups is not None and rule.lookup is not None and rule.lookup not in lookups:
        names |= frozenset(lookups)
    problems: list[Problem] = []
    condition = None
    if rule.when is not None:
        try:
            condition = Expression(rule.when, names)
        except ExpressionError as exc:
            problems.append(((*where, "when"), _hint(str(exc), rule)))
    attributes: dict[str, Template] = {}
    for key, value in rule.attributes.items():
        try:
            attributes[key] = Template(value, names)
        except ExpressionError as exc:
            problems.append(((*where, "attributes", key), _hint(str(exc), rule)))
    if rule.on.kind not in LEVEL_KINDS:
        levels = ", ".join(sorted(LEVEL_KINDS))
        for setting, used in (
            ("debounce", rule.debounce > 1),
            ("min_duration_s", rule.min_duration_s > 0),
        ):
            if used:
                problems.append(
                    (
                        (*where, setting),
                        f"{setting} applies to events observed every frame ({levels}); "
                        f"{rule.on.kind} happens once: use cooldown_s against repeats",
                    )
                )
    if problems:
        return None, problems
    expressions = [condition] if condition else []
    expressions += [e for t in attributes.values() for e in t.expressions]
    needs = needs_of(expressions)
    compiled = CompiledRule(rule, Trigger.of(rule), condition, attributes, RuleGate(rule), needs)
    return compiled, []


def _hint(message: str, rule: RuleConfig) -> str:
    """Point a rule that uses a lookup's name without ``lookup:`` at the fix."""
    if "unknown name" in message and not rule.lookup:
        return f"{message}; to use a lookup's answer, name it with lookup:"
    return message
