"""Black-box SCIM conformance tests, run against any server over HTTP."""
