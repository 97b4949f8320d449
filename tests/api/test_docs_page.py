"""The OpenAPI page works offline: everything it loads comes from the server itself,
and the server's CSP lets exactly that run."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient


class _Links(HTMLParser):
    """Every ``src`` and ``href`` of a page, and the bodies of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_inline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value for name, value in attrs if value is not None}
        self.urls += [found[name] for name in ("src", "href") if name in found]
        self._in_inline = tag == "script" and "src" not in found

    def handle_endtag(self, tag: str) -> None:
        self._in_inline = False

    def handle_data(self, data: str) -> None:
        if self._in_inline:
            self.inline.append(data)


def test_the_docs_page_loads_only_local_files(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    links = _Links()
    links.feed(page.text)
    spec_urls = re.findall(r"url:\s*'([^']+)'", "".join(links.inline))
    urls = links.urls + spec_urls
    assert len(links.urls) >= 3 and spec_urls == ["/api/openapi.json"]
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        answer = client.get(url)
        assert answer.status_code == 200, url
    kinds = " ".join(client.get(url).headers["content-type"] for url in links.urls)
    assert "css" in kinds and "javascript" in kinds  # Swagger UI's own files, not stubs


def test_the_docs_page_has_a_csp_that_lets_it_run_and_nothing_else(client: TestClient) -> None:
    page = client.get("/api/docs")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp and "'unsafe-eval'" not in csp
    script_src = next(part for part in csp.split("; ") if part.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'sha256-" in script_src
    # The API's own answers keep the CSP that allows nothing.
    spec = client.get("/api/openapi.json")
    assert spec.headers["content-security-policy"].startswith("default-src 'none'")
