"""Falcon resources: thin responders that parse, call one domain function and
shape the response."""
