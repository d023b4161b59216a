"""The self-hosted competition server (`inpaint serve`) and the platform exports.

Top level: the rules and the business logic (settings, setup, db, service, judge, judge_pool,
verdicts, organizer, copy_checks, sign_ins, ...), independent of HTTP. Only the judging processes
parse an upload (judge, behind judge_pool); everything else reads what they stored. api/: the JSON API and the app in front of
everything; web/: the pages and their templates. Imports no TensorFlow: it reads, validates,
scores and grades with `submission/`.
"""
