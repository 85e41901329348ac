"""HTTP fetching with limits: timeout, redirect cap, body-size cap, http(s) only.

Every failure is a :class:`~eventwire.errors.FetchError` with a one-line reason; nothing
else escapes :meth:`Fetcher.get`. The transport is injectable so tests can fake the network
(``httpx.MockTransport``) where a real local server cannot produce the case.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import httpx

from .config import Options
from .errors import FetchError

__all__ = ["FetchResult", "Fetcher"]

_SCHEMES = ("http", "https")
_CONDITIONAL = frozenset({"if-none-match", "if-modified-since"})


@dataclass(slots=True)
class FetchResult:
    """A successful response, body read in full.

    Attributes:
        url: The URL asked for.
        final_url: The URL after redirects.
        status: HTTP status code (2xx, or 304 for a conditional request).
        content_type: Media type without parameters, lower case (``text/html``), or ``""``.
        content: The body (decompressed if the server used Content-Encoding).
        headers: Response headers, names in lower case.
    """

    url: str
    final_url: str
    status: int
    content_type: str
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def charset(self) -> str | None:
        """The charset parameter of the Content-Type header, if any."""
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


class Fetcher:
    """Fetches URLs within the limits of ``options``.

    Args:
        options: Uses ``fetch_timeout``, ``fetch_max_redirects``, ``fetch_max_bytes`` and
            ``user_agent``.
        transport: httpx transport to send requests through (tests pass a MockTransport);
            None uses the real network.

    Use as a context manager, or call :meth:`close` when done.
    """

    def __init__(self, options: Options, transport: httpx.BaseTransport | None = None) -> None:
        self.options = options
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(options.fetch_timeout),
            follow_redirects=True,
            max_redirects=options.fetch_max_redirects,
            headers={"User-Agent": options.user_agent},
        )

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> FetchResult:
        """GET ``url`` and read its body.

        Args:
            url: An absolute http or https URL.
            headers: Extra request headers. With ``If-None-Match`` or ``If-Modified-Since``
                (a feed watcher's conditional GET), a 304 answer is returned as a result with
                ``status`` 304 and an empty body instead of raising.

        Returns:
            The response.

        Raises:
            FetchError: Invalid URL or scheme, connection or DNS failure, timeout, status
                outside 2xx, too many redirects, or a body larger than ``fetch_max_bytes``.
        """
        target = self._check_url(url)
        try:
            return self._get(url, target, dict(headers or {}))
        except FetchError:
            raise
        except httpx.TooManyRedirects:
            raise FetchError(
                url,
                f"more than {self.options.fetch_max_redirects} redirects (a redirect loop?); "
                "raise fetch_max_redirects if the chain is legitimate",
            ) from None
        except httpx.TimeoutException:
            raise FetchError(url, self._timeout_reason()) from None
        except httpx.ConnectError as exc:
            raise FetchError(url, f"cannot connect: {_first_line(exc)}") from None
        except Exception as exc:  # the contract: a fetch fails with FetchError, nothing else
            reason = f"request failed: {type(exc).__name__}: {_first_line(exc)}"
            raise FetchError(url, reason) from None

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_url(self, url: str) -> httpx.URL:
        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise FetchError(str(url), f"invalid URL: {_first_line(exc)}") from None
        if target.scheme not in _SCHEMES:
            scheme = target.scheme or "(none)"
            raise FetchError(
                url, f"unsupported URL scheme {scheme!r}: only http and https URLs can be fetched"
            )
        if not target.host:
            raise FetchError(url, "invalid URL: no host name; write it as https://host/path")
        # httpx percent-encodes a space in the host instead of refusing it.
        if "%" in target.host or any(c.isspace() for c in target.host):
            raise FetchError(url, "invalid URL: the host name contains spaces or % escapes")
        return target

    def _get(self, url: str, target: httpx.URL, headers: dict[str, str]) -> FetchResult:
        cap = self.options.fetch_max_bytes
        conditional = any(k.lower() in _CONDITIONAL for k in headers)
        # httpx timeouts apply per operation; a server dripping bytes must not hold us forever.
        deadline = time.monotonic() + self.options.fetch_timeout
        with self._client.stream("GET", target, headers=headers) as response:
            ok = 200 <= response.status_code < 300 or (conditional and response.status_code == 304)
            if not ok:
                phrase = response.reason_phrase or ""
                raise FetchError(url, f"HTTP {response.status_code} {phrase}".rstrip())
            declared = response.headers.get("content-length")
            if declared and declared.strip().isdigit() and int(declared) > cap:
                raise FetchError(url, self._too_large(f"Content-Length is {int(declared):,}"))
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > cap:
                    raise FetchError(url, self._too_large(f"more than {cap:,} bytes received"))
                if time.monotonic() > deadline:
                    raise FetchError(url, self._timeout_reason())
                chunks.append(chunk)
            headers = {k.lower(): v for k, v in response.headers.items()}
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            return FetchResult(
                url=url,
                final_url=str(response.url),
                status=response.status_code,
                content_type=media,
                content=b"".join(chunks),
                headers=headers,
            )

    def _too_large(self, what: str) -> str:
        return (
            f"response body too large ({what}; fetch_max_bytes={self.options.fetch_max_bytes:,}); "
            "raise fetch_max_bytes to accept it"
        )

    def _timeout_reason(self) -> str:
        return (
            f"timed out after {self.options.fetch_timeout:g} s; "
            "raise fetch_timeout if the server is just slow"
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
