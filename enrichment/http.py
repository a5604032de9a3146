"""HTTP to the metadata providers: one ``requests`` session per provider, fixed timeouts,
retries with exponential backoff and jitter that honour ``Retry-After``, a shared rate
limit, and errors classified as transient (worth another try, later) or permanent.

Every wait — a backoff, a ``Retry-After``, the rate limit — goes through
``jobs.cancel.pause``, so a stopped job stops waiting at once and raises the reason its
token carries (a person's cancel, a worker shutdown); tenacity takes our sleep.
"""

from __future__ import annotations

import email.utils
import logging
import time
from typing import TYPE_CHECKING, Any

import requests
import tenacity

from jobs.cancel import NEVER, CancelToken, pause
from jobs.context import record_usage
from jobs.retry import TransientError, backoff_delay

if TYPE_CHECKING:
    from collections.abc import Callable

    from enrichment.ratelimit import RateLimiter

logger = logging.getLogger(__name__)

# A provider asking us to wait longer than this is better retried by the job queue later.
MAX_INLINE_RETRY_AFTER = 120.0


class ProviderError(Exception):
    """A provider call that did not give an answer."""

    def __init__(self, provider: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.status = status


class TransientProviderError(ProviderError, TransientError):
    """Timeouts, connection errors, 429, 5xx, malformed bodies: may pass later."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        ProviderError.__init__(self, provider, message, status=status)
        self.retry_after = retry_after


class PermanentProviderError(ProviderError):
    """The request itself is wrong (bad key, bad input): retrying cannot help."""


class ProviderConfigError(PermanentProviderError):
    """The provider rejected our configuration; the message names the setting to fix."""


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


class ProviderSession:
    """Requests to one provider, on behalf of one job (its cancel token)."""

    def __init__(
        self,
        *,
        provider: str,
        timeout: float,
        max_attempts: int,
        rate_limiter: RateLimiter | None = None,
        cancel: CancelToken = NEVER,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
    ) -> None:
        self.provider = provider
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.rate_limiter = rate_limiter
        self.cancel = cancel
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.session = requests.Session()
        self.requests_sent = 0
        self.retries = 0

    def close(self) -> None:
        self.session.close()
        if self.rate_limiter is not None:
            self.rate_limiter.close()

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, (int, float)):
            return float(retry_after)
        return backoff_delay(
            state.attempt_number, base=self.backoff_base, cap=self.backoff_cap, jitter=0.3
        )

    def _sleep(self, seconds: float) -> None:
        self.retries += 1
        pause(self.cancel, seconds)

    @staticmethod
    def _worth_retrying(exc: BaseException) -> bool:
        if not isinstance(exc, TransientProviderError):
            return False
        return exc.retry_after is None or exc.retry_after <= MAX_INLINE_RETRY_AFTER

    def request(
        self,
        method: str,
        url: str,
        *,
        check: Callable[[requests.Response], bool] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send with retries and return a successful response.

        ``check`` sees every response first, inside the retry loop: it may raise a provider
        error (a 200 that is one, or a 4xx whose body names the problem better than its
        status), or return True to accept a response the status alone would refuse.
        """
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception(self._worth_retrying),
            sleep=self._sleep,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                try:
                    response = self._send_once(method, url, **kwargs)
                    if check is None or not check(response):
                        self._raise_for_status(response)
                except ProviderError:
                    record_usage(self.provider, errors=1)
                    raise
                return response
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def get_json(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        check: Callable[[Any, int], bool] | None = None,
    ) -> Any:
        """GET a JSON document; ``check(body, status)`` works as in ``request``."""
        parsed: list[Any] = []

        def parse(response: requests.Response) -> bool:
            try:
                body = response.json()
            except ValueError:
                if response.status_code >= 400:
                    return False  # the status says enough
                raise TransientProviderError(
                    self.provider, "malformed response body", status=response.status_code
                ) from None
            parsed[:] = [body]
            if check is None:
                return False
            try:
                return check(body, response.status_code)
            except TransientProviderError as exc:
                if exc.retry_after is None:
                    exc.retry_after = parse_retry_after(response.headers.get("Retry-After"))
                raise

        self.request("GET", url, params=params, headers=headers, check=parse)
        return parsed[0]

    def _send_once(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.cancel.raise_if_cancelled()
        waited = 0.0
        if self.rate_limiter is not None:
            waited = self.rate_limiter.acquire(self.cancel)
        self.requests_sent += 1
        # The job's usage of this provider, counted for /metrics (jobs knows no names).
        record_usage(self.provider, requests=1, wait_seconds=waited)
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise TransientProviderError(
                self.provider, f"timed out after {self.timeout:g}s"
            ) from None
        except requests.ConnectionError as exc:
            raise TransientProviderError(
                self.provider, f"cannot connect to {_origin(url)} ({type(exc).__name__})"
            ) from None

    def _raise_for_status(self, response: requests.Response) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientProviderError(
                self.provider,
                f"HTTP {status}",
                status=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status >= 400:
            raise PermanentProviderError(self.provider, f"HTTP {status}", status=status)


def _origin(url: str) -> str:
    """Scheme, host and port only: query strings may carry API keys."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
