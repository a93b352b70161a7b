"""Run one PEP 517 hook of a build backend for `reqlock lock`.

Usage: python build_hook.py HOOK BACKEND RESULT_FILE OUTPUT_DIR [BACKEND_PATH...]

HOOK is `get_requires_for_build_wheel` or `prepare_metadata_for_build_wheel`,
or their PEP 660 `_editable` forms, which fall back to the wheel hooks for a
backend without them (the metadata is the same).
The current directory is the unpacked sdist. The answer is written to
RESULT_FILE as JSON, because the backend may print anything on stdout:
- get_requires_for_build_wheel: a list of requirement strings;
- prepare_metadata_for_build_wheel: {"metadata": path to METADATA} or, for
  a backend without that hook, {"wheel": path to the wheel it built}.
Exit status 0 means the hook succeeded; otherwise stderr says why.
"""

import importlib
import json
import os
import sys


def load_backend(spec, backend_path):
    module_name, _, attribute = spec.partition(":")
    roots = [os.path.abspath(entry) for entry in backend_path]
    # PEP 517: backend-path entries come first, and the project root is on
    # sys.path only through them.
    sys.path[:0] = roots
    backend = importlib.import_module(module_name.strip())
    if roots:
        # PEP 517: an in-tree backend must come from backend-path, not from
        # an installed package that happens to have the same name.
        location = os.path.abspath(getattr(backend, "__file__", None) or "")
        if not any(location.startswith(root + os.sep) for root in roots):
            sys.exit(
                f"backend {spec} was loaded from {location}, outside backend-path"
            )
    for name in filter(None, attribute.strip().split(".")):
        backend = getattr(backend, name)
    return backend


def main(argv):
    hook, spec, result_file, output_dir, *backend_path = argv
    # This script's own folder is not part of the project.
    del sys.path[0]
    # Everything the backend prints goes to stderr, which reqlock shows
    # when the hook fails; stdout stays unused.
    os.dup2(2, 1)
    backend = load_backend(spec, backend_path)
    editable = hook.endswith("_editable")
    if hook in ("get_requires_for_build_wheel", "get_requires_for_build_editable"):
        get_requires = getattr(backend, hook, None)
        if get_requires is None and editable:
            get_requires = getattr(backend, "get_requires_for_build_wheel", None)
        # PEP 517: a backend without the hook needs nothing more.
        result = list(get_requires()) if get_requires else []
    elif hook in (
        "prepare_metadata_for_build_wheel",
        "prepare_metadata_for_build_editable",
    ):
        prepare = getattr(backend, hook, None)
        if prepare is None and editable:
            prepare = getattr(backend, "prepare_metadata_for_build_wheel", None)
        build = getattr(backend, "build_editable", None) if editable else None
        if prepare is not None:
            dist_info = prepare(output_dir)
            result = {"metadata": os.path.join(output_dir, dist_info, "METADATA")}
        else:
            wheel = (build or backend.build_wheel)(output_dir)
            result = {"wheel": os.path.join(output_dir, wheel)}
    else:
        sys.exit(f"unknown hook {hook}")
    with open(result_file, "w", encoding="utf-8") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main(sys.argv[1:])
