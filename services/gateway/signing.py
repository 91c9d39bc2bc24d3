"""Where the gateway's signing key comes from: configuration in production, ``var/`` in development."""

from __future__ import annotations

from pathlib import Path

from libs.common.auth import TokenIssuer, TokenVerifier, ensure_dev_key_file, generate_private_key_pem
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
