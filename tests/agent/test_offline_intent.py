"""What the offline reasoner understands of a task, and what it honestly refuses."""

from __future__ import annotations

import pytest

from lanterna.reasoners.offline_intent import parse_intent

FALLBACK_TASK = """
goal: Add item to cart
instructions:
- if the goal is unclear or ill-defined, fail immediately and ask the user to clarify the goal.
context:
- last action failed with error: selector '#add-to-cart' matches no element; check it
"""


@pytest.mark.parametrize(
    "task",
    ["Complete task", "Very complex task", "Long running task", "Task 1", "Critical task", "Quick task"],
)
def test_tasks_without_an_ordinary_intent_need_an_llm(task: str) -> None:
    assert parse_intent(task) is None


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        (
            "Go to example.com and find the contact email",
            {"kind": "find", "target": "email", "url": "https://example.com"},
        ),
        (
            "What is the price of the Trail Headlamp 300?",
            {"kind": "find", "target": "price", "subject": "Trail Headlamp 300"},
        ),
        (
            "find the burn time of the Classic Brass Lantern",
            {"kind": "find", "target": "label", "label": "burn time"},
        ),
        ("Extract the product table", {"kind": "extract", "table": True}),
        ("Click on About", {"kind": "click", "label": "About"}),
        ("open http://127.0.0.1:8000/demo/", {"kind": "navigate", "url": "http://127.0.0.1:8000/demo/"}),
        (FALLBACK_TASK, {"kind": "add_to_cart", "subject": None}),
        (
            "Fill the email field with a@b.co and the name field with Ada Lovelace, then submit",
            {"kind": "fill", "fields": [("email", "a@b.co"), ("name", "Ada Lovelace")], "submit": True},
        ),
    ],
)
def test_ordinary_tasks_are_understood(task: str, expected: dict[str, object]) -> None:
    intent = parse_intent(task)
    assert intent is not None
    assert {key: getattr(intent, key) for key in expected} == expected
