"""Shared pieces of the shop's services.

Projects import from here; nothing here imports a project.
"""
