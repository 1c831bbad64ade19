"""HTTP: content negotiation and the format tables (`conneg`), caching and answers
(`http`), error pages (`errors`), template filters (`filters`), security headers (`security`),
RDF serialization (`rdf`), the OpenAPI document (`openapi`), write tokens (`tokens`), and the
production server (`production`, `memory`)."""
