"""The admin console's use cases: the operator's existing ones wrapped so that every change is
written to the audit log, and the reads the console needs over every account."""
