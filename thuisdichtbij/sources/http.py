"""Downloads from the official sources: cached, retried, resumable, checked.

Built on requests with requests-cache for API answers (an on-disk cache keyed by request)
and urllib3's Retry for backoff on 429/5xx. Large files (OSM extracts, national layers) are
streamed to a ``.part`` file, resumed with HTTP Range requests when a connection breaks,
checked against the announced size, and only then moved into the file store; a failed
download leaves nothing behind. ``offline`` uses only what is cached and says what is
missing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import ThuisdichtbijError

log = logging.getLogger(__name__)

__all__ = ["Downloader", "DownloadError", "MissingOffline", "failure"]

_RETRY_STATUS = (429, 500, 502, 503, 504)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, its causes and the errors urllib3 wrapped inside it."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        e = todo.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [e.__cause__, e.__context__, getattr(e, "reason", None)]
        todo += [a for a in e.args if isinstance(a, BaseException)]
    return seen


def _kind(exc: BaseException) -> str:
    """``dns``, ``refused``, ``timeout``, ``broken`` or ``other``.

    urllib3 files a failed name lookup and a refused connection under ``ConnectTimeoutError``
    too, so the specific causes are looked for before the timeout.
    """
    import socket

    from urllib3.exceptions import NameResolutionError, ProtocolError

    chain = _chain(exc)
    kinds = tuple(type(e) for e in chain)
    if any(issubclass(k, (NameResolutionError, socket.gaierror)) for k in kinds):
        return "dns"
    if any(issubclass(k, ConnectionRefusedError) for k in kinds):
        return "refused"
    if any(issubclass(k, TimeoutError) for k in kinds) or any(
        "timed out" in str(e).lower() for e in chain
    ):
        return "timeout"
    if any(issubclass(k, (ProtocolError, ConnectionError)) for k in kinds):
        return "broken"
    return "other"


def failure(exc: BaseException, target: str, *, elapsed_s: float, timeout_s: float) -> str:
    """One line naming why ``target`` could not be reached: DNS, refused, timeout or other."""
    host = urlsplit(target).hostname or target
    kind = _kind(exc)
    last = _chain(exc)[-1]
    if kind == "dns":
        return (
            f"could not look up the host {host} (DNS failed after {elapsed_s:.1f} s): no network "
            "connection, or a wrong address; try again online, or use --offline with a filled cache"
        )
    if kind == "refused":
        return f"{host} refused the connection to {target}; is the address (or --mirror) right?"
    if kind == "timeout":
        return (
            f"no answer from {target} within the {timeout_s:g} s timeout (gave up after "
            f"{elapsed_s:.1f} s); try again later or raise --timeout"
        )
    if kind == "broken":
        return f"the connection to {target} broke off ({last})"
    return f"could not reach {target} ({type(last).__name__}: {last})"


class DownloadError(ThuisdichtbijError, OSError):
    """A source could not be downloaded (after retries)."""


class MissingOffline(DownloadError):
    """Offline, and a needed file is not in the cache."""


class Downloader:
    """Get files and JSON from the official sources.

    Parameters
    ----------
    cache_dir
        Folder for the HTTP cache (``http.sqlite``-free: a filesystem cache) and the file store.
    offline
        Use only the cache; a missing file raises :class:`MissingOffline` and is listed in
        :attr:`missing`.
    mirror
        Base URL of a mirror that serves every source under ``/<host>/<path>`` (tests, or
        an organisation's own copy).
    timeout_s, retries
        Per-request timeout and the number of retries on 429/5xx and broken connections.
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike,
        *,
        offline: bool = False,
        mirror: str | None = None,
        timeout_s: float = 60.0,
        retries: int = 4,
        backoff_s: float = 0.5,
        progress: bool = False,
    ):
        import requests_cache
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        self.cache_dir = Path(cache_dir)
        self.files = self.cache_dir / "files"
        self.files.mkdir(parents=True, exist_ok=True)
        self.offline = offline
        self.mirror = mirror.rstrip("/") if mirror else None
        self.timeout_s = timeout_s
        self.retries = retries
        self.progress = progress
        self.missing: list[str] = []

        def key(request, **kwargs):
            # Keyed by the source's own address, so that a mirror's answers serve later
            # runs without it (and the other way round).
            if self.mirror and request.url.startswith(self.mirror + "/"):
                request = request.copy()
                request.url = "https://" + request.url[len(self.mirror) + 1 :]
            return requests_cache.create_key(request, **kwargs)

        self.session = requests_cache.CachedSession(
            str(self.cache_dir / "http"),
            backend="filesystem",
            expire_after=-1,
            allowable_codes=(200,),
            key_fn=key,
        )
        # Retries on 429/5xx only: a failed name lookup or a refused connection will not
        # succeed a second later (retrying it only multiplies the wait and makes urllib3 log
        # a warning per attempt), and a broken download is resumed by :meth:`download`.
        retry = Retry(
            total=retries,
            connect=0,
            read=0,
            other=0,
            status=retries,
            backoff_factor=backoff_s,
            status_forcelist=_RETRY_STATUS,
            allowed_methods=("GET", "HEAD"),
            raise_on_status=False,
        )
        import requests

        adapter = HTTPAdapter(max_retries=retry)
        # API answers go through the HTTP cache; large files are streamed past it into the
        # file store.
        self.plain = requests.Session()
        for s in (self.session, self.plain):
            s.mount("http://", adapter)
            s.mount("https://", adapter)
            s.headers["User-Agent"] = "thuisdichtbij"

    def url(self, url: str) -> str:
        """The address to ask: the source's own, or the mirror's copy of it."""
        if not self.mirror:
            return url
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.mirror}/{parts.netloc}{parts.path}{query}"

    def _unreachable(self, exc: Exception, target: str, what: str, start: float) -> DownloadError:
        elapsed = time.monotonic() - start
        msg = failure(exc, target, elapsed_s=elapsed, timeout_s=self.timeout_s)
        return DownloadError(f"{what}: {msg}")

    def get_json(self, url: str, *, what: str) -> dict:
        """A JSON answer, from the cache when it holds it."""
        import requests

        target = self.url(url)
        start = time.monotonic()
        try:
            r = self.session.get(target, timeout=self.timeout_s, only_if_cached=self.offline)
        except requests.RequestException as exc:
            raise self._unreachable(exc, target, what, start) from None
        if self.offline and r.status_code == 504:
            self.missing.append(f"{what}: {url}")
            raise MissingOffline(f"{what}: offline, and {url} is not in the cache")
        if r.status_code != 200:
            raise DownloadError(f"{what}: {target} answered HTTP {r.status_code}")
        try:
            return r.json()
        except ValueError as exc:
            raise DownloadError(f"{what}: {target} did not answer with JSON") from exc

    def _stored(self, url: str) -> Path:
        name = Path(urlsplit(url).path).name or "download"
        return self.files / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}-{name}"

    def download(self, url: str, *, what: str) -> Path:
        """A file from ``url``, from the file store when it holds it; checked and complete."""
        import requests

        final = self._stored(url)
        if final.is_file():
            return final
        if self.offline:
            self.missing.append(f"{what}: {url}")
            raise MissingOffline(f"{what}: offline, and {url} is not in the cache")
        target = self.url(url)
        part = final.with_name(final.name + ".part")
        part.unlink(missing_ok=True)
        try:
            for attempt in range(self.retries + 1):
                start = time.monotonic()
                try:
                    expected = self._stream(target, part, what=what)
                except requests.RequestException as exc:
                    if _kind(exc) != "broken" or attempt == self.retries:
                        raise self._unreachable(exc, target, what, start) from None
                    log.info("%s: download broke off (%s); resuming", what, _kind(exc))
                    continue
                size = part.stat().st_size
                if expected is not None and size != expected:
                    if attempt == self.retries:
                        raise DownloadError(
                            f"{what}: {target} sent {size} of {expected} bytes; the download "
                            "is incomplete"
                        )
                    continue
                os.replace(part, final)
                log.info("%s: downloaded %s (%d bytes)", what, url, size)
                return final
            raise DownloadError(f"{what}: could not download {target}")
        finally:
            part.unlink(missing_ok=True)

    def _stream(self, target: str, part: Path, *, what: str) -> int | None:
        """Append the rest of ``target`` to ``part`` (a Range request when it holds some).

        Returns the size the server announced for the whole file, if it did.
        """
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        with self.plain.get(target, headers=headers, stream=True, timeout=self.timeout_s) as r:
            if r.status_code not in (200, 206):
                raise DownloadError(f"{what}: {target} answered HTTP {r.status_code}")
            if r.status_code == 200 and have:
                have = 0  # the server ignored the Range: start again
            length = r.headers.get("Content-Length")
            expected = have + int(length) if length is not None else None
            bar = None
            if self.progress:
                from tqdm.auto import tqdm

                bar = tqdm(
                    total=expected,
                    initial=have,
                    unit="B",
                    unit_scale=True,
                    desc=what[:40],
                    leave=False,
                )
            try:
                with open(part, "ab" if have else "wb") as f:
                    for chunk in r.iter_content(1 << 20):
                        f.write(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
        return expected
