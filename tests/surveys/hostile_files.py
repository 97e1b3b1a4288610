"""Import files made to take a server's time and memory, written directly (no spreadsheet program).

An XLSX file is a zip archive of XML parts; these write the few parts openpyxl needs, with the
sheet streamed into the archive so that a sheet of hundreds of MB never sits in memory here.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" '
    b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELATIONSHIPS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="Svar" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELATIONSHIPS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def xlsx(rows: Iterable[bytes]) -> bytes:
    """A workbook whose one sheet holds ``rows`` (``<row>`` elements, written as given)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELATIONSHIPS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELATIONSHIPS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet '
                b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            for row in rows:
                sheet.write(row)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def cell(text: str, reference: str = "") -> bytes:
    """A text cell (at ``reference``, e.g. ``XFD7``, or next to the one before)."""
    at = f' r="{reference}"' if reference else ""
    return f'<c{at} t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def zip_bomb(rows: int = 1_000_000) -> bytes:
    """600 KB that unpack to 158 MB of identical rows (a ratio of about 260)."""
    row = b"<row>" + cell("Flere bænke") * 3 + b"</row>"
    return xlsx([b"<row>" + cell("Svar") + b"</row>", *[row * 1000] * (rows // 1000)])


def far_cells(rows: int, *, empty: bool = True) -> bytes:
    """Every row has a cell in the sheet's last column (XFD, the 16,384th), styled but empty
    or with a value: a few hundred KB, packed no tighter than a spreadsheet, that make a
    reader which fills in the missing cells build 16,384 cells a row."""

    def row(n: int) -> bytes:
        far = f'<c r="XFD{n}" s="0"/>'.encode() if empty else cell("x", f"XFD{n}")
        return f'<row r="{n}">'.encode() + cell("Mere lys", f"A{n}") + far + b"</row>"

    return xlsx([b'<row r="1">' + cell("Svar", "A1") + b"</row>", *map(row, range(2, rows + 2))])
