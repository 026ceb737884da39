"""A worker process for the multi-process store test: computes one stage for every instance."""

import asyncio
import random
import sys

from swepipe.datasets.ingest import load_instances
from swepipe.store import Store
from swepipe.store.stage_cache import StageCache
from swepipe.store.writer import StoreWriter
from swepipe.types import CodePointer


async def main(path: str, seed: int) -> None:
    store = Store(path, lock_timeout_s=60)
    instances = load_instances(store, "demo")
    random.Random(seed).shuffle(instances)
    gate = asyncio.Semaphore(8)
    async with StoreWriter(store) as writer:
        cache = StageCache(store, writer, "localize", "shared-config")
        cache.prefetch(instances)

        async def one(instance):
            async def compute():
                await asyncio.sleep(random.random() / 200)
                return [CodePointer(file_path=f"{instance.instance_id}.py", rank=r)
                        for r in range(3)]
            async with gate:
                return await cache.get_or_compute(instance, compute)

        results = await asyncio.gather(*(one(i) for i in instances))
    assert all(r.status == "done" for r in results)
    print(sum(not r.from_cache for r in results))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
