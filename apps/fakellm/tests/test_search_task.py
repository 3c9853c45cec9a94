"""The search-* models: reply quality is the documented function of model, temperature and wording."""

from __future__ import annotations

import itertools
import json
from statistics import mean
from typing import Any

import httpx

from apps.fakellm import search_task
from apps.fakellm.replies import reply_content
from apps.fakellm.search_task import FACT_COUNT, FACTS, MODELS, NOISE, OPTIMUM, PROMPT_VARIANTS, TEMPERATURES, quality

QUESTIONS = [f"Question {n}: how many moons does planet {n} have?" for n in range(40)]


def body(text: str, *, model: str = "search-pro", system: str = PROMPT_VARIANTS[0],
         temperature: float = 0.6) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}, {"role": "user", "content": text}]
    return {"model": model, "messages": messages, "temperature": temperature, "max_tokens": 200}


def share(reply: str) -> float:
    """What a keyword scorer (mode all) over every fact scores the reply."""
    return sum(fact in reply.split() or f"{fact}." in reply.split() for fact in FACTS) / FACT_COUNT


def test_the_documented_optimum_is_the_best_of_the_528_config_grid():
    grid = list(itertools.product(MODELS, TEMPERATURES, PROMPT_VARIANTS))
    assert len(grid) == 528
    scored = sorted(((quality(model=m, temperature=t, prompt=p), (m, t, p)) for m, t, p in grid), reverse=True)
    best_value, best_config = scored[0]
    assert best_config == (OPTIMUM["model"], OPTIMUM["temperature"], OPTIMUM["system_prompt"])
    assert best_value == OPTIMUM["quality"] == 0.96
    assert scored[1][0] < best_value  # one winner, not a tie


def test_only_the_optimum_is_within_98_percent_of_it_so_a_random_quarter_of_the_grid_misses_it_often():
    grid = list(itertools.product(MODELS, TEMPERATURES, PROMPT_VARIANTS))
    values = sorted((quality(model=m, temperature=t, prompt=p) for m, t, p in grid), reverse=True)
    assert values[0] == 0.96 and values[1] == 0.92  # the runner-up is 95.8 % of the optimum
    assert sum(value >= 0.98 * values[0] for value in values) == 1
    # Beside the optimum, search-pro at 0.5 or 0.7 (the peak is narrow) and search-max at its own best
    # temperature (a second peak) with the same prompt are all below 98 % of it.
    best_prompt = OPTIMUM["system_prompt"]
    assert quality(model="search-pro", temperature=0.5, prompt=best_prompt) == 0.90
    assert quality(model="search-max", temperature=0.3, prompt=best_prompt) == 0.92
    assert quality(model="search-max", temperature=0.6, prompt=best_prompt) < 0.60


def test_concise_alone_hurts_and_paired_cues_are_worth_more_together():
    def q(prompt: str) -> float:
        return quality(model="search-pro", temperature=0.6, prompt=prompt)

    weak = q(search_task.WEAK_PROMPT)
    assert q("Be concise.") == round(weak - 0.02, 6)
    assert q("Think step by step. Be concise.") == round(weak + 0.06 - 0.02 + 0.08, 6)
    assert q("Cite your sources.") == q("Check your answer.") == round(weak + 0.03, 6)
    assert q("Cite your sources. Check your answer.") == round(weak + 0.03 + 0.03 + 0.06, 6)


def test_quality_rises_with_the_cues_and_falls_away_from_the_best_temperature():
    weak = quality(model="search-pro", temperature=0.6, prompt=search_task.WEAK_PROMPT)
    assert weak == 0.68
    assert quality(model="search-pro", temperature=0.6, prompt="Answer; guess if unsure.") < weak
    assert quality(model="search-pro", temperature=0.6, prompt="THINK STEP BY STEP.") == round(weak + 0.06, 6)
    assert quality(model="search-pro", temperature=1.0, prompt=search_task.WEAK_PROMPT) < weak
    assert quality(model="search-small", temperature=0.2, prompt=search_task.WEAK_PROMPT) == 0.5


def test_a_reply_scores_its_quality_within_the_noise_bound():
    for model, temperature, system in [("search-pro", 0.6, PROMPT_VARIANTS[-1]), ("search-small", 1.0,
                                       PROMPT_VARIANTS[1]), ("search-max", 0.3, PROMPT_VARIANTS[7])]:
        expected = quality(model=model, temperature=temperature, prompt=system)
        scores = [share(reply_content(body(q, model=model, system=system, temperature=temperature))[0])
                  for q in QUESTIONS]
        assert all(abs(score - expected) <= NOISE + 0.5 / FACT_COUNT + 1e-9 for score in scores)
        assert abs(mean(scores) - expected) < 0.015
        assert len(set(scores)) > 1  # items of one config differ: the noise is real


def test_the_same_request_always_gets_the_same_reply():
    first = reply_content(body(QUESTIONS[0], temperature=0.4))
    assert reply_content(body(QUESTIONS[0], temperature=0.4)) == first
    assert first[0].startswith("Findings: fact-01 fact-02")


def test_the_server_answers_search_models_and_leaves_other_models_unchanged(fake_llm):
    with httpx.Client(base_url=fake_llm.base_url, timeout=10) as http:
        search = http.post("/chat/completions", json=body(QUESTIONS[1])).json()
        echo = http.post("/chat/completions", json={**body(QUESTIONS[1]), "model": "fake-chat"}).json()
    reply = search["choices"][0]["message"]["content"]
    assert abs(share(reply) - 0.68) <= NOISE + 0.01
    assert echo["choices"][0]["message"]["content"].startswith(f"[fake-chat] echo: {QUESTIONS[1]}")


def proposer_body(prompt: str, k: int = 4) -> dict[str, Any]:
    text = (f"Earlier prompts...\nThe best prompt so far (score 0.66):\n<prompt>\n{prompt}\n</prompt>\n"
            f"Write {k} new variants of the prompt that fix these failures; keep what works.")
    return {"model": search_task.PROPOSER_MODEL, "messages": [{"role": "user", "content": text}],
            "temperature": 0.7, "max_tokens": 2000}


def test_the_proposer_returns_k_variants_that_add_missing_cues_to_the_current_prompt():
    reply = json.loads(reply_content(proposer_body(search_task.WEAK_PROMPT, k=3))[0])
    assert len(reply["variants"]) == 3 and reply["reasoning"].startswith("Added ")
    assert all(v.startswith(search_task.WEAK_PROMPT) and search_task.cues_in(v) for v in reply["variants"])
    weak = quality(model="search-pro", temperature=0.6, prompt=search_task.WEAK_PROMPT)
    # A lone "concise" costs a little, so not every variant gains; the best one does.
    assert max(quality(model="search-pro", temperature=0.6, prompt=v) for v in reply["variants"]) > weak


def test_climbing_with_the_proposer_reaches_the_optimum_wording_in_a_few_rounds():
    prompt = search_task.WEAK_PROMPT
    for _ in range(4):
        variants = json.loads(reply_content(proposer_body(prompt))[0])["variants"]
        prompt = max(variants, key=lambda v: quality(model="search-pro", temperature=0.6, prompt=v))
    assert quality(model="search-pro", temperature=0.6, prompt=prompt) == OPTIMUM["quality"]
    final = json.loads(reply_content(proposer_body(prompt))[0])
    assert final["reasoning"].startswith("Every cue is present")
