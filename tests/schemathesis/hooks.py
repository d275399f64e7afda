"""Schemathesis hooks for the records API (loaded through SCHEMATHESIS_HOOKS).

The contract describes an NDJSON bulk body as a string of lines: send the generated string as is,
as Schemathesis does for text/plain.
"""
import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
