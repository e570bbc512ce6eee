"""Routing from a YAML file: its schema, checks, loader and exporter (`manage.py routing_load`, `routing_export`)."""
