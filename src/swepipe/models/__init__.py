"""Model access: the OpenAI-compatible client, its runtime settings, token counting, and the
scripted server that tests, benchmarks and the demo run against. See docs/models.md."""

from swepipe.models.client import CallResult, ChatBackend, OpenAIClient
from swepipe.models.retry import ModelCallError
from swepipe.models.scripted_rules import Script
from swepipe.models.scripted_server import ScriptedServer, serve
from swepipe.models.settings import EndpointSettings
from swepipe.models.tokens import estimate_tokens

__all__ = ["CallResult", "ChatBackend", "EndpointSettings", "ModelCallError", "OpenAIClient",
           "Script", "ScriptedServer", "estimate_tokens", "serve"]
