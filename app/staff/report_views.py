"""The campaign report: the staff web view, the PDF, answer exports and publishing.

The document is one template (``report/_document.html``) rendered in the campaign's language:
inside the staff page, as a standalone HTML file (stylesheet embedded; the command line) and
as a PDF through WeasyPrint, which reads the stylesheet from disk and never the network.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

from flask import Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from surveys import campaigns, export
from surveys import report as reports
from surveys.accounts import Permission
from surveys.errors import DomainError
from surveys.insights import MIN_GROUP_SIZE, OTHER_KEY, Dimension
from surveys.models import Audience, Campaign, Channel, utcnow
from surveys.report import Report

from ..config import LANGUAGES
from ..extensions import db
from . import bp
from .auth import requires, staff
from .common import flash_error
from .forms import to_local
from .insight_views import group_label

STATIC = Path(__file__).resolve().parent.parent / "static"
REPORT_CSS = STATIC / "css" / "report.css"

AUDIENCE_LABELS = {
    Audience.PARENTS.value: _l("Parents"),
    Audience.YOUNG.value: _l("Young people"),
    Audience.EVERYONE.value: _l("Everyone"),
    OTHER_KEY: _l("Other (small groups pooled)"),
}
CHANNEL_LABELS = {
    Channel.WEB.value: _l("Phone or computer"),
    Channel.KIOSK.value: _l("Kiosk tablet"),
    Channel.EVENT.value: _l("At events"),
    Channel.PAPER.value: _l("Paper notes"),
    Channel.API.value: _l("Another system (API)"),
}


def report_language(report: Report) -> str:
    """The language the report is written in: the campaign's, Danish when unsupported."""
    return report.language if report.language in LANGUAGES else "da"


def _labels() -> dict[str, Any]:
    return {
        "audience": {k: str(v) for k, v in AUDIENCE_LABELS.items()},
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
    with force_locale(report_language(report)):
        return render_template(
            "report/standalone.html",
            embedded_css=css,
            stylesheet="css/report.css",
            page_css=page_css(),
            **_context(report),
        )


def local_fetcher() -> Any:
    """A WeasyPrint URL fetcher that reads files of the static folder and nothing else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    root = STATIC.resolve()

    class LocalFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
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


def render_pdf(report: Report) -> bytes:
    """The report as a PDF (WeasyPrint), with the stylesheet read from disk."""
    import weasyprint

    html = render_standalone(report, embed_css=False)
    document = weasyprint.HTML(
        string=html, base_url=STATIC.as_uri() + "/", url_fetcher=local_fetcher()
    )
    return document.write_pdf()


def export_headers() -> dict[str, str]:
    """Column headings of the answer exports, in the current language."""
    return {
        "answer": _("Answer no."),
        "wall": _("Wall"),
        "question_number": _("Question no."),
        "question": _("Question"),
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
    }


def export_file(
    campaign: Campaign, fmt: export.ExportFormat, *, actor: Any = None, actor_email: str = ""
) -> bytes:
    """The campaign's answers with their themes as CSV or XLSX bytes (audited)."""
    with force_locale(campaign.language if campaign.language in LANGUAGES else "da"):
        headers = export_headers()
        sheet = _("Answers")
    buffer: io.StringIO | io.BytesIO = io.StringIO() if fmt == "csv" else io.BytesIO()
    export.export_answers(
        db.session,
        campaign,
        buffer,
        fmt=fmt,
        actor=actor,
        actor_email=actor_email or None,
        headers=headers,
        sheet_title=sheet,
    )
    value = buffer.getvalue()
    return value.encode("utf-8") if isinstance(value, str) else value


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


@bp.get("/campaigns/<int:campaign_id>/report")
@requires(Permission.VIEW)
def report(campaign_id: int) -> ResponseReturnValue:
    """The report in the workspace, with downloads and the public page's state."""
    item = _campaign(campaign_id)
    data = reports.build_report(db.session, item)
    stale = item.published_at is not None and item.published_run_id != data.run_id
    return render_template(
        "report/staff.html",
        campaign=item,
        report=data,
        document_html=render_document(data),
        stale=stale,
        public_url=url_for("participate.heard", slug=item.slug, _external=True),
    )


@bp.get("/campaigns/<int:campaign_id>/report.pdf")
@requires(Permission.VIEW)
def report_pdf(campaign_id: int) -> ResponseReturnValue:
    """The report as a PDF."""
    item = _campaign(campaign_id)
    body = render_pdf(reports.build_report(db.session, item))
    return _download(body, "application/pdf", _filename(item, "rapport", "pdf"))


@bp.get("/campaigns/<int:campaign_id>/report.csv")
@requires(Permission.EXPORT)
def report_csv(campaign_id: int) -> ResponseReturnValue:
    """The approved answers with their themes as CSV (audited)."""
    item = _campaign(campaign_id)
    body = export_file(item, "csv", actor=staff())
    response = _download(body, "text/csv", _filename(item, "svar", "csv"))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    return response


@bp.get("/campaigns/<int:campaign_id>/report.xlsx")
@requires(Permission.EXPORT)
def report_xlsx(campaign_id: int) -> ResponseReturnValue:
    """The approved answers with their themes as an Excel workbook (audited)."""
    item = _campaign(campaign_id)
    body = export_file(item, "xlsx", actor=staff())
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(body, mimetype, _filename(item, "svar", "xlsx"))


@bp.post("/campaigns/<int:campaign_id>/report/publish")
@requires(Permission.PUBLISH)
def report_publish(campaign_id: int) -> ResponseReturnValue:
    """Publish (or update) the public "Det har vi hørt" page."""
    item = _campaign(campaign_id)
    try:
        reports.publish_report(db.session, staff(), item)
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
    else:
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
