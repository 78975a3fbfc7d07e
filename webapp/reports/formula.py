"""Formulas over a trend's series (`A / B * 100`, `(A - B) / A`), parsed by Python's own parser
(`ast`) and evaluated by walking the tree: never `eval`. Only the letters of the series, numbers,
parentheses and + - * / are allowed. Arithmetic is exact (rationals); a division by zero, or an
empty operand, makes the point empty (None), never an error.
"""

from __future__ import annotations

import ast
import math
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from webapp.errors import BadFormula

MAX_LENGTH = 200
OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
             ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b if b else None}


def parse(text: str, letters: str) -> ast.expr:
    """The formula's tree; raises BadFormula saying what is wrong (`letters`: the series
    there are, such as "ABC")."""
    if len(text) > MAX_LENGTH:
        raise BadFormula(f"a formula is at most {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        raise BadFormula(f'"{text}" is not a formula: write it like A / B * 100') from None
    _check(tree, letters)
    return tree


def _check(node: ast.AST, letters: str) -> None:
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        _check(node.left, letters)
        _check(node.right, letters)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _check(node.operand, letters)
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise BadFormula("a formula's numbers are finite")
    elif isinstance(node, ast.Name):
        if node.id not in letters or len(node.id) != 1:
            raise BadFormula(f'"{node.id}" names no series: use {", ".join(letters)}')
    else:
        raise BadFormula("a formula uses only the series' letters, numbers, parentheses "
                           "and + - * /")


def letters_in(tree: ast.expr) -> set[str]:
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def exact(value) -> Fraction | None:
    """A series' value (int, Decimal, or a decimal's text) as a rational; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            return None
    return Fraction(value)


def evaluate(tree: ast.expr, values: dict[str, Fraction | None]) -> Fraction | None:
    """The formula at one point, from each letter's exact value there (None: empty)."""
    if isinstance(tree, ast.BinOp):
        left, right = evaluate(tree.left, values), evaluate(tree.right, values)
        if left is None or right is None:
            return None
        return OPERATORS[type(tree.op)](left, right)
    if isinstance(tree, ast.UnaryOp):
        operand = evaluate(tree.operand, values)
        if operand is None:
            return None
        return -operand if isinstance(tree.op, ast.USub) else operand
    if isinstance(tree, ast.Constant):
        return Fraction(Decimal(repr(tree.value)))  # 0.1 is the decimal 0.1, not its float
    return values[tree.id]
