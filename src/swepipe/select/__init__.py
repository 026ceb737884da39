"""Selectors: components that implement `Selector.select(instance, patches, ctx) -> Selection`.

`COMPONENTS` maps the short names a config uses to "module:Class". See docs/selection.md.
"""

COMPONENTS: dict[str, str] = {
    "majority_vote": "swepipe.select.majority:MajorityVoteSelector",
    "agentless": "swepipe.select.agentless:AgentlessSelector",
    "test_vote": "swepipe.select.test_vote:TestVoteSelector",
    "codemonkeys": "swepipe.select.codemonkeys:CodeMonkeysSelector",
    "llm_judge": "swepipe.select.judge:LLMJudgeSelector",
    "random": "swepipe.select.baselines:RandomSelector",
    "first": "swepipe.select.baselines:FirstSelector",
    "oracle": "swepipe.select.baselines:OracleSelector",
}
