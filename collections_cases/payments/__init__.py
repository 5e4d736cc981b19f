"""Incoming payments: bank file parsers (camt.054, OCR giro), KID matching and allocation."""
