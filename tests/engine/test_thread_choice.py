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



def measured_by_round(seconds) -> ThreadChoice:
    """A choice fed its whole plan, each batch taking seconds(limit, round) (rounds from 1)."""
    c = ThreadChoice(SMALL_BATCH, available=2)
    rounds, previous = 0, None
    while c.measuring:
        n = c.limit()
        if n == 1 and previous != 1:
            rounds += 1
        previous = n
        c.record(seconds(n, rounds))
    return c


def test_a_win_that_one_busy_moment_made_keeps_one_thread():
    """All threads 10% slower than one, but another process slowed the last three one-thread
    blocks down fivefold: the overall medians favour all threads, two rounds of five do not."""
    c = measured_by_round(lambda n, r: (5.0 if r >= 3 else 1.0) if n == 1 else 1.1)
    assert c.block_medians[1][-1] == 5.0 and sum(
        a < b for b, a in zip(c.block_medians[1], c.block_medians[None])) == ThreadChoice.ROUNDS - 2
    assert c.chosen == 1


def test_all_threads_may_lose_one_round_and_still_win():
    c = measured_by_round(lambda n, r: 1.0 if n == 1 else (1.5 if r == 2 else 0.7))  # round 2: a bad moment
    assert c.chosen is None


def test_all_threads_are_watched_and_dropped_when_they_slow_down():
    """A second core taken by another process makes threads that wait for each other collapse: a
    block WATCH times slower than measured keeps one thread from then on."""
    c = measured(1.0, 0.6)
    assert c.chosen is None and not c.collapsed
    for _ in range(3 * ThreadChoice.BLOCK):  # steady, and a little noise: all threads still
        c.record(0.8)
    assert c.chosen is None and not c.collapsed
    for _ in range(ThreadChoice.BLOCK // 2 - 1):  # a moment's hiccup, under half a block
        c.record(5.0)
    for _ in range(ThreadChoice.BLOCK - (ThreadChoice.BLOCK // 2 - 1)):  # the rest of that block
        c.record(0.6)
    assert c.chosen is None
    for _ in range(ThreadChoice.BLOCK):  # the other core is busy now
        c.record(5.0)
    assert c.collapsed and c.chosen == 1 and c.limit() == 1 and not c.measuring
    for _ in range(3 * ThreadChoice.BLOCK):  # one thread is not watched: it cannot collapse
        c.record(0.3)
    assert c.chosen == 1
