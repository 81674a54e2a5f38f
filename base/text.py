"""Normalising a typed identifier: the one rule the linkage, the hash and the mask share."""
from __future__ import annotations

import re
import unicodedata

# Separators people type inside numbers; NFKC already folded the full-width ones.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")
# Spreadsheet exports wrap numbers to keep them text: '210802..., ="210802...", "..."
_WRAPPERS = "'\"=`"


def normalize_raw(raw: str) -> str:
    """NFKC (folds full-width digits, letters, '＊', '－'), upper-case, separators removed."""
    s = unicodedata.normalize("NFKC", raw).strip().strip(_WRAPPERS)
    return _SEPARATORS.sub("", s).upper()
