"""Localizers: components that implement `Localizer.locate(instance, ctx) -> list[CodePointer]`.

`COMPONENTS` maps the short names a config uses to "module:Class".
"""

COMPONENTS: dict[str, str] = {
    "oracle": "swepipe.localize.oracle:OracleLocalizer",
    "retrieval": "swepipe.localize.retrieval:RetrievalLocalizer",
    "agentless": "swepipe.localize.agentless:AgentlessLocalizer",
    "codemonkeys": "swepipe.localize.codemonkeys:CodeMonkeysLocalizer",
    "codemonkeys_retrieval_first":
        "swepipe.localize.codemonkeys_retrieval_first:RetrievalFirstLocalizer",
    "combine": "swepipe.localize.combine:CombineLocalizer",
}
