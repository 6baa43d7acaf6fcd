"""OpenID Connect sign-in through authlib (the OAuth client) and joserfc (ID token verification)."""
