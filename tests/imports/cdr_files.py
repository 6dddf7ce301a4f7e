"""Retry buffer files for tests: a minimal hand-written CDR and hostile XML."""

from __future__ import annotations

MINIMAL = """<cdr version="1">
  <conversation_id>c-1</conversation_id>
  <conversation_start>2023-02-02T07:00:00Z</conversation_start>
  <policy_id>3</policy_id>
  <import_source_id>12</import_source_id>
  <reason>manual</reason>
</cdr>
"""

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE cdr [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">\n'.replace("&lol0;", "&lol;").encode()
        for n in range(1, 10)
    )
    + b']>\n<cdr version="1"><conversation_id>&lol9;</conversation_id></cdr>'
)
QUADRATIC_BLOWUP = (
    b'<!DOCTYPE cdr [<!ENTITY a "' + b"a" * 30_000 + b'">]>\n'
    b'<cdr version="1"><message>' + b"&a;" * 5_000 + b"</message></cdr>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE cdr [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<cdr version="1"><conversation_id>&xxe;</conversation_id></cdr>'
)
EXTERNAL_DTD = b'<!DOCTYPE cdr SYSTEM "file:///etc/passwd">\n<cdr version="1"/>'
PARAMETER_ENTITY = (
    b'<!DOCTYPE cdr [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>\n'
    b'<cdr version="1"/>'
)
PLAIN_DOCTYPE = b"<!DOCTYPE cdr>\n" + MINIMAL.encode()
