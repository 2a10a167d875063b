"""Every change of state in Imprimatur, one function per use case, in named parts:

- `content`: a revision's content — validation, reference resolution, the content hash, the
  stored-content check, writing the revision;
- `articles`: creating an article, editing its text and its related articles;
- `transitions`: the table of the article's transitions and the one runner that runs them;
- `bulk`: the set-based forms of the same transitions, for the background jobs;
- `reviews`: review assignments and the board's signed decisions;
- `conflicts`, `credentials`: the board's records (conflict-of-interest declarations; profiles,
  credential proposals and their verification).

Each service runs the same steps inside one transaction — authorize, lock, check, change, save,
audit, notify — so the admin, the editor UI, the API and the Celery tasks behave identically.
Services take keyword-only arguments and the acting user (`actor`; None for the system). This
package keeps the public names callers use (`services.article_submit(...)`).
"""

from governance.workflow.services import bulk, conflicts, content, credentials, figures  # noqa: F401  (services.bulk.…)
from governance.workflow.services.articles import (
    article_create,
    article_edit,
    article_edit_with_related,
    article_set_related,
)
from governance.workflow.services.content import (
    REFERENCE_FIELDS,
    ArticleContent,
    VariantInput,
    content_of,
    reference_hash_entry,
    revision_hash,
    stored_content_check,
    with_passages,
)
from governance.workflow.services.reviews import (
    ASSIGNABLE_STATES,
    assignment_cancel,
    assignment_create,
    review_record,
)
from governance.workflow.services.transitions import (
    TRANSITIONS,
    article_archive,
    article_publish,
    article_request_changes,
    article_request_re_review,
    article_revise,
    article_schedule,
    article_start_review,
    article_submit,
    article_transition,
    article_withdraw,
    publish_scheduled_due,
)

__all__ = [
    "ASSIGNABLE_STATES", "REFERENCE_FIELDS", "TRANSITIONS", "ArticleContent", "VariantInput", "article_archive",
    "article_create", "article_edit", "article_edit_with_related", "article_publish", "article_request_changes",
    "article_request_re_review", "article_revise", "article_schedule", "article_set_related", "article_start_review",
    "article_submit", "article_transition", "article_withdraw", "assignment_cancel", "assignment_create",
    "content_of", "publish_scheduled_due", "reference_hash_entry", "review_record", "revision_hash",
    "stored_content_check", "with_passages",
]
