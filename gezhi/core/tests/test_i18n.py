"""The English interface: a complete catalog, compiled, and used by pages and the API.

After a change to user-facing strings, refresh the catalog from gezhi/ (so the walk stays out of .venv):
    cd gezhi && ../.venv/bin/gezhi makemessages -l en --ignore=tests --no-obsolete
    (translate the new entries in locale/en/LC_MESSAGES/django.po)
    ../.venv/bin/gezhi compilemessages
"""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

from conftest import PASSWORD

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]|\{\w*\}")


def parse_po(path: Path) -> list[dict]:
    """Entries as {"msgctxt", "msgid", "msgid_plural", "msgstr": [..], "flags": set}; no header."""
    entries, entry, key = [], None, None

    def close():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if not line:
            close()
            entry, key = None, None
            continue
        if entry is None:
            entry = {"msgctxt": None, "msgid_plural": None, "msgstr": [], "flags": set()}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if key == "msgstr":
                entry["msgstr"][-1] += value
            else:
                entry[key] += value
        else:
            key, _, literal = line.partition(" ")
            value = ast.literal_eval(literal)
            if key.startswith("msgstr"):
                entry["msgstr"].append(value)
                key = "msgstr"
            else:
                entry[key] = value
    return [e for e in entries if e["msgid"] != ""]


@pytest.fixture(scope="module")
def catalog() -> list[dict]:
    return parse_po(PO)


