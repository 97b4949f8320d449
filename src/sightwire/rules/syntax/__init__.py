"""CEL source read by sightwire itself: the names and functions an expression uses,
and mixed int/double arithmetic rewritten so that it works.

The Rust CEL library (package ``common-expression-language``) parses and runs
expressions, but finds an unknown variable or function only when it evaluates
one, and, as the CEL specification says, refuses ``600 - 612.5`` (int minus
double). So sightwire parses the source once more, here, after the library has
accepted it: :func:`parse` gives a small syntax tree, :func:`references` the free
names, the names bound by macros and the functions called, and :func:`promote`
the source with each ``+ - * /`` whose operand types are not known at load turned
into a native CEL comprehension that makes the int side a double when the other
is a double (and leaves every other case to CEL's own operator).

>>> tree = parse("abs(object.length_mm - manifest.length_mm) > 10")
>>> found = references(tree)
>>> sorted(found.names), sorted(found.functions)
(['manifest', 'object'], ['abs'])
>>> promote(parse("600 - 612.5"))  # types known at load: promoted here
'(double(600)) - (612.5)'
>>> promote(parse("object.barcode + '-' + camera")) is None  # text: nothing to rewrite
True
>>> promote(parse("object.count - 3")).startswith("[[object.count, 3]].map(__sw, ")
True
"""

from sightwire.rules.syntax.arithmetic import promote, unparse
from sightwire.rules.syntax.names import References, references
from sightwire.rules.syntax.nodes import BOUND_PREFIX, KEYWORDS, MACROS, CelSyntaxError, Node
from sightwire.rules.syntax.parser import parse

__all__ = [
    "BOUND_PREFIX",
    "KEYWORDS",
    "MACROS",
    "CelSyntaxError",
    "Node",
    "References",
    "parse",
    "promote",
    "references",
    "unparse",
]
