#!/usr/bin/env python3
"""Reads Prometheus text exposition (format 0.0.4) on stdin with the Prometheus
organisation's own Python parser (prometheus_client), and prints every sample as JSON:
[[name, {label: value}, value], ...]. Malformed exposition makes the parser raise: exit 1.
An independent peer for kpr-bridge's /metrics (tests/status.rs)."""

import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> int:
    text = sys.stdin.read()
    samples = []
    for family in text_string_to_metric_families(text):
        if not family.documentation:
            print(f"family {family.name} has no HELP text", file=sys.stderr)
            return 1
        for sample in family.samples:
            value = sample.value
            if math.isinf(value):
                value = "+Inf" if value > 0 else "-Inf"
            samples.append([sample.name, dict(sample.labels), value])
    json.dump(samples, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
