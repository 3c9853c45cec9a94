"""One module per command; each has `run(args, api_factory) -> exit code`."""
