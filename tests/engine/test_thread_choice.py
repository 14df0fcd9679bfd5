"""ThreadChoice: one BLAS thread or all, by timing real mini-batches; all threads only when clearly faster."""
import pytest

from nnviz.engine.threads import SMALL_BATCH, ThreadChoice


def measured(one_s: float, all_s: float) -> ThreadChoice:
    """A choice fed its whole plan: every batch on one thread takes one_s, on all threads all_s."""
    c = ThreadChoice(SMALL_BATCH, available=2)
    assert c.measuring and c.limit() == 1  # it starts on one thread
    while c.measuring:
        c.record(one_s if c.limit() == 1 else all_s)
    return c


@pytest.mark.parametrize("all_s, chosen", [
    (0.80, None),  # two threads 20% faster: use them
    (0.94, None),  # 6% faster: still beyond the margin
    (0.97, 1),  # 3% faster is within the noise: one thread, the other core stays free
    (1.20, 1),  # slower: one thread
])
def test_all_threads_only_when_they_win_by_the_margin(all_s, chosen):
    c = measured(1.0, all_s)
    assert c.chosen == chosen and c.limit() == chosen


def test_the_first_batch_of_each_block_is_not_counted():
    c = ThreadChoice(SMALL_BATCH, available=2)
    first = True
    while c.measuring:
        n = c.limit()
        # the first batch after a switch is slow on either side (spinning workers): it must not decide
        c.record(10.0 if first else (1.0 if n == 1 else 0.5))
        nxt = c.limit() if c.measuring else None
        first = c.measuring and nxt != n
    assert c.chosen is None
    assert len(c.times[1]) == len(c.times[None]) == (ThreadChoice.BLOCK - 1) * ThreadChoice.ROUNDS


def test_small_batches_and_one_thread_never_measure():
    assert not ThreadChoice(SMALL_BATCH - 1, available=2).measuring
    assert ThreadChoice(SMALL_BATCH - 1, available=2).chosen == 1
    assert not ThreadChoice(SMALL_BATCH, available=1).measuring
