"""confab web: a site served from a directory (Markdown rendered into the site's
template, HTML as it is) with its security headers and caching; hostile requests
(traversal in its encodings, symlinks out of the site, oversized requests, other
methods) refused while the server keeps serving; the page -> conference mapping
(GET /_confab/page); and the roster WebSocket: a viewer of /films/dune sees two
`confab phone`s that dial the page's conference, sees one leave, and the site
unsubscribes once the last viewer has gone (the conference server's admin API
counts its subscribers)."""
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from confab_testlib import CONFAB, Conference, Mixer, Phone, Web, poll, start, stop_all, wait_for

SITE = Path(__file__).resolve().parent.parent.parent / "packaging" / "site"
CONF = "127.0.0.1:5080"
CSP = ("default-src 'self'; script-src 'self'; connect-src 'self' ws://127.0.0.1:5066 http://127.0.0.1:5066 "
       "ws://localhost:5066; img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'")
SECRET = b"TOP-SECRET-OUTSIDE-THE-SITE"


def make_site(tmp_path):
    """The example site, plus an HTML page with its own conference, one without, assets, a secret next door."""
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    (site / "club.html").write_text('<!doctype html><html><head><META name="confab-conference" '
                                    'content="sip:film-club@conf.example.com"><title>Club</title></head>'
                                    '<body><h1>Club</h1></body></html>')
    (site / "plain.html").write_text("<!doctype html><title>Plain</title><p>No meta here.</p>")
    (site / "app.mjs").write_text("export const x = 1;\n")
    (site / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (site / "films" / "dir-without-index").mkdir()
    (site / "films" / "dir-without-index" / "note.txt").write_text("hi")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    (outside / "page.md").write_bytes(SECRET)
    (site / "escape").symlink_to(outside)
    (site / "secret.txt").symlink_to(outside / "secret.txt")
    (site / "leak.md").symlink_to(outside / "page.md")
    return site


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path)


@pytest.fixture
def web(tmp_path, site):
    w = Web(tmp_path, site)
    yield w
    assert w.stop() == 0, w.output()


