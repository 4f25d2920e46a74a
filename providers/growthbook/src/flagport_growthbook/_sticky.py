"""GrowthBook's own sticky bucketing, kept in flagport's sticky store.

With the client's ``sticky`` settings on, the provider hands GrowthBook's evaluator a
:class:`StoreStickyBucketService` (the SDK's ``AbstractStickyBucketService``): the
SDK then applies its own rules (``bucketVersion``, ``minBucketVersion`` and blocked
enrolment, ``fallbackAttribute``, ``disableStickyBucketing``) and flagport's store
(memory, SQLite, Redis or a plugin's) keeps the documents.

A GrowthBook document (``attributeName``, ``attributeValue`` and its assignments
``"<experiment key>__<bucket version>" -> variation key``) is one unit of the store:
the user's own unit when the attribute is ``id`` (which carries ``user_id``, so a
request scope's one read covers it), else ``"<attribute>||<value>"`` as the SDK keys
documents. Each assignment is one entry named ``growthbook:<experiment key>__<version>``,
apart from the entries flagport names after its experiments: the format the local
provider keeps for imported GrowthBook experiments too (:mod:`flagport.sticky.growthbook`),
so both read each other's assignments; an entry an earlier local provider named after
the experiment key is read as the assignments it stands for. Reads go through the
client's :class:`~flagport.sticky.engine.Stickiness` (a store that fails is counted
and served as empty); writes are queued behind the request like flagport's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from growthbook.common_types import (
    AbstractStickyBucketService,
    EvaluationContext,
    GlobalContext,
    Result,
    StackContext,
    UserContext,
)
from growthbook.core import _getHashValue

from flagport.sticky.growthbook import ENTRY_PREFIX, assignment_version, document, entry_name
from flagport.sticky.policy import unit_key as store_unit_key
from flagport.sticky.store import Assignment

if TYPE_CHECKING:
    from flagport.sticky.engine import Stickiness
    from flagport.user import User

__all__ = ["ENTRY_PREFIX", "StoreStickyBucketService", "identifier_attributes", "unit_key"]

#: ``user.provider_cache`` key: (service, the user's context with documents, the
#: attributes whose documents it holds).
_CONTEXT_KEY = "flagport_growthbook.sticky_context"


def unit_key(attribute: str, value: str) -> str:
    """The store unit of GrowthBook's document for ``attribute`` = ``value``: the
    attribute ``id`` is flagport's ``user_id``; another is the custom id of that name,
    keyed alike by the local provider's experiments."""
    return store_unit_key("user_id" if attribute == "id" else attribute, value)


def identifier_attributes(features: Mapping[str, Any]) -> tuple[str, ...]:
    """The attributes GrowthBook keeps sticky documents for, derived from the
    experiment rules as the SDK derives them (hash and fallback attributes)."""
    found: dict[str, None] = {}
    for feature in features.values():
        for rule in getattr(feature, "rules", None) or ():
            if rule.variations or rule.contextualVariations:
                found[rule.hashAttribute or "id"] = None
                if rule.fallbackAttribute:
                    found[rule.fallbackAttribute] = None
    return tuple(found)


class StoreStickyBucketService(AbstractStickyBucketService):
    """GrowthBook's sticky-bucket service interface on a flagport client's store.

    :param sticky: the client's stickiness (its store, scope reads, write queue).
    :param attributes: the identifier attributes to load; None derives them from the
        definitions, as the SDK does.
    """

    def __init__(self, sticky: Stickiness, attributes: Iterable[str] | None = None) -> None:
        self.sticky = sticky
        self.attributes = tuple(attributes) if attributes is not None else None

    # -- the SDK's interface -------------------------------------------------------------
    def get_assignments(
        self,
        attributeName: str,  # the SDK's parameter names
        attributeValue: str,
    ) -> dict[str, Any] | None:
        assignments = document(self.sticky.assignments(unit_key(attributeName, attributeValue)))
        if not assignments:
            return None
        return {
            "attributeName": attributeName,
            "attributeValue": attributeValue,
            "assignments": assignments,
        }

    def save_assignments(self, doc: dict[str, Any]) -> None:
        unit = unit_key(str(doc["attributeName"]), str(doc["attributeValue"]))
        for key, variation in dict(doc.get("assignments") or {}).items():
            assignment = Assignment(str(variation), {}, assignment_version(str(key)))
            self.sticky.remember(unit, entry_name(str(key)), assignment)

    # -- flagport's side -----------------------------------------------------------------
    def count_served(self, exp: Result[Any] | None) -> None:
        """Count a group GrowthBook served from the store in ``stats()["sticky"]["served"]``,
        as flagport's own layer counts the groups it serves from the store."""
        if exp is not None and exp.stickyBucketUsed and exp.inExperiment:
            self.sticky.served += 1

    def user_context(
        self, user: User, ctx: UserContext, context: GlobalContext, derived: tuple[str, ...]
    ) -> UserContext:
        """The user's GrowthBook context with his documents loaded: once per user object
        and identifier attribute (the SDK adds its own writes to them). A context of its
        own per service, so that two clients never share documents through a user."""
        wanted = self.attributes if self.attributes is not None else derived
        cached: tuple[StoreStickyBucketService, UserContext, frozenset[str]] | None
        cached = user.provider_cache.get(_CONTEXT_KEY)
        sticky_ctx: UserContext
        if cached is not None and cached[0] is self and cached[1].attributes is ctx.attributes:
            _, sticky_ctx, loaded = cached
            if loaded.issuperset(wanted):
                return sticky_ctx
        else:
            sticky_ctx, loaded = UserContext(attributes=ctx.attributes), frozenset()
        evaluation = EvaluationContext(sticky_ctx, context, StackContext(None, set()))
        docs = sticky_ctx.sticky_bucket_assignment_docs
        for attribute in wanted:
            if attribute in loaded:
                continue
            _, value = _getHashValue(evaluation, attribute)
            if not value:
                continue
            doc = self.get_assignments(attribute, value)
            if doc is not None:
                docs[self.get_key(attribute, value)] = doc
        user.provider_cache[_CONTEXT_KEY] = (self, sticky_ctx, loaded | frozenset(wanted))
        return sticky_ctx
