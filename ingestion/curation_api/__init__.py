"""The curation API's services: every write a curator makes through a bearer key (aliases, pins, lifecycle,
merges), recorded like an admin edit (the key owner as history user, the required reason as change reason), and the
curators' work queue. Views in ingestion/api/ stay thin over these."""
