"""The shared HTTP plumbing: URLs joined once give what httpx itself would request."""

from __future__ import annotations

import pytest

from goteo.transports.http import endpoint, make_client


@pytest.mark.parametrize(
    ("base_url", "url"),
    [
        ("https://graph.facebook.com/v21.0", "/123456/messages"),
        ("http://gateway:8080/evolution/", "message/sendText/tienda"),
        ("https://api.twilio.com", "/2010-04-01/Accounts/AC1/Messages.json?PageSize=1"),
        ("http://127.0.0.1:3000/base", "/api/sessions/mi%20sesi%C3%B3n"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:4000/elsewhere"),
    ],
)
def test_a_joined_url_is_the_one_httpx_would_request(base_url, url):
    client = make_client(base_url)
    joined = endpoint(str(client.base_url), url)
    assert joined == client.build_request("POST", url).url
    assert endpoint(str(client.base_url), url) is joined  # parsed once, then reused
