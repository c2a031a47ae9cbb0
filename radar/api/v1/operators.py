"""/v1/operators: who runs which CI system (writes need a 'write' token)."""

from radar.api import auth
from radar.api.v1 import base, types
from radar.db import api as db_api

MAX_SYSTEMS = 200


def _get(ident):
    row = db_api.operator_get(base.session(), base.parse_text("id", ident, required=True))
    if row is None:
        raise base.not_found("Operator", ident)
    return row


def _values(body, creating):
    values = {}
    if types.is_set(body.name):
        if body.name is None or not body.name.strip():
            raise base.invalid("name", "must be a non-empty string")
        if body.name.strip().isascii() and body.name.strip().isdigit():
            raise base.invalid("name", "must not be a number (numbers are operator ids)")
        base.parse_text("name", body.name.strip())
        values["name"] = body.name.strip()
    elif creating:
        raise base.invalid("name", "is required")
    for field in ("email", "contact"):
        value = getattr(body, field)
        if types.is_set(value):
            values[field] = value.strip() if value and value.strip() else None
    systems = None
    if types.is_set(body.systems):
        systems = []
        for name in body.systems or []:
            if not isinstance(name, str) or not name.strip():
                raise base.invalid("systems", "every item must be a CI system id or name")
            base.parse_text("systems", name)
            systems.append(name.strip())
        if len(systems) > MAX_SYSTEMS:
            raise base.invalid("systems", "at most %d systems" % MAX_SYSTEMS)
    return values, systems


def _check_systems(systems):
    for name in systems or []:
        if db_api.system_get(base.session(), name) is None:
            raise base.invalid("systems", "no CI system %r" % name[:80])


class OperatorsController(base.Resource):
    routes = (
        ("GET", (), "get_all"),
        ("POST", (), "post"),
        ("GET", ("*",), "get_one"),
        ("PUT", ("*",), "put"),
        ("DELETE", ("*",), "delete"),
    )

    @base.expose([types.Operator], types.text, types.text, types.text)
    def get_all(self, q=None, limit=None, marker=None):
        q = base.parse_text("q", q)
        limit = base.parse_limit(limit)
        marker = base.parse_int("marker", marker, minimum=0)
        items = db_api.operator_list(base.session(), q=q)
        page = base.paginate(items, limit, marker)
        base.mark_csv(types.Operator.fields())
        return [types.Operator.from_dict(i) for i in page]

    @base.expose(types.Operator, types.text)
    def get_one(self, ident):
        return types.Operator.from_dict(_get(ident))

    @base.expose(types.Operator, body=types.OperatorInput, status_code=201)
    def post(self, body):
        session = base.session()
        auth.require("write")
        values, systems = _values(body, creating=True)
        _check_systems(systems)
        row = db_api.operator_create(session, systems=systems, **values)
        session.commit()
        base.set_header("Location", "%s/v1/operators/%d" % (
            base.host_url(), row["id"]))
        return types.Operator.from_dict(row)

    @base.expose(types.Operator, types.text, body=types.OperatorInput)
    def put(self, ident, body):
        session = base.session()
        auth.require("write")
        row = _get(ident)
        values, systems = _values(body, creating=False)
        _check_systems(systems)
        row = db_api.operator_update(session, row["id"], values, systems=systems)
        session.commit()
        return types.Operator.from_dict(row)

    @base.expose(None, types.text, status_code=204)
    def delete(self, ident):
        session = base.session()
        auth.require("write")
        row = _get(ident)
        db_api.operator_delete(session, row["id"])
        session.commit()
