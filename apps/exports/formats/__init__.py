"""Renderers from an export document (see `apps.exports.document`) to one file format each."""
