from typing import Protocol


class ModelResolver(Protocol):
    async def resolve(self, name: str) -> str | None:
        """The catalogue id a client's model name stands for (see `domain.model_names`).

        `gpt-4o` -> `openai/gpt-4o`, `dall-e-3` -> an aliased id, a listed id as it is. None when
        the catalogue is loaded and lists nothing the name could mean (or several, alike): the
        caller answers 404. With no catalogue loaded yet, aliases still apply and any other name
        comes back as written (the caller cannot tell an unknown model from a slow upstream).
        """
        ...
