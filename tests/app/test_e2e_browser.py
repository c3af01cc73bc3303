"""End to end in a real headless Chromium against a real `streamlit run` on loopback.

A strategist signs in and uploads a PDF; a chef signs in, asks about it and
sees a citation to that PDF with its page; a chef's direct visit to Bibliotek
is refused. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.app.conftest import ACCOUNTS, ARTIFACTS
from tests.builders import pdf_bytes

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORDS = {name: ACCOUNTS[name] for name in ("strategen", "chefen")}
PDF_TITLE = "Säker inloggning i hemtjänstens mobila system"
PDF_PAGES = [
    "Den här vägledningen beskriver hur en kommun kan införa mobila arbetssätt i hemtjänsten. "
    "Den vänder sig till förvaltningsledning och verksamhetsutvecklare.",
    "Tvåfaktorsinloggning för hemtjänstpersonal. Alla medarbetare i hemtjänsten som läser journaler i mobilen "
    "ska logga in med tvåfaktorsinloggning. Ledningen bör avsätta tid för att dela ut säkerhetsnycklar och "
    "öva inloggningen med varje arbetsgrupp innan tvåfaktorsinloggningen blir obligatorisk.",
    "Uppföljning sker varje kvartal i förvaltningens ledningsgrupp.",
]


def _sign_in(browser, url: str, name: str):  # noqa: ANN001, ANN202
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    page.get_by_label("Användarnamn").fill(name)
    page.get_by_label("Lösenord").fill(PASSWORDS[name][1])
    page.get_by_role("button", name="Logga in").click()
    page.get_by_text(f"Inloggad som {name}").wait_for(timeout=30_000)
    return page


def _copy_until_status(page, attempts: int = 3) -> None:  # noqa: ANN001 - Playwright objects
    """Click the copy button when the app is idle and wait for its status. Closing the source dialog reruns the
    script, which can replace the button's frame after it was found (a CI run on a busy machine lost the click
    that way), so the frame is looked up again on each attempt."""
    status = re.compile(r"^(Svaret är kopierat\.|Det gick inte att kopiera)")
    for attempt in range(attempts):
        _wait_idle(page)
        for _ in range(60):  # the frame may be between its old and new document for a moment
            copy = next((f for f in page.frames if not f.is_detached() and f.locator("#copy").count()), None)
            if copy is not None:
                break
            page.wait_for_timeout(500)
        assert copy is not None, "no copy button"
        copy.get_by_role("button", name="Kopiera svaret som text").click()
        try:
            copy.get_by_text(status).wait_for(timeout=20_000)
            return
        except PlaywrightTimeoutError:
            if attempt == attempts - 1:
                raise


def _wait_idle(page) -> None:  # noqa: ANN001 - Playwright objects
    """Wait until Streamlit is not running the script: no spinner, no stale elements."""
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stSpinner"], [data-stale="true"]')
              && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')""", timeout=120_000)


def _open_until(page, button, shown, attempts: int = 3) -> None:  # noqa: ANN001 - Playwright objects
    """Click when the app is idle; a click that lands while Streamlit is still rerunning can be dropped (seen once
    in a full run on a busy machine), so click again if what it opens has not appeared."""
    for attempt in range(attempts):
        _wait_idle(page)
        button.click()
        try:
            shown.wait_for(timeout=20_000)
            return
        except PlaywrightTimeoutError:
            if attempt == attempts - 1:
                raise


