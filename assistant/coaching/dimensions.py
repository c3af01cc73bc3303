"""Keyword cues linking a chef's message to the ten dimensions of the question bank.

Two different things are read from the message:
- what the initiative *touches* (an AI chatbot for residents touches juridik
  and data; a system procurement led by IT touches ägarskap and processer),
  which decides where the sharpest questions are;
- what the description already *addresses* (it mentions nyttan, a named
  owner, GDPR …), which the gap check reports, so questions go where the
  description is silent.
Cues are word prefixes matched against lower-cased tokens and their compound parts.
"""

from __future__ import annotations

from collections.abc import Iterable

TOUCHES: dict[str, tuple[str, ...]] = {
    "ai": ("juridik-och-sakerhet", "data-och-samverkan", "kompetens-och-larande"),
    "chattbot": ("juridik-och-sakerhet", "data-och-samverkan", "mal-och-nytta"),
    "chatbot": ("juridik-och-sakerhet", "data-och-samverkan", "mal-och-nytta"),
    "språkmodell": ("juridik-och-sakerhet", "data-och-samverkan"),
    "maskininlärning": ("juridik-och-sakerhet", "data-och-samverkan"),
    "invånar": ("juridik-och-sakerhet", "data-och-samverkan", "mal-och-nytta"),
    "medborgar": ("juridik-och-sakerhet", "data-och-samverkan"),
    "upphandl": ("agarskap-och-ansvar", "risk-och-genomforande", "processer-och-arbetssatt"),
    "köpa": ("agarskap-och-ansvar", "risk-och-genomforande"),
    "leverantör": ("risk-och-genomforande", "forvaltning-och-arv"),
    "verksamhetssystem": ("processer-och-arbetssatt", "agarskap-och-ansvar", "forvaltning-och-arv"),
    "system": ("processer-och-arbetssatt", "forvaltning-och-arv"),
    "it": ("agarskap-och-ansvar", "processer-och-arbetssatt"),
    "byt": ("forvaltning-och-arv", "processer-och-arbetssatt"),
    "ersätt": ("forvaltning-och-arv", "processer-och-arbetssatt"),
    "hemtjänst": ("juridik-och-sakerhet", "forandringsledning-och-kultur", "processer-och-arbetssatt"),
    "socialtjänst": ("juridik-och-sakerhet", "forandringsledning-och-kultur"),
    "omsorg": ("juridik-och-sakerhet", "forandringsledning-och-kultur"),
    "vård": ("juridik-och-sakerhet", "forandringsledning-och-kultur"),
    "journal": ("juridik-och-sakerhet", "data-och-samverkan"),
    "skola": ("juridik-och-sakerhet", "kompetens-och-larande", "forandringsledning-och-kultur"),
    "elev": ("juridik-och-sakerhet", "data-och-samverkan"),
    "lärplattform": ("data-och-samverkan", "kompetens-och-larande", "juridik-och-sakerhet"),
    "plattform": ("data-och-samverkan", "forvaltning-och-arv"),
    "e-tjänst": ("processer-och-arbetssatt", "data-och-samverkan", "mal-och-nytta"),
    "bygglov": ("processer-och-arbetssatt", "data-och-samverkan"),
    "automatiser": ("processer-och-arbetssatt", "forandringsledning-och-kultur", "forvaltning-och-arv"),
    "rpa": ("processer-och-arbetssatt", "forvaltning-och-arv", "forandringsledning-och-kultur"),
    "robot": ("processer-och-arbetssatt", "forvaltning-och-arv", "forandringsledning-och-kultur"),
    "faktur": ("processer-och-arbetssatt", "mal-och-nytta"),
    "ekonomi": ("processer-och-arbetssatt", "mal-och-nytta"),
    "moln": ("juridik-och-sakerhet", "forvaltning-och-arv"),
    "välfärdsteknik": ("forandringsledning-och-kultur", "juridik-och-sakerhet", "mal-och-nytta"),
    "data": ("data-och-samverkan", "juridik-och-sakerhet"),
    "integration": ("data-och-samverkan", "forvaltning-och-arv"),
    "projekt": ("risk-och-genomforande", "styrning-och-uppfoljning"),
    "digitaliser": ("mal-och-nytta", "styrning-och-uppfoljning"),
}

