#!/usr/bin/env python3
"""Compare reqlock's parse of requirements files with pip's own parser.

Reads a JSON list on stdin: [{"path": FILE, "reqlock": DOCUMENT|null}], where
DOCUMENT is the output of `reqlock list --format json FILE` and null means
reqlock rejected the file. Prints a JSON list with one object per file:
  {"path": FILE, "pip": "accepted"|"rejected", "pip_error": str|null,
   "mismatches": [str]}
Specifiers and markers are compared by meaning (packaging's equality), not by
spelling, because pip itself compares them that way. One process handles
every file so that pip is imported once.
"""
import json
import logging
import sys

logging.disable(logging.CRITICAL)

from pip._internal.network.session import PipSession
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.req.req_file import parse_requirements
from pip._internal.utils.urls import path_to_url
from pip._vendor.packaging.markers import Marker
from pip._vendor.packaging.specifiers import SpecifierSet
from pip._vendor.packaging.utils import canonicalize_name


def pip_requirements(path):
    seen = []
    for parsed in parse_requirements(path, session=PipSession()):
        req = install_req_from_parsed_requirement(parsed)
        hashes = sorted(
            f"{algo}:{digest}"
            for algo, digests in (req.hash_options or {}).items()
            for digest in digests
        )
        seen.append({
            "name": canonicalize_name(req.req.name) if req.req else None,
            "specifier": req.req.specifier if req.req else SpecifierSet(""),
            "extras": sorted(canonicalize_name(e) for e in req.extras),
            "marker": str(req.markers) if req.markers else None,
            "url": req.link.url if req.link else None,
            "editable": bool(req.editable),
            "constraint": bool(req.constraint),
            "hashes": hashes,
        })
    return seen


def reqlock_url(url):
    if url is None or ":" in url.split("/", 1)[0]:
        return url
    return path_to_url(url)


def arbitrary(specifiers):
    """The `===` versions as written: equal specifier sets may still differ
    here, because older packaging canonicalizes them when comparing."""
    return sorted(s.version.lower() for s in specifiers if s.operator == "===")


def compare(pip_reqs, ours):
    mismatches = []
    if len(pip_reqs) != len(ours):
        mismatches.append(f"pip saw {len(pip_reqs)} requirements, reqlock {len(ours)}")
    for index, (theirs, mine) in enumerate(zip(pip_reqs, ours)):
        where = f"#{index} ({mine.get('file')}:{mine.get('line')})"
        checks = {
            "name": (theirs["name"], mine["name"]),
            "specifier": (theirs["specifier"], SpecifierSet(mine["specifier"])),
            "arbitrary equality": (
                arbitrary(theirs["specifier"]),
                arbitrary(SpecifierSet(mine["specifier"])),
            ),
            "extras": (theirs["extras"], sorted(canonicalize_name(e) for e in mine["extras"])),
            "marker": (theirs["marker"], str(Marker(mine["marker"])) if mine["marker"] else None),
            "url": (theirs["url"], reqlock_url(mine["url"])),
            "editable": (theirs["editable"], mine["editable"]),
            "constraint": (theirs["constraint"], mine["constraint"]),
            "hashes": (theirs["hashes"], sorted(mine["hashes"])),
        }
        for field, (pip_value, our_value) in checks.items():
            if pip_value != our_value:
                mismatches.append(f"{where} {field}: pip={pip_value!s} reqlock={our_value!s}")
    return mismatches


def check(job):
    path, ours = job["path"], job["reqlock"]
    try:
        pip_reqs = pip_requirements(path)
    except BaseException as exc:  # pip rejects the file (any error, even a recursion)
        return {"path": path, "pip": "rejected", "pip_error": f"{type(exc).__name__}: {exc}", "mismatches": []}
    if ours is None:
        mismatches = ["reqlock rejected a file pip accepts"]
    else:
        mismatches = compare(pip_reqs, ours["requirements"])
    return {"path": path, "pip": "accepted", "pip_error": None, "mismatches": mismatches}


def main():
    sys.setrecursionlimit(400)
    jobs = json.load(sys.stdin)
    print(json.dumps([check(job) for job in jobs], indent=1))


if __name__ == "__main__":
    main()
