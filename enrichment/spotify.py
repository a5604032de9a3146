"""Spotify's client-credentials token and artist search (for genres)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from enrichment.http import (
    PermanentProviderError,
    ProviderConfigError,
    ProviderSession,
)
from enrichment.names import normalize_name

PROVIDER = "Spotify"
_CONFIG_HINT = "check PLAYLISTER_SPOTIFY_CLIENT_ID and PLAYLISTER_SPOTIFY_CLIENT_SECRET"


@dataclass(frozen=True)
class SpotifyArtist:
    spotify_id: str
    name: str
    genres: list[str]


class SpotifyClient:
    """Artist genres by name. Genres may be empty (and are optional in the API since 2026)."""

    def __init__(
        self,
        *,
        token_url: str,
        api_url: str,
        client_id: str,
        client_secret: str,
        session: ProviderSession,
    ) -> None:
        if not client_id or not client_secret:
            raise ProviderConfigError(PROVIDER, f"no credentials: {_CONFIG_HINT}")
        self.token_url = token_url
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self._client_id = client_id
        self._client_secret = client_secret
        self.session = session
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None

    def _access_token(self, *, renew: bool = False) -> str:
        with self._lock:
            if not renew and self._token is not None and self._token[1] > time.monotonic():
                return self._token[0]
            try:
                response = self.session.request(
                    "POST",
                    self.token_url,
                    data={"grant_type": "client_credentials"},
                    auth=(self._client_id, self._client_secret),
                )
            except PermanentProviderError as exc:
                raise ProviderConfigError(
                    PROVIDER, f"the credentials were refused ({exc.status}): {_CONFIG_HINT}"
                ) from None
            body = response.json()
            # Renew a minute early rather than send a request with a token about to expire.
            lifetime = max(60, int(body.get("expires_in", 3600)) - 60)
            self._token = (str(body["access_token"]), time.monotonic() + lifetime)
            return self._token[0]

    def find_artist(self, name: str) -> SpotifyArtist | None:
        """The best match for ``name`` among the first results (exact name first)."""
        params = {"q": f'artist:"{name}"', "type": "artist", "limit": "5"}
        url = urljoin(self.api_url, "search")
        body: Any = None
        for renew in (False, True):
            headers = {"Authorization": f"Bearer {self._access_token(renew=renew)}"}
            try:
                body = self.session.get_json(url, params=params, headers=headers)
                break
            except PermanentProviderError as exc:
                if exc.status != 401 or renew:  # an expired token is renewed once
                    raise
        items = (body or {}).get("artists", {}).get("items", []) or []
        if not items:
            return None
        wanted = normalize_name(name)
        best = next((i for i in items if normalize_name(str(i.get("name", ""))) == wanted), None)
        if best is None:
            return None
        return SpotifyArtist(
            spotify_id=str(best.get("id", "")),
            name=str(best.get("name", "")),
            genres=[str(g) for g in best.get("genres") or []],
        )
