"""Tests for mutations of scripts/mutate that the rest of the suite let survive: the fallback
id of a cluster without identifiers (from its least mention id), and review evidence shown as
it is to a role below investigator. Also every person field masked when a model is serialised
without a principal (the default), without the fixture or HTTP.
"""
from __future__ import annotations

import hashlib

import pandas as pd

from creditgraph.api.models import EntityDetail, Evidence, ReviewItem
from creditgraph.linkage.resolve import _entity_ids

NUMBER = "210802197503153015"                 # check character valid
PHONE = "13904171234"


def fallback_ids(mention_ids: list[str]) -> set[str]:
    """The entity ids of one enterprise cluster whose mentions carry no identifier."""
    m = pd.DataFrame({"cluster": [0] * len(mention_ids), "mention_id": mention_ids})
    f = pd.DataFrame({"uscc": [None] * len(m), "hard": [()] * len(m)})
    return set(_entity_ids("enterprise", m, f, b"test-key"))


def test_fallback_id_is_the_hash_of_the_least_mention_id():
    """Mutation: the fallback id from the greatest mention id."""
    ids = fallback_ids(["tax:t9:subject", "market:m2:subject"])
    assert ids == {"E-" + hashlib.sha1(b"market:m2:subject").hexdigest()[:12]}
    # a later source whose mention ids sort after leaves the id alone
    assert fallback_ids(["tax:t9:subject", "market:m2:subject", "wages:w1:subject"]) == ids


def test_person_detail_is_masked_by_default():
    """Mutations: identifier, phones or birth date of a person served in clear."""
    text = EntityDetail(entity_id="P-1", kind="person", identifier=NUMBER, phones=[PHONE],
                        birth_date="1975-03-15").model_dump_json()
    assert not [clear for clear in (NUMBER, PHONE, "1975-03-15") if clear in text]
    assert text.count(NUMBER[-4:]) == 1 and PHONE[-4:] in text   # masked, not dropped


def test_review_evidence_is_scrubbed_by_default():
    """Mutation: review evidence served with the identity numbers compared."""
    item = ReviewItem(pair_id="p", kind="person", left_mention="a", right_mention="b",
                      evidence={"id": Evidence(left=NUMBER, right=NUMBER[:6] + "********" + NUMBER[-4:]),
                                "birth_date": Evidence(left="1975-03-15", right="1975-03-16"),
                                "name": Evidence(left=f"王建国 {NUMBER}", right="王建国")})
    text = item.model_dump_json()
    assert not [shown for shown in (NUMBER, NUMBER[:6], "1975-03-1") if shown in text]
