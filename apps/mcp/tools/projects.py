"""Projects: list and create (the REST API's /projects)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from apps.mcp.registry import Args, Call, ToolSpec
from apps.projects import selectors, services

LIST_LIMIT = 200


class ProjectOut(BaseModel):
    id: str
    name: str
    description: str
    experiment_count: int = 0


class ProjectList(BaseModel):
    count: int
    projects: list[ProjectOut]


class ListProjectsArgs(Args):
    search: str = Field("", max_length=200, description="Only projects whose name contains this text.")


class CreateProjectArgs(Args):
    name: str = Field(max_length=200)
    description: str = Field("", max_length=5000)


def project_out(project, experiment_count: int = 0) -> ProjectOut:
    return ProjectOut(id=str(project.pk), name=project.name, description=project.description,
                      experiment_count=getattr(project, "experiment_count", experiment_count))


def list_projects(call: Call, args: ListProjectsArgs) -> ProjectList:
    qs = selectors.project_list(user=call.user)
    if args.search:
        qs = qs.filter(name__icontains=args.search)
    return ProjectList(count=qs.count(), projects=[project_out(p) for p in qs[:LIST_LIMIT]])


def create_project(call: Call, args: CreateProjectArgs) -> ProjectOut:
    return project_out(services.project_create(owner=call.user, name=args.name, description=args.description))


TOOLS = [
    ToolSpec("list_projects", "Your projects, most recently changed first.", ListProjectsArgs, ProjectList,
             list_projects, read_only=True, idempotent=True),
    ToolSpec("create_project", "Create a project (a folder of experiments).", CreateProjectArgs, ProjectOut,
             create_project),
]
