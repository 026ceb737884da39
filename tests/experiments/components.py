"""Small real components for runner tests: they call the scripted model and parse its replies."""

from __future__ import annotations

from swepipe.hashing import ComponentConfig
from swepipe.protocols import StageContext
from swepipe.types import CodePointer, Instance, Message, Patch, SamplingParams, Selection


class AskConfig(ComponentConfig):
    component: str = "tests.experiments.components:AskFileLocalizer"
    prompt: str = "Which file should change?"


class AskFileLocalizer:
    """Asks the model for one file path; a reply naming no existing file fails the stage."""

    Config = AskConfig

    def __init__(self, config: AskConfig) -> None:
        self.config = config

    async def locate(self, instance: Instance, ctx: StageContext) -> list[CodePointer]:
        reply = await ctx.model.chat([Message(role="user", content=(
            f"{self.config.prompt}\n{instance.problem_statement}"))])
        path = reply.text.strip()
        if ctx.repo_dir is not None and not (ctx.repo_dir / path).is_file():
            raise ValueError(f"model named a file that does not exist: {path!r}")
        return [CodePointer(file_path=path, kind="file")]


class SampleConfig(ComponentConfig):
    component: str = "tests.experiments.components:SampleDiffGenerator"
    samples: int = 3


class SampleDiffGenerator:
    """Asks for `samples` diffs of the localized file at temperature 0.8."""

    Config = SampleConfig

    def __init__(self, config: SampleConfig) -> None:
        self.config = config

    async def generate(self, instance: Instance, context: list[CodePointer],
                       ctx: StageContext) -> list[Patch]:
        out = []
        for k in range(self.config.samples):
            reply = await ctx.model.chat(
                [Message(role="user", content=f"write a diff for {context[0].file_path}")],
                SamplingParams(temperature=0.8), sample_idx=k)
            out.append(Patch(diff=reply.text, sample_idx=k, files=[context[0].file_path]))
        return out


class FirstConfig(ComponentConfig):
    component: str = "tests.experiments.components:FirstSelector"


class FirstSelector:
    Config = FirstConfig
    uses_model = False

    def __init__(self, config: FirstConfig) -> None:
        self.config = config

    async def select(self, instance: Instance, patches: list[Patch],
                     ctx: StageContext) -> Selection:
        chosen = patches[0] if patches else None
        return Selection(chosen_sample_idx=chosen.sample_idx if chosen else None,
                         patch=chosen.diff if chosen else "", method="first")


class ImageConfig(ComponentConfig):
    component: str = "tests.experiments.components:ImageSelector"


class ImageSelector(FirstSelector):
    """Selects the first patch and notes the image its executor already knows (Docker)."""

    Config = ImageConfig

    async def select(self, instance: Instance, patches: list[Patch],
                     ctx: StageContext) -> Selection:
        chosen = await super().select(instance, patches, ctx)
        return chosen.model_copy(update={
            "rationale": f"image: {getattr(ctx.executor, 'image', None)}"})
