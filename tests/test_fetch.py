"""Fetcher against a real local HTTP server (MockTransport only where a server cannot help)."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from eventwire.config import Options
from eventwire.errors import FetchError, InputError
from eventwire.fetch import Fetcher

from .http_server import LocalServer, Request, Response, wait_for


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def fast(options: Options) -> Options:
    """Options with limits small enough for tests to hit quickly."""
    return replace(
        options, fetch_timeout=0.5, fetch_max_bytes=100_000, fetch_max_redirects=3,
        user_agent="eventwire-test/1.0 (+tests)",
    )  # fmt: skip


def fetch_error(fetcher: Fetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetcher.get(url)
    assert info.value.source == url
    assert "\n" not in info.value.reason
    return info.value


def test_get_returns_body_status_type_and_sends_user_agent(
    server: LocalServer, fast: Options
) -> None:
    server.route(
        "/page",
        Response(body="<p>Ünïcode</p>".encode(), content_type="text/html; charset=UTF-8"),
    )
    with Fetcher(fast) as fetcher:
        result = fetcher.get(server.url("/page?x=1"))
    assert result.status == 200
    assert result.content == "<p>Ünïcode</p>".encode()
    assert result.content_type == "text/html"
    assert result.charset == "UTF-8"
    assert result.url == result.final_url == server.url("/page?x=1")
    assert result.headers["content-type"] == "text/html; charset=UTF-8"
    (request,) = server.requests_to("/page")
    assert request.headers["User-Agent"] == "eventwire-test/1.0 (+tests)"
    assert request.query == "x=1"


def test_redirects_are_followed_up_to_the_limit(server: LocalServer, fast: Options) -> None:
    server.route("/final", Response(body=b"<p>here</p>"))
    server.redirect("/r1", "/r2")
    server.redirect("/r2", "/r3", status=301)
    server.redirect("/r3", "/final")
    with Fetcher(fast) as fetcher:
        result = fetcher.get(server.url("/r1"))
        assert result.final_url == server.url("/final")
        assert result.url == server.url("/r1")
        server.redirect("/r0", "/r1")  # four hops: one more than fetch_max_redirects=3
        error = fetch_error(fetcher, server.url("/r0"))
    assert "more than 3 redirects" in error.reason


def test_redirect_loop_is_a_fetch_error(server: LocalServer, fast: Options) -> None:
    server.redirect("/a", "/b")
    server.redirect("/b", "/a")
    with Fetcher(fast) as fetcher:
        error = fetch_error(fetcher, server.url("/a"))
    assert "redirect" in error.reason
    assert "fetch_max_redirects" in error.reason
    assert len(server.requests) <= fast.fetch_max_redirects + 1


@pytest.mark.parametrize(
    ("status", "expected"),
    [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error"), (403, "HTTP 403")],
)
def test_error_status_is_a_fetch_error(
    server: LocalServer, fast: Options, status: int, expected: str
) -> None:
    server.route("/x", Response(body=b"oops", status=status))
    with Fetcher(fast) as fetcher:
        error = fetch_error(fetcher, server.url("/x"))
    assert error.reason.startswith(expected)


def test_unknown_path_on_the_server_is_404(server: LocalServer, fast: Options) -> None:
    with Fetcher(fast) as fetcher:
        assert "404" in fetch_error(fetcher, server.url("/nothing-here")).reason


def test_slow_server_times_out(server: LocalServer, fast: Options) -> None:
    server.route("/slow", Response(body=b"late", delay=3.0))
    started = time.monotonic()
    with Fetcher(fast) as fetcher:
        error = fetch_error(fetcher, server.url("/slow"))
    assert "timed out after 0.5 s" in error.reason
    assert time.monotonic() - started < 2.5


def test_dripping_body_hits_the_overall_deadline(server: LocalServer, fast: Options) -> None:
    # Each chunk arrives within the read timeout, but the whole body takes far longer.
    server.route("/drip", Response(body=[b"x" * 10] * 40, chunk_delay=0.1, content_length=False))
    started = time.monotonic()
    with Fetcher(fast) as fetcher:
        error = fetch_error(fetcher, server.url("/drip"))
    assert "timed out" in error.reason
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("content_length", [True, False], ids=["declared", "undeclared"])
def test_body_over_the_cap_is_refused_early(
    server: LocalServer, fast: Options, content_length: bool
) -> None:
    server.route("/huge", Response.huge(200_000_000, content_length=content_length))
    started = time.monotonic()
    with Fetcher(fast) as fetcher:
        error = fetch_error(fetcher, server.url("/huge"))
    assert "too large" in error.reason
    assert "fetch_max_bytes=100,000" in error.reason
    if content_length:
        assert "Content-Length is 200,000,000" in error.reason
    # 200 MB would take far longer than this to transfer: the fetch stopped at the cap.
    assert time.monotonic() - started < 2.0


def test_body_at_the_cap_is_accepted(server: LocalServer, fast: Options) -> None:
    server.route("/exact", Response.huge(100_000, content_length=False))
    with Fetcher(fast) as fetcher:
        assert len(fetcher.get(server.url("/exact")).content) == 100_000


def test_content_that_changes_between_requests(server: LocalServer, fast: Options) -> None:
    server.sequence("/feed", [Response(body=b"v1"), Response(body=b"v2")])
    with Fetcher(fast) as fetcher:
        bodies = [fetcher.get(server.url("/feed")).content for _ in range(3)]
    assert bodies == [b"v1", b"v2", b"v2"]


def test_connection_refused_is_a_fetch_error(fast: Options) -> None:
    with LocalServer() as gone:
        url = gone.url("/page")
    with Fetcher(fast) as fetcher:
        assert fetch_error(fetcher, url).reason.startswith("cannot connect")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://example.org/file.txt", "unsupported URL scheme 'ftp'"),
        ("file:///etc/passwd", "unsupported URL scheme 'file'"),
        ("example.org/no-scheme", "unsupported URL scheme '(none)'"),
        ("http://", "no host name"),
        ("http://exa mple.org/", "host name contains spaces"),
        ("http://[::1/", "invalid URL"),
    ],
)
def test_bad_urls_are_fetch_errors(fast: Options, url: str, expected: str) -> None:
    with Fetcher(fast) as fetcher:
        error = fetch_error(fetcher, url)
    assert expected in error.reason
    assert isinstance(error, InputError)


# -- cases a local server cannot produce: MockTransport -------------------------------------


def test_dns_failure_is_a_fetch_error(fast: Options) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    with Fetcher(fast, transport=httpx.MockTransport(handler)) as fetcher:
        error = fetch_error(fetcher, "https://no-such-host.invalid/")
    assert error.reason == "cannot connect: [Errno -2] Name or service not known"


def test_any_transport_failure_is_a_fetch_error(fast: Options) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("transport exploded")

    with Fetcher(fast, transport=httpx.MockTransport(handler)) as fetcher:
        error = fetch_error(fetcher, "https://example.org/")
    assert "RuntimeError: transport exploded" in error.reason


def test_gzip_encoded_body_is_decompressed_and_capped(fast: Options) -> None:
    text = b"<p>" + b"compressible " * 20_000 + b"</p>"  # 260 kB, over the 100 kB cap

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=gzip.compress(text),
            headers={"Content-Encoding": "gzip", "Content-Type": "text/html"},
        )

    with Fetcher(fast, transport=httpx.MockTransport(handler)) as fetcher:
        error = fetch_error(fetcher, "https://example.org/bomb")
    assert "too large" in error.reason
    roomy = replace(fast, fetch_max_bytes=1_000_000)
    with Fetcher(roomy, transport=httpx.MockTransport(handler)) as fetcher:
        assert fetcher.get("https://example.org/bomb").content == text


def test_server_helper_records_and_routes_handlers(server: LocalServer, fast: Options) -> None:
    def echo(request: Request) -> Response:
        return Response(body=request.path.encode(), content_type="text/plain")

    server.route("/echo", echo)
    with Fetcher(fast) as fetcher:
        assert fetcher.get(server.url("echo")).content == b"/echo"
    assert wait_for(lambda: len(server.requests_to("/echo")) == 1)
    assert server.requests[0].method == "GET"


def test_conditional_get_returns_not_modified(server: LocalServer, fast: Options) -> None:
    def feed(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, content_type=None)
        return Response(body=b"<rss/>", headers={"ETag": '"v1"'}, content_type="text/xml")

    server.route("/feed", feed)
    with Fetcher(fast) as fetcher:
        first = fetcher.get(server.url("/feed"))
        assert first.status == 200 and first.headers["etag"] == '"v1"'
        again = fetcher.get(server.url("/feed"), headers={"If-None-Match": first.headers["etag"]})
        assert again.status == 304 and again.content == b""
        server.route("/gone", Response(status=304, content_type=None))
        # Without a conditional header a 304 is as wrong as any other non-2xx answer.
        assert "HTTP 304" in fetch_error(fetcher, server.url("/gone")).reason
    assert server.requests_to("/feed")[1].headers["If-None-Match"] == '"v1"'
