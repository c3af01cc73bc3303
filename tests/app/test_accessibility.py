"""Accessibility in a real headless Chromium against a real `streamlit run` on loopback.

axe-core (shipped inside the pinned PyPI package axe-playwright-python; injected by us, no network) runs on
sign-in, the chat with an answer (desktop and phone width), Bibliotek and Utvärdering. Nothing critical or
serious may remain, and no skipped heading level (heading-order). A second test uses the chat with the keyboard
alone. The server and the browser are shared with the other browser tests (tests/app/conftest.py); each test
signs in with its own account. Screenshots of every view go to test-artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.app.conftest import ACCOUNTS, ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "Vi ska införa digital nattillsyn i hemtjänsten. Hur får vi med oss medarbetarna i förändringen?"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
BLOCKING = ("critical", "serious")
ALSO_BLOCKING = ("heading-order",)  # "moderate" in axe, but a skipped level misleads a screen reader's outline


def _axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def _settle(page) -> None:  # noqa: ANN001
    """Wait until Streamlit has finished the current run: no spinner, no faded (stale) elements."""
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stSpinner"], [data-stale="true"]')
              && !document.querySelector('[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]')""",
        timeout=300_000,
    )
    page.wait_for_timeout(500)  # let transitions (fade-in of fresh elements) finish before colours are measured


def _axe(page, view: str) -> list[dict]:  # noqa: ANN001
    """Run axe-core on the page; return the critical and serious violations, printing every violation."""
    page.add_script_tag(content=_axe_source())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    print(f"\naxe-core {result['testEngine']['version']} on {view}: {len(result['violations'])} violations")
    for v in result["violations"]:
        targets = [" ".join(map(str, n["target"])) for n in v["nodes"]]
        print(f"  [{v['impact']}] {v['id']}: {v['help']} ({len(targets)} nodes)")
        for node in v["nodes"]:
            summary = " ".join(line.strip() for line in node.get("failureSummary", "").splitlines()[1:])
            print(f"    - {' '.join(map(str, node['target']))}\n      {node['html'][:160]}\n      {summary}")
    return [v for v in result["violations"] if v["impact"] in BLOCKING or v["id"] in ALSO_BLOCKING]


def _describe(blocking: list[dict]) -> str:
    return "\n".join(f"{v['impact']} {v['id']}: {[' '.join(map(str, n['target'])) for n in v['nodes']]}"
                     for v in blocking)


def _new_page(browser, url: str, viewport: dict):  # noqa: ANN001, ANN202
    page = browser.new_context(viewport=viewport, locale="sv-SE").new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    return page


def _sign_in(page, name: str) -> None:  # noqa: ANN001
    page.get_by_label("Användarnamn").fill(name)
    page.get_by_label("Lösenord").fill(ACCOUNTS[name][1])
    page.get_by_role("button", name="Logga in").click()
    page.get_by_text(f"Inloggad som {name}").wait_for()
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=300_000)  # the first session builds the index
    _settle(page)


def _answer_arrived(page) -> None:  # noqa: ANN001
    # The answer is in when the assistant's message holds more than the spinner's line.
    page.wait_for_function(
        """() => { const m = document.querySelectorAll('[data-testid="stChatMessage"]');
                   return m.length > 1 && m[1].innerText.length > 200; }""", timeout=300_000)
    _settle(page)


def _screenshot(page, name: str) -> None:  # noqa: ANN001
    """The whole page: Streamlit scrolls inside its main area, so grow the viewport to the content first."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = page.viewport_size
    height = page.evaluate("""() => Math.min(10000, Math.max(0, ...[...document.querySelectorAll('[data-testid]')]
                                  .filter((e) => e.scrollHeight > e.clientHeight).map((e) => e.scrollHeight)))""")
    if height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(300)  # one layout pass at the new size
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    page.set_viewport_size(size)


def test_axe_finds_nothing_critical_or_serious_on_the_main_views(server: str, browser) -> None:  # noqa: ANN001, F811
    found: dict[str, list[dict]] = {}

    page = _new_page(browser, server, DESKTOP)
    page.get_by_role("button", name="Logga in").wait_for()
    _settle(page)
    _screenshot(page, "a11y-inloggning")
    found["inloggning"] = _axe(page, "inloggning")

    _sign_in(page, "strateg-a11y")
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(QUESTION)
    box.press("Enter")
    _answer_arrived(page)
    _screenshot(page, "a11y-chatt-med-svar")
    found["chatt"] = _axe(page, "chatt med svar")
    answer = page.get_by_test_id("stChatMessage").nth(1)
    answer.get_by_text(re.compile(r"^Källor")).click()  # the collapsed source list, opened
    _settle(page)
    found["chatt-kallor"] = _axe(page, "chatt med källorna öppna")
    answer.get_by_role("link", name=re.compile(r"^Källa \d+: visa citatet")).first.click()  # a [källa n] in the text
    page.get_by_role("dialog").wait_for()
    _settle(page)
    _screenshot(page, "a11y-kalla-i-sammanhang")
    found["kalla"] = _axe(page, "källan i sitt sammanhang")
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="hidden")

    page.get_by_role("link", name="Bibliotek").click()
    page.get_by_test_id("stDataFrame").wait_for()
    _settle(page)
    _screenshot(page, "a11y-bibliotek")
    found["bibliotek"] = _axe(page, "bibliotek")
    # Every column of the documents table is in view at 1366 px: nothing inside it scrolls sideways.
    page.get_by_test_id("stDataFrame").screenshot(path=ARTIFACTS / "a11y-bibliotek-tabell.png")
    overflowing = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stDataFrame"] *')]
        .filter((e) => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX) && e.scrollWidth > e.clientWidth + 1)
        .map((e) => `${e.className} ${e.scrollWidth} > ${e.clientWidth}`)""")
    assert not overflowing, overflowing

    page.get_by_role("link", name="Utvärdering").click()
    page.get_by_role("heading", name="Utvärdering").wait_for()
    _settle(page)
    _screenshot(page, "a11y-utvardering")
    found["utvardering"] = _axe(page, "utvärdering")
    page.context.close()

    phone = _new_page(browser, server, PHONE)
    _sign_in(phone, "chef-a11y")
    box = phone.get_by_test_id("stChatInputTextArea")
    box.fill(QUESTION)
    box.press("Enter")
    _answer_arrived(phone)
    _screenshot(phone, "a11y-chatt-mobil")
    found["chatt-mobil"] = _axe(phone, "chatt med svar, 390 px")
    phone.context.close()

    blocking = {view: v for view, v in found.items() if v}
    assert not blocking, "\n".join(f"{view}:\n{_describe(v)}" for view, v in blocking.items())


