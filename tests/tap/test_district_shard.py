"""`district_shard`: n runs in parallel, each taking its own share of the districts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from clever_sandbox import SandboxConfig, SandboxServer
from tap_clever.shards import DistrictShard
from tests.tap.conftest import run_sync

IDS = [f"{n:024x}" for n in range(0x6681F1800000000000000000, 0x6681F1800000000000000000 + 2000)]


@pytest.mark.parametrize(
    ("text", "shard"),
    [("1/1", DistrictShard(1, 1)), ("2/4", DistrictShard(2, 4)), (" 3 / 3 ", DistrictShard(3, 3))],
)
def test_a_shard_is_named_i_of_n(text: str, shard: DistrictShard) -> None:
    assert DistrictShard.parse(text) == shard
    assert str(shard) == text.replace(" ", "")


@pytest.mark.parametrize("text", ["0/4", "5/4", "1/0", "2", "a/b", "-1/4", "", 3])
def test_anything_else_names_no_shard(text: object) -> None:
    assert DistrictShard.parse(text) is None


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 16])
def test_every_district_is_in_exactly_one_shard(count: int) -> None:
    shards = [DistrictShard(index, count) for index in range(1, count + 1)]
    for district_id in IDS:
        assert sum(shard.holds(district_id) for shard in shards) == 1
    sizes = Counter(next(s for s in shards if s.holds(d)).index for d in IDS)
    # A hash spreads them evenly: no shard is a bottleneck.
    assert max(sizes.values()) < 1.2 * len(IDS) / count


def test_a_districts_shard_does_not_depend_on_the_others() -> None:
    shard = DistrictShard(2, 4)
    held = {d for d in IDS if shard.holds(d)}
    # Districts joining or leaving move no other district.
    assert {d for d in IDS[::3] if shard.holds(d)} == held & set(IDS[::3])


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(districts=6, users_per_district=40, seed=13)) as server:
        yield server


@pytest.mark.parametrize("credentials", ["district_tokens", "client_credentials"])
def test_shards_split_the_districts_whichever_way_they_are_found(
    sandbox: SandboxServer, credentials: str
) -> None:
    config = {"api_url": sandbox.base_url, "oauth_url": sandbox.base_url, "page_size": 100}
    if credentials == "district_tokens":
        config["district_tokens"] = sandbox.district_tokens
    else:
        config.update(client_id=sandbox.client_id, client_secret=sandbox.client_secret)

    synced = []
    for index in (1, 2, 3):
        result = run_sync({**config, "district_shard": f"{index}/3"})
        assert result.error is None
        districts = {user["district"] for user in result.records("users")}
        assert districts == {d for d in sandbox.district_ids if DistrictShard(index, 3).holds(d)}
        assert {s["district"] for s in result.records("snapshots")} == districts
        synced.append(districts)

    assert sorted(d for shard in synced for d in shard) == sorted(sandbox.district_ids)


def test_a_shard_without_districts_syncs_nothing_and_succeeds(sandbox: SandboxServer) -> None:
    one = sandbox.district_ids[0]
    count = 8
    empty = next(i for i in range(1, count + 1) if not DistrictShard(i, count).holds(one))

    result = run_sync(
        {
            "api_url": sandbox.base_url,
            "auth_token": sandbox.district_tokens[0],
            "district_shard": f"{empty}/{count}",
        }
    )

    assert result.error is None
    assert result.records("users") == []
    assert result.records("snapshots") == []