def test_strateg_uploads_then_chef_sees_citation_and_cannot_open_bibliotek(server: str, browser, tmp_path: Path) -> None:  # noqa: ANN001
    pdf = tmp_path / "saker-inloggning-hemtjanst.pdf"
    pdf.write_bytes(pdf_bytes(PDF_PAGES, title=PDF_TITLE))

    # The strategist signs in and uploads.
    page = _sign_in(browser, server, "strategen")
    page.get_by_text("Exempel att börja med").wait_for(timeout=150_000)
    page.screenshot(path=ARTIFACTS / "01-strateg-chatt.png", full_page=True)
    page.get_by_role("link", name="Bibliotek").click()
    page.get_by_role("heading", name="Lägg till dokument").wait_for()
    before = int(page.get_by_role("heading", name=re.compile(r"^Dokument i indexet")).inner_text().split("(")[1][:-1])
    page.locator("input[type=file]").set_input_files(str(pdf))
    page.get_by_test_id("stFileChip").first.wait_for()
    page.get_by_test_id("stFileChipIconSpinner").wait_for(state="hidden")
    page.get_by_role("button", name="Läs in").click()
    page.get_by_text(f"{pdf.name}: tillagd").wait_for(timeout=60_000)
    page.get_by_text(f"Dokument i indexet ({before + 1})").wait_for()  # the documents before and the upload
    page.get_by_test_id("stDataFrame").wait_for()
    page.wait_for_timeout(1000)  # let the table paint before the screenshot
    page.screenshot(path=ARTIFACTS / "02-strateg-bibliotek-uppladdad.png", full_page=True)
    page.context.close()

    # A chef asks about it and sees a citation to the PDF with its page.
    page = _sign_in(browser, server, "chefen")
    expect_no_link = page.get_by_role("link", name="Bibliotek")
    assert expect_no_link.count() == 0
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("Hur inför vi tvåfaktorsinloggning för hemtjänstpersonal?")
    box.press("Enter")
    sources = page.get_by_text(re.compile(r"^Källor: \d+ dokument"))
    sources.first.wait_for(timeout=180_000)  # generous: the first answer after an upload loads the new index
    page.screenshot(path=ARTIFACTS / "03-chef-svar-med-kalla.png", full_page=True)
    sources.first.click()  # the sources are collapsed by default: one entry per document, a chip per quote
    page.get_by_text(PDF_TITLE).first.wait_for()
    dialog = page.get_by_role("dialog")
    _open_until(page, page.get_by_role("button", name=re.compile(r"Källa \d+ · sidan 2")).first,
                dialog.get_by_text("Källan i sitt sammanhang"))
    dialog.locator("mark").first.wait_for()  # the dialog's body draws after its title
    assert dialog.locator("mark").count() == 1  # the quote, marked in its section
    link = dialog.get_by_role("link", name="Öppna PDF:en på sidan 2")
    href = link.get_attribute("href")
    assert href.endswith("#page=2") and "base64" not in href
    served = page.request.get(urllib.parse.urljoin(page.url, href.split("#")[0]))
    assert served.ok and served.headers["content-type"].startswith("application/pdf")
    assert "attachment" not in served.headers.get("content-disposition", "")  # opens in the browser's viewer
    dialog.get_by_role("button", name="Ladda ned originalet (PDF)").wait_for()
    page.screenshot(path=ARTIFACTS / "03b-chef-kallan-i-sammanhang.png", full_page=False)
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    # Each answer has a copy button; it copies the answer as plain text with its numbers and sources.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    # Headless Chromium does not always let a page use the clipboard, so the test asks only for the Swedish
    # status the button gives either way; the copied text itself is plain_text(), tested without a browser.
    _copy_until_status(page)
    page.context.close()

    # A chef who types the Bibliotek address is refused.
    page = _sign_in(browser, f"{server}/bibliotek", "chefen")
    page.get_by_text("Den här sidan är bara för strateger").wait_for()
    assert page.get_by_role("heading", name="Lägg till dokument").count() == 0
    page.screenshot(path=ARTIFACTS / "04-chef-bibliotek-nekad.png", full_page=True)
    page.context.close()


def test_reload_keeps_the_user_and_the_conversation_and_sign_out_ends_the_session(server: str, browser) -> None:  # noqa: ANN001
    page = _sign_in(browser, server, "chefen")
    page.get_by_text("Exempel att börja med").wait_for(timeout=400_000)  # alone, this test builds the index
    # The cookie is written by a script in an invisible frame once the page has drawn; wait until it is there.
    page.wait_for_function("document.cookie.split('; ').some(c => c.startsWith('rf_session='))", timeout=30_000)
    [cookie] = [c for c in page.context.cookies() if c["name"] == "rf_session"]
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    question = "Hur följer ledningsgruppen upp nyttan av ett nytt verksamhetssystem?"
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    # Saved: the address names the conversation. Generous: in this test the first answer also loads the
    # coaching models, which a busy machine slows.
    page.wait_for_function("location.search.includes('konversation=')", timeout=300_000)
    page.get_by_test_id("stChatMessage").nth(1).wait_for()

    page.reload()  # F5
    page.get_by_text("Inloggad som chefen").wait_for()
    assert page.get_by_label("Lösenord").count() == 0
    page.get_by_test_id("stChatMessage").first.get_by_text(question).wait_for()
    assert page.get_by_test_id("stChatMessage").count() == 2
    page.get_by_test_id("stSidebar").get_by_role("button", name=re.compile("^Hur följer ledningsgruppen upp")).wait_for()  # in the list
    page.screenshot(path=ARTIFACTS / "05-chef-efter-omladdning.png", full_page=True)

    copied = [c for c in page.context.cookies() if c["name"] == "rf_session"]
    page.get_by_role("button", name="Logga ut").click()
    page.get_by_label("Lösenord").wait_for()
    page.reload()
    page.get_by_label("Lösenord").wait_for()  # signed out stays signed out
    assert page.get_by_text("Inloggad som chefen").count() == 0
    page.context.close()

    # A copy of the cookie taken before signing out signs nobody in.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    context.add_cookies(copied)
    thief = context.new_page()
    thief.goto(server)
    thief.get_by_label("Lösenord").wait_for(timeout=30_000)
    assert thief.get_by_text("Inloggad som chefen").count() == 0
    context.close()

    # Signing in again brings the conversation back in the list.
    page = _sign_in(browser, server, "chefen")
    page.get_by_test_id("stSidebar").get_by_role("button", name=re.compile("^Hur följer ledningsgruppen upp")).click()
    page.get_by_test_id("stChatMessage").first.get_by_text(question).wait_for()
    page.context.close()



def test_the_page_speaks_swedish_to_screen_readers(server: str, browser) -> None:  # noqa: ANN001
    """<html lang="sv"> and Streamlit's own skip link in Swedish (set by assistant.app.ui.swedish)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="sv-SE")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server)
    page.get_by_label("Användarnamn").wait_for()
    page.wait_for_function("document.documentElement.lang === 'sv'")
    assert page.locator('[data-testid="stSkipToContent"]').inner_text() == "Hoppa till huvudinnehållet"
    context.close()
