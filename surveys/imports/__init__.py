"""Answers from files: CSV, XLSX and JSON Lines, previewed and then imported in one transaction.

The flow is ``read_table`` (bytes to a :class:`Table` of text cells) -> ``suggest_mapping``
(which column is the text, the question, the date, ...) -> ``plan_import`` (every row checked
against the target wall(s): the preview's counts and per-row errors) -> ``import_answers``
(the plan written in ONE transaction: either every planned answer is stored or none).

Imported answers get the same treatment as answers from the web: the text is normalised and
validated by :func:`surveys.answers.clean_answer_text`, profile values by
:func:`~surveys.answers.clean_profile`, the personal-data guard runs on every text and
:func:`~surveys.answers.initial_status` decides whether it is published or held for
moderation. The wall's answering window does not apply: paper collected while a wall was open
is typed in afterwards.

Encodings. Files are decoded in this order: a byte-order mark decides (UTF-8, UTF-16);
otherwise strict UTF-8 is tried, and a file that is not valid UTF-8 is read as Windows-1252
(what Danish Excel writes for "CSV (semikolonsepareret)"), or as Latin-1 for the five bytes
Windows-1252 leaves undefined. UTF-8 is self-checking: Windows-1252 text with æ, ø or å
(single bytes 0xE6, 0xF8, 0xE5 followed by ASCII) is practically never valid UTF-8, so the
order cannot mistake a Danish Windows file for UTF-8. The preview says which encoding was used
and warns when the text looks double-encoded ("Ã¸" for "ø").

Duplicates. A row is a duplicate when its normalised text (case and spacing ignored) is
already stored on the same wall for the same day, or appeared earlier in the file, or when its
submission id is already stored on the wall (re-importing the same file or JSON Lines export).
The day of a stored answer is its ``written_on`` date, else its creation date in Copenhagen.

The package's modules, in the order of the flow:

- ``reading``: file bytes to a :class:`Table` (CSV, XLSX, JSON Lines; the limits that refuse a
  hostile file, such as a zip bomb);
- ``mapping``: which column holds what (:class:`ColumnMapping`, ``suggest_mapping``);
- ``values``: an import's options and one row's cells parsed into an answer's values;
- ``planning``: the preview, ``plan_import`` (what will be created, which rows are refused);
- ``writing``: ``import_answers``, the plan stored in one transaction;
- ``background``: ``run_import``, an import into a wall as a background job, stored in
  batches with progress and safe to run again;
- ``campaign``: ``import_campaign``, a whole earlier campaign from its export;
- ``messages``: the translatable :class:`Issue` every message above is.

Everything public is importable from ``surveys.imports``.
"""

from .background import ImportRequest, ImportSummary, run_import
from .campaign import import_campaign, slugify
from .mapping import HEADER_NAMES, MAPPING_FIELDS, ColumnMapping, check_mapping, suggest_mapping
from .messages import ROW_PREFIX, Issue
from .planning import SAMPLE_SIZE, ImportPlan, ImportRefused, PlannedAnswer, plan_import
from .reading import (
    DELIMITER_NOTICES,
    ENCODING_NOTICES,
    JSONL_COLUMNS,
    JSONL_IGNORED,
    MAX_CELL_CHARS,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_LINE_CHARS,
    MAX_ROWS,
    MAX_XLSX_MEMBERS,
    MAX_XLSX_RATIO,
    MAX_XLSX_UNPACKED_BYTES,
    XLSX_RATIO_GRACE_BYTES,
    Row,
    Table,
    decode,
    read_csv,
    read_jsonl,
    read_table,
    read_xlsx,
    sniff_delimiter,
)
from .values import (
    CHANNEL_NAMES,
    LOCAL_ZONE,
    MAX_PLACE_LENGTH,
    PROFILE_MESSAGES,
    ROLE_NAMES,
    ImportOptions,
    RowError,
    answer_values,
    clean_place,
    created_at_for,
    duplicate_key,
    local_day,
    parse_channel,
    parse_date,
    profile_code,
    stored_keys,
    today_local,
)
from .writing import import_answers, write_plan

__all__ = [
    "CHANNEL_NAMES",
    "DELIMITER_NOTICES",
    "ENCODING_NOTICES",
    "HEADER_NAMES",
    "JSONL_COLUMNS",
    "JSONL_IGNORED",
    "LOCAL_ZONE",
    "MAPPING_FIELDS",
    "MAX_CELLS",
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_LINE_CHARS",
    "MAX_PLACE_LENGTH",
    "MAX_ROWS",
    "MAX_XLSX_MEMBERS",
    "MAX_XLSX_RATIO",
    "MAX_XLSX_UNPACKED_BYTES",
    "PROFILE_MESSAGES",
    "ROLE_NAMES",
    "ROW_PREFIX",
    "SAMPLE_SIZE",
    "XLSX_RATIO_GRACE_BYTES",
    "ColumnMapping",
    "ImportOptions",
    "ImportPlan",
    "ImportRefused",
    "ImportRequest",
    "ImportSummary",
    "Issue",
    "PlannedAnswer",
    "Row",
    "RowError",
    "Table",
    "answer_values",
    "check_mapping",
    "clean_place",
    "created_at_for",
    "decode",
    "duplicate_key",
    "import_answers",
    "import_campaign",
    "local_day",
    "parse_channel",
    "parse_date",
    "plan_import",
    "profile_code",
    "read_csv",
    "read_jsonl",
    "read_table",
    "read_xlsx",
    "run_import",
    "slugify",
    "sniff_delimiter",
    "stored_keys",
    "suggest_mapping",
    "today_local",
    "write_plan",
]
