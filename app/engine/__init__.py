"""Huiqi's rules engine: pure Python (stdlib, pydantic, PyYAML). It reads rule files and standard
tables, and decides; the web and the database are adapters around it."""

from .errors import EngineError, ExpressionError, ProfileDateError, RuleFileError, RuleSetError
from .evaluate import CriterionOutcome, Evaluation, RuleResult, evaluate, evaluate_rule
from .profile import Profile
from .questions import NextQuestion, next_questions
from .ruleset import RESULT_TEXT_FIELDS, Rule, RuleSet, build_ruleset, compile_rule, load_ruleset

__all__ = [
    "RESULT_TEXT_FIELDS", "CriterionOutcome", "EngineError", "Evaluation", "ExpressionError", "NextQuestion",
    "Profile", "ProfileDateError", "Rule", "RuleFileError", "RuleResult", "RuleSet", "RuleSetError",
    "build_ruleset", "compile_rule", "evaluate", "evaluate_rule", "load_ruleset", "next_questions",
]
