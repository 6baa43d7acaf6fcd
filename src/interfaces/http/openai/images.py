"""OpenAI's POST /images/generations, carried out by an image-capable chat model upstream."""

import base64
import time

from litestar import Request, Response

from application.gateway_request import GatewayRequest
from application.principal import Principal
from application.use_cases.generate_images import GenerateImages, MadeImage
from domain.plans import Endpoint
from domain.pricing import Tariff
from interfaces.http.credentials import client_ip, client_marks
from interfaces.http.openai.calls import response_headers
from interfaces.http.openai.errors import OPENAI_ERRORS
from interfaces.http.openai.images_wire import ImageItem, images_from_reply, images_response, parse_image_request
from interfaces.http.openai.images_wire import upstream_chat_body as chat_body

# Where kept images are served: outside every family, since the URL itself is the credential.
IMAGE_FILES_PATH = "/files/images"


def _item(made: MadeImage, base_url: str, wants_url: bool) -> ImageItem:
    image = made.image
    if not wants_url and image.data is not None:
        return None, base64.b64encode(image.data).decode("ascii"), image.revised_prompt
    if made.token is not None:
        return f"{base_url}{IMAGE_FILES_PATH}/{made.token}", None, image.revised_prompt
    return image.url, None, image.revised_prompt


async def generate_images(request: Request, principal: Principal, generate: GenerateImages) -> Response:
    ask = parse_image_request(await request.body())
    call = GatewayRequest(
        endpoint=Endpoint.IMAGES,
        upstream_path="/chat/completions",
        model=ask.model,
        body=chat_body(ask, ask.model),
        client_ip=client_ip(request),
        client_marks=client_marks(request),
        tariff=Tariff(images=ask.n),
        with_model=lambda served: chat_body(ask, served),
    )
    made = await generate.execute(principal, call, count=ask.n, read=images_from_reply, keep=ask.wants_url)
    headers = response_headers(made.request_id, made.decision)
    if made.error is not None:
        return OPENAI_ERRORS.upstream_error(made.error, headers)
    base_url = str(request.base_url).rstrip("/")
    items = [_item(m, base_url, ask.wants_url) for m in made.images]
    return Response(
        images_response(int(time.time()), items, made.usage), media_type="application/json", headers=headers
    )
