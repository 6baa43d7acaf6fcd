"""The web side: dashboard pages, sign-in, the admin console (server-rendered, Jinja templates).

Pages call the same use cases as the API families; no business rule lives in a template or a handler.
"""
