"""Form templates and the answers to them: a template is checked once when an admin saves
it, and every submission's values are checked against the version it is submitted on.

Values are normalized as they are checked (money as a string with two decimals, dates as
ISO dates), so what is stored and shown is what was validated.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from knock.core.errors import InvalidInput
from knock.features.approvals.schemas import FormField, TemplateIn

COMPUTED_FIELDS = ("working_days", "total")
TEXT_MAX = 200
LONG_TEXT_MAX = 5000
NUMBER_LIMIT = Decimal("1e12")
MAX_LIST_ANSWERS = 100
MAX_LINE_ITEMS = 50
MAX_ATTACHMENTS = 20
MAX_DATE_RANGE_DAYS = 366
COUNTED_TYPES = ("multi_select", "employee", "attachment", "line_items")
SELECT_TYPES = ("single_select", "multi_select")


def check_template(body: TemplateIn) -> None:
    """InvalidInput unless the form's keys are unique, selects have options, bounds are
    ordered and every condition names a field (or computed value) of this form."""
    keys: dict[str, FormField] = {}
    for index, spec in enumerate(body.fields):
        where = f"fields[{index}]"
        if spec.key in keys or spec.key in COMPUTED_FIELDS:
            raise InvalidInput(f"{where}.key: {spec.key!r} is used twice or is reserved.")
        keys[spec.key] = spec
        if spec.type in SELECT_TYPES and not spec.options:
            raise InvalidInput(f"{where}.options: a select needs at least one option.")
        if spec.type in SELECT_TYPES and len(set(spec.options)) != len(spec.options):
            raise InvalidInput(f"{where}.options: options must differ.")
        if spec.min is not None and spec.max is not None and spec.min > spec.max:
            raise InvalidInput(f"{where}: min is above max.")
    for index, step in enumerate(body.flow.steps):
        condition = step.condition
        if condition is None:
            continue
        where = f"flow.steps[{index}].condition"
        if condition.field not in keys and condition.field not in COMPUTED_FIELDS:
            raise InvalidInput(f"{where}.field: {condition.field!r} is not a field of this form.")
        if (condition.op == "in") != isinstance(condition.value, list):
            raise InvalidInput(f"{where}.value: a list goes with `in`, and only with `in`.")


def check_values(fields: list[FormField], values: dict[str, Any]) -> dict[str, Any]:
    """The values, checked against the form and normalized; InvalidInput naming the field."""
    by_key = {f.key: f for f in fields}
    unknown = sorted(set(values) - set(by_key))
    if unknown:
        raise InvalidInput(f"values.{unknown[0][:40]}: not a field of this form.")
    clean: dict[str, Any] = {}
    for spec in fields:
        value = values.get(spec.key)
        if value is None or value == "" or value == []:
            if spec.required:
                raise InvalidInput(f"values.{spec.key}: {spec.label} is required.")
            continue
        clean[spec.key] = _check_value(spec, value)
    return clean


def _check_value(spec: FormField, value: Any) -> Any:
    where = f"values.{spec.key}"
    kind = spec.type
    if kind in ("text", "long_text"):
        return _text(where, spec, value, TEXT_MAX if kind == "text" else LONG_TEXT_MAX)
    if kind in ("number", "money"):
        number = _decimal(where, value, money=kind == "money")
        _within(where, spec, number)
        return str(number.quantize(Decimal("0.01"))) if kind == "money" else float(number)
    if kind == "date":
        return _date(where, value).isoformat()
    if kind == "date_range":
        return _date_range(where, value)
    if kind == "single_select":
        if not isinstance(value, str) or value not in spec.options:
            raise InvalidInput(f"{where}: choose one of the options.")
        return value
    items = _list(where, spec, value)
    if kind == "multi_select":
        if not all(isinstance(v, str) and v in spec.options for v in items):
            raise InvalidInput(f"{where}: choose among the options.")
        return list(dict.fromkeys(items))
    if kind in ("employee", "attachment"):
        if not all(isinstance(v, str) and 0 < len(v) <= 26 and v.isalnum() for v in items):
            raise InvalidInput(f"{where}: a list of ids.")
        return list(dict.fromkeys(items))
    return [_line_item(f"{where}[{i}]", item) for i, item in enumerate(items)]


def _text(where: str, spec: FormField, value: Any, longest: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{where}: text expected.")
    text: str = value.strip()
    shortest = int(spec.min) if spec.min is not None and spec.min > 0 else 0
    longest = min(longest, int(spec.max)) if spec.max is not None and spec.max >= 0 else longest
    if not shortest <= len(text) <= longest:
        raise InvalidInput(f"{where}: between {shortest} and {longest} characters.")
    return text


def _decimal(where: str, value: Any, *, money: bool) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput(f"{where}: a number expected.")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"{where}: a finite number expected.")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, int) else Decimal(value)
    except InvalidOperation:
        raise InvalidInput(f"{where}: a number expected.") from None
    if not number.is_finite() or abs(number) >= NUMBER_LIMIT:
        raise InvalidInput(f"{where}: the number is out of range.")
    if money and number.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidInput(f"{where}: an amount has at most two decimals.")
    return number


def _within(where: str, spec: FormField, number: Decimal) -> None:
    if spec.min is not None and number < Decimal(str(spec.min)):
        raise InvalidInput(f"{where}: at least {spec.min:g}.")
    if spec.max is not None and number > Decimal(str(spec.max)):
        raise InvalidInput(f"{where}: at most {spec.max:g}.")


def _date(where: str, value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise InvalidInput(f"{where}: a date YYYY-MM-DD expected.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{where}: a date YYYY-MM-DD expected.") from None


def _date_range(where: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or set(value) != {"from", "to"}:
        raise InvalidInput(f'{where}: {{"from": date, "to": date}} expected.')
    start, end = _date(f"{where}.from", value["from"]), _date(f"{where}.to", value["to"])
    if end < start:
        raise InvalidInput(f"{where}: `to` is before `from`.")
    if (end - start).days >= MAX_DATE_RANGE_DAYS:
        raise InvalidInput(f"{where}: at most {MAX_DATE_RANGE_DAYS} days.")
    return {"from": start.isoformat(), "to": end.isoformat()}


def _list(where: str, spec: FormField, value: Any) -> list[Any]:
    most = {"line_items": MAX_LINE_ITEMS, "attachment": MAX_ATTACHMENTS}.get(
        spec.type, MAX_LIST_ANSWERS
    )
    if spec.max is not None and spec.max >= 0:
        most = min(most, int(spec.max))
    least = int(spec.min) if spec.min is not None and spec.min > 0 else 0
    if spec.type == "employee" and spec.max is None:
        most = 1  # one person unless the form allows more
    if isinstance(value, str) and spec.type == "employee":
        value = [value]
    if not isinstance(value, list):
        raise InvalidInput(f"{where}: a list expected.")
    if not least <= len(value) <= most:
        raise InvalidInput(f"{where}: between {least} and {most} entries.")
    return value


def _line_item(where: str, item: Any) -> dict[str, str]:
    if not isinstance(item, dict) or set(item) != {"description", "amount"}:
        raise InvalidInput(f'{where}: {{"description", "amount"}} expected.')
    description = item["description"]
    if not isinstance(description, str) or not 0 < len(description.strip()) <= TEXT_MAX:
        raise InvalidInput(f"{where}.description: 1 to {TEXT_MAX} characters.")
    amount = _decimal(f"{where}.amount", item["amount"], money=True)
    if amount < 0:
        raise InvalidInput(f"{where}.amount: not negative.")
    return {"description": description.strip(), "amount": str(amount.quantize(Decimal("0.01")))}


def working_days(start: date, end: date) -> int:
    """Monday to Friday from start to end, both included."""
    weeks, rest = divmod((end - start).days + 1, 7)
    days = weeks * 5
    for offset in range(rest):
        if (start + timedelta(days=weeks * 7 + offset)).weekday() < 5:
            days += 1
    return days


def computed_values(fields: list[FormField], values: dict[str, Any]) -> dict[str, Any]:
    """working_days of the form's first answered date range (Monday to Friday, both ends included)
    and the total of its line items, for conditions, the CSV and the client."""
    computed: dict[str, Any] = {}
    for spec in fields:
        value = values.get(spec.key)
        if value is None:
            continue
        if spec.type == "date_range" and "working_days" not in computed:
            computed["working_days"] = working_days(
                date.fromisoformat(value["from"]), date.fromisoformat(value["to"])
            )
        if spec.type == "line_items":
            total = Decimal(computed.get("total", "0")) + sum(
                (Decimal(item["amount"]) for item in value), Decimal(0)
            )
            computed["total"] = str(total.quantize(Decimal("0.01")))
    return computed


def condition_holds(op: str, actual: Any, expected: Any) -> bool:
    """A flow step's condition; a missing value never meets it."""
    if actual is None:
        return False
    if op == "in":
        wanted = {str(v) for v in expected}
        return any(str(a) in wanted for a in (actual if isinstance(actual, list) else [actual]))
    if isinstance(actual, list):
        return op == "==" and str(expected) in [str(a) for a in actual]
    left, right = _number(actual), _number(expected)
    if left is None or right is None:
        return op == "==" and str(actual) == str(expected)
    return {
        ">": left > right,
        ">=": left >= right,
        "<": left < right,
        "<=": left <= right,
        "==": left == right,
    }[op]


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
