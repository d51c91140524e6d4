"""Running audits in the services: claims in the database and CONTINUOUS schedules.

``claims`` records live workers and who runs what; ``audit_worker`` runs a
claimed audit; ``continuous`` keeps an APScheduler job per CONTINUOUS audit
in the service's database.
"""
