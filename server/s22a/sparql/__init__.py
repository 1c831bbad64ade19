"""`/sparql`: the protocol (`protocol`), query text (`text`), the engines that run a query
within its limits (`engine`, `pool` and its `worker` processes, `remote`), federated SERVICE
calls (`federation`), the result cache (`cache`), the results table (`html`), the example
queries (`examples`), the service of one app (`service`) and its errors (`errors`)."""
