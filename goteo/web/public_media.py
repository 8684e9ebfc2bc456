"""A campaign's file at its unguessable public address, for providers that download it.

Twilio (and Evolution or WAHA when given a URL) fetch the file from goteo: the address
needs no sign-in, so its token is the only secret. Twilio checks the answer's
Content-Type against the file, and names a document after Content-Disposition.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from goteo.media import public_name


@require_safe
def public_media(request: HttpRequest, token: str, name: str) -> FileResponse:
    """The file whose token is ``token``; 404 for any other token or name."""
    from goteo.models import CampaignMedia

    media = CampaignMedia.objects.filter(token=token).first()
    if media is None or name != public_name(media):
        raise Http404
    try:
        stored = media.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(stored, content_type=media.mime, as_attachment=False, filename=public_name(media))
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "private, max-age=3600"
    return response
