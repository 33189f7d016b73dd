"""OpenAPI request schemas of the built-in APIs (their ``$defs`` are lifted with an empty prefix)."""

from __future__ import annotations

from typing import Any

_STR = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}

SQL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["sql"],
    "properties": {
        "sql": {**_STR, "description": "A SQL query (itself a template) to run on the OLAP connector"},
        "connector": {**_STR, "description": "The OLAP connector to run the query on"},
        "priority": {**_INT, "description": "Query priority"},
    },
}

METRICS_SQL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["sql"],
    "properties": {
        "sql": {**_STR, "description": "A metrics SQL query"},
        "priority": {**_INT, "description": "Query priority"},
        "additional_where": {"$ref": "#/$defs/Expression"},
    },
    "$defs": {},  # filled below
}

_DEFS: dict[str, Any] = {
    "Expression": {
        "type": "object",
        "description": "A filter expression: a field name, a literal value, a condition or a subquery",
        "properties": {
            "name": _STR,
            "val": {},
            "cond": {"$ref": "#/$defs/Condition"},
            "subquery": {"$ref": "#/$defs/Subquery"},
        },
    },
    "Condition": {
        "type": "object",
        "required": ["op"],
        "properties": {
            "op": {
                "type": "string",
                "enum": ["eq", "neq", "lt", "lte", "gt", "gte", "in", "nin", "ilike", "nilike", "or", "and"],
            },
            "exprs": {"type": "array", "items": {"$ref": "#/$defs/Expression"}},
        },
    },
    "Subquery": {
        "type": "object",
        "properties": {
            "dimension": {"$ref": "#/$defs/Dimension"},
            "measures": {"type": "array", "items": {"$ref": "#/$defs/Measure"}},
            "where": {"$ref": "#/$defs/Expression"},
            "having": {"$ref": "#/$defs/Expression"},
        },
    },
    "Dimension": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": _STR,
            "compute": {
                "type": "object",
                "properties": {
                    "time_floor": {
                        "type": "object",
                        "properties": {"dimension": _STR, "grain": _STR},
                    },
                },
            },
        },
    },
    "Measure": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": _STR,
            "compute": {
                "type": "object",
                "properties": {
                    "count": _BOOL,
                    "count_distinct": {"type": "object", "properties": {"dimension": _STR}},
                    "expression": {"type": "object", "properties": {"expression": _STR}},
                },
            },
        },
    },
    "Sort": {"type": "object", "required": ["name"], "properties": {"name": _STR, "desc": _BOOL}},
    "TimeRange": {
        "type": "object",
        "properties": {
            "start": {"type": "string", "format": "date-time"},
            "end": {"type": "string", "format": "date-time"},
            "iso_duration": _STR,
            "iso_offset": _STR,
            "round_to_grain": _STR,
            "time_dimension": _STR,
        },
    },
}

METRICS_SQL_SCHEMA["$defs"] = {
    "Expression": _DEFS["Expression"],
    "Condition": _DEFS["Condition"],
    "Subquery": _DEFS["Subquery"],
    "Dimension": _DEFS["Dimension"],
    "Measure": _DEFS["Measure"],
}

METRICS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["metrics_view"],
    "properties": {
        "metrics_view": _STR,
        "dimensions": {"type": "array", "items": {"$ref": "#/$defs/Dimension"}},
        "measures": {"type": "array", "items": {"$ref": "#/$defs/Measure"}},
        "sort": {"type": "array", "items": {"$ref": "#/$defs/Sort"}},
        "where": {"$ref": "#/$defs/Expression"},
        "having": {"$ref": "#/$defs/Expression"},
        "time_range": {"$ref": "#/$defs/TimeRange"},
        "limit": _INT,
        "offset": _INT,
        "time_zone": _STR,
        "use_display_names": _BOOL,
        "rows": _BOOL,
        "priority": _INT,
        "execution_time": {"type": "string", "format": "date-time"},
    },
    "$defs": _DEFS,
}
