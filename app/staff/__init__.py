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

# isort: split
from . import presenter_views  # noqa: E402, F401  (spotlight or hide a note on the projector)

# isort: split
from . import job_views  # noqa: E402, F401  (background jobs and the task queue's state)

# isort: split
from . import organisation_views  # noqa: E402, F401  (controller, statement and look; issue 25)

# isort: split
from . import language_views  # noqa: E402, F401  (a wall's texts in its other languages)

# isort: split
from . import codebook_views  # noqa: E402, F401  (a campaign's codebook: the themes staff expect)

# isort: split
from . import twofactor_views  # noqa: E402, F401  (two-factor sign-in for local accounts)

# isort: split
from . import oidc_views  # noqa: E402, F401  (single sign-on for staff over OpenID Connect)

# isort: split
from . import feedback_views  # noqa: E402, F401  (a reply to one answer or one theme; issue 24)

# isort: split
from . import results_views  # noqa: E402, F401  (results of closed questions; issue 26)

# isort: split
from . import round_views  # noqa: E402, F401  (a campaign run again; issue 26)