def test_every_message_is_translated_and_none_is_fuzzy(catalog):
    assert len(catalog) > 300
    untranslated = [e["msgid"] for e in catalog if not all(s.strip() for s in e["msgstr"])]
    fuzzy = [e["msgid"] for e in catalog if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []
    for e in catalog:
        sources = [e["msgid"]] if e["msgid_plural"] is None else [e["msgid"], e["msgid_plural"]]
        assert len(e["msgstr"]) == len(sources), e["msgid"]
        for source, translation in zip(sources, e["msgstr"], strict=True):
            assert sorted(set(PLACEHOLDER.findall(source))) == \
                sorted(set(PLACEHOLDER.findall(translation))), (source, translation)
        # English only: a Chinese character left in a translation is a missed one (the example
        # estate name in the address placeholder stays Chinese on purpose: residents type it so).
        for translation in e["msgstr"]:
            stripped = translation.replace("善国盛景", "")
            assert not re.search(r"[\u3400-\u9fff]", stripped), translation


def _catalog_keys(catalog) -> set[tuple[str | None, str]]:
    return {(e["msgctxt"], e["msgid"]) for e in catalog}


GETTEXT_FUNCS = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy"}
CONTEXT_FUNCS = {"pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}


def _python_msgids(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
                for a in node.args]
        if name in GETTEXT_FUNCS and args[0]:
            yield None, args[0]
        elif name in CONTEXT_FUNCS and len(args) > 1 and args[0] and args[1]:
            yield args[0], args[1]


TRANSLATE_TAG = re.compile(r"""\{%\s*(?:translate|trans)\s+("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
                           r"""(?:\s+context\s+("[^"]*"|'[^']*'))?""")
TEMPLATE_UNDERSCORE = re.compile(r"""\b_\(("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\)""")
BLOCK_TAG = re.compile(r"\{%\s*(?:blocktranslate|blocktrans)\b(.*?)%\}(.*?)"
                       r"\{%\s*(?:plural|endblocktranslate|endblocktrans)\s*%\}", re.S)


def _template_msgids(path: Path):
    text = path.read_text(encoding="utf-8")
    for literal, context in TRANSLATE_TAG.findall(text):
        # As Django's makemessages does, a % in a translate tag's string is doubled.
        yield (context[1:-1] if context else None), literal[1:-1].replace("%", "%%")
    for literal in TEMPLATE_UNDERSCORE.findall(text):
        yield None, literal[1:-1]
    for options, body in BLOCK_TAG.findall(text):
        # As Django does: a literal % is doubled before variables become %(name)s.
        msgid = re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", body.replace("%", "%%"))
        if "trimmed" in options.split():
            msgid = " ".join(line.strip() for line in msgid.strip().splitlines() if line.strip())
        context = re.search(r"""context\s+("[^"]*"|'[^']*')""", options)
        yield (context.group(1)[1:-1] if context else None), msgid


def test_catalog_covers_every_string_in_the_code(catalog):
    """A string added to the code without refreshing the catalog shows up in Chinese to English users."""
    known = _catalog_keys(catalog)
    missing = set()
    for path in Path(settings.BASE_DIR).rglob("*"):
        if "tests" in path.parts or "locale" in path.parts or "migrations" in path.parts:
            continue
        if path.suffix == ".py":
            found = _python_msgids(path)
        elif path.suffix == ".html" and "templates" in path.parts:
            found = _template_msgids(path)
        else:
            continue
        where = str(path.relative_to(settings.BASE_DIR))
        missing |= {(where, msgid) for context, msgid in found if (context, msgid) not in known}
    assert sorted(missing) == [], "run makemessages and translate (see this module's docstring)"


def test_compiled_catalog_matches_the_po_file(catalog):
    with MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = []
    for e in catalog:
        context = e["msgctxt"]
        if e["msgid_plural"] is None:
            got = [compiled.pgettext(context, e["msgid"]) if context else compiled.gettext(e["msgid"])]
        else:
            got = [compiled.npgettext(context, e["msgid"], e["msgid_plural"], n) if context
                   else compiled.ngettext(e["msgid"], e["msgid_plural"], n) for n in (1, 2)]
        if got != e["msgstr"]:
            stale.append((e["msgid"], got, e["msgstr"]))
    assert stale == [], "django.mo is older than django.po: run compilemessages"


def choose_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_console_is_in_chinese_by_default_and_english_after_choosing_it(world):
    client = world.client("dispatcher_a")
    page = client.get("/console/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "作战图" in page

    choose_english(client)
    page = client.get("/console/").content.decode()
    assert '<html lang="en">' in page
    for english in ("Overview", "Situation map", "Grid staff", "My jurisdiction", "Basic grid",
                    "Dedicated grid", "Sign out", "Grid governance console"):
        assert english in page, english
    for chinese in ("概览", "作战图", "网格员公示", "我的管辖范围", "基础网格", "退出登录",
                    "网格化治理工作台"):
        assert chinese not in page, chinese
    # Data stays as entered: the subdistrict is still called by its name.
    assert "北辛街道" in page


def test_situation_map_and_region_pages_in_english(world):
    client = world.client("chief_a1")
    choose_english(client)
    page = client.get("/console/map/").content.decode()
    assert "Situation map" in page and "Legend" in page
    assert "图例" not in page
    page = client.get(f"/console/regions/{world.grid_a1.code}/").content.decode()
    assert "Grid code" in page and "Coverage" in page and "Full-time grid worker" in page
    assert "网格编码" not in page and "基本信息" not in page and "覆盖范围" not in page


def test_public_lookup_page_in_english_for_an_anonymous_visitor(world):
    client = world.client(None)
    choose_english(client)
    page = client.get("/").content.decode()
    for english in ("My grid staff", "Search by address", "Use my location", "Staff sign-in",
                    "Estate, street or house number"):
        assert english in page, english
    for chinese in ("我的网格员", "按地址查找", "使用我的位置", "工作人员登录"):
        assert chinese not in page, chinese

    page = client.get("/", {"q": "善国盛景"}).content.decode()
    assert "1 grid matches “善国盛景”:" in page
    assert "Call 樊荣 on 0632-5512345" in page


def test_login_page_in_english(world):
    client = world.client(None)
    choose_english(client)
    page = client.get("/accounts/login/").content.decode()
    assert "Staff sign-in" in page and "Password" in page
    page = client.post("/accounts/login/", {"username": "worker_a1", "password": "wrong"})
    assert "Incorrect username or password." in page.content.decode()
    response = client.post("/accounts/login/", {"username": "worker_a1", "password": PASSWORD})
    assert response.status_code == 302


def test_api_errors_follow_accept_language(world):
    client = world.api("worker_a1")
    response = client.get("/api/v1/regions/999", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json()["message"] == "Not found, or outside your jurisdiction."
    assert response.headers["Content-Language"] == "en"

    # A region outside the worker's scope reads exactly the same, in English too.
    outside = client.get(f"/api/v1/regions/{world.grid_b1.code}", HTTP_ACCEPT_LANGUAGE="en")
    assert outside.status_code == 404
    assert outside.json() == response.json()

    # Without a preference the API answers in Chinese, the default.
    assert client.get("/api/v1/regions/999").json()["message"] == "找不到该对象,或不在您的管辖范围内。"


def test_api_token_errors_in_english(world):
    client = world.api(None)
    response = client.post("/api/v1/auth/token", {"username": "worker_a1", "password": "wrong"},
                           content_type="application/json", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert response.status_code == 401
    assert response.json()["message"] == "Incorrect username or password."

    response = client.get("/api/v1/auth/me", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401
    assert response.json()["message"] == "Please sign in or provide a valid access token."

    response = client.get("/api/v1/regions", HTTP_ACCEPT_LANGUAGE="en",
                          HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    assert response.json()["message"] == "The access token is invalid or has been revoked."


def test_public_api_messages_in_english_and_the_chosen_language_wins(world):
    client = world.api(None)
    response = client.get("/api/v1/public/grids/lookup", {"lat": "95", "lon": "117.11"},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert response.json()["message"] == ("Coordinates out of range: latitude must be between -90 "
                                          "and 90, and longitude between -180 and 180.")
    response = client.get("/api/v1/public/grids/lookup", {"lat": "1", "lon": "1"},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json()["message"].startswith("This location is not in any grid.")

    # The chosen language (cookie) wins over the browser's Accept-Language, as on pages.
    choose_english(client)
    response = client.get("/api/v1/regions/999", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.json()["message"] == "Please sign in or provide a valid access token."

