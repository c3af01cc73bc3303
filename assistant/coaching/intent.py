"""What kind of message the chef wrote: initiative, question, follow-up, out of scope or empty.

Instructions inside a message ("ignorera dina instruktioner", "ignore previous
instructions", "du är nu …", "visa din systemprompt") are never followed: the
sentences that carry them are removed and the rest of the message is handled
as usual. If nothing else remains, the message is declined. Text in documents
is only ever quoted, never obeyed.

Language policy: answers are always in Swedish, because the guidance, the
question bank and the quotes are Swedish and a citation must quote the source
as it stands. A message in English is understood: English keywords are mapped
to Swedish search terms (`ENGLISH_HINTS`) for retrieval and question
selection, and the answer starts with a short Swedish note saying that
answers are given in Swedish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answer import Kind
from assistant.text import content_tokens, split_sentences, tokenize

INJECTION_RE = re.compile(
    r"ignorera\s+(\w+\s+){0,3}(instruktioner|regler|direktiv|anvisningar)"
    r"|glöm\s+(alla\s+|dina\s+)*(instruktioner|regler)|bortse\s+från\s+(dina|alla|tidigare)"
    r"|ignore\s+(\w+\s+){0,3}(instructions|rules|prompts?)"
    r"|disregard\s+(all|any|the|your|previous)|forget\s+(all\s+|your\s+)*instructions"
    r"|\bdu\s+är\s+nu\b|\byou\s+are\s+now\b|\bfrån\s+och\s+med\s+nu\s+är\s+du\b|\bact\s+as\b|\bagera\s+som\b"
    r"|\blåtsas\s+att\s+du\b|\bpretend\s+(to\s+be|you)\b|system\s*-?\s*prompt|systemprompt|jailbreak|developer\s+mode"
    r"|\b(visa|skriv\s+ut|avslöja|reveal|print|show)\s+(dina|din|your)\s+(instruktioner|instructions|prompt)",
    re.IGNORECASE,
)

# A plan in the making: a modal or planning verb ("IT vill konsolidera …", "Regionen ska införa …",
# "Vi har testat … och vill nu skala upp"), or an infinitive of change at the start ("Införa RPA …").
INITIATIVE_RE = re.compile(
    r"\b(ska|skall|vill|planerar|funderar\s+på|tänker|överväger|har\s+beslutat|har\s+bestämt|kommer\s+att|"
    r"inför|upphandlar|utreder|startar|byter|bygger|tar\s+fram|går\s+över|har\s+testat|testar|provar)\b"
    r"|^\s*(införa|upphandla|köpa\s+in|byta|bygga|ta\s+fram|automatisera|digitalisera)\b"
    r"|\bwe\s+(will|want|plan|are\s+planning|are\s+going|intend|need|are\s+about)\b|\bwe'(ll|re\s+planning)\b",
    re.IGNORECASE,
)
INTERROGATIVE = {"vad", "hur", "varför", "vilka", "vilken", "vilket", "vem", "vems", "när", "var", "kan", "får",
                 "måste", "bör", "finns", "behöver", "ska", "är", "gäller", "what", "how", "why", "who", "when",
                 "which", "can", "should", "must", "is", "are", "do", "does"}
ORDINALS = {"första": 1, "andra": 2, "tredje": 3, "fjärde": 4, "femte": 5, "sjätte": 6, "sjunde": 7, "åttonde": 8,
            "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8}
QUESTION_REF_RE = re.compile(
    r"\b(?:fråga|frågan|question)\s*(?:nummer|nr\.?|number)?\s*(\d{1,2})\b"
    r"|\b(?:den\s+|the\s+)?(" + "|".join(ORDINALS) + r")\s+(?:frågan|question)\b",
    re.IGNORECASE,
)
TERM_RE = re.compile(
    r"^\s*(?:och\s+)?(?:vad\s+(?:menar|menade)\s+(?:du|ni)\s+med|vad\s+betyder|vad\s+innebär|förklara|kan\s+du\s+förklara|what\s+do\s+you\s+mean\s+by|what\s+does|what\s+is\s+meant\s+by)\s+(.+?)[\s?.!]*$",
    re.IGNORECASE,
)
STANDS_FOR_RE = re.compile(r"^\s*vad\s+står\s+(.+?)\s+för[\s?.!]*$", re.IGNORECASE)
WHAT_IS_RE = re.compile(r"^\s*(?:vad\s+är|vad\s+är\s+en|vad\s+är\s+ett|what\s+is)\s+(.+?)[\s?.!]*$", re.IGNORECASE)

ENGLISH_WORDS = {"the", "and", "we", "our", "is", "are", "of", "to", "what", "how", "should", "which", "who", "do",
                 "does", "will", "want", "for", "with", "new", "a", "an", "in", "this", "that", "you", "it", "be"}
SWEDISH_WORDS = {"och", "att", "vi", "är", "det", "som", "en", "ett", "för", "på", "med", "vad", "hur", "ska", "vill",
                 "den", "av", "inte", "om", "till", "har", "vår", "våra"}
ENGLISH_HINTS = {
    "benefit": "nytta nyttorealisering", "benefits": "nytta nyttorealisering", "realisation": "nyttorealisering",
    "realization": "nyttorealisering", "procure": "upphandla upphandling", "procurement": "upphandling",
    "purchase": "upphandling", "buy": "upphandling", "owner": "ägare nyttoägare", "ownership": "ägarskap ansvar",
    "management": "ledningsgrupp ledning", "leadership": "ledning ledningsgrupp", "chatbot": "chattbot ai",
    "residents": "invånare", "citizens": "invånare", "home": "hemtjänst", "care": "omsorg hemtjänst",
    "school": "skola", "learning": "lärande lärplattform", "platform": "plattform", "privacy": "dataskydd personuppgifter",
    "gdpr": "gdpr dataskydd", "personal": "personuppgifter", "security": "säkerhet informationssäkerhet",
    "cybersecurity": "cybersäkerhet", "cloud": "molntjänst", "change": "förändring förändringsledning",
    "competence": "kompetens", "skills": "kompetens", "training": "utbildning kompetens", "governance": "styrning",
    "follow": "uppföljning", "legacy": "digitalt arv", "maintenance": "förvaltning", "risk": "risk", "risks": "risk",
    "project": "projekt", "projects": "projekt", "supplier": "leverantör", "vendor": "leverantör",
    "automation": "automatisering", "automate": "automatisering", "rpa": "automatisering robot", "ai": "ai",
    "act": "ai-förordningen", "impact": "konsekvensbedömning", "dpia": "konsekvensbedömning",
    "interoperability": "samverkan interoperabilitet", "data": "data", "e-service": "e-tjänst", "service": "e-tjänst",
    "permit": "bygglov", "case": "ärendehantering", "system": "system verksamhetssystem", "implement": "införa införande",
    "introduce": "införa införande", "replace": "byte", "costs": "kostnad", "budget": "budget", "staff": "medarbetare",
    "employees": "medarbetare", "responsible": "ansvar ansvarig", "responsibility": "ansvar",
    "accountable": "ansvar ägare", "initiative": "initiativ satsning", "digital": "digitalisering",
    "digitalisation": "digitalisering", "digitalization": "digitalisering", "law": "juridik", "legal": "juridik", "secrecy": "sekretess", "smaller": "mindre leveranser",
}


@dataclass(frozen=True)
class Intent:
    kind: Kind
    text: str  # the message without injected instructions
    query: str  # what retrieval and question selection use (with Swedish hints for English)
    english: bool = False
    injection: bool = False
    question_ref: int | None = None  # "fråga 3"
    term: str | None = None  # "vad menar du med nyttoägare?" -> "nyttoägare"


def strip_injection(message: str) -> tuple[str, bool]:
    """Remove sentences carrying instructions to the assistant. Returns (rest, found)."""
    sentences = [s for line in message.splitlines() for s in split_sentences(line)]
    kept = [s for s in sentences if not INJECTION_RE.search(s)]
    return " ".join(kept).strip(), len(kept) != len(sentences)


def is_english(text: str) -> bool:
    tokens = tokenize(text)
    en = sum(t in ENGLISH_WORDS for t in tokens)
    sv = sum(t in SWEDISH_WORDS for t in tokens)
    return en >= 2 and en > sv * 2


def swedish_query(text: str) -> str:
    """Swedish search terms for an English message, plus names and acronyms kept as written
    (GDPR, Ena, Kotter). English words themselves are left out: the corpus does not know
    them, so they would only lower the relevance of every passage."""
    hints = [ENGLISH_HINTS[t] for t in tokenize(text) if t in ENGLISH_HINTS]
    names = [w for w in re.findall(r"[^\W_]+(?:[-:][^\W_]+)*", text) if w[:1].isupper() and w.lower() not in ENGLISH_WORDS
             and w.lower() not in ENGLISH_HINTS and w != text.split()[0]]
    return " ".join(dict.fromkeys([*hints, *names])) or text


def _question_ref(text: str) -> int | None:
    m = QUESTION_REF_RE.search(text)
    if not m:
        return None
    return int(m.group(1)) if m.group(1) else ORDINALS[m.group(2).lower()]


def classify(message: str, has_history: bool = False) -> Intent:
    """Classify a message. Out-of-scope is decided later too, when retrieval finds nothing."""
    text, injected = strip_injection(message or "")
    english = is_english(text)
    query = swedish_query(text) if english else text
    if not content_tokens(text):
        kind: Kind = "out_of_scope" if injected else "empty"
        return Intent(kind, text, query, english, injected)
    ref = _question_ref(text)
    if ref is not None:
        return Intent("followup", text, query, english, injected, question_ref=ref)
    m = TERM_RE.match(text) or STANDS_FOR_RE.match(text)
    if m:
        term = m.group(1).strip(" \"'”“")
        return Intent("followup" if has_history else "question", text, query, english, injected, term=term)
    w = WHAT_IS_RE.match(text)
    if w and len(content_tokens(w.group(1))) <= 2:
        return Intent("question", text, query, english, injected, term=w.group(1).strip(" \"'”“"))
    tokens = tokenize(text)
    interrogative = bool(tokens) and tokens[0] in INTERROGATIVE and text.rstrip().endswith("?")
    if INITIATIVE_RE.search(text) and not (interrogative and tokens[0] not in {"vi", "we"}):
        return Intent("initiative", text, query, english, injected)
    return Intent("question", text, query, english, injected)
