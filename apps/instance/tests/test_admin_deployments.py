"""Deployments in the settings panel: saved through the services, versions activated there, keys revoked."""

from datetime import timedelta

from django.utils import timezone

from apps.deployments.models import Deployment, DeploymentKey, GatewayRequest, PromptVersion
from apps.deployments.services.keys import deployment_for_key, deployment_key_create
from apps.deployments.tests.builders import make_deployment, make_endpoint, make_version
from apps.instance.tests.conftest import admin_url


def add_form(owner, endpoint, **overrides) -> dict:
    return {"owner": owner.pk, "name": "support-bot", "endpoint": endpoint.pk, "model": "fake-chat",
            "params": '{"temperature": 0.2}', "max_versions": 50, "description": "",
            "keys-TOTAL_FORMS": 0, "keys-INITIAL_FORMS": 0, "versions-TOTAL_FORMS": 0, "versions-INITIAL_FORMS": 0,
            **overrides}


def test_an_admin_adds_a_deployment_through_the_service(staff, owner):
    response = staff.post(admin_url(Deployment, "add"), add_form(owner, make_endpoint(owner)))
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert Deployment.objects.get().params == {"temperature": 0.2}


def test_the_admin_refuses_another_users_endpoint_with_the_services_message(staff, owner, other_user):
    response = staff.post(admin_url(Deployment, "add"), add_form(owner, make_endpoint(other_user)))
    assert response.status_code == 200 and "Choose one of your endpoints" in response.content.decode()
    assert not Deployment.objects.exists()


def test_an_admin_activates_a_version(staff, owner):
    deployment = make_deployment(owner)
    make_version(deployment, "one")
    second = make_version(deployment, "two")
    staff.post(admin_url(PromptVersion, "changelist"), {"action": "activate", "_selected_action": [second.pk]})
    assert PromptVersion.objects.get(is_active=True) == second


def test_an_admin_revokes_a_key_and_the_gateway_refuses_it(staff, owner):
    key, raw = deployment_key_create(deployment=make_deployment(owner), name="prod")
    staff.post(admin_url(DeploymentKey, "changelist"), {"action": "revoke_selected", "_selected_action": [key.pk]})
    assert deployment_for_key(raw=raw) is None


def test_the_deployment_key_admin_revokes_only_active_keys_shows_no_hash_and_cannot_add(staff, owner):
    deployment = make_deployment(owner)
    (live, raw), (old, _) = (deployment_key_create(deployment=deployment, name=name) for name in ("prod", "old"))
    DeploymentKey.objects.filter(pk=old.pk).update(revoked_at=timezone.now() - timedelta(days=1))
    old.refresh_from_db()

    response = staff.post(admin_url(DeploymentKey, "changelist"), {
        "action": "revoke_selected", "_selected_action": [live.pk, old.pk]}, follow=True)

    assert "Revoked 1 key." in response.content.decode()
    assert deployment_for_key(raw=raw) is None
    assert DeploymentKey.objects.get(pk=old.pk).revoked_at == old.revoked_at  # its revocation time is kept
    assert staff.get(admin_url(DeploymentKey, "add")).status_code == 403
    changelist = staff.get(admin_url(DeploymentKey, "changelist")).content.decode()
    assert admin_url(DeploymentKey, "add") not in changelist
    page = staff.get(admin_url(DeploymentKey, "change", live.pk)).content.decode()
    assert live.prefix in page and live.hashed_key not in page


def test_the_request_log_filters_by_outcome(staff, owner):
    deployment = make_deployment(owner)
    response = staff.get(admin_url(GatewayRequest, "changelist"), {"success__exact": "0",
                                                                   "deployment__id__exact": deployment.pk})
    assert response.status_code == 200 and response.context["cl"].result_count == 0
