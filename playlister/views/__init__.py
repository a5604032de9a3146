"""The playlist pages: the cards (``cards``), a generation and its exports
(``generation``), custom playlists (``custom``) and the exclusions (``exclusions``)."""