ADDRESSES: dict[str, tuple[str, ...]] = {
    "mal-och-nytta": ("nytt", "mål", "syfte", "effekt", "spar", "besparing", "minska", "öka", "förbättr", "kvalitet",
                      "väntetid", "effektivis", "frigör"),
    "agarskap-och-ansvar": ("ägare", "äga", "nyttoägar", "förändringsägar", "objektägar", "ansvar", "beställare", "sponsor", "styrgrupp", "förvaltningschef"),
    "processer-och-arbetssatt": ("arbetssätt", "process", "rutin", "flöde", "roller", "handläggning", "arbetsflöde"),
    "forandringsledning-och-kultur": ("medarbetar", "personal", "förankr", "involver", "delaktig", "motstånd", "kultur",
                                      "kommunikation", "facket", "användare"),
    "kompetens-och-larande": ("utbildning", "kompetens", "lära", "träning", "kunskap", "kunnighet"),
    "styrning-och-uppfoljning": ("uppföljning", "följa", "budget", "styrning", "prioriter", "nämnd", "mätning",
                                 "nyckeltal", "tidplan"),
    "data-och-samverkan": ("information", "integration", "samverkan", "dela", "api", "grunddata", "kartlägg"),
    "forvaltning-och-arv": ("förvaltning", "underhåll", "avveckl", "befintlig", "gamla", "livscykel", "objektägare"),
    "juridik-och-sakerhet": ("gdpr", "dataskydd", "personuppgift", "sekretess", "säkerhet", "juridik", "dpia",
                             "konsekvensbedömning", "ai-förordning", "lagkrav", "rättslig"),
    "risk-och-genomforande": ("risk", "pilot", "etapp", "stegvis", "mindre leveranser", "test", "prova", "delleverans"),
}
# "nytt" as a prefix would also catch the adjective "nytt" (new); require the noun forms.
_NOT_ADDRESS = {"nytt"}


# Word prefixes that make an initiative a digitalisation initiative at all. Without one
# ("Vi ska bygga en ny simhall") the assistant says what it can help with instead.
DIGITAL = ("ai", "chattbot", "chatbot", "språkmodell", "maskininlärning", "system", "it", "it-", "digital", "e-tjänst",
           "etjänst", "app", "plattform", "automatiser", "rpa", "robot", "moln", "saas", "data", "integration", "api",
           "välfärdsteknik", "sensor", "programvara", "mjukvara", "licens", "webb", "portal", "teknik", "journal",
           "ärendehantering", "informationssäkerhet", "cyber", "e-", "algoritm", "dator", "surfplatt", "skärm",
           "elektronisk", "software", "digitize", "online", "internet", "wifi", "bredband")


def matches(word: str, cue: str) -> bool:
    """A cue matches a word it starts, or, from five letters, any word it is part of
    ("system" in "vårdinformationssystemet", "robot" in "läkemedelsrobotar")."""
    return word == cue or (len(cue) > 2 and word.startswith(cue)) or (len(cue) >= 5 and cue in word)


def is_digital(words: Iterable[str]) -> bool:
    return any(matches(w, cue) for w in words for cue in DIGITAL)


def touched(words: list[str]) -> dict[str, int]:
    """How many cues of the message point at each dimension."""
    counts: dict[str, int] = {}
    for cue, dims in TOUCHES.items():
        if any(matches(w, cue) for w in words):
            for d in dims:
                counts[d] = counts.get(d, 0) + 1
    return counts


def addressed(words: list[str], text: str) -> list[str]:
    """Dimensions the description already speaks about, in bank order."""
    lowered = text.lower()
    out = []
    for dim, cues in ADDRESSES.items():
        for cue in cues:
            if " " in cue and cue in lowered:
                out.append(dim)
                break
            # A named nyttoägare speaks to ownership, not to what the benefit is.
            if any(w.startswith(cue) and w not in _NOT_ADDRESS and not (cue == "nytt" and "ägar" in w) for w in words):
                out.append(dim)
                break
    return out
