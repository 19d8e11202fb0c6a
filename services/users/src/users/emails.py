"""An email's identity: which addresses are one account.

Unicode NFKC normalisation, then ``str.casefold()``, over the whole address
(the contract): ``STRASSE@x.io`` and ``straße@x.io`` are one identity, and so
are ``ΣΊΣΥΦΟΣ@x.io`` and ``σίσυφος@x.io``. Computed here only, in Python, and
stored in ``users.email_identity`` under the unique index: Postgres's
``lower()`` folds differently (and by locale), so the database never computes it.
"""

import unicodedata


def email_key(email: str) -> str:
    """The identity of ``email``: what registration, login and the lockout compare."""
    return unicodedata.normalize("NFKC", email).casefold()
