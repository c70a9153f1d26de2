#!/usr/bin/env python3
"""Reads the JSON parts of a guest report for tests/e2e (host side).

  report.py journal FILE [--field NAME] [FILTER...]
      FILE is `journalctl -o json` output (one object per line). Prints NAME
      (default MESSAGE) of every entry matching all filters, one per line:
      KEY=VALUE (field equals), KEY~REGEX (field matches), KEY (present),
      !KEY (absent).
  report.py json FILE EXPR
      Prints EXPR evaluated with `d` bound to the parsed FILE: strings as
      they are, anything else as JSON. Example: d["stages"]["init"]["status"]
"""
import json
import re
import sys


def field_text(value):
    # journalctl -o json gives bytes it cannot print as UTF-8 as a list of ints.
    if isinstance(value, list):
        try:
            return bytes(value).decode("utf-8", "replace")
        except (TypeError, ValueError):
            return json.dumps(value)
    return "" if value is None else str(value)


def matches(entry, flt):
    if flt.startswith("!"):
        return flt[1:] not in entry
    if "=" in flt:
        key, value = flt.split("=", 1)
        return key in entry and field_text(entry[key]) == value
    if "~" in flt:
        key, pattern = flt.split("~", 1)
        return key in entry and re.search(pattern, field_text(entry[key])) is not None
    return flt in entry


def journal(args):
    path = args[0]
    field = "MESSAGE"
    filters = []
    rest = args[1:]
    i = 0
    while i < len(rest):
        if rest[i] == "--field":
            field = rest[i + 1]
            i += 2
            continue
        filters.append(rest[i])
        i += 1
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if all(matches(entry, flt) for flt in filters):
                print(field_text(entry.get(field)))
    return 0


def json_expr(args):
    path, expr = args[0], args[1]
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    value = eval(expr, {"__builtins__": {"len": len, "sorted": sorted, "set": set}}, {"d": d})
    print(value if isinstance(value, str) else json.dumps(value))
    return 0


def main(argv):
    if len(argv) < 3 or argv[1] not in ("journal", "json"):
        sys.stderr.write(__doc__)
        return 2
    try:
        return journal(argv[2:]) if argv[1] == "journal" else json_expr(argv[2:])
    except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
        sys.stderr.write("report.py: %s: %s\n" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
