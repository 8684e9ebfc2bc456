"""Importing contacts from the dashboard: upload, preview, confirm, report; and the template file.

The uploaded file waits in the data folder between the preview and the confirmation,
named by a random token kept in the person's session (never a path from the browser).
It is deleted once imported or cancelled; files left behind by abandoned previews are
deleted by the next upload after a day.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from goteo.conf import data_dir
from goteo.csv_files import MAX_BYTES, read_text
from goteo.importing import ImportFileError, import_contacts, parse_rows
from goteo.web import base
from goteo.web.forms import ImportForm

SESSION_KEY = "goteo_contact_import"
KEEP_SECONDS = 24 * 3600
PREVIEW_LIST = 20  # rejected rows and warnings listed on the preview; the report lists all
TEMPLATE_CSV = (
    "nombre;telefono;consentimiento;etiquetas;fecha_nacimiento;ultima_visita;producto\r\n"
    "Daniel Osorio;300 978 7566;si;vip;14/02/1985;2025-11-03;lentes de contacto\r\n"
    "María García;310 123 4567;no;;;;\r\n"
)


def upload_folder() -> Path:
    folder = Path(getattr(settings, "DATA_DIR", None) or data_dir()) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stored_path(token: str) -> Path:
    return upload_folder() / f"{token}.csv"


def forget_old_uploads(now: float) -> None:
    """Delete the files of previews nobody confirmed or cancelled within a day."""
    for path in upload_folder().glob("*.csv"):
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > KEEP_SECONDS:
                path.unlink()


def discard_upload(request: HttpRequest) -> None:
    """Delete the file waiting in this session, if any."""
    pending = request.session.pop(SESSION_KEY, None)
    if pending:
        stored_path(pending["token"]).unlink(missing_ok=True)


@base.staff_required
@require_http_methods(["GET", "POST"])
def contact_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV and see, before anything is stored, how goteo reads it."""
    error = ""
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_BYTES:
                error = _("El archivo supera 50 MB.")
            else:
                data = upload.read()
                try:
                    parsed = parse_rows(read_text(data))
                except ImportFileError as exc:
                    error = str(exc)
                else:
                    discard_upload(request)
                    forget_old_uploads(time.time())
                    token = secrets.token_hex(16)
                    stored_path(token).write_bytes(data)
                    request.session[SESSION_KEY] = {"token": token, "name": upload.name[:100]}
                    return render(
                        request,
                        "goteo/contacts/import_preview.html",
                        {
                            "parsed": parsed,
                            "file_name": upload.name,
                            "listed": PREVIEW_LIST,
                            "first_part": f":{PREVIEW_LIST}",
                        },
                    )
    else:
        form = ImportForm()
    return render(request, "goteo/contacts/import.html", {"form": form, "error": error})


@base.staff_required
@require_POST
def contact_import_confirm(request: HttpRequest) -> HttpResponse:
    """Import the previewed file (or drop it on «Cancelar») and show what was done."""
    pending = request.session.get(SESSION_KEY)
    path = stored_path(pending["token"]) if pending else None
    if request.POST.get("action") == "cancel":
        discard_upload(request)
        messages.info(request, _("Importación cancelada: no se guardó nada."))
        return redirect("goteo:contact_import")
    if pending is None or path is None or not path.exists():
        request.session.pop(SESSION_KEY, None)
        messages.warning(request, _("El archivo de la vista previa ya no está; súbalo de nuevo."))
        return redirect("goteo:contact_import")
    try:
        report = import_contacts(path.read_bytes(), base.now(), source_name=f"panel:{pending['name']}"[:64])
    except ImportFileError as exc:
        discard_upload(request)
        return render(request, "goteo/contacts/import.html", {"form": ImportForm(), "error": str(exc)})
    discard_upload(request)
    base.log.info(
        "contacts imported by %s: %s created, %s updated, %s rejected, %s warnings",
        base.actor(request),
        report.created,
        report.updated,
        len(report.rejected),
        len(report.warnings),
    )
    return render(request, "goteo/contacts/import.html", {"form": ImportForm(), "report": report})


@base.staff_required
@require_GET
def contact_import_template(request: HttpRequest) -> HttpResponse:
    """A CSV to fill in: the Spanish headers, the optional dates, one attribute and two example rows.

    Semicolons and a BOM, as Excel in Spanish expects them: it then opens the file in
    columns with its accents right.
    """
    response = HttpResponse(("\ufeff" + TEMPLATE_CSV).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="plantilla-contactos.csv"'
    return response
