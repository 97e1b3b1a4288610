"""The campaign report: the staff web view, the PDF, answer exports and publishing.

The document is one template (``report/_document.html``) rendered in the campaign's language:
inside the staff page, as a standalone HTML file (stylesheet embedded; the command line) and
as a PDF through WeasyPrint, which reads the stylesheet from disk and never the network.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from surveys import campaigns, export, organisations
from surveys import report as reports
from surveys.accounts import Permission
from surveys.errors import N_, DomainError
from surveys.insights import MIN_GROUP_SIZE, Dimension
from surveys.jobs import StepProgress, no_progress
from surveys.models import Campaign, utcnow
from surveys.report import PublicChoice, Report

from ..branding import brand_css, logo_data_uri
from ..config import LANGUAGES
from ..extensions import db
from ..jobs import start_job
from ..labels import CHANNEL_LABELS, GROUP_LABELS
from ..participate.forms import AGE_GROUP_LABELS, ROLE_LABELS
from ..public_links import public_url
from . import bp
from .auth import requires, staff
from .forms import LANGUAGE_LABELS, to_local
from .insight_views import group_label

STATIC = Path(__file__).resolve().parent.parent / "static"
REPORT_CSS = STATIC / "css" / "report.css"
LOGO_DATA_PREFIX = "data:image/png;base64,"


def report_language(report: Report) -> str:
    """The language the report is written in: the campaign's, Danish when unsupported."""
    return report.language if report.language in LANGUAGES else "da"


def _labels() -> dict[str, Any]:
    return {
        "audience": {k: str(v) for k, v in GROUP_LABELS.items()},
        "channel": {k: str(v) for k, v in CHANNEL_LABELS.items()},
        "area_dimension": Dimension.AREA,
    }


def _context(report: Report) -> dict[str, Any]:
    return {
        "report": report,
        "labels": _labels(),
        "group_label": group_label,
        "min_group_size": MIN_GROUP_SIZE,
    }


