"""Sprig v3 defaults, lists, dicts, reflection, paths, URLs and JSON (Go semantics, Go errors)."""

from __future__ import annotations

import copy
import math
import urllib.parse
from collections.abc import Mapping
from typing import Any

from emulator.templating import gojson
from emulator.templating.errors import GoPanic
from emulator.templating.funcs import BOOL, IFACE, INT, MAP, STRING, GoFunc, gofunc
from emulator.templating.values import GoList, GoMap, empty, gotype, kind, strval

_NIL_DEREF = "runtime error: invalid memory address or nil pointer dereference"


def _list_kind(v: Any) -> str:
    """reflect.TypeOf(v).Kind() as Sprig's list functions use it (nil panics, as in Go)."""
    if v is None:
        raise GoPanic(_NIL_DEREF)
    return kind(v)


def _as_list(v: Any, message: str) -> list[Any]:
    """The elements of a slice; ``message`` (with {} for the kind) is Sprig's error otherwise."""
    k = _list_kind(v)
    if k != "slice":
        raise GoPanic(message.format(k))
    return list(v)


def deep_equal(a: Any, b: Any) -> bool:
    """reflect.DeepEqual on template values: same Go types, equal contents."""
    if a is None or b is None:
        return a is b
    if gotype(a) != gotype(b):
        return False
    if isinstance(a, (list, tuple)):
        if isinstance(a, GoList) and isinstance(b, GoList) and a.nil != b.nil:
            return False
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping):
        if isinstance(a, GoMap) and isinstance(b, GoMap) and a.nil != b.nil:
            return False
        return a.keys() == b.keys() and all(deep_equal(a[k], b[k]) for k in a)
    if type(a) is float and math.isnan(a):
        return False
    return bool(a == b)


def _in_list(haystack: list[Any], needle: Any) -> bool:
    return any(deep_equal(needle, h) for h in haystack)


def _default(d: Any, *given: Any) -> Any:
    if not given or empty(given[0]):
        return d
    return given[0]


def _coalesce(*values: Any) -> Any:
    for v in values:
        if not empty(v):
            return v
    return None


def _to_json(v: Any) -> str:
    try:
        return gojson.marshal(v)
    except GoPanic:
        return ""


def _to_pretty_json(v: Any) -> str:
    try:
        return gojson.marshal(v, indent="  ")
    except GoPanic:
        return ""


def _to_raw_json(v: Any) -> str:
    try:
        return gojson.marshal(v, escape_html=False)
    except GoPanic:
        return ""


def _from_json(v: str) -> Any:
    try:
        return gojson.unmarshal(v)
    except GoPanic:
        return None


def _push(lst: Any, v: Any) -> list[Any]:
    return [*_as_list(lst, "Cannot push on type {}"), v]


def _prepend(lst: Any, v: Any) -> list[Any]:
    return [v, *_as_list(lst, "Cannot prepend on type {}")]


def _first(lst: Any) -> Any:
    items = _as_list(lst, "Cannot find first on type {}")
    return items[0] if items else None


def _last(lst: Any) -> Any:
    items = _as_list(lst, "Cannot find last on type {}")
    return items[-1] if items else None


def _rest(lst: Any) -> list[Any]:
    items = _as_list(lst, "Cannot find rest on type {}")
    return items[1:] if items else GoList(nil=True)


def _initial(lst: Any) -> list[Any]:
    items = _as_list(lst, "Cannot find initial on type {}")
    return items[:-1] if items else GoList(nil=True)


def _reverse(lst: Any) -> list[Any]:
    return _as_list(lst, "Cannot find reverse on type {}")[::-1]


def _compact(lst: Any) -> list[Any]:
    return [x for x in _as_list(lst, "Cannot compact on type {}") if not empty(x)]


def _uniq(lst: Any) -> list[Any]:
    out: list[Any] = []
    for x in _as_list(lst, "Cannot find uniq on type {}"):
        if not _in_list(out, x):
            out.append(x)
    return out


def _without(lst: Any, *omit: Any) -> list[Any]:
    return [x for x in _as_list(lst, "Cannot find without on type {}") if not _in_list(list(omit), x)]


