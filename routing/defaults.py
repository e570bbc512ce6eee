"""The default capability tree, created by a data migration and re-creatable with `manage.py routing_defaults`.

Curators add nodes and pools in the admin; re-running only creates missing default nodes (and, with `reset`,
puts the default nodes' requirements back), never touches curator-added ones.
"""

from __future__ import annotations

DEFAULT_TREE = [
    {
        "slug": "text-generation",
        "name": "Text generation",
        "parent": None,
        "description": "Any model that writes text (embedding models excluded).",
        "output_modalities": ["text"],
        "excluded_capabilities": ["embeddings"],
    },
    {
        "slug": "code-generation",
        "name": "Code generation",
        "parent": "text-generation",
        "description": "Text models made for code (coder, codex, codestral, devstral… by name).",
        "member_pattern": r"code|devstral",
    },
    {
        "slug": "reasoning",
        "name": "Reasoning",
        "parent": "text-generation",
        "description": "Text models that reason before answering.",
        "catalogue_capabilities": ["reasoning"],
    },
    {
        "slug": "tool-use",
        "name": "Tool use",
        "parent": "text-generation",
        "description": "Text models that call tools.",
        "catalogue_capabilities": ["tools"],
    },
    {
        "slug": "vision",
        "name": "Vision",
        "parent": "text-generation",
        "description": "Text models that read images.",
        "input_modalities": ["image"],
    },
    {
        "slug": "embeddings",
        "name": "Embeddings",
        "parent": None,
        "endpoint": "embeddings",
        "description": "Embedding models.",
        "catalogue_capabilities": ["embeddings"],
    },
]
FIELDS = (
    "name",
    "description",
    "endpoint",
    "catalogue_capabilities",
    "excluded_capabilities",
    "input_modalities",
    "output_modalities",
    "member_pattern",
)


def capability_tree_ensure(capability_model, *, reset: bool = False) -> list[str]:
    """Create the missing default nodes (parents first); `reset` restores the defaults' own requirements.

    Takes the model class so the data migration can pass its historical model.
    """
    created = []
    by_slug = {}
    for node in DEFAULT_TREE:
        values = {name: node.get(name, [] if name.endswith(("capabilities", "modalities")) else "") for name in FIELDS}
        values["endpoint"] = values["endpoint"] or "chat"
        values["parent"] = by_slug.get(node["parent"])
        capability, was_created = capability_model.objects.get_or_create(
            slug=node["slug"], defaults={**values, "is_default": True}
        )
        if was_created:
            created.append(node["slug"])
        elif reset:
            for name, value in values.items():
                setattr(capability, name, value)
            capability.is_default = True
            capability.save()
        by_slug[node["slug"]] = capability
    return created
