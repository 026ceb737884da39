"""Patch generators: components that implement
`PatchGenerator.generate(instance, context, ctx) -> list[Patch]`.

`COMPONENTS` maps the short names a config uses to "module:Class". See docs/generation.md.
"""

COMPONENTS: dict[str, str] = {
    "agentless": "swepipe.generate.agentless:AgentlessGenerator",
    "agentless.reproduction": "swepipe.generate.reproduction:ReproductionGenerator",
    "codemonkeys": "swepipe.generate.codemonkeys:CodeMonkeysGenerator",
    "oracle": "swepipe.generate.oracle:OracleGenerator",
    "perturbed_gold": "swepipe.generate.perturbed:PerturbedGoldGenerator",
}
