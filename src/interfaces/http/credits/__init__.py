"""The credits API: POST /api/v1/chat[?batch=1] and GET /api/models, flat {"error": "..."} bodies."""
