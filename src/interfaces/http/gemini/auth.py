"""Gemini clients send the key as `x-goog-api-key`, as `?key=`, or (some proxies) as a bearer token."""

from litestar import Request

from interfaces.http.credentials import bearer


def gemini_key(request: Request) -> str | None:
    return request.headers.get("x-goog-api-key") or request.query_params.get("key") or bearer(request)
