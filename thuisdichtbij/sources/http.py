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
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import ThuisdichtbijError

log = logging.getLogger(__name__)

__all__ = ["Downloader", "DownloadError", "MissingOffline"]

_RETRY_STATUS = (429, 500, 502, 503, 504)


def _timed_out(exc: Exception) -> bool:
    """True for a timeout, also when urllib3's retries wrapped it in a connection error."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError

    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (ReadTimeoutError, ConnectTimeoutError))


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
        retry = Retry(
            total=retries,
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

    def get_json(self, url: str, *, what: str) -> dict:
        """A JSON answer, from the cache when it holds it."""
        import requests

        target = self.url(url)
        try:
            r = self.session.get(target, timeout=self.timeout_s, only_if_cached=self.offline)
        except requests.RequestException as exc:
            if _timed_out(exc):
                raise DownloadError(
                    f"{what}: no answer from {target} within {self.timeout_s:g} s"
                ) from exc
            raise DownloadError(f"{what}: could not reach {target} ({exc})") from exc
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
        expected = None
        try:
            for attempt in range(self.retries + 1):
                have = part.stat().st_size if part.exists() else 0
                headers = {"Range": f"bytes={have}-"} if have else {}
                try:
                    with self.plain.get(
                        target, headers=headers, stream=True, timeout=self.timeout_s
                    ) as r:
                        if r.status_code not in (200, 206):
                            raise DownloadError(f"{what}: {target} answered HTTP {r.status_code}")
                        if r.status_code == 200 and have:
                            have = 0  # the server ignored the Range: start again
                        length = r.headers.get("Content-Length")
                        if length is not None:
                            expected = have + int(length)
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
                except requests.RequestException as exc:
                    if _timed_out(exc):
                        raise DownloadError(
                            f"{what}: no answer from {target} within {self.timeout_s:g} s"
                        ) from exc
                    log.warning("%s: download broke off (%s); resuming", what, exc)
                    if attempt == self.retries:
                        raise DownloadError(
                            f"{what}: the download of {target} broke off {attempt + 1} times "
                            f"({exc})"
                        ) from exc
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
