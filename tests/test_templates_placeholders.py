"""Placeholder rules for template bodies: {{1}}..{{n}}, contiguous, rendered in place."""

from hypothesis import given
from hypothesis import strategies as st

from portal.services.templates import body_errors, placeholder_count, render


def test_contiguous_placeholders_are_valid_in_any_order_and_repeated():
    assert body_errors("Veja {{2}} e {{1}} e {{1}}.") == []
    assert placeholder_count("Veja {{2}} e {{1}} e {{1}}.") == 2


def test_body_without_placeholders_is_valid():
    assert body_errors("Obrigado pelo contato!") == []


def test_numbering_must_start_at_one(app):
    with app.test_request_context():
        assert body_errors("Oi {{2}}")


def test_spaces_inside_braces_are_tolerated():
    assert render("Oi {{ 1 }}!", ["Ana"]) == "Oi Ana!"


@given(st.lists(st.text(alphabet="abc xyz", min_size=1, max_size=8), min_size=1, max_size=5))
def test_rendering_puts_each_value_in_its_place(values):
    # Meta refuses a parameter at the start or the end of the body.
    body = "Valores: " + " | ".join(f"{{{{{n}}}}}" for n in range(1, len(values) + 1)) + "."
    assert body_errors(body) == []
    assert render(body, values) == "Valores: " + " | ".join(values) + "."
