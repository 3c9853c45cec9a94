import pytest

from apps.web.tests.builders import make_experiment, make_project


@pytest.fixture
def project(owner):
    return make_project(owner, description="Replies to customer emails", notes="Try a shorter system prompt.")


@pytest.fixture
def experiment(project):
    return make_experiment(project)


@pytest.fixture
def other_project(other_user):
    return make_project(other_user, name="Someone else's project")

