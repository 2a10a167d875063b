"""Board members' photos (and the site logo): uploaded by the managing editor, checked by content
(type, size, pixels; never SVG), stored through Django's storage API, served with immutable caching."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from governance.models import AuditEvent
from governance.workflow.exceptions import ContentInvalid
from governance.workflow.services import credentials

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png(size=(64, 64), name="photo.png", kind="PNG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, kind)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_the_managing_editor_sets_a_photo_that_the_profile_shows(client, chief, board):
    member = credentials.board_member_update(actor=chief, member=board[0], changes={"photo": png()})

    event = AuditEvent.objects.filter(action="board_member.update").latest("seq")
    assert event.data["changed"]["photo"] == ["", member.photo.name]
    html = client.get(f"/board/{member.slug}/").content.decode()
    src = f'/board/{member.slug}/photo/?v='
    assert src in html and f'alt="Photo of {member.printed_name}"' in html
    photo = client.get(src + html.split(src)[1].split('"')[0])
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert "immutable" in photo["Cache-Control"] and photo["X-Content-Type-Options"] == "nosniff"
    photo.getvalue()  # read to its end: the client closes the file (a bare close() closes the test's DB connection)
    assert client.get(photo.wsgi_request.get_full_path(), HTTP_IF_NONE_MATCH=photo["ETag"]).status_code == 304


def test_a_member_may_not_set_their_own_photo(board):
    with pytest.raises(ContentInvalid) as refused:
        credentials.board_member_update(actor=board[0].user, member=board[0], changes={"photo": png()})
    assert "managing editor" in refused.value.errors["photo"][0]
    board[0].refresh_from_db()
    assert not board[0].photo


@pytest.mark.parametrize(("upload", "message"), [
    (SimpleUploadedFile("photo.png", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
     "not one"),
    (SimpleUploadedFile("photo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "not one"),
    (png((8, 8)), "at least"),
    (png(name="photo.gif", kind="GIF"), "GIF"),
])
def test_it_refuses_what_is_not_a_web_image_by_its_content(chief, board, upload, message):
    with pytest.raises(ContentInvalid) as refused:
        credentials.board_member_update(actor=chief, member=board[0], changes={"photo": upload})
    assert message in refused.value.errors["photo"][0]
    board[0].refresh_from_db()
    assert not board[0].photo


def test_it_refuses_an_image_too_large(chief, board, monkeypatch):
    from articles import images

    monkeypatch.setattr(images, "MAX_BYTES", 100)
    with pytest.raises(ContentInvalid) as refused:
        credentials.board_member_update(actor=chief, member=board[0], changes={"photo": png()})
    assert "MB" in refused.value.errors["photo"][0]


def test_the_site_logo_is_validated_and_served(client, chief):
    from governance.workflow.site import site_settings_update

    with pytest.raises(ContentInvalid):
        site_settings_update(actor=chief, changes={"logo": SimpleUploadedFile("logo.png", b"not an image")})
    site_settings_update(actor=chief, changes={"logo": png(name="logo.png")})
    assert 'src="/site/logo/"' in client.get("/").content.decode()
    logo = client.get("/site/logo/")
    assert logo["Content-Type"] == "image/png"
    logo.getvalue()  # read to its end: the client closes the file (a bare close() closes the test's DB connection)
    assert 'property="og:image" content="http://testserver/site/logo/"' in client.get("/board/").content.decode()
