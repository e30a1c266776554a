#!/usr/bin/env python3
"""Keeps every Terraform module's README true to its code.

    scripts/tf-module-docs.py            check (make tf-check): exit 1 naming each README that differs
    scripts/tf-module-docs.py --write    rewrite the generated tables (make tf-docs)

Each terraform/modules/<name>/README.md is written by hand (what the module is for, an example) except for
the part between the BEGIN/END markers, which is the inputs and outputs tables generated from the
module's `variable` and `output` blocks. The check also parses the README's first ```hcl example: it must
call this module and set every required input and no input the module does not have.

Needs python-hcl2 (make installs it into .tools/hcl).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import hcl2
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "terraform" / "modules"
BEGIN = "<!-- BEGIN_TF_DOCS: generated from variables.tf and outputs.tf by `make tf-docs`; edit those, not this -->"
END = "<!-- END_TF_DOCS -->"
OPTIONS = SerializationOptions(
    with_comments=False, explicit_blocks=False, wrap_objects=True, wrap_tuples=True, preserve_heredocs=False
)
META_ARGUMENTS = {"source", "version", "providers", "count", "for_each", "depends_on"}


def unquote(value) -> str:
    """A serialized HCL string ('"text"') as its text."""
    if isinstance(value, str) and len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value[1:-1]
    return str(value)


def expression(value) -> str:
    """A serialized value as the HCL a reader would write."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return str(value)


def blocks(module: Path, kind: str) -> list[tuple[str, dict]]:
    found = []
    for path in sorted(module.glob("*.tf")):
        parsed = hcl2.loads(path.read_text(), serialization_options=OPTIONS)
        for block in parsed.get(kind, []):
            for name, body in block.items():
                found.append((unquote(name), body))
    return found


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|").replace("<", "\\<")


def tables(module: Path) -> tuple[str, dict[str, bool]]:
    """The generated Markdown, and each input's name with whether it is required."""
    inputs = blocks(module, "variable")
    outputs = blocks(module, "output")
    lines = [BEGIN, "## Inputs", ""]
    required: dict[str, bool] = {}
    if inputs:
        lines += ["| Name | Description | Type | Default | Required |", "| --- | --- | --- | --- | --- |"]
        for name, body in inputs:
            is_required = "default" not in body
            required[name] = is_required
            default = "n/a" if is_required else f"`{cell(expression(body['default']))}`"
            kind = f"`{cell(expression(body['type']))}`" if "type" in body else "any"
            lines.append(
                f"| `{name}` | {cell(unquote(body.get('description', '')))} | {kind} | {default} | {'yes' if is_required else 'no'} |"
            )
    else:
        lines.append("None.")
    lines += ["", "## Outputs", ""]
    if outputs:
        lines += ["| Name | Description |", "| --- | --- |"]
        for name, body in outputs:
            lines.append(f"| `{name}` | {cell(unquote(body.get('description', '')))} |")
    else:
        lines.append("None.")
    lines.append(END)
    return "\n".join(lines), required


def check_example(module: Path, readme: str, required: dict[str, bool]) -> list[str]:
    problems = []
    examples = re.findall(r"```hcl\n(.*?)```", readme, re.S)
    calls = []
    for text in examples:
        try:
            parsed = hcl2.loads(text, serialization_options=OPTIONS)
        except Exception as error:  # the parser's errors have no common base class
            problems.append(f"an ```hcl example does not parse: {error}")
            continue
        for block in parsed.get("module", []):
            for body in block.values():
                if unquote(body.get("source", "")).rstrip("/").split("/")[-1] == module.name:
                    calls.append(body)
    if not calls:
        return problems + [f"no ```hcl example calling this module (module \"...\" {{ source = \".../{module.name}\" ... }})"]
    arguments = set(calls[0]) - META_ARGUMENTS
    missing = sorted(name for name, needed in required.items() if needed and name not in arguments)
    unknown = sorted(arguments - set(required))
    if missing:
        problems.append(f"the example does not set the required input(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"the example sets input(s) the module does not have: {', '.join(unknown)}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the generated tables")
    args = parser.parse_args()

    failed = False
    modules = sorted(p for p in MODULES.iterdir() if p.is_dir())
    for module in modules:
        rel = module.relative_to(ROOT)
        readme_path = module / "README.md"
        if not readme_path.is_file():
            print(f"{rel}: no README.md (write what the module is for and an ```hcl example, then make tf-docs)")
            failed = True
            continue
        readme = readme_path.read_text()
        generated, required = tables(module)
        pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
        current = pattern.search(readme)
        if args.write:
            updated = pattern.sub(lambda _: generated, readme) if current else readme.rstrip() + "\n\n" + generated + "\n"
            if updated != readme:
                readme_path.write_text(updated)
                print(f"{rel}/README.md: tables rewritten")
            readme = updated
        elif not current:
            print(f"{rel}/README.md: no generated inputs/outputs section (run make tf-docs)")
            failed = True
        elif current.group(0) != generated:
            print(f"{rel}/README.md: inputs/outputs differ from variables.tf/outputs.tf (run make tf-docs)")
            failed = True
        for problem in check_example(module, readme, required):
            print(f"{rel}/README.md: {problem}")
            failed = True
    if failed:
        return 1
    print(f"module READMEs: {len(modules)} in sync with their variables and outputs, examples valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
