"""The admin of the board's records: board profiles, credential change proposals and their
verification, conflict-of-interest declarations.

A member keeps their affiliation and bio; their eligibility facts (signature name, post-nominals,
licence, specialties) are read-only to them: they *propose* a change, which the managing editor or
a credentials verifier — never the member — verifies or rejects. A declaration of interest is
declared, then only ended (from today, with a reason). Every question of who may do what goes to
`governance.workflow.policies`, every change to `governance.workflow.credentials` / `governance.workflow.conflicts`.

One module each: `conflicts` (declarations), `profiles` (board profiles), `credential_changes`
(proposals and their verification); `common` what they share. Importing the package registers them.
"""

from reviewers.admin_board import conflicts, credential_changes, profiles  # noqa: F401  (registers the admins)
