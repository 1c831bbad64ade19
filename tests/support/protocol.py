"""What the SPARQL protocol tests share: the protocol's media types and two registers to name.

`tests/test_sparql_protocol.py` (the recommendation, through the Flask client) and
`tests/test_protocol_suite.py` (the W3C test suite's cases, against `s22a serve`) both use them.
"""

from s22a.namespaces import register_iri

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"  # a query sent directly as the body (Protocol 2.1.3)
UPDATE = "application/sparql-update"
JSON_RESULTS = "application/sparql-results+json"
XML_RESULTS = "application/sparql-results+xml"
MERSEYSIDE = register_iri("merseyside")
CHESHIRE = register_iri("cheshire")
