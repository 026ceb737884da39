"""A served embedding model behind the `Embedder` protocol (OpenAI-compatible `/embeddings`).

The retrieval localizer uses it when its `embedder` field names a served model; the runner builds
one from the pipeline's `[embedder]` section and passes it as `ctx.embedder`. Vectors are
L2-normalized here, so inner-product search equals cosine similarity whatever the server returns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from swepipe.errors import ModelError
from swepipe.models.client import OpenAIClient


class EndpointEmbedder:
    """Implements `protocols.Embedder` with an `OpenAIClient`."""

    def __init__(self, client: OpenAIClient, model: str, dim: int | None = None) -> None:
        self.client, self.name, self._dim = client, model, dim

    def __repr__(self) -> str:
        return f"EndpointEmbedder({self.name!r})"

    @property
    def dim(self) -> int:
        if self._dim is None:
            raise ModelError(f"embedding size of {self.name!r} is not known before its first "
                             "call; set `embedder.dim`")
        return self._dim

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        vectors = np.asarray(await self.client.embed(self.name, list(texts)), dtype=np.float32)
        if self._dim is None:
            self._dim = vectors.shape[1]
        elif vectors.shape[1] != self._dim:
            raise ModelError(f"{self.name!r} returned {vectors.shape[1]}-d vectors, "
                             f"expected {self._dim}")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)
