#!/usr/bin/env python3
"""validate_beacon.py SCHEMA_ROOT LIST - validates Beacon v2 responses.

LIST has one "SCHEMA RESPONSE_FILE" pair a line; SCHEMA is a path under
SCHEMA_ROOT/framework/json (e.g. responses/beaconBooleanResponse.json).
$refs resolve relative to the schema files through a local registry: no
network. Prints one line per response and exits 1 if any is invalid.
"""
import json
import pathlib
import sys

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

root = pathlib.Path(sys.argv[1]) / "framework" / "json"
resources = []
for p in root.rglob("*.json"):
    try:
        doc = json.loads(p.read_text())
    except (ValueError, UnicodeDecodeError):
        continue
    if not isinstance(doc, dict):
        continue
    resources.append((p.resolve().as_uri(),
                      Resource.from_contents(doc, default_specification=DRAFT202012)))
registry = Registry().with_resources(resources)

bad = 0
n = 0
for line in open(sys.argv[2]):
    if not line.strip():
        continue
    schema, resp = line.split()
    uri = (root / schema).resolve().as_uri()
    validator = jsonschema.Draft202012Validator({"$ref": uri}, registry=registry)
    try:
        doc = json.load(open(resp))
    except ValueError as e:
        print(f"FAILED  {resp}: not JSON: {e}")
        bad += 1
        continue
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    n += 1
    if errors:
        bad += 1
        for e in errors[:3]:
            print(f"FAILED  {resp} vs {schema}: {'/'.join(map(str, e.path))}: {e.message[:200]}")
print(f"validated {n} responses, {bad} invalid")
sys.exit(1 if bad else 0)
