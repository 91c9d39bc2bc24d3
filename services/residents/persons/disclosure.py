"""What a disclosure of a person's whole personal data shows; the audit record itself is written by
:func:`libs.common.audit.record_disclosures`."""

DISCLOSED_FIELDS = ("name", "id_number", "birth_date", "phone", "address")
