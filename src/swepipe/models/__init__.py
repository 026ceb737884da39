"""Model access: the OpenAI-compatible client, its runtime settings, token counting, and the
scripted server that tests, benchmarks and the demo run against. See docs/models.md."""

import lazy_loader

# lazy: `swepipe --help` imports the command modules of this package and must not pay for aiohttp
__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs={
    "client": ["CallResult", "ChatBackend", "OpenAIClient"],
    "retry": ["ModelCallError"],
    "scripted_rules": ["Script"],
    "scripted_server": ["ScriptedServer", "serve"],
    "settings": ["EndpointSettings"],
    "tokens": ["estimate_tokens"]})
