"""The one token bucket: costs above one unit (bytes of audit trail), and a bounded key count."""
import pytest

from creditgraph.api.ratelimit import TokenBuckets


def test_a_take_costs_what_it_says_and_waits_for_the_rest():
    now = [0.0]
    bytes_ = TokenBuckets(burst=1000, per_minute=600, clock=lambda: now[0])   # 10 bytes a second
    assert bytes_.take("10.0.0.1", 900) == 0
    assert bytes_.take("10.0.0.1", 300) == pytest.approx(20.0)   # 100 left, 200 more at 10/s
    now[0] = 20.0
    assert bytes_.take("10.0.0.1", 300) == 0


def test_only_max_keys_buckets_are_kept_the_quietest_forgotten_first():
    buckets = TokenBuckets(burst=1, per_minute=1, max_keys=2, clock=lambda: 0.0)
    assert buckets.take("a") == 0 and buckets.take("b") == 0
    assert buckets.take("a") > 0                     # a spent, and now the most recent
    assert buckets.take("c") == 0                    # b, the quietest, is forgotten
    assert buckets.take("a") > 0 and buckets.take("b") == 0   # b starts full again; a did not
