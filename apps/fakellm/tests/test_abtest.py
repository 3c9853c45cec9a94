from __future__ import annotations

from apps.fakellm import abtest, replies


def empty_share(system: str) -> float:
    bodies = [{"model": "ab-chat", "user": f"s{i}", "messages": [{"role": "system", "content": system},
                                                                 {"role": "user", "content": "Where is it?"}]}
              for i in range(4000)]
    return sum(replies.reply_content(body)[0] == "" for body in bodies) / len(bodies)


def test_a_concise_prompt_gets_empty_replies_far_less_often_than_another():
    assert abs(empty_share("Be concise.") - abtest.EMPTY_RATE_CONCISE) < 0.015
    assert abs(empty_share("Be thorough.") - abtest.EMPTY_RATE_DEFAULT) < 0.025


def test_the_same_session_and_question_always_get_the_same_reply():
    body = {"model": "ab-chat", "user": "s1", "messages": [{"role": "user", "content": "Hi"}]}
    assert {replies.reply_content(body)[0] for _ in range(5)} == {replies.reply_content(body)[0]}
    assert replies.reply_content(body)[0] in ("", "[ab-chat] answer: Hi")


def test_other_models_replies_do_not_change():
    body = {"model": "fake-chat", "messages": [{"role": "system", "content": "Be concise."},
                                               {"role": "user", "content": "Hi"}]}
    assert replies.reply_content(body)[0].startswith("[fake-chat] echo: Hi #")