def _focused(page) -> dict:  # noqa: ANN001
    return page.evaluate(
        """() => { const label = (el) => {  // the accessible text, without Material icon ligatures
                     if (!el) return '';
                     if (el.getAttribute('aria-label')) return el.getAttribute('aria-label').trim();
                     const c = el.cloneNode(true);
                     c.querySelectorAll('[data-testid="stIconMaterial"]').forEach((i) => i.remove());
                     return (c.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 80); };
                   const e = document.activeElement;
                   const msg = e && e.closest('[data-testid="stChatMessage"]');
                   const all = [...document.querySelectorAll('[data-testid="stChatMessage"]')];
                   return { testid: e?.getAttribute('data-testid') || '', tag: e?.tagName || '',
                            feedback: !!e?.closest('[data-testid="stButtonGroup"], [data-testid="stFeedback"]'),
                            label: label(e),
                            message: msg ? all.indexOf(msg) : -1 }; }""")


def test_the_chat_works_with_the_keyboard_alone(server: str, browser) -> None:  # noqa: ANN001, F811
    page = _new_page(browser, server, DESKTOP)
    # Sign in with the keyboard as well: Tab into the name field, type, Tab, type, Enter.
    page.get_by_role("button", name="Logga in").wait_for()
    _settle(page)
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.getAttribute('aria-label')") == "Användarnamn":
            break
    assert page.evaluate("document.activeElement?.getAttribute('aria-label')") == "Användarnamn"
    page.keyboard.type("chef-tangent")
    page.keyboard.press("Tab")
    page.keyboard.type(ACCOUNTS["chef-tangent"][1])
    page.keyboard.press("Enter")
    page.get_by_text("Inloggad som chef-tangent").wait_for()
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=300_000)
    _settle(page)

    # Tab alone reaches the chat input.
    for presses in range(1, 41):
        page.keyboard.press("Tab")
        if _focused(page)["testid"] == "stChatInputTextArea":
            break
    assert _focused(page)["testid"] == "stChatInputTextArea", f"the chat input was not reached in {presses} Tab presses"
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    _answer_arrived(page)

    # From the input, Shift+Tab walks back into the answer and reaches its sources and feedback controls.
    page.get_by_test_id("stChatInputTextArea").focus()
    reached: list[dict] = []
    for _ in range(60):
        page.keyboard.press("Shift+Tab")
        now = _focused(page)
        if now["message"] == 1:
            reached.append(now)
        if now["message"] == 0 or now["tag"] == "BODY":
            break
    labels = " | ".join(r["label"] for r in reached)
    assert any(r["label"].startswith("Källa") for r in reached), labels  # a source button in the answer
    assert any(r["label"].startswith("Källor") for r in reached), labels  # the collapsed source list
    assert any(r["feedback"] for r in reached), labels  # the thumbs

    # Enter on a source button opens the quote in its context; Escape closes it again.
    page.get_by_test_id("stChatInputTextArea").focus()
    for _ in range(60):
        page.keyboard.press("Shift+Tab")
        if _focused(page)["label"].startswith("Källa ") and _focused(page)["message"] == 1:
            break
    assert _focused(page)["label"].startswith("Källa ") and _focused(page)["tag"] == "A", _focused(page)  # a link
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert "Källan i sitt sammanhang" in dialog.inner_text()
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    page.context.close()
