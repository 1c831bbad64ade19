"""A register coming in: the catalogue (`catalog`), fetching it (`harvest`), parsing it
(`parse`), validating it (`validation`), the gate every version passes (`gate`), loading the
catalogue (`load`), writes from the HTTP API (`writes`) and spreadsheets (`csv_table`,
`csv_import`, `names`)."""
