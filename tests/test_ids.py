import os

from swepipe.ids import new_id


def test_ids_have_the_uuid_hex_shape_and_do_not_repeat():
    ids = [new_id() for _ in range(10_000)]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_child_draws_other_ids_than_its_parent():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report the next id and leave at once
        os.write(write, new_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    # without a reseed the child's generator state equals the parent's: same next id
    assert len(child) == 32 and child != new_id()
