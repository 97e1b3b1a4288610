"""The participant's pages: a question wall answered on a phone, without an account."""

from flask import Blueprint

bp = Blueprint("participate", __name__)

from . import views  # noqa: E402, F401

# isort: split
from . import heard_views  # noqa: E402, F401  (the public "Det har vi hørt" page)

# isort: split
from . import privacy_views  # noqa: E402, F401  (the whole privacy notice of a wall)
