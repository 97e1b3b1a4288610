"""Every kind of personal data the guard reports has a Danish label on the moderation page."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from surveys.models import AnswerStatus
from surveys.privacy import KINDS, detect_personal_data
from tests.app.staff_helpers import login, make_world
from tests.factories import make_answer, make_staff

# One answer with each kind the guard added for issue 20, and its Danish label.
_TEXT = (
    "Bilen AB 12 345 holder på fortovet. Skriv på snap: mikkel_2009. Min datter går i "
    "2.b på Vestby Skole. Mit MitID er 938 274 615."
)
_LABELS = {
    "AB 12 345": "Nummerplade",
    "mikkel_2009": "Profil på sociale medier",
    "2.b på Vestby Skole": "Klasse på en navngivet skole",
    "938 274 615": "ID-nummer (MitID, pas, medlemsnummer)",
}


def test_new_kinds_are_highlighted_with_danish_labels(
    client: FlaskClient, session: Session
) -> None:
    assert [(f.kind, f.text) for f in detect_personal_data(_TEXT)] == [
        ("plate", "AB 12 345"),
        ("handle", "mikkel_2009"),
        ("class", "2.b på Vestby Skole"),
        ("id_number", "938 274 615"),
    ]
    world = make_world(session, "guardkinds")
    make_answer(session, world.wall, _TEXT, status=AnswerStatus.PENDING)
    login(client, make_staff(session, world.organisation, "moderator"))
    html = client.get("/staff/moderation").get_data(as_text=True)
    for text, label in _LABELS.items():
        assert f'title="{label}">{text}</mark>' in html, text
        assert f'<span class="finding-kind">{label}:</span> <q>{text}</q>' in html, text


def test_every_kind_has_a_label_in_the_template() -> None:
    template = Path(__file__).parents[2] / "app" / "templates" / "staff" / "moderation.html"
    lines = template.read_text("utf-8").splitlines()
    line = next(line for line in lines if "kind_labels =" in line)
    assert set(re.findall(r'"([a-z_]+)": _\(', line)) == set(KINDS)
