"""Find Thai names written in Latin letters.

A Thai name in Latin letters ends its surname with the romanised parts Thai
surnames are built from (-wong, -sri, -chai, -porn ...); Thai typed in Latin
letters names someone after a cue (khun, chue, phi, nong, me) and closes with
a particle (ja, ka, krub).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from services.privacy.detect_span import Span

# A Thai name in Latin letters: a surname ending in a romanised surname part.
_ROMAN_PARTS = (
    "wong|wongse|wongsa|sri|chai|chaiya|porn|pong|phong|sak|sakdi|kul|kun|sook|suk|sukh"
    "|rat|rattana|ratana|thong|tong|prasert|prasit|wat|wattana|phan|phant|sombat|suwan"
    "|kaew|kaeo|chan|chanta|sawat|sawasdi|niyom|charoen|wanich|wanit|siri|mongkol|manee"
    "|mani|phon|rueang|ruang|nont|thorn|thon|yot|yos|det|dee|ngam|in|lert|phrom|saeng"
    "|sang|khong|man|mak|boon|bun|sap|sub|chit|jit|sin|thai|dej|dech|pat|phat|phut"
)
_ROMAN_NAME = re.compile(
    rf"(?<![\w.@-])(?P<name>[A-Z][a-z]{{2,}}[ \t]+[A-Z][a-z]{{2,}}(?:{_ROMAN_PARTS})"
    rf"|[A-Z]{{3,}}[ \t]+[A-Z]{{3,}}(?:{_ROMAN_PARTS.upper()}))(?![\w@-])"
    # Not a building, a road or a firm named the same way (Noble Ploenchit Tower).
    r"(?![ \t,]*(?:Road|Rd|Soi|Condo|Tower|Place|Park|Residence|Hospital|School|Co\b|Company"
    r"|Ltd|Bank|Station|Office|Branch|Mall|Plaza|Hotel|Building|Group|Village|District))"
)
# Capitalised words that begin a place, a company or a sentence, not a Thai given name.
_NOT_GIVEN = frozenset(
    {
        "The",
        "Thai",
        "Siam",
        "Krung",
        "Bangkok",
        "Wat",
        "Ban",
        "Soi",
        "Moo",
        "Tambon",
        "Amphoe",
        "Mueang",
        "Nong",
        "Nakhon",
        "Chiang",
        "Phra",
        "Sukhumvit",
        "Lumpini",
        "Customer",
        "Contact",
        "Dear",
        "Hello",
        "Please",
        "Thank",
        "Thanks",
        "Account",
        "Bank",
        "Kasikorn",
        "Kasikornthai",
        "Central",
        "Power",
        "Electric",
        "Provincial",
        "Metropolitan",
        "Office",
        "Station",
        "Road",
        "North",
        "South",
        "East",
        "West",
        "Noble",
        "Ideo",
        "Supalai",
        "Ashton",
        "Life",
        "Rama",
        "Sathorn",
        "Silom",
        "Lat",
        "Bang",
        "Huai",
        "Khlong",
        "Pak",
        "Hat",
        "Ko",
        "Koh",
        "Don",
        "Sam",
        "Si",
    }
)


def romanised_names(text: str) -> Iterator[Span]:
    """Find a Thai given name and surname written in Latin letters."""
    for match in _ROMAN_NAME.finditer(text):
        first = match.group("name").split()[0]
        if first.capitalize() in _NOT_GIVEN:
            continue
        yield Span(match.start("name"), match.end("name"), "name")


# Thai written in Latin letters, as chat and expats type it: a cue (khun,
# chue "name", phi and nong for elder and younger, "me" and "I'm") and one
# or two words, closed by a particle (ja, ka, krub, na), a comma or the line's
# end: "khun somchai ja", "phom chue Anucha krub", "me Tom na krub".
_ROMAN_PARTICLE = (
    r"(?:ja+|jah|ka+|kha|krub|krab|kub|khrap|khrub|na|nakrub|naka|nakha|ha)(?![A-Za-z])"
)
_ROMAN_CUED = re.compile(
    r"(?<![A-Za-z'])(?P<cue>(?i:khun|chue|chuea|cheu|phi|nong"
    # "phom", "chan" (I) before a name, not before chue, which has its own turn.
    r"|(?:phom|pom|chan|dichan)(?![ \t]+ch[eu]))"
    r"|[Pp]i|[Mm]e|I'?m|I am|[Tt]his is)"
    r"[ \t]+(?P<name>[A-Za-z][a-z'-]+(?:[ \t]+[A-Za-z][a-z'-]+)?)"
    rf"(?=[ \t]*(?:[,.!\n]|\Z|{_ROMAN_PARTICLE}))"
)
# Words a romanised sentence goes on with, which never start a name.
_ROMAN_NOT_NAMES = frozenset(
    {
        "japanese",
        "english",
        "chinese",
        "american",
        "british",
        "german",
        "farang",
        "foreigner",
        "new",
        "ja",
        "ka",
        "kha",
        "krub",
        "krab",
        "na",
        "mak",
        "dai",
        "loey",
        "tho",
        "ma",
        "pai",
        "fai",
        "faifa",
        "bill",
        "ber",
        "baan",
        "ban",
        "dap",
        "mai",
        "chai",
        "khrap",
        "the",
        "a",
        "an",
        "is",
        "my",
        "here",
        "there",
        "back",
        "again",
        "know",
        "please",
        "pls",
        "help",
        "too",
        "also",
        "sorry",
        "ok",
        "okay",
        "yes",
        "no",
        "not",
        "so",
        "very",
        "urgent",
        "home",
        "chan",
        "phom",
        "pom",
        "rao",
        "khao",
        "kao",
        "tee",
        "thi",
        "yu",
        "you",
        "it",
        "up",
        "now",
        "today",
        "later",
        "soon",
        "fine",
        "well",
        "done",
        "out",
        "in",
        "on",
    }
)


_ROMAN_CUE_HINTS = (
    "khun",
    "chue",
    "cheu",
    "phi",
    "nong",
    "pi ",
    "me ",
    "i'm",
    "im ",
    "i am",
    "this is",
    "phom ",
    "pom ",
    "chan ",
)


def romanised_cued_names(text: str) -> Iterator[Span]:
    """Find a name after a cue in Thai written in Latin letters."""
    lowered = text.lower()
    if not any(cue in lowered for cue in _ROMAN_CUE_HINTS):
        return
    for match in _ROMAN_CUED.finditer(text):
        words = match.group("name").split()
        if words[0].lower() in _ROMAN_NOT_NAMES or words[0].capitalize() in _NOT_GIVEN:
            continue  # nor a nationality or a place: "I am Thai"
        cue = match.group("cue").lower()
        if cue in ("me", "i'm", "im", "i am", "this is") and not words[0][0].isupper():
            continue  # English cues name a capitalised word: "call me back" names none
        # A second word that goes on with the sentence is not the surname.
        if len(words) == 2 and words[1].lower() in _ROMAN_NOT_NAMES:
            end = match.start("name") + len(words[0])
        else:
            end = match.end("name")
        yield Span(match.start("name"), end, "name")
