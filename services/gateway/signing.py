"""Where the gateway's signing key comes from: configuration in production, ``var/`` in development.

Key rotation without downtime (docs/OPERATIONS.md): services cache the JWKS for ``jwks_cache_seconds``,
so a new key is published before it signs, and an old one stays published while tokens it signed live.

1. Make a key (``openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt``) and
   print its public JWK: ``python -m services.gateway.signing public-jwk new.pem``. Add that JWK to
   ``GATEWAY_EXTRA_PUBLIC_JWKS``; roll the gateway; wait ``<PREFIX>JWKS_CACHE_SECONDS`` (300).
2. Sign with the new key (``GATEWAY_SIGNING_KEY_PEM`` / ``_FILE``) and put the OLD key's public JWK in
   ``GATEWAY_EXTRA_PUBLIC_JWKS`` instead; roll the gateway.
3. After the longest token lifetime (``GATEWAY_ACCESS_TOKEN_TTL_SECONDS``, ``…_CLIENT_TOKEN_…``,
   ``…_SERVICE_TOKEN_…``) plus the cache time, drop the old JWK; roll the gateway.

Refresh tokens are not JWTs (rows in the gateway's database): a rotation does not sign anyone out.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from libs.common.auth import (
    TokenIssuer,
    TokenVerifier,
    ensure_dev_key_file,
    generate_private_key_pem,
)
from libs.common.settings import VAR_DIR
from services.gateway.settings import GatewaySettings

DEV_KEY_FILE = VAR_DIR / "gateway_signing_key.pem"


def signing_key_pem(settings: GatewaySettings) -> str:
    if settings.signing_key_pem:
        return settings.signing_key_pem
    if settings.signing_key_file:
        return Path(settings.signing_key_file).read_text(encoding="ascii")
    if settings.is_production:
        raise RuntimeError(
            "gateway: GATEWAY_SIGNING_KEY_PEM or GATEWAY_SIGNING_KEY_FILE must be configured in production"
        )
    if settings.environment == "test":
        return generate_private_key_pem()
    return ensure_dev_key_file(DEV_KEY_FILE)


def token_issuer(settings: GatewaySettings) -> TokenIssuer:
    return TokenIssuer(
        signing_key_pem(settings),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        extra_public_jwks=settings.extra_public_jwks,
    )


def own_verifier(issuer: TokenIssuer) -> TokenVerifier:
    """Verifies the gateway's own tokens against its own JWKS, given statically (no HTTP to itself)."""
    return TokenVerifier(issuer=issuer.issuer, audience=issuer.audience, static_jwks=issuer.jwks())


def public_jwk_of(private_key_pem: str) -> dict[str, Any]:
    """The public JWK (with its ``kid``) of a signing key, as the JWKS publishes it."""
    return TokenIssuer(private_key_pem, issuer="-", audience="-").public_jwk


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m services.gateway.signing public-jwk KEY.pem``: print the key's public JWK (JSON), to
    put in ``GATEWAY_EXTRA_PUBLIC_JWKS``. The private key is never printed."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "public-jwk":
        print("usage: python -m services.gateway.signing public-jwk KEY.pem", file=sys.stderr)
        return 2
    print(json.dumps(public_jwk_of(Path(args[1]).read_text(encoding="ascii"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
