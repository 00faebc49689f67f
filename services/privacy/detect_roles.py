"""Names after a role or a pronoun, and Latin names after academic titles.

A technician, a student, a driver or an in-law is named right after the word
for the role (ช่าง สมพงษ์, นศ. วรรณิดา, ลูกสะใภ้ อารีรัตน์, พขร. มานพ), and a
caller names himself after a pronoun before a contact word (ผม อำนาจ โทร …).
The role word is ordinary Thai ("ช่าง ไฟฟ้า", "ผม ไม่ โทร"), so the word after
it counts only when it is on PyThaiNLP's list of given names, and a family
name on its list after it goes with it. The role word stays outside the span,
as a kin word does. In Latin letters an academic title (Dr., Prof., Asst.
Prof. Dr.) before one or two capitalised words makes a name, title and all,
and an e-mail names its reader in the greeting (Dear P'Nok, Hi K.Ploy,) and
its writer in the sign-off (Best, Ton). After the label ชื่อเล่น the word is a
nickname when it could be one (บอส, ฝ้าย), dictionary word or not, as it is
after a reporter's label (ผู้แจ้ง: เฟิร์น) or a relative's ชื่อ (หลานชื่อ ไอซ์).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from services.privacy.detect_lexicon import family_names, given_names
from services.privacy.detect_nicknames import is_nickname
from services.privacy.detect_span import Span

_ROLE = (
    r"ช่าง|นศ\.|นักศึกษา|พขร\.|คนขับ|ลูกสะใภ้|ลูกเขย|ลูกชาย|ลูกสาว|หลานชาย|หลานสาว"
    r"|ภรรยา|ภริยา|สามี|แฟน"
)
_PRONOUN = r"ผม|ดิฉัน|หนู|ฉัน|ข้อย|ฉาน|เค้า"
_WORD = r"[\u0e01-\u0e4e]+"
_ROLE_NAME = re.compile(
    rf"(?<![\u0e01-\u0e4e])(?:{_ROLE})[ \t]?(?P<given>{_WORD})(?:[ \t]+(?P<family>{_WORD}))?"
)
_PRONOUN_NAME = re.compile(
    rf"(?<![\u0e01-\u0e4e])(?:{_PRONOUN})[ \t]+(?P<given>{_WORD})"
    r"(?=[ \t]*(?:โทร|เบอร์|ติดต่อ|เอง|ค่ะ|คะ|ครับ|นะ|\Z))"
)
_HINT = re.compile(rf"{_ROLE}|{_PRONOUN}")
# A staff member's code after the name makes it the utility's own technician,
# who is named on purpose (ช่าง สมชาย (EMP-2231)).
_STAFF_CODE = re.compile(r"[ \t]*\(?[ \t]*(?:EMP|รหัสพนักงาน|staff)", re.I)
_ACADEMIC = re.compile(
    r"(?<![A-Za-z])(?:(?:Asst|Assoc)\.[ \t]?)?(?:Prof\.[ \t]?(?:Dr\.[ \t]?)?|Dr\.[ \t]?)"
    r"[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+)?"
)


# The greeting's name closes with a comma; the sign-off's is the last word of
# its line. A team or a role there is no one's name.
_GREETING = re.compile(
    r"(?<![A-Za-z])(?:Dear|Hi|Hello)[ \t]+(?:P'|K\.[ \t]?|Khun[ \t]+)?"
    r"(?P<name>[A-Z][a-z]{2,})(?=[ \t]*,)"
)
_SIGN_OFF = re.compile(
    r"(?<![A-Za-z])(?:Best(?:[ \t]regards)?|Regards|Thanks|Thank you|Cheers|BR),?[ \t]*\n?[ \t]*"
    r"(?:P'|K\.[ \t]?)?(?P<name>[A-Z][a-z]{2,})(?=[ \t]*(?:\n|\Z))"
)
_NICK_LABEL = re.compile(
    rf"(?:ชื่อเล่น[ \t]*:?|(?:ผู้แจ้ง|ผู้ติดต่อ|ผู้ร้อง)[ \t]*:"
    rf"|(?:หลาน(?:สาว|ชาย)?|ลูก(?:สาว|ชาย)?|ยาย|ตา|แม่|พ่อ|เพื่อน|แฟน)ชื่อ)"
    rf"[ \t]*(?P<nick>{_WORD})"
)
_NOT_A_READER = frozenset({"Team", "Sir", "Madam", "All", "Admin", "Staff", "Support", "Customer"})


def role_names(text: str) -> Iterator[Span]:
    """Yield listed given names after a role word or a pronoun, and academics' names."""
    if "Dr." in text or "Prof." in text:
        for match in _ACADEMIC.finditer(text):
            yield Span(match.start(), match.end(), "name")
    for pattern in (_GREETING, _SIGN_OFF):
        for match in pattern.finditer(text):
            if match["name"] not in _NOT_A_READER:
                yield Span(match.start("name"), match.end("name"), "name")
    if "ชื่อ" in text or "ผู้" in text:
        for match in _NICK_LABEL.finditer(text):
            # A nickname is short; a longer run is a phrase (ไม่ประสงค์ออกนาม).
            if len(match["nick"]) <= 8 and is_nickname(match["nick"]):
                yield Span(match.start("nick"), match.end("nick"), "name")
    if not _HINT.search(text):
        return
    given = given_names()
    for match in _ROLE_NAME.finditer(text):
        if match["given"] in given and not _STAFF_CODE.match(text, match.end("given")):
            family = match["family"]
            end = match.end() if family and family in family_names() else match.end("given")
            yield Span(match.start("given"), end, "name")
    for match in _PRONOUN_NAME.finditer(text):
        if match["given"] in given:
            yield Span(match.start("given"), match.end("given"), "name")
