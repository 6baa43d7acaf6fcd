"""`POST /api/keys` and `DELETE /api/keys/{id}` with the session cookie, as the credits spec's curl
calls them (JSON in and out; `check_json_call` keeps other sites from using the cookie)."""

import msgspec
from dishka import FromDishka
from litestar import Controller, Request, Response, delete, post

from application.use_cases.api_keys import IssueApiKey, RevokeApiKey
from domain.errors import InvalidRequest
from interfaces.http.injection import inject
from interfaces.web.guards import check_json_call, require_viewer
from interfaces.web.key_views import issued_json, key_json


class _NewKey(msgspec.Struct, forbid_unknown_fields=False):
    name: str


class KeysApi(Controller):
    path = "/api/keys"
    include_in_schema = False

    @post("/", status_code=201)
    @inject
    async def create(self, request: Request, issue: FromDishka[IssueApiKey]) -> Response:
        viewer = await require_viewer(request)
        check_json_call(request, viewer)
        try:
            body = msgspec.json.decode(await request.body(), type=_NewKey)
        except msgspec.DecodeError:
            raise InvalidRequest('the body must be JSON like {"name": "My API Key"}', param="name") from None
        issued = await issue.execute(viewer.account.email, body.name)
        return Response(issued_json(issued), status_code=201, media_type="application/json")

    @delete("/{key_id:str}", status_code=200)
    @inject
    async def revoke(self, request: Request, key_id: str, revoke: FromDishka[RevokeApiKey]) -> Response:
        viewer = await require_viewer(request)
        check_json_call(request, viewer, with_body=False)
        key, _ = await revoke.execute(key_id, owner_id=viewer.account.id)
        return Response(key_json(key), status_code=200, media_type="application/json")
