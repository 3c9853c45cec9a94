"""Names a person types (a project, "project/experiment", an endpoint label, a deployment) resolved to ids."""

from __future__ import annotations

from apps.cli.client import Api, CliError, is_uuid


def project_find(api: Api, name: str) -> dict | None:
    matches = [p for p in api.pages("/projects", search=name) if p["name"] == name]
    if len(matches) > 1:
        raise CliError(f"{len(matches)} projects are named '{name}'; rename one.")
    return matches[0] if matches else None


def experiment_find(api: Api, *, project_id: str, name: str) -> dict | None:
    matches = [e for e in api.pages("/experiments", project=project_id) if e["name"] == name]
    if len(matches) > 1:
        raise CliError(f"{len(matches)} experiments in this project are named '{name}'; rename one.")
    return matches[0] if matches else None


def experiment_resolve(api: Api, ref: str) -> dict:
    """EXPERIMENT as an id or "project/name": the experiment's detail."""
    if is_uuid(ref):
        return api.get(f"/experiments/{ref}")
    project_name, sep, name = ref.rpartition("/")
    if not sep or not project_name or not name:
        raise CliError(f"'{ref}' is neither an experiment id nor project/name.")
    project = project_find(api, project_name)
    found = project and experiment_find(api, project_id=project["id"], name=name)
    if not found:
        raise CliError(f"No experiment '{name}' in project '{project_name}'.", code=3)
    return api.get(f"/experiments/{found['id']}")


def endpoint_ids_by_label(api: Api) -> dict[str, str]:
    """label → id of the user's endpoints (a label two endpoints share maps to neither: it is ambiguous)."""
    ids: dict[str, str] = {}
    shared: set[str] = set()
    for endpoint in api.pages("/endpoints"):
        if endpoint["label"] in ids:
            shared.add(endpoint["label"])
        ids[endpoint["label"]] = endpoint["id"]
    return {label: id_ for label, id_ in ids.items() if label not in shared}


def deployment_resolve(api: Api, ref: str) -> dict:
    """DEPLOYMENT as an id or its name (names are unique per owner): the deployment."""
    if is_uuid(ref):
        return api.get(f"/deployments/{ref}")
    deployments = list(api.pages("/deployments"))
    matches = [d for d in deployments if d["name"] == ref]
    if len(matches) > 1:
        raise CliError(f"{len(matches)} deployments are named '{ref}'; use its id.")
    if not matches:
        known = ", ".join(d["name"] for d in deployments) or "none yet"
        raise CliError(f"No deployment named '{ref}' (yours: {known}).", code=3)
    return matches[0]


def version_resolve(api: Api, deployment: dict, ref: str) -> dict:
    """VERSION as its number in `deployment` (2 or v2) or its id: the version."""
    if is_uuid(ref):
        version = api.get(f"/prompts/versions/{ref}")
        if version["deployment"] != deployment["id"]:
            raise CliError(f"Version {ref} is version {version['number']} of '{version['deployment_name']}', "
                           f"not of '{deployment['name']}'.")
        return version
    number = ref[1:] if ref[:1] in ("v", "V") else ref
    if not number.isdigit():
        raise CliError(f"'{ref}' is neither a version number nor a version id.")
    for version in api.pages(f"/deployments/{deployment['id']}/prompts/versions"):
        if version["number"] == int(number):
            return version
    raise CliError(f"No version {int(number)} in '{deployment['name']}'.", code=3)
