"""The check functions behind `reevo_infra.requirements.PROPERTIES`, by requirement area.

Resource checks take `(resource_type, props, environment)` and return why the resource breaks
the property, or None. Stack checks take every resource (`view.Resource`) and return one
`view.Finding` per resource they judged.
"""