def raw(port, data, read_timeout=5.0):
    """The status line the server answers `data` (bytes sent as they are) with ("" if it only closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass
        out = b""
        try:
            while b"\r\n" not in out:
                chunk = s.recv(4096)
                if not chunk:
                    break
                out += chunk
        except OSError:
            pass
    return out.split(b"\r\n", 1)[0].decode(errors="replace")


def test_markdown_and_html_pages_with_their_headers_and_etags(web, site):
    status, h, body = web.request("/films/dune")
    assert status == 200 and h["content-type"] == "text/html; charset=utf-8", (status, h)
    assert h["content-security-policy"] == CSP and h["x-content-type-options"] == "nosniff"
    assert h["cache-control"] == "no-cache" and h["etag"].startswith('"'), h
    html = body.decode()
    assert "<h1>Dune (2021)</h1>" in html and "<title>Dune (2021) · Reel Talk</title>" in html, html
    assert '<meta name="confab-conference" content="sip:web-films-dune@127.0.0.1:5080">' in html, html
    assert '<script type="module" src="/confab.js" data-confab="auto"></script>' in html
    # Unchanged: 304 without a body; changed: a new ETag.
    status, h304, body = web.request("/films/dune", headers={"If-None-Match": h["etag"]})
    assert status == 304 and body == b"" and h304["etag"] == h["etag"], (status, h304)
    with open(site / "films" / "dune.md", "a") as f:
        f.write("\nOne more line.\n")
    status, h2, body = web.request("/films/dune", headers={"If-None-Match": h["etag"]})
    assert status == 200 and h2["etag"] != h["etag"] and b"One more line." in body
    # The same page by its other names; front matter is read, not shown.
    for path in ("/films/dune.md", "/films/dune?x=1"):
        assert web.request(path)[2] == web.request("/films/dune")[2], path
    status, _, body = web.request("/")
    assert status == 200 and b"<title>Welcome" in body and b"title: Welcome" not in body, body
    status, _, body = web.request("/films/")
    assert status == 200 and b"<h1>Films</h1>" in body and b'<li><a href="/films/dune">Dune</a>' in body, body
    # HTML pages as they are, nothing injected.
    status, h, body = web.request("/club")
    assert status == 200 and body == (site / "club.html").read_bytes() and h["content-security-policy"] == CSP
    assert web.request("/plain.html")[2] == (site / "plain.html").read_bytes()
    # Assets with their types; HEAD has the GET's length and no body.
    for path, kind in (("/style.css", "text/css; charset=utf-8"), ("/app.mjs", "text/javascript; charset=utf-8"),
                       ("/logo.svg", "image/svg+xml"), ("/films/dir-without-index/note.txt", "text/plain; charset=utf-8")):
        status, h, body = web.request(path)
        assert status == 200 and h["content-type"] == kind and h["x-content-type-options"] == "nosniff", (path, h)
    status, h, body = web.request("/style.css", method="HEAD")
    assert status == 200 and body == b"" and int(h["content-length"]) == (site / "style.css").stat().st_size, h
    status, h, body = web.request("/confab.js")
    assert status == 200 and h["content-type"] == "text/javascript; charset=utf-8" and body, h
    assert h["access-control-allow-origin"] == "*" and h["content-security-policy"] == CSP
    assert web.request("/confab.js", headers={"If-None-Match": h["etag"]})[0] == 304


def test_a_site_without_template_gets_the_default_one(tmp_path):
    site = tmp_path / "bare"
    site.mkdir()
    (site / "index.md").write_text("conference: sip:lobby@conf.example.com\n\n# Hello <there>\n")
    w = Web(tmp_path, site, "--service-api", "127.0.0.1:6000")
    try:
        status, h, body = w.request("/")
        html = body.decode()
        assert status == 200 and "<title>Hello &lt;there&gt;</title>" in html, html
        assert '<meta name="confab-conference" content="sip:lobby@conf.example.com">' in html, html
        assert '<script type="module" src="/confab.js" data-confab="auto"></script>' in html, html
        assert "connect-src 'self' ws://127.0.0.1:6000 http://127.0.0.1:6000 ws://localhost:6000;" in \
            h["content-security-policy"], h
    finally:
        assert w.stop() == 0, w.output()


def test_page_to_conference_mapping(web):
    def page(path):
        import json
        import urllib.parse
        status, h, body = web.request("/_confab/page?path=" + urllib.parse.quote(path, safe=""))
        assert h["content-type"] == "application/json", h
        return status, json.loads(body)
    assert page("/films/dune") == (200, {"path": "/films/dune", "conference": f"sip:web-films-dune@{CONF}"})
    assert page("/films/dune/") == (404, {"error": "no such page"})
    assert page("/") == (200, {"path": "/", "conference": f"sip:web-home@{CONF}"})
    assert page("/films/") == (200, {"path": "/films", "conference": f"sip:web-films@{CONF}"})
    assert page("/films/index.md") == (200, {"path": "/films", "conference": f"sip:web-films@{CONF}"})
    # Overrides: front matter in Markdown, a meta tag in HTML.
    assert page("/films/arrival")[1]["conference"] == f"sip:web-heptapods@{CONF}"
    assert page("/club.html") == (200, {"path": "/club", "conference": "sip:film-club@conf.example.com"})
    assert page("/plain") == (200, {"path": "/plain", "conference": f"sip:web-plain@{CONF}"})
    # Not pages: missing, an asset, hostile, hidden, out of the site.
    for path in ("/films/nope", "/style.css", "/_template.html", "/leak", "/escape/page"):
        assert page(path)[0] == 404, path
    assert page("/../films/dune")[0] == 400
    assert web.request("/_confab/page")[0] == 400
    assert web.request("/_confab/other")[0] == 404
    assert web.request("/_confab/page?path=/films/dune", method="POST", body=b"{}")[0] == 405


HOSTILE = [
    "/../outside/secret.txt", "/films/../../outside/secret.txt", "/%2e%2e/outside/secret.txt",
    "/%2E%2E/outside/secret.txt", "/films/%2e%2e/%2e%2e/outside/secret.txt", "/%2e%2e%2foutside%2fsecret.txt",
    "/..%2f..%2foutside/secret.txt", "/..%5coutside%5csecret.txt", "/%252e%252e/outside/secret.txt",
    "/.%2e/outside/secret.txt", "/films/..", "/%c0%ae%c0%ae/outside/secret.txt", "/escape/secret.txt",
    "/secret.txt", "/leak", "/leak.md", "/_template.html", "/films/dir-without-index", "/films/dir-without-index/",
    "/%00", "/index.md%00.css", "/%", "/%zz", "//etc/passwd", "/etc/passwd", "/.", "/films/./dune",
]


def test_hostile_requests_get_4xx_and_the_server_keeps_serving(web, site):
    for target in HOSTILE:
        status, _, body = web.request(target)
        assert 400 <= status < 500 and SECRET not in body, (target, status, body[:200])
    # What http.client will not send: raw bytes on the wire.
    for line in (b"GET /..\\outside\\secret.txt HTTP/1.1", b"GET /a\x00b HTTP/1.1", b"GET ../outside/secret.txt HTTP/1.1",
                 b"GET http://127.0.0.1:8080/../outside/secret.txt HTTP/1.1"):
        status = raw(web.port, line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert status.startswith("HTTP/1.1 4"), (line, status)
    # Oversized requests.
    assert raw(web.port, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n") == "HTTP/1.1 431 Request Header Fields Too Large"
    assert raw(web.port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n").startswith("HTTP/1.1 431")
    assert raw(web.port, b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-H: v\r\n" * 3000 + b"\r\n").startswith("HTTP/1.1 431")
    assert raw(web.port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n" + b"x" * 65536) \
        .startswith("HTTP/1.1 413")
    # Only GET and HEAD.
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        status, h, _ = web.request("/films/dune", method=method, body=b"x")
        assert status == 405 and h["allow"] == "GET, HEAD" and h["content-security-policy"] == CSP, (method, status)
    # A file over the size cap (sparse: no disk used) is refused, with a log line that says why.
    with open(site / "huge.txt", "wb") as f:
        f.truncate(9 * 1024 * 1024)
    assert web.request("/huge.txt")[0] == 403
    wait_for(lambda: "huge.txt is 9437184 bytes, over the 8388608 bytes a file may have" in web.output(),
             what="the log line about the huge file")
    assert web.alive() and web.request("/films/dune")[0] == 200
    assert "leads out of the site" in web.output()


def test_bad_settings_are_clear_errors_at_start(tmp_path):
    (tmp_path / "file").write_text("x")
    cases = [
        (["--site", str(tmp_path / "missing"), "--conference-host", CONF], f"--site {tmp_path / 'missing'}: no such directory"),
        (["--site", str(tmp_path / "file"), "--conference-host", CONF], f"--site {tmp_path / 'file'}: not a directory"),
        (["--site", str(SITE), "--conference-host", "conf:x"], "--conference-host must be HOST or HOST:PORT"),
        (["--site", str(SITE), "--conference-host", CONF, "--service-api", "5066"], "--service-api must be HOST:PORT"),
        (["--site", str(SITE), "--conference-host", CONF, "--listen", "x"], "--listen must be HOST:PORT"),
    ]
    for args, error in cases:
        r = subprocess.run([CONFAB, "web", *args], capture_output=True, text=True, timeout=10)
        assert r.returncode == 1 and error in r.stderr, (args, r.returncode, r.stderr)
    r = subprocess.run([CONFAB, "web", "--conference-host", CONF], capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "--site is required" in r.stderr, r.stderr


def test_viewer_limits_and_unknown_pages(tmp_path, site):
    w = Web(tmp_path, site, "--max-viewers-per-page", "2", "--max-viewers", "3")
    try:
        assert "404" in w.viewer("/films/nope").status
        assert "404" in w.viewer("/style.css").status
        assert "400" in w.viewer("/../outside/secret").status or "404" in w.viewer("/../outside/secret").status
        a, b = w.viewer("/films/dune"), w.viewer("/films/dune")
        assert a.next("roster")["members"] == [] and b.next("roster")["path"] == "/films/dune"
        third = w.viewer("/films/dune")
        assert "503" in third.status, third.status
        c = w.viewer("/films/alien")
        assert c.next("roster")["conference"] == f"sip:web-films-alien@{CONF}"
        assert "503" in w.viewer("/").status  # three open in all
        a.close()
        d = wait_for(lambda: (lambda v: v if v.closed is None else None)(w.viewer("/films/dune")),
                     what="a place for a viewer once one left")
        assert d.next("roster")["path"] == "/films/dune"
    finally:
        assert w.stop() == 0, w.output()


def subscribers(conf, conference_id):
    c = conf.conferences().get(conference_id)
    return c["subscribers"] if c else 0


def test_a_viewer_sees_who_dials_the_pages_conference_and_the_site_unsubscribes_after(tmp_path, site):
    procs = []
    try:
        start(procs, Mixer(tmp_path))
        conf = start(procs, Conference(tmp_path))
        web = start(procs, Web(tmp_path, site, "--linger", "1"))
        viewer, other, noisy = web.viewer("/films/dune"), web.viewer("/films/alien"), web.viewer("/films/dune")
        first = viewer.next("roster")
        assert first == {"type": "roster", "path": "/films/dune", "conference": f"sip:web-films-dune@{CONF}",
                         "members": []}, first
        assert other.next("roster")["members"] == []
        # 300 messages a viewer has no reason to send do no harm.
        for i in range(300):
            noisy.send_text(["junk", '{"type":"roster"}', "\x00\xff", "{" * 1000][i % 4])
        phones = {name: start(procs, Phone(tmp_path, name, port, "--from", f"sip:{name}@127.0.0.1:{port}",
                                           "--tone", str(tone), "--dial", f"sip:web-films-dune@{CONF}"))
                  for name, port, tone in (("ann", 5170, 500), ("bob", 5172, 700))}
        both = {"sip:ann@127.0.0.1:5170", "sip:bob@127.0.0.1:5172"}
        uris = lambda m: {x["uri"] for x in m["members"]}
        m = viewer.next("roster", timeout=20, until=lambda m: uris(m) == both)
        assert {x["name"] for x in m["members"]} == {"ann", "bob"}, m
        assert all(x["status"] == "connected" for x in m["members"]), m
        assert uris(noisy.next("roster", timeout=10, until=lambda m: uris(m) == both)) == both
        assert noisy.closed is None
        assert subscribers(conf, "web-films-dune") == 1  # one subscription for all the page's viewers
        # The viewer of another page is told nothing of it.
        assert other.recv(timeout=0.2) is None and other.closed is None
        phones["bob"].send("hangup")
        m = viewer.next("roster", timeout=10, until=lambda m: uris(m) == {"sip:ann@127.0.0.1:5170"})
        # A message over the limit closes only the viewer that sent it.
        noisy.send_text("x" * 10000)
        noisy.wait_closed()
        assert noisy.closed[0] == 1009, noisy.closed
        # The last viewer of the page goes: the site unsubscribes after its linger, while ann stays in.
        viewer.close()
        wait_for(lambda: subscribers(conf, "web-films-dune") == 0, timeout=10, what="the site to unsubscribe",
                 state=lambda: conf.conferences())
        assert [p["uri"] for p in conf.conferences()["web-films-dune"]["participants"]] == ["sip:ann@127.0.0.1:5170"]
        wait_for(lambda: "unsubscribing from sip:web-films-dune@127.0.0.1:5080" in web.output(), what="the log line")
        # A new viewer subscribes again and sees ann.
        again = web.viewer("/films/dune")
        assert uris(again.next("roster", timeout=10, until=lambda m: m["members"])) == {"sip:ann@127.0.0.1:5170"}
        assert web.alive()
    finally:
        stop_all(*reversed(procs))
