"""The `promptlooper` command: a REST client for experiments kept as YAML files (docs/cli.md).

It talks to a server over /api/v1 only and imports no Django code, so it runs wherever httpx and PyYAML do.
"""

__version__ = "0.1.0"
