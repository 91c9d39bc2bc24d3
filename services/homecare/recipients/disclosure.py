"""What a disclosure of a recipient's (or an order's) whole personal data shows; the audit record itself is
written by :func:`libs.common.audit.record_disclosures`."""

DISCLOSED_FIELDS = ("name", "id_number", "phone", "address", "emergency_contact", "coordinates")
