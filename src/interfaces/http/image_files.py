"""Generated images, served from the database at their unguessable URL until they expire."""

from dishka import FromDishka
from litestar import Controller, Response, get

from application.use_cases.generate_images import FetchImage
from interfaces.http.injection import inject
from interfaces.http.openai.errors import error_response
from interfaces.http.openai.images import IMAGE_FILES_PATH


class ImageFilesController(Controller):
    path = IMAGE_FILES_PATH
    include_in_schema = False

    @get("/{token:str}")
    @inject
    async def image(self, token: str, fetch: FromDishka[FetchImage]) -> Response:
        image = await fetch.execute(token) if len(token) <= 64 else None
        if image is None:
            return error_response(404, "No such image (or it has expired)", code="image_not_found")
        return Response(
            image.data,
            media_type=image.media_type,
            headers={
                "Cache-Control": "private, max-age=3600",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'",
            },
        )
