"""The OpenAI family: /proxy/v1, /api/v1 and /v1, the upstream's own wire format relayed as it is."""
