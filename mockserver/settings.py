"""How one twin is configured (`twin serve`'s options): a frozen value built once by `create_app`.

Readers get it from the application (`app[SETTINGS]`, see keys.py), never from a module global,
so two twins in one process can run with different settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from .stripe.objects import DEFAULT_HISTORY

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"
DEFAULT_WEBHOOK_SECRET = "whsec_twin_test"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """One twin's configuration; every field has the default `twin serve` uses."""

    public_url: str | None = None
    """The URL browsers reach the twin at (None: the request's own origin; Stripe's webhooks and
    redirects then assume `DEFAULT_PUBLIC_URL`)."""
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    """The fake Stripe's webhook signing secret."""
    read_cache: bool = True
    """Keep answers of identical reads until the next write (see readcache.py)."""
    cors_origins: tuple[str, ...] = ()
    """Origins allowed besides loopback ones (see cors.py)."""
    state_sync: str = "normal"
    """How hard the state file syncs each save: `normal` or `full` (see persistence/sqlite.py)."""
    control_token: str | None = None
    """A token the control API asks for (see guard.py); None: none asked."""
    jwt_secret: str | None = None
    """The HS256 secret tokens are signed with (at least 32 bytes); None: a seeded one."""
    control_origins: tuple[str, ...] = ()
    """Web origins besides the public URL's that may call the control API (see guard.py)."""
    stripe_history: int = DEFAULT_HISTORY
    """Finished Stripe objects kept per kind (0: keep all)."""

    def __post_init__(self) -> None:
        # Lists are accepted (argparse's `append` gives them) but stored as tuples: the value stays frozen.
        object.__setattr__(self, "cors_origins", tuple(self.cors_origins))
        object.__setattr__(self, "control_origins", tuple(self.control_origins))

    @property
    def base_url(self) -> str:
        """The public URL without a trailing slash, or `DEFAULT_PUBLIC_URL` when none is set."""
        return (self.public_url or DEFAULT_PUBLIC_URL).rstrip("/")
