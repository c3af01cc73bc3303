"""The "Om Rätt frågor" text: what the assistant is, and what leaves the machine (issue 15, point 7)."""

from __future__ import annotations

from urllib.parse import urlsplit

from assistant.settings import Settings

NEVER_SENT = ("användarnamn och konton, uppladdade filer som filer (bara de avsnitt som svaret bygger på går "
              "iväg) och återkopplingen (tummar och kommentarer)")


def llm_configured(settings: Settings) -> bool:
    return settings.llm_provider != "none"


def provider(settings: Settings) -> str:
    """The configured provider in words, with the server's host for a self-hosted one."""
    if settings.llm_provider == "azure":
        where = "Azure OpenAI"
    else:
        where = "en OpenAI-kompatibel tjänst"
    host = urlsplit(settings.llm_base_url or "").hostname
    model = f" (modell {settings.llm_model})" if settings.llm_model else ""
    return where + (f" på {host}" if host else "") + model


def text(settings: Settings) -> str:
    """What leaves this server, in plain Swedish; Markdown of our own (no user text in it)."""
    lead = ("Rätt frågor hjälper ledningsgruppen att ställa rätt frågor om ett digitaliseringsinitiativ. "
            "Svaren bygger på vägledningen i biblioteket, med källor.")
    if not llm_configured(settings):
        return (f"{lead}\n\n**Vad lämnar datorn?** Ingenting. Ingen språkmodell är inställd, så allt – ditt "
                "meddelande, svaren och källorna – stannar på den här servern.")
    return (f"{lead}\n\n**Vad lämnar datorn?** En språkmodell är inställd: {provider(settings)}. För att "
            "formulera svaret skickas dit\n"
            "- ditt meddelande, rensat (sådant som ser ut som instruktioner till assistenten tas bort),\n"
            "- de senaste meddelandena i samma konversation, så att en följdfråga kan förstås,\n"
            "- de avsnitt ur vägledningen som svaret bygger på.\n\n"
            f"Det som **inte** skickas: {NEVER_SENT}. Varje mening som modellen skriver kontrolleras mot "
            "källorna innan den visas; det som inte stöds tas bort. Svarar modellen inte i tid visas svaret "
            "utan språkmodell.")
