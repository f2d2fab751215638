"""Facts read from a guide's prose rather than its tables: the roles it names, the tenant it
forwards, the keys an object parameter must include. They work on plain text with Markdown
emphasis removed, so the page-text form and the Markdown form of a guide give the same answer.
"""

from __future__ import annotations

import re

# "users with the `superAdmin`, `admin`, or `saasAdmin` roles", "the tenantOwner or tenantAdmin
# roles", "guest, host, … or admin role": a list of single words right before "role(s)".
_ROLE_LIST_RE = re.compile(
    r"\b((?:[A-Za-z][A-Za-z0-9_]*\s*(?:,\s*(?:or\s+|and\s+)?|\s+or\s+|\s+and\s+|/)\s*)*[A-Za-z][A-Za-z0-9_]*)\s+roles?\b"
)
_ROLE_SPLIT_RE = re.compile(r"\s*(?:,\s*(?:or\s+|and\s+)?|\s+or\s+|\s+and\s+|/)\s*")
# Words that stand before "role" without being one ("the roles", "these admin roles").
_NOT_ROLES = frozenset({
    "a", "an", "the", "these", "those", "this", "that", "their", "its", "his", "her", "our", "your", "my", "any",
    "all", "some", "each", "every", "other", "same", "specific", "certain", "required", "allowed", "given",
    "correct", "proper", "appropriate", "different", "multiple", "such", "both", "no", "of", "own", "following",
    "above", "below", "new", "custom", "several", "many", "various", "relevant", "valid", "assigned", "one",
    "two", "three", "which", "what", "whose", "with", "by", "for", "to", "in", "on", "as", "is", "are", "be",
    "has", "have", "per",
})
_MARKUP_RE = re.compile(r"[`*]")
_PLATFORM_PREFIXES = ("super", "saas")
_TENANT_HEADER_RE = re.compile(r"^(?:mbx-|x-)?(?P<object>[a-z][a-z0-9]*)-(?:codename|code|name|id)$", re.I)


def roles_named(text: str) -> list[str]:
    """The role names a guide's prose uses, in order of first mention, without duplicates."""
    plain = _MARKUP_RE.sub("", text)
    found: list[str] = []
    for match in _ROLE_LIST_RE.finditer(plain):
        for word in _ROLE_SPLIT_RE.split(match.group(1)):
            if len(word) >= 3 and word.lower() not in _NOT_ROLES and word not in found:
                found.append(word)
    return found


def is_platform_role(role: str) -> bool:
    """A role above the tenants (`superAdmin`, `saasAdmin`): its users belong to no tenant.
    Mindbricks names those roles so; every other role of a multi-tenant project is a tenant's."""
    return role.lower().startswith(_PLATFORM_PREFIXES)


def tenant_object(header: str) -> str:
    """The object a tenant header names (`mbx-school-codename` → `school`, `x-clinic-code` →
    `clinic`); `company` (the Mindbricks default) when it names none."""
    match = _TENANT_HEADER_RE.match(header.strip())
    return match.group("object").lower() if match and match.group("object").lower() != "mbx" else "company"


def required_keys(description: str) -> list[str]:
    """Keys a guide says an Object parameter must include ("Must include paymentMethodId.")."""
    match = re.search(r"[Mm]ust include ([\w, ]+?)(?:\.|$)", _MARKUP_RE.sub("", description))
    if not match:
        return []
    return [w for w in re.split(r",\s*|\s+and\s+", match.group(1)) if re.fullmatch(r"\w+", w)]
