"""Which dimensions a message touches, which it already addresses, and whether it is about digitalisation."""

from __future__ import annotations

from assistant.coaching.dimensions import addressed, is_digital, touched


def words(text: str) -> list[str]:
    return text.lower().replace(".", "").split()


def test_an_ai_chatbot_for_residents_touches_law_and_data() -> None:
    got = touched(["vi", "vill", "införa", "ai", "chattbot", "för", "invånare"])
    assert got["juridik-och-sakerhet"] >= 2 and got["data-och-samverkan"] >= 2


def test_a_procurement_led_by_it_touches_ownership_and_processes() -> None:
    got = touched(["it", "avdelningen", "ska", "upphandla", "ett", "verksamhetssystem"])
    assert {"agarskap-och-ansvar", "processer-och-arbetssatt"} <= set(got)


def test_a_named_benefit_owner_addresses_ownership_not_the_goal() -> None:
    text = "Vi har en nyttoägare."
    assert addressed(words(text), text) == ["agarskap-och-ansvar"]


def test_goals_law_and_risk_are_recognised_as_addressed() -> None:
    text = "Målet är kortare väntetider, vi har gjort en DPIA och börjar med en pilot."
    assert addressed(words(text), text) == ["mal-och-nytta", "juridik-och-sakerhet", "risk-och-genomforande"]


def test_new_is_not_benefit() -> None:
    text = "Vi ska köpa ett nytt system."
    assert "mal-och-nytta" not in addressed(words(text), text)


def test_digital_initiatives_are_told_from_others() -> None:
    assert is_digital(["e-tjänst", "bygglov"])
    assert is_digital(["lärplattform", "plattform"])
    assert not is_digital(["bygga", "ny", "simhall"])
