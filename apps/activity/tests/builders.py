from apps.experiments.models import Experiment
from apps.projects.models import Project


def experiment_of(user, name: str = "e") -> Experiment:
    """A new project of `user` holding one experiment."""
    project = Project.objects.create(owner=user, name=f"{name} project")
    return Experiment.objects.create(project=project, name=name)
