"""Rules: triggers, lookups, CEL conditions and false-positive controls that turn
observations into events.

>>> # engine = RuleEngine.from_config(config)
>>> # outcomes = await engine.evaluate(observations)
>>> # for outcome in outcomes: store(outcome.event); run(outcome.actions)
"""

from sightwire.rules.breaker import CircuitBreaker, TtlCache
from sightwire.rules.check import rule_problems
from sightwire.rules.compiled import CompiledRule, RuleConfigError, RuleStats, compile_rule
from sightwire.rules.condition import EvaluationError, Expression, ExpressionError
from sightwire.rules.engine import RuleEngine, RuleOutcome
from sightwire.rules.lookups import Lookup, LookupResult
from sightwire.rules.template import Template

__all__ = [
    "CircuitBreaker",
    "CompiledRule",
    "EvaluationError",
    "Expression",
    "ExpressionError",
    "Lookup",
    "LookupResult",
    "RuleConfigError",
    "RuleEngine",
    "RuleOutcome",
    "RuleStats",
    "Template",
    "TtlCache",
    "compile_rule",
    "rule_problems",
]
