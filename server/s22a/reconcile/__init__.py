"""Reconciliation across registers: where they disagree and who has not confirmed what names
them (`compute`), and those findings as text and RDF (`findings`)."""
