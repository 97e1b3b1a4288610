"""Staff views for answers from paper and files: the transcription page and the file import.

- ``/staff/walls/<id>/transcribe``: pick the question, place, date and optional profile values
  once (a GET form, so the batch lives in the address), then type one note after the other.
  Enter saves; with JavaScript the field is emptied at once and keeps the focus while the note
  is sent in the background (nothing typed meanwhile is lost); without it the page reloads
  with the field focused. The notes typed last stay listed for correction.
- ``/staff/walls/<id>/import``: upload CSV, XLSX or JSON Lines, see the preview (column
  mapping, counts, errors in Danish, the first rows; for a large file only its first
  ``PREVIEW_ROWS`` rows are read and checked, so the page comes at once), then import: the
  request checks the mapping, hands the file to a background job (``app.jobs``,
  ``surveys.imports.background``) and goes to the job's page, which shows the progress and
  then the result with every row that was not imported. The uploaded file waits in
  ``instance/imports`` between the preview steps (at most a day); the job keeps its own copy.
"""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from flask import (
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from surveys import campaigns, imports, transcription
from surveys.accounts import Permission
from surveys.errors import DomainError
from surveys.imports import ColumnMapping, ImportOptions, ImportPlan, Table
from surveys.models import AGE_GROUP_CODES, ROLE_CODES, Channel, Job, Wall
from surveys.text import MAX_ANSWER_LENGTH

from ..extensions import db
from ..jobs import start_job
from ..labels import CHANNEL_LABELS
from ..participate.forms import AGE_GROUP_LABELS
from ..participate.forms import ROLE_LABELS as PARTICIPANT_ROLE_LABELS
from . import bp
from .auth import requires, safe_next, staff

#: Notes listed below the field for correction.
RECENT_NOTES = 10
#: Row errors shown in the preview (the counts always cover all of them).
SHOWN_ERRORS = 100
#: Uploaded files older than this are removed.
UPLOAD_MAX_AGE_SECONDS = 24 * 3600
#: Rows of a file read and checked for the preview (the import job checks all of them).
PREVIEW_ROWS = 200

FIELD_LABELS = {
    "text": _l("Answer text"),
    "prompt": _l("Question (text or number of the question)"),
    "prompt_number": _l("Question number (1, 2, ...)"),
    "date": _l("Date"),
    "channel": _l("Channel"),
    "role": _l("Role"),
    "age_group": _l("Age group"),
    "area": _l("Area"),
    "place": _l("Event or place"),
    "language": _l("Language"),
    "wall": _l("Wall"),
    "submission_id": _l("Submission id"),
    "choice": _l("Choice (closed questions)"),
    "round": _l("Round"),
}
assert set(FIELD_LABELS) == set(imports.MAPPING_FIELDS)


def _load_wall(wall_id: int) -> Wall:
    return campaigns.get_wall(db.session, staff().organisation_id, wall_id)


def _error_text(error: DomainError) -> str:
    return _(error.message, **error.params)


# -- transcription ----------------------------------------------------------------------------


class BatchForm(FlaskForm):
    """What every note in the stack shares (sent with GET: it becomes the page's address)."""

    class Meta:
        csrf = False

    prompt = SelectField(_l("Question"), coerce=int, validators=[InputRequired()])
    place = StringField(
        _l("Event or place"),
        validators=[Optional(), Length(max=imports.MAX_PLACE_LENGTH)],
        description=_l("For example Ungdomsklubben or Folkemødet."),
    )
    date = DateField(
        _l("Date written on the wall"),
        validators=[Optional()],
        description=_l("Leave empty when the notes are not dated."),
    )
    role = SelectField(_l("Role"), validators=[Optional()])
    age_group = SelectField(_l("Age group"), validators=[Optional()])
    area = SelectField(_l("Area"), validators=[Optional()])

    def setup(self, wall: Wall) -> BatchForm:
        """The wall's questions and profile options."""
        self.prompt.choices = [(p.id, f"{p.position + 1}. {p.text}") for p in wall.prompts]
        empty = [("", _("Not given"))]
        self.role.choices = empty + [(c, PARTICIPANT_ROLE_LABELS[c]) for c in ROLE_CODES]
        self.age_group.choices = empty + [(c, AGE_GROUP_LABELS[c]) for c in AGE_GROUP_CODES]
        self.area.choices = empty + [(a, a) for a in wall.areas]
        for name in ("role", "age_group", "area"):
            if name not in wall.profile_questions:
                del self[name]
        return self

    def profile(self) -> dict[str, str]:
        """The chosen profile values."""
        return {
            name: self[name].data
            for name in ("role", "age_group", "area")
            if name in self and self[name].data
        }


class NoteForm(FlaskForm):
    """One note."""

    text = StringField(_l("Answer"), validators=[InputRequired(), Length(max=MAX_ANSWER_LENGTH)])
    client_submission_id = HiddenField()


class CorrectForm(FlaskForm):
    """A corrected note."""

    text = StringField(_l("Answer"), validators=[InputRequired()])


def _batch(wall: Wall, form: BatchForm) -> transcription.Batch | None:
    """The batch in the address, or None (then the batch form is shown, filled in)."""
    if not request.args.get("prompt") or not form.validate() or request.args.get("edit"):
        return None
    try:
        return transcription.make_batch(
            db.session,
            staff(),
            wall,
            prompt_id=form.prompt.data,
            place=form.place.data or None,
            written_on=form.date.data,
            profile=form.profile(),
        )
    except DomainError as error:
        form.form_errors.append(_error_text(error))
        return None


def _batch_query(batch: transcription.Batch) -> dict[str, Any]:
    values = {
        "prompt": str(batch.prompt.id),
        "place": batch.place or "",
        "date": batch.written_on.isoformat() if batch.written_on else "",
        **batch.profile,
    }
    return {k: v for k, v in values.items() if v}


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.route("/walls/<int:wall_id>/transcribe", methods=["GET", "POST"])
@requires(Permission.MODERATE)
def transcribe(wall_id: int) -> ResponseReturnValue:
    """Type in a stack of paper notes: batch values once, then Enter after each note."""
    wall = _load_wall(wall_id)
    user = staff()
    batch_form = BatchForm(formdata=request.args if request.args else None).setup(wall)
    batch = _batch(wall, batch_form)
    note_form = NoteForm()
    status = 200
    if batch is not None and request.method == "POST":
        if note_form.validate_on_submit():
            try:
                result = transcription.transcribe(
                    db.session,
                    user,
                    batch,
                    note_form.text.data,
                    note_form.client_submission_id.data,
                )
            except DomainError as error:
                db.session.rollback()
                note_form.text.errors = [_error_text(error)]
            else:
                message = _saved_message(result)
                if _wants_json():
                    return jsonify(
                        id=result.answer.id,
                        created=result.created,
                        duplicate=result.duplicate,
                        message=message,
                        html=render_template(
                            "staff/imports/_note.html",
                            note=result.answer,
                            back=request.full_path,
                        ),
                    )
                flash(message, "warning" if result.duplicate else "success")
                return redirect(request.full_path, code=303)
        status = 400
        if _wants_json():
            errors = note_form.text.errors or [_("The note could not be saved.")]
            return jsonify(error=" ".join(str(e) for e in errors)), 400
    elif request.method == "POST":
        status = 400
    note_form.client_submission_id.data = f"paper-{uuid.uuid4().hex}"
    if status == 200:
        note_form.text.data = ""
    return (
        render_template(
            "staff/imports/transcribe.html",
            wall=wall,
            batch=batch,
            batch_form=batch_form,
            note_form=note_form,
            notes=transcription.recent(db.session, user, wall, limit=RECENT_NOTES)
            if batch is not None
            else [],
            change_url=url_for(".transcribe", wall_id=wall.id, edit=1, **_batch_query(batch))
            if batch is not None
            else None,
            back=request.full_path,
        ),
        status,
    )


def _saved_message(result: transcription.TranscribeResult) -> str:
    if not result.created:
        return _("The note was already saved.")
    if result.duplicate:
        return _(
            "Saved. The same text is already stored for this day: if the note was typed "
            "twice, delete it in the list."
        )
    return _("Saved.")


def _back(wall_id: int) -> ResponseReturnValue:
    target = safe_next(request.form.get("next")) or url_for(".transcribe", wall_id=wall_id)
    return redirect(target, code=303)


@bp.post("/transcriptions/<int:answer_id>/correct")
@requires(Permission.MODERATE)
def transcription_correct(answer_id: int) -> ResponseReturnValue:
    """Correct a note one typed a moment ago."""
    answer = transcription.own_note(db.session, staff(), answer_id)
    form = CorrectForm()
    if not form.validate_on_submit():
        flash(_("Write the corrected text before saving."), "error")
        return _back(answer.wall_id)
    try:
        transcription.correct(db.session, staff(), answer.id, form.text.data)
    except DomainError as error:
        db.session.rollback()
        flash(_error_text(error), "error")
    else:
        flash(_("The note was corrected."), "success")
    return _back(answer.wall_id)


@bp.post("/transcriptions/<int:answer_id>/delete")
@requires(Permission.MODERATE)
def transcription_delete(answer_id: int) -> ResponseReturnValue:
    """Delete a note typed by mistake."""
    answer = transcription.own_note(db.session, staff(), answer_id)
    wall_id = answer.wall_id
    transcription.delete(db.session, staff(), answer.id)
    flash(_("The note was deleted."), "success")
    return _back(wall_id)


# -- import from a file -----------------------------------------------------------------------


class UploadForm(FlaskForm):
    """The file to import."""

    file = FileField(
        _l("File"),
        validators=[FileRequired(_l("Choose a file."))],
        description=_l(
            "CSV (also from Danish Excel, with semicolons), XLSX, or JSON Lines in the API's "
            "answer format. The first row holds the column names."
        ),
    )


def _uploads() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _upload_path(wall: Wall, token: str) -> Path | None:
    if not token or not token.replace("-", "").replace("_", "").isalnum() or len(token) > 64:
        return None
    path = _uploads() / f"{staff().id}-{wall.id}-{token}.upload"
    return path if path.is_file() else None


def _save_upload(wall: Wall, data: bytes, filename: str) -> str:
    folder = _uploads()
    cutoff = time.time() - UPLOAD_MAX_AGE_SECONDS
    for old in folder.glob("*.upload"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(16)
    (folder / f"{staff().id}-{wall.id}-{token}.upload").write_bytes(data)
    (folder / f"{staff().id}-{wall.id}-{token}.name").write_text(filename[:200], "utf-8")
    return token


def _remove_upload(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_suffix(".name").unlink(missing_ok=True)


@bp.url_value_preprocessor
def _allow_large_uploads(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Files may be larger than the app's general request limit (runs before the CSRF check
    reads the form)."""
    if endpoint == "staff.answers_import" and request.method == "POST":
        request.max_content_length = imports.MAX_FILE_BYTES + 256 * 1024


def _options(wall: Wall, form: Any) -> ImportOptions:
    prompt = form.get("default_prompt", "")
    prompt_id = int(prompt) if prompt.isdecimal() else None
    channel = form.get("default_channel", "")
    written_on = form.get("default_date", "")
    try:
        day = date.fromisoformat(written_on) if written_on else None
    except ValueError:
        day = None
    return ImportOptions(
        prompt_id=prompt_id if any(p.id == prompt_id for p in wall.prompts) else None,
        channel=Channel(channel) if channel in {c.value for c in Channel} else None,
        place=form.get("default_place", "").strip() or None,
        written_on=day,
        keep_duplicates=form.get("keep_duplicates") == "y",
        skip_invalid=form.get("skip_invalid") == "y",
    )


def _mapping(table: Table, form: Any) -> ColumnMapping:
    if "map_text" not in form:
        return imports.suggest_mapping(table.columns)
    values = {}
    for name in imports.MAPPING_FIELDS:
        column = form.get(f"map_{name}", "")
        values[name] = column if column in table.columns else None
    return ColumnMapping.from_dict(values)


def _render_preview(
    wall: Wall,
    token: str,
    filename: str,
    table: Table,
    mapping: ColumnMapping,
    options: ImportOptions,
    plan: ImportPlan | None,
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    return (
        render_template(
            "staff/imports/preview.html",
            wall=wall,
            token=token,
            filename=filename,
            table=table,
            mapping=mapping.as_dict(),
            options=options,
            plan=plan,
            error=error,
            notices=[n.render(_) for n in (plan.notices if plan else table.notices)],
            errors=[e.render(_) for e in plan.errors[:SHOWN_ERRORS]] if plan else [],
            field_labels=FIELD_LABELS,
            channel_labels=CHANNEL_LABELS,
            prompts={p.id: p for p in wall.prompts},
            preview_rows=PREVIEW_ROWS,
        ),
        status,
    )


@bp.route("/walls/<int:wall_id>/import", methods=["GET", "POST"])
@requires(Permission.MANAGE_CAMPAIGNS)
def answers_import(wall_id: int) -> ResponseReturnValue:
    """Upload a file, check the preview, import in one transaction."""
    wall = _load_wall(wall_id)
    upload_form = UploadForm()
    token = request.form.get("upload", "") if request.method == "POST" else ""
    if request.method == "POST" and not token:
        if not upload_form.validate_on_submit():
            return render_template("staff/imports/upload.html", wall=wall, form=upload_form), 400
        file = upload_form.file.data
        data = file.read()
        filename = file.filename or ""
        try:
            table = imports.read_table(data, filename, max_rows=PREVIEW_ROWS)
        except DomainError as error:
            upload_form.file.errors = [_error_text(error)]
            return render_template("staff/imports/upload.html", wall=wall, form=upload_form), 400
        token = _save_upload(wall, data, filename)
        mapping = imports.suggest_mapping(table.columns)
        options = _options(wall, request.form)
        return _plan_and_render(wall, token, filename, table, mapping, options)
    if request.method == "GET" or not token:
        return render_template("staff/imports/upload.html", wall=wall, form=upload_form)

    path = _upload_path(wall, token)
    if path is None:
        flash(_("The uploaded file has expired. Please upload it again."), "error")
        return redirect(url_for(".answers_import", wall_id=wall.id), code=303)
    name_file = path.with_suffix(".name")
    filename = name_file.read_text("utf-8") if name_file.is_file() else ""
    data = path.read_bytes()
    table = imports.read_table(data, filename, max_rows=PREVIEW_ROWS)
    mapping = _mapping(table, request.form)
    options = _options(wall, request.form)
    if request.form.get("action") != "import":
        return _plan_and_render(wall, token, filename, table, mapping, options)
    try:
        imports.check_mapping(table, mapping, needs_wall=False)
    except DomainError as error:
        return _plan_and_render(
            wall, token, filename, table, mapping, options, error=_error_text(error)
        )
    job = _start_import(wall, imports.ImportRequest(wall.id, filename, mapping, options), data)
    _remove_upload(path)
    return redirect(url_for(".job_page", job_id=job.id), code=303)


def _start_import(wall: Wall, asked: imports.ImportRequest, data: bytes) -> Job:
    """The import job for the file (the running one when the same was asked for already)."""
    job, _created = start_job(
        imports.background.KIND,
        asked.job_key(data),
        staff(),
        {**asked.params(), "back": url_for(".wall", wall_id=wall.id)},
        inputs={asked.filename or "upload": data},
    )
    return job


def _plan_and_render(
    wall: Wall,
    token: str,
    filename: str,
    table: Table,
    mapping: ColumnMapping,
    options: ImportOptions,
    error: str | None = None,
) -> ResponseReturnValue:
    try:
        plan: ImportPlan | None = imports.plan_import(db.session, wall, table, mapping, options)
    except DomainError as problem:
        plan, error = None, _error_text(problem)
    status = 400 if error else 200
    return _render_preview(wall, token, filename, table, mapping, options, plan, error, status)
