from apps.fakellm.replies import reply_content


def body(text: str) -> dict:
    return {"model": "agent-script", "messages": [{"role": "user", "content": text}]}


SCRIPT = "goal\nREPLY 1: first\nREPLY 2: second\\nline\n"


def test_numbered_replies_answer_the_prompts_last_step_number():
    assert reply_content(body(SCRIPT + "═══ STEP 1 - budget ═══"))[0] == "first"
    assert reply_content(body(SCRIPT + "STEP 1 done\n═══ STEP 2 - budget ═══"))[0] == "second\nline"


def test_without_a_scripted_step_the_default_reply_is_unchanged():
    assert "echo:" in reply_content(body(SCRIPT + "STEP 3"))[0]
    assert "echo:" in reply_content(body("STEP 1 and no script"))[0]
