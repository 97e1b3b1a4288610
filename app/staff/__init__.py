"""The staff workspace: campaigns, walls, moderation, audit and GDPR."""

from flask import Blueprint

bp = Blueprint("staff", __name__)

from . import admin_views, moderation_views, views  # noqa: E402, F401  (registers the routes)
from .auth import guard  # noqa: E402

bp.before_request(guard)
from . import imports_views  # noqa: E402, F401  (issue 8: paper and file imports)

# isort: split
from . import insight_views  # noqa: E402, F401  (breakdowns of themes by group)

# isort: split
from . import report_views  # noqa: E402, F401  (the report, its exports and publishing)

# isort: split
from . import theme_views  # noqa: E402, F401  (the theme explorer and curation)
