"""The fake prompt proposer: variants that add what the scorers found missing; other models unchanged."""

import json

from apps.fakellm.proposer import proposer_reply
from apps.fakellm.replies import reply_content

REQUEST = ('<prompt>\nBe helpful.\n</prompt>\nScorer keyword: 0.2 {"missing": ["sorry", "ticket"]}\n'
           'Scorer keyword: 0.4 {"missing": ["ticket"]}\nWrite 3 new variants of the prompt.')


def test_variants_add_the_most_often_missing_keywords_first():
    reply = json.loads(proposer_reply(REQUEST))
    assert reply["variants"][:2] == ["Be helpful. Always mention: ticket.",
                                     "Be helpful. Always mention: ticket, sorry."]
    assert len(reply["variants"]) == 3 and len(set(reply["variants"])) == 3 and "ticket" in reply["reasoning"]


def test_only_proposer_models_answer_as_a_proposer():
    body = {"model": "fake-chat", "messages": [{"role": "user", "content": REQUEST}]}
    assert reply_content(body)[0].startswith("[fake-chat] echo:")
    assert json.loads(reply_content({**body, "model": "proposer-x"})[0])["variants"]
