"""长者版 and accessibility of the resident pages: WCAG 2.1 AA contrast of the colour variables
in both modes (computed here from the stylesheets), the 长者版 switch without JavaScript, and
landmarks, labels and alt text on every resident page."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

from gezhi.portal import services

from .conftest import IN_A1, close_event, jpeg

STATIC = Path(__file__).resolve().parents[1] / "static" / "portal"


def variables(css: str, selector: str) -> dict[str, str]:
    block = re.search(re.escape(selector) + r"\s*\{(.*?)\}", css, re.S).group(1)
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", block))


def luminance(colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


NORMAL = variables((STATIC / "portal.css").read_text(), ".layout-public")
ELDER = {**NORMAL, **variables((STATIC / "elder.css").read_text(), ".layout-public.elder")}

# (text, background) as the stylesheets use them: body text, hints, links, buttons, messages,
# error text, state badges, the pressed 长者版 button.
TEXT_PAIRS = [
    ("ink", "surface"), ("ink", "page"), ("muted", "surface"), ("muted", "page"),
    ("link", "surface"), ("link", "page"), ("on-accent", "accent"), ("on-accent", "accent-dark"),
    ("accent-dark", "surface"), ("error-ink", "surface"), ("error-ink", "error-bg"),
    ("ink", "warn-bg"), ("ink", "error-bg"), ("ink", "ok-bg"), ("surface", "ink"),
    ("state-open-ink", "state-open-bg"), ("state-done-ink", "state-done-bg"),
    ("state-stop-ink", "state-stop-bg"), ("state-wait-ink", "state-wait-bg"),
]
# Non-text contrast (WCAG 1.4.11, 3:1): form field borders, the focus ring, the primary button.
UI_PAIRS = [("field-line", "surface"), ("field-line", "page"), ("focus", "surface"),
            ("focus", "page"), ("accent", "surface"), ("accent", "page")]


@pytest.mark.parametrize("mode,colours,text_ratio", [("standard", NORMAL, 4.5),
                                                      ("elder", ELDER, 7.0)])
def test_colour_pairs_meet_wcag(mode, colours, text_ratio):
    for fg, bg in TEXT_PAIRS:
        ratio = contrast(colours[fg], colours[bg])
        assert ratio >= text_ratio, f"{mode}: --{fg} on --{bg} is {ratio:.2f}:1"
    for fg, bg in UI_PAIRS:
        ratio = contrast(colours[fg], colours[bg])
        assert ratio >= 3.0, f"{mode}: --{fg} against --{bg} is {ratio:.2f}:1"


def test_fixed_colours_of_shared_components_on_resident_pages():
    """gezhi.css colours the staff cards' tags and avatars with fixed values."""
    for fg, bg in [("#2563a8", "#eef4fb"), ("#8a4b00", "#fdf3e4"), ("#33404d", "#e9edf2")]:
        assert contrast(fg, bg) >= 4.5


def test_contrast_formula():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54


# --- The 长者版 switch -----------------------------------------------------------------------


def test_elder_switch_persists_without_javascript(world):
    client = Client()
    text = client.get("/report/").content.decode()
    assert "portal/elder.css" not in text and 'class="layout-public"' in text
    assert 'name="elder" value="1" aria-pressed="false"' in text

    response = client.post("/display/", {"elder": "1", "next": "/report/"})
    assert response.status_code == 302 and response["Location"] == "/report/"
    cookie = response.cookies["gezhi_elder"]
    assert cookie.value == "1" and cookie["max-age"] == 365 * 24 * 3600 and cookie["httponly"]
    for path in ("/report/", "/", "/login/", "/accounts/login/"):
        text = client.get(path).content.decode()
        assert 'class="layout-public elder"' in text, path
        assert 'href="/static/portal/elder.css"' in text, path
        assert 'name="elder" value="0" aria-pressed="true"' in text, path

    response = client.post("/display/", {"elder": "0", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert "portal/elder.css" not in client.get("/report/").content.decode()


def test_elder_switch_is_a_form_post(world):
    assert Client().get("/display/").status_code == 405


def test_elder_stylesheet_makes_type_larger():
    css = (STATIC / "elder.css").read_text()
    root = re.search(r":root\s*\{([^}]*)\}", css).group(1)
    assert int(re.search(r"font-size:\s*(\d+)px", root).group(1)) >= 20  # gezhi.css: 16px


# --- Landmarks, labels, alt text -------------------------------------------------------------


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])


def check_page(html: str) -> None:
    page = Page()
    page.feed(html)
    names = [t for t, _ in page.tags]
    assert re.search(r'<html lang="zh-hans">', html)
    assert ("header", {"class": "topbar portal-top", "role": "banner"}) in page.tags
    assert "nav" in names and "footer" in names
    assert any(t == "main" and a.get("id") == "main" for t, a in page.tags)
    assert any(t == "a" and a.get("class") == "skip-link" and a.get("href") == "#main"
               for t, a in page.tags)
    for tag, attrs in page.tags:
        if tag in ("input", "select", "textarea") and attrs.get("type") not in (
                "hidden", "submit", "button"):
            if attrs.get("type") == "radio":
                continue  # wrapped in its <label>
            assert attrs.get("id") in page.labels or attrs.get("aria-label"), (tag, attrs)
        if tag == "img":
            assert attrs.get("alt"), attrs
        if tag == "button":
            assert attrs.get("type") in ("submit", "button"), attrs


def test_resident_pages_have_landmarks_labels_and_alt_text(world, resident_client,
                                                           resident_user):
    event = services.resident_report(user=resident_user, category="0102", description="垃圾",
                                     lat=IN_A1[0], lon=IN_A1[1], photos=[jpeg()]).event
    close_event(event, world)
    anonymous = Client()
    follow = anonymous.post("/report/", {"category": "0102", "description": "垃圾",
                                         "lat": "35.08", "lon": "117.11",
                                         "contact_phone": "13906321234",
                                         "photos": [jpeg()]})["Location"]
    pages = [(anonymous, "/"), (anonymous, "/?q=善国盛景"), (anonymous, "/report/"),
             (anonymous, "/login/"), (anonymous, follow), (resident_client, "/my/"),
             (resident_client, f"/my/{event.serial}/"), (resident_client, "/report/")]
    for client, path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        check_page(response.content.decode())
    code_step = Client().post("/login/", {"phone": "13700001111", "action": "send"})
    check_page(code_step.content.decode())
    error_page = Client().post("/report/", {"category": "", "description": ""})
    text = error_page.content.decode()
    check_page(text)
    assert 'role="alert"' in text and 'href="#field-category"' in text
    assert 'aria-invalid="true" aria-describedby="category-error"' in text
