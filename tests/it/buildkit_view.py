#!/usr/bin/env python3
"""Dump BuildKit's view of Dockerfiles, through the `dockerfile` package.

The package (3.4.0) wraps BuildKit's own Go parser (v0.12.5) in a shared
object; nothing else Go-built may be loaded into this process. Reads a JSON
list of paths on stdin and prints a JSON list with one object per path:
  {"path": str, "error": str|null, "commands": [
     {"cmd", "sub_cmd", "json", "original", "start_line", "end_line",
      "flags", "value", "heredocs": [{"name", "fd", "content"}]}]}
"""
import json
import sys

import dockerfile


def command(c):
    return {
        "cmd": c.cmd,
        "sub_cmd": c.sub_cmd,
        "json": c.json,
        "original": c.original,
        "start_line": c.start_line,
        "end_line": c.end_line,
        "flags": list(c.flags),
        "value": list(c.value),
        "heredocs": [
            # The wrapper hands the fd over as a C long.
            {"name": h.name, "fd": h.file_descriptor % 2**64, "content": h.content}
            for h in c.heredocs
        ],
    }


def view(path):
    try:
        commands = [command(c) for c in dockerfile.parse_file(path)]
    except dockerfile.GoParseError as err:
        return {"path": path, "error": str(err), "commands": []}
    return {"path": path, "error": None, "commands": commands}


def main():
    paths = json.load(sys.stdin)
    json.dump([view(path) for path in paths], sys.stdout)


if __name__ == "__main__":
    main()