def _has(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    return _in_list(_as_list(haystack, "Cannot find has on type {}"), needle)


def _slice(lst: Any, *indices: Any) -> Any:
    from emulator.templating.sprig_numeric import to_int64

    k = _list_kind(lst)
    if k != "slice":
        raise GoPanic(f"list should be type of slice or array but {k}")
    n = len(lst)
    if n == 0:
        return None
    start = to_int64(indices[0]) if indices else 0
    end = to_int64(indices[1]) if len(indices) >= 2 else n
    if not 0 <= start <= end <= n:
        raise GoPanic("reflect.Value.Slice: slice index out of range")
    part = lst[start:end]
    return GoList(part, elem=lst.elem) if isinstance(lst, GoList) else part


def _concat(*lists: Any) -> Any:
    out: list[Any] = []
    for lst in lists:
        k = _list_kind(lst)
        if k != "slice":
            raise GoPanic(f"Cannot concat type {k} as list")
        out.extend(lst)
    return out if out else GoList(nil=True)


def _chunk(size: int, lst: Any) -> GoList:
    items = _as_list(lst, "Cannot chunk type {}")
    if size <= 0:
        raise GoPanic("runtime error: makeslice: len out of range")
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    return GoList(chunks, elem="[]interface {}")


def _get(d: Mapping[str, Any], key: str) -> Any:
    return d.get(key, "")


def _set(d: Mapping[str, Any], key: str, value: Any) -> Mapping[str, Any]:
    if isinstance(d, GoMap) and d.nil:
        raise GoPanic("assignment to entry in nil map")
    d[key] = value  # type: ignore[index]  # Go maps are shared: Sprig mutates them
    return d


def _unset(d: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    if key in d and not (isinstance(d, GoMap) and d.nil):
        del d[key]  # type: ignore[attr-defined]
    return d


def _pluck(key: str, *dicts: Mapping[str, Any]) -> list[Any]:
    return [d[key] for d in dicts if key in d]


def _keys(*dicts: Mapping[str, Any]) -> GoList:
    return GoList([k for d in dicts for k in d], elem="string")


def _pick(d: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: d[k] for k in keys if k in d}


def _omit(d: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in keys}


def _dict(*v: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(v), 2):
        out[strval(v[i])] = v[i + 1] if i + 1 < len(v) else ""
    return out


def _merge_into(dst: Any, src: Mapping[str, Any], override: bool) -> None:
    for k, sv in src.items():
        if k in dst:
            dv = dst[k]
            if isinstance(dv, Mapping) and isinstance(sv, Mapping):
                _merge_into(dv, sv, override)
            elif (override and not empty(sv)) or (not override and empty(dv)):
                dst[k] = sv
        else:
            dst[k] = sv


def _merge(override: bool) -> Any:
    def run(dst: Mapping[str, Any], *srcs: Mapping[str, Any]) -> Any:
        if isinstance(dst, GoMap) and dst.nil and any(srcs):
            raise GoPanic("assignment to entry in nil map")
        for src in srcs:
            _merge_into(dst, src, override)
        return dst

    return run


def _dig(*ps: Any) -> Any:
    if len(ps) < 3:
        raise GoPanic("dig needs at least three arguments")
    d = ps[-1]
    if not isinstance(d, Mapping):
        raise GoPanic(f"interface conversion: interface {{}} is {_dyn(d)}, not map[string]interface {{}}")
    default = ps[-2]
    keys = []
    for k in ps[:-2]:
        if type(k) is not str:
            raise GoPanic(f"interface conversion: interface {{}} is {_dyn(k)}, not string")
        keys.append(k)
    cur: Any = d
    for i, k in enumerate(keys):
        if k not in cur:
            return default
        cur = cur[k]
        if i < len(keys) - 1 and not isinstance(cur, Mapping):
            raise GoPanic(
                f"interface conversion: interface {{}} is {_dyn(cur)}, not map[string]interface {{}}"
            )
    return cur


def _dyn(v: Any) -> str:
    return "nil" if v is None else gotype(v)


def _deep_copy(v: Any) -> Any:
    if v is None:
        raise GoPanic("copystructure: nil value")
    return copy.deepcopy(v)


def go_clean(p: str) -> str:
    """Go's ``path.Clean``."""
    if p == "":
        return "."
    rooted = p.startswith("/")
    parts: list[str] = []
    for seg in p.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(seg)
    out = "/".join(parts)
    if rooted:
        return "/" + out
    return out or "."


def _base(p: str) -> str:
    if p == "":
        return "."
    p = p.rstrip("/")
    if p == "":
        return "/"
    return p.rsplit("/", 1)[-1]


def _dir(p: str) -> str:
    head = p[: p.rfind("/") + 1]
    return go_clean(head)


def _ext(p: str) -> str:
    for i in range(len(p) - 1, -1, -1):
        if p[i] == "/":
            break
        if p[i] == ".":
            return p[i:]
    return ""


def _url_parse(v: str) -> dict[str, Any]:
    u = urllib.parse.urlsplit(v)
    userinfo = ""
    host = u.netloc
    if "@" in u.netloc:
        userinfo, host = u.netloc.rsplit("@", 1)
    hostname = host
    if host.startswith("["):
        hostname = host[1 : host.find("]")] if "]" in host else host
    elif ":" in host:
        hostname = host.split(":", 1)[0]
    return {
        "scheme": u.scheme,
        "host": host,
        "hostname": hostname,
        "path": urllib.parse.unquote(u.path),
        "query": u.query,
        "opaque": "",
        "fragment": urllib.parse.unquote(u.fragment),
        "userinfo": userinfo,
    }


def _url_join(d: Mapping[str, Any]) -> str:
    def part(key: str) -> str:
        v = d.get(key)
        if v is None:
            return ""
        if type(v) is not str:
            conversion = f"interface conversion: interface {{}} is {gotype(v)}, not string"
            raise GoPanic(f"unable to parse {key} field: {conversion}")
        return v

    netloc = part("host")
    if part("userinfo"):
        netloc = part("userinfo") + "@" + netloc
    return urllib.parse.urlunsplit((part("scheme"), netloc, part("path"), part("query"), part("fragment")))


def _type_is_like(target: str, src: Any) -> bool:
    t = gotype(src)
    return target == t or "*" + target == t


def _unsupported(name: str) -> GoFunc:
    def fail(*_: Any) -> Any:
        raise GoPanic(f"function {name!r} is not supported by rill-emu")

    return gofunc(variadic=IFACE)(fail)


_UNSUPPORTED = (
    "bcrypt",
    "htpasswd",
    "genPrivateKey",
    "derivePassword",
    "buildCustomCert",
    "genCA",
    "genCAWithKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "encryptAES",
    "decryptAES",
    "semver",
    "semverCompare",
    "getHostByName",
)


DATA: dict[str, GoFunc] = {
    "default": gofunc(IFACE, variadic=IFACE, iface_result=True)(_default),
    "empty": gofunc(IFACE)(empty),
    "coalesce": gofunc(variadic=IFACE, iface_result=True)(_coalesce),
    "all": gofunc(variadic=IFACE)(lambda *v: all(not empty(x) for x in v)),
    "any": gofunc(variadic=IFACE)(lambda *v: any(not empty(x) for x in v)),
    "compact": gofunc(IFACE)(_compact),
    "mustCompact": gofunc(IFACE)(_compact),
    "fromJson": gofunc(STRING, iface_result=True)(_from_json),
    "toJson": gofunc(IFACE)(_to_json),
    "toPrettyJson": gofunc(IFACE)(_to_pretty_json),
    "toRawJson": gofunc(IFACE)(_to_raw_json),
    "mustFromJson": gofunc(STRING, iface_result=True)(gojson.unmarshal),
    "mustToJson": gofunc(IFACE)(gojson.marshal),
    "mustToPrettyJson": gofunc(IFACE)(lambda v: gojson.marshal(v, indent="  ")),
    "mustToRawJson": gofunc(IFACE)(lambda v: gojson.marshal(v, escape_html=False)),
    "ternary": gofunc(IFACE, IFACE, BOOL, iface_result=True)(lambda vt, vf, v: vt if v else vf),
    "deepCopy": gofunc(IFACE, iface_result=True)(_deep_copy),
    "mustDeepCopy": gofunc(IFACE, iface_result=True)(_deep_copy),
    "typeOf": gofunc(IFACE)(gotype),
    "typeIs": gofunc(STRING, IFACE)(lambda target, src: target == gotype(src)),
    "typeIsLike": gofunc(STRING, IFACE)(_type_is_like),
    "kindOf": gofunc(IFACE)(kind),
    "kindIs": gofunc(STRING, IFACE)(lambda target, src: target == kind(src)),
    "deepEqual": gofunc(IFACE, IFACE)(deep_equal),
    "base": gofunc(STRING)(_base),
    "dir": gofunc(STRING)(_dir),
    "clean": gofunc(STRING)(go_clean),
    "ext": gofunc(STRING)(_ext),
    "isAbs": gofunc(STRING)(lambda p: p.startswith("/")),
    "osBase": gofunc(STRING)(_base),
    "osClean": gofunc(STRING)(go_clean),
    "osDir": gofunc(STRING)(_dir),
    "osExt": gofunc(STRING)(_ext),
    "osIsAbs": gofunc(STRING)(lambda p: p.startswith("/")),
    "tuple": gofunc(variadic=IFACE)(lambda *v: list(v)),
    "list": gofunc(variadic=IFACE)(lambda *v: list(v)),
    "dict": gofunc(variadic=IFACE)(_dict),
    "get": gofunc(MAP, STRING, iface_result=True)(_get),
    "set": gofunc(MAP, STRING, IFACE)(_set),
    "unset": gofunc(MAP, STRING)(_unset),
    "hasKey": gofunc(MAP, STRING)(lambda d, k: k in d),
    "pluck": gofunc(STRING, variadic=MAP)(_pluck),
    "keys": gofunc(variadic=MAP)(_keys),
    "pick": gofunc(MAP, variadic=STRING)(_pick),
    "omit": gofunc(MAP, variadic=STRING)(_omit),
    "merge": gofunc(MAP, variadic=MAP, iface_result=True)(_merge(False)),
    "mergeOverwrite": gofunc(MAP, variadic=MAP, iface_result=True)(_merge(True)),
    "mustMerge": gofunc(MAP, variadic=MAP, iface_result=True)(_merge(False)),
    "mustMergeOverwrite": gofunc(MAP, variadic=MAP, iface_result=True)(_merge(True)),
    "values": gofunc(MAP)(lambda d: list(d.values())),
    "append": gofunc(IFACE, IFACE)(_push),
    "push": gofunc(IFACE, IFACE)(_push),
    "mustAppend": gofunc(IFACE, IFACE)(_push),
    "mustPush": gofunc(IFACE, IFACE)(_push),
    "prepend": gofunc(IFACE, IFACE)(_prepend),
    "mustPrepend": gofunc(IFACE, IFACE)(_prepend),
    "first": gofunc(IFACE, iface_result=True)(_first),
    "mustFirst": gofunc(IFACE, iface_result=True)(_first),
    "rest": gofunc(IFACE)(_rest),
    "mustRest": gofunc(IFACE)(_rest),
    "last": gofunc(IFACE, iface_result=True)(_last),
    "mustLast": gofunc(IFACE, iface_result=True)(_last),
    "initial": gofunc(IFACE)(_initial),
    "mustInitial": gofunc(IFACE)(_initial),
    "reverse": gofunc(IFACE)(_reverse),
    "mustReverse": gofunc(IFACE)(_reverse),
    "uniq": gofunc(IFACE)(_uniq),
    "mustUniq": gofunc(IFACE)(_uniq),
    "without": gofunc(IFACE, variadic=IFACE)(_without),
    "mustWithout": gofunc(IFACE, variadic=IFACE)(_without),
    "has": gofunc(IFACE, IFACE)(_has),
    "mustHas": gofunc(IFACE, IFACE)(_has),
    "slice": gofunc(IFACE, variadic=IFACE, iface_result=True)(_slice),
    "mustSlice": gofunc(IFACE, variadic=IFACE, iface_result=True)(_slice),
    "concat": gofunc(variadic=IFACE, iface_result=True)(_concat),
    "dig": gofunc(variadic=IFACE, iface_result=True)(_dig),
    "chunk": gofunc(INT, IFACE)(_chunk),
    "mustChunk": gofunc(INT, IFACE)(_chunk),
    "urlParse": gofunc(STRING)(_url_parse),
    "urlJoin": gofunc(MAP)(_url_join),
    **{name: _unsupported(name) for name in _UNSUPPORTED},
}
