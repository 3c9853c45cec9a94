"""The gateway refuses every key that is not an active key of this deployment, as feedback does."""

from __future__ import annotations

import pytest

from apps.deployments.models import GatewayRequest
from apps.deployments.services.keys import deployment_key_create, deployment_key_revoke
from apps.gateway.tests.builders import chat, deployment_for, run


def revoked(mine, theirs):
    key, raw = deployment_key_create(deployment=mine, name="old")
    deployment_key_revoke(deployment=mine, key_id=key.pk)
    return f"Bearer {raw}"


REFUSED = {
    "a revoked key": (revoked, 401, "invalid_api_key"),
    "another user's key": (lambda mine, theirs: f"Bearer {deployment_key_create(deployment=theirs, name='k')[1]}",
                           404, "deployment_not_found"),
    "a malformed key": (lambda mine, theirs: "Bearer plg_", 401, "invalid_api_key"),
    "a forged key": (lambda mine, theirs: "Bearer plg_0123456789ab_not-the-secret", 401, "invalid_api_key"),
    "no key": (lambda mine, theirs: None, 401, "missing_api_key"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_the_gateway_refuses(case, gateway, owner, other_user, fake_llm):
    mine, _ = deployment_for(owner, fake_llm, name="mine", prompt="Be concise.")
    theirs, _ = deployment_for(other_user, fake_llm, name="theirs")
    authorization, status, code = REFUSED[case]
    header = authorization(mine, theirs)
    headers = {"X-PromptLooper-Deployment": str(mine.pk), **({"Authorization": header} if header else {})}

    response = run(gateway, lambda client: client.post("/gateway/v1/chat/completions", json=chat(user="s"),
                                                       headers=headers))

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert fake_llm.stats["chat"] == 0 and not GatewayRequest.objects.exists()
