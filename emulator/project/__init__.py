"""Discovering and parsing a Rill project folder into a :class:`~emulator.project.resources.Project`.

Entry points: :func:`~emulator.project.loader.load_project` and
:class:`~emulator.project.loader.ProjectLoader`.
"""