def render_document(report: Report, *, hl: int = 1) -> Markup:
    """The document's HTML (for the staff page), in the campaign's language."""
    with force_locale(report_language(report)):
        html = render_template("report/_embed.html", hl=hl, **_context(report))
    return Markup(html)  # our template's own, escaped output


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string (every character outside printable ASCII escaped)."""
    out = []
    for char in text:
        if char in '"\\' or not (0x20 <= ord(char) < 0x7F):
            out.append(f"\\{ord(char):x} ")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def page_css() -> Markup:
    """The translated page numbers ("Side 3 af 12") for the print stylesheet."""
    before, _sep, rest = _("Page %(page)s of %(pages)s").partition("%(page)s")
    middle, _sep, after = rest.partition("%(pages)s")
    parts = [css_string(before), "counter(page)", css_string(middle), "counter(pages)"]
    if after:
        parts.append(css_string(after))
    return Markup("@page { @bottom-right { content: %s; } }") % Markup(" ".join(parts))


def render_standalone(report: Report, *, embed_css: bool) -> str:
    """The report as a complete HTML document, in the campaign's language.

    With ``embed_css`` the stylesheet is inside the file (the command line's HTML);
    otherwise it links ``css/report.css`` relative to the static folder (the PDF).
    """
    css = Markup(REPORT_CSS.read_text(encoding="utf-8")) if embed_css else None
    organisation = organisations.of_campaign(db.session, report.campaign_id)
    colour = organisation.brand_colour
    with force_locale(report_language(report)):
        return render_template(
            "report/standalone.html",
            embedded_css=css,
            stylesheet="css/report.css",
            page_css=page_css(),
            # the organisation's look: validated "#rrggbb" only, and its re-encoded PNG
            brand_css=Markup(brand_css(colour, print_cover=True)) if colour else None,
            logo_src=logo_data_uri(organisation),
            **_context(report),
        )


def local_fetcher() -> Any:
    """A WeasyPrint URL fetcher that reads files of the static folder and nothing else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    root = STATIC.resolve()

    class LocalFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            if url.startswith(LOGO_DATA_PREFIX):  # the organisation's logo (logo_data_uri)
                body = base64.b64decode(url[len(LOGO_DATA_PREFIX) :], validate=True)
                return URLFetcherResponse(url, body=body, headers={"Content-Type": "image/png"})
            if not url.startswith("file://"):
                raise ValueError(f"only local files are read, not {url!r}")
            from urllib.parse import unquote, urlsplit

            path = Path(unquote(urlsplit(url).path)).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                raise ValueError(f"not a static file: {url!r}")
            kind = {".css": "text/css", ".svg": "image/svg+xml"}.get(path.suffix, "")
            return URLFetcherResponse(
                url, body=path.read_bytes(), headers={"Content-Type": kind} if kind else {}
            )

    return LocalFetcher()


def render_pdf(report: Report, progress: StepProgress = no_progress) -> bytes:
    """The report as a PDF (WeasyPrint), with the stylesheet read from disk; tells
    ``progress`` its steps 1-3 of ``PDF_STEPS``."""
    import weasyprint

    progress(1, PDF_STEPS, N_("Writing the report"))
    html = render_standalone(report, embed_css=False)
    progress(2, PDF_STEPS, N_("Laying out the pages"))
    document = weasyprint.HTML(
        string=html, base_url=STATIC.as_uri() + "/", url_fetcher=local_fetcher()
    ).render()
    progress(3, PDF_STEPS, N_("Writing the PDF"))
    return document.write_pdf()


def export_headers() -> dict[str, str]:
    """Column headings of the answer exports, in the current language."""
    return {
        "answer": _("Answer no."),
        "wall": _("Wall"),
        "question_number": _("Question no."),
        "question": _("Question"),
        "choice": _("Choice"),
        "text": _("Answer"),
        "themes": _("Themes"),
        "date": _("Date"),
        "place": _("Place"),
        "channel": _("Channel"),
        "language": _("Language"),
        "role": _("Role"),
        "age_group": _("Age group"),
        "area": _("Area"),
        "agree": _("Agree"),
        "round": _("Round"),
    }


def export_value_labels() -> dict[str, dict[str, str]]:
    """Words for the coded columns of the answer exports, in the current language."""
    return {
        "channel": {code: str(label) for code, label in CHANNEL_LABELS.items()},
        "language": {code: str(label) for code, label in LANGUAGE_LABELS.items()},
        "role": {code: str(label) for code, label in ROLE_LABELS.items()},
        "age_group": {code: str(label) for code, label in AGE_GROUP_LABELS.items()},
    }


def export_bytes(campaign: Campaign, fmt: export.ExportFormat) -> tuple[bytes, int]:
    """The campaign's answers with their themes as CSV or XLSX bytes, and how many answers
    (not audited: the caller records the export)."""
    with force_locale(campaign.language if campaign.language in LANGUAGES else "da"):
        headers = export_headers()
        value_labels = export_value_labels()
        sheet = _("Answers")
    if fmt == "csv":
        text = io.StringIO()
        count = export.write_csv(
            db.session, campaign, text, headers=headers, value_labels=value_labels
        )
        return text.getvalue().encode("utf-8"), count
    binary = io.BytesIO()
    count = export.write_xlsx(
        db.session,
        campaign,
        binary,
        headers=headers,
        sheet_title=sheet,
        value_labels=value_labels,
    )
    return binary.getvalue(), count


def export_file(
    campaign: Campaign, fmt: export.ExportFormat, *, actor: Any = None, actor_email: str = ""
) -> bytes:
    """The campaign's answers with their themes as CSV or XLSX bytes (audited, committed)."""
    body, count = export_bytes(campaign, fmt)
    export.record_export(
        db.session, campaign, fmt, count, actor=actor, actor_email=actor_email or None
    )
    db.session.commit()
    return body


# -- the PDF and the workbook, built in the background (app/jobs.py) ---------------------------

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The steps of building a PDF: collect, write the HTML, lay out the pages, write the PDF.
PDF_STEPS = 4
#: The steps of building the workbook: collect and write, done.
XLSX_STEPS = 2


@dataclass(frozen=True)
class ReportFile:
    """A built report file, and (for the answers) how many answers it holds."""

    name: str
    content_type: str
    data: bytes
    answers: int | None = None


#: The permission a format needs, to ask for it and to download it: the PDF is the report
#: everyone sees; the workbook holds the answers (like the CSV export).
FILE_PERMISSIONS = {"pdf": Permission.VIEW, "xlsx": Permission.EXPORT}


def build_report_file(
    campaign: Campaign, fmt: str, progress: StepProgress = no_progress, *, draft: bool = False
) -> ReportFile:
    """The report as a PDF or the answers as an XLSX workbook, telling ``progress`` how far
    it is ("2 of 4 steps"). Nothing is written to the database.

    The PDF shows the published themes when there are some, else (or with ``draft``) the
    latest, marked as a draft (see :func:`surveys.report.build_report`)."""
    if fmt == "pdf":
        progress(0, PDF_STEPS, N_("Collecting the answers and themes"))
        data = reports.build_report(db.session, campaign, draft=draft)
        body = render_pdf(data, progress)
        progress(PDF_STEPS, PDF_STEPS, N_("Done"))
        name = "rapport" if data.version is reports.ReportVersion.PUBLISHED else "rapport-kladde"
        return ReportFile(_filename(campaign, name, "pdf"), "application/pdf", body)
    if fmt == "xlsx":
        progress(0, XLSX_STEPS, N_("Collecting the answers and writing the workbook"))
        body, count = export_bytes(campaign, "xlsx")
        progress(XLSX_STEPS, XLSX_STEPS, N_("Done"))
        return ReportFile(_filename(campaign, "svar", "xlsx"), XLSX_TYPE, body, count)
    raise ValueError(f"not a format built in the background: {fmt!r}")


def _filename(campaign: Campaign, name: str, suffix: str) -> str:
    stamp = to_local(utcnow())
    day = (stamp.date() if stamp else date.today()).isoformat()
    return f"{campaign.slug}-{name}-{day}.{suffix}"


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _campaign(campaign_id: int) -> Campaign:
    return campaigns.get_campaign(db.session, staff().organisation_id, campaign_id)


# -- routes -----------------------------------------------------------------------------------


def _wants_draft() -> bool:
    """``version=draft`` (query or form): the latest themes instead of the published ones."""
    return request.values.get("version") == "draft"


@bp.get("/campaigns/<int:campaign_id>/report")
@requires(Permission.VIEW)
def report(campaign_id: int) -> ResponseReturnValue:
    """The report in the workspace (the published themes when there are some, else the
    latest as a draft; ``?version=draft`` for the latest), downloads and the public page."""
    item = _campaign(campaign_id)
    data = reports.build_report(db.session, item, draft=_wants_draft())
    latest = reports.campaign_run(db.session, item)
    stale = item.published_at is not None and item.published_run_id != (latest and latest.id)
    return render_template(
        "report/staff.html",
        campaign=item,
        report=data,
        document_html=render_document(data),
        stale=stale,
        public_url=public_url("participate.heard", slug=item.slug),
    )


def _start_file_job(campaign_id: int, fmt: str, *, draft: bool = False) -> ResponseReturnValue:
    """Ask for the PDF or workbook in the background (the one being built already, if any)
    and show its page, which offers the download when it is done."""
    item = _campaign(campaign_id)
    run = reports.campaign_run(db.session, item)
    version = "draft" if draft else "published"
    job, _created = start_job(
        "report",
        f"report:{item.id}:{fmt}:{version}:run-{run.id if run else 0}",
        staff(),
        {
            "campaign_id": item.id,
            "format": fmt,
            "draft": draft,
            "back": url_for(".report", campaign_id=item.id, version="draft" if draft else None),
        },
    )
    return redirect(url_for(".job_page", job_id=job.id), code=303)


@bp.post("/campaigns/<int:campaign_id>/report.pdf")
@requires(FILE_PERMISSIONS["pdf"])
def report_pdf(campaign_id: int) -> ResponseReturnValue:
    """Build the report as a PDF in the background: the published themes when there are
    some, else (or with ``version=draft``) the latest, marked as a draft."""
    return _start_file_job(campaign_id, "pdf", draft=_wants_draft())


@bp.get("/campaigns/<int:campaign_id>/report.csv")
@requires(Permission.EXPORT)
def report_csv(campaign_id: int) -> ResponseReturnValue:
    """The approved answers with their themes as CSV (audited), built in the request: it is
    quick (see README, "Drift")."""
    item = _campaign(campaign_id)
    body = export_file(item, "csv", actor=staff())
    response = _download(body, "text/csv", _filename(item, "svar", "csv"))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    return response


@bp.post("/campaigns/<int:campaign_id>/report.xlsx")
@requires(FILE_PERMISSIONS["xlsx"])
def report_xlsx(campaign_id: int) -> ResponseReturnValue:
    """Build the approved answers with their themes as an Excel workbook in the background
    (audited when built)."""
    return _start_file_job(campaign_id, "xlsx")


def public_choices() -> list[PublicChoice]:
    """The themes ticked in the publishing review, each with its name and quotes."""
    choices = []
    for key in dict.fromkeys(request.form.getlist("include")):
        ids = [int(v) for v in request.form.getlist(f"quote-{key}") if v.isascii() and v.isdigit()]
        name = request.form.get(f"name-{key}", "")
        choices.append(PublicChoice(key=key[:16], name=name[:1000], quotes=tuple(ids)))
    return choices


@bp.get("/campaigns/<int:campaign_id>/report/publish")
@requires(Permission.PUBLISH)
def report_review(campaign_id: int) -> ResponseReturnValue:
    """The review before publishing: the public themes' names and quotes."""
    item = _campaign(campaign_id)
    return render_template(
        "report/publish.html",
        campaign=item,
        review=reports.publish_review(db.session, item),
        public_quotes=reports.PUBLIC_QUOTES,
    )


def _review_again(item: Campaign, choices: list[PublicChoice], error: DomainError) -> Response:
    """The review again with what staff chose and wrote, and why it cannot be published."""
    db.session.rollback()
    html = render_template(
        "report/publish.html",
        campaign=item,
        review=reports.publish_review(db.session, item, choices),
        public_quotes=reports.PUBLIC_QUOTES,
        error=_(error.message, **error.params),
    )
    return Response(html)


@bp.post("/campaigns/<int:campaign_id>/report/preview")
@requires(Permission.PUBLISH)
def report_preview(campaign_id: int) -> ResponseReturnValue:
    """The public page as the review's choices make it, marked as a preview; saves nothing."""
    from ..participate.heard_views import render_heard

    item = _campaign(campaign_id)
    choices = public_choices()
    try:
        data = reports.preview_report(db.session, item, choices)
    except DomainError as error:
        return _review_again(item, choices, error)
    with force_locale(report_language(data)):
        response = Response(render_heard(data, preview=True))
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.post("/campaigns/<int:campaign_id>/report/publish")
@requires(Permission.PUBLISH)
def report_publish(campaign_id: int) -> ResponseReturnValue:
    """Publish (or update) the public "Det har vi hørt" page with the review's choices."""
    item = _campaign(campaign_id)
    choices = public_choices()
    try:
        reports.publish_report(db.session, staff(), item, choices)
    except DomainError as error:
        return _review_again(item, choices, error)
    flash(_('The page "What we heard" is published.'), "success")
    return redirect(url_for(".report", campaign_id=item.id), code=303)


@bp.post("/campaigns/<int:campaign_id>/report/unpublish")
@requires(Permission.PUBLISH)
def report_unpublish(campaign_id: int) -> ResponseReturnValue:
    """Take the public page down."""
    item = _campaign(campaign_id)
    reports.unpublish_report(db.session, staff(), item)
    flash(_("The public page was taken down."), "success")
    return redirect(url_for(".report", campaign_id=item.id), code=303)
