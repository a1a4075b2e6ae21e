"""One stream per Clever record type, plus the events feed."""

from __future__ import annotations

import typing as t
from functools import cached_property
from urllib.parse import ParseResult

from tap_clever.client import CleverStream
from tap_clever.schema import event_schema, record_schema

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context


class DistrictsStream(CleverStream):
    """The district a token belongs to (one record per district)."""

    name = "districts"
    path = "/districts"
    schema = record_schema("District")

    def get_url_params(
        self, context: Context | None, next_page_token: ParseResult | None
    ) -> dict[str, t.Any]:
        return {}  # /districts takes no paging parameters: a token sees one district.

    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        # Later error messages name the district, not just its id.
        self._tap.remember_district_name(row["id"], row.get("name"))
        return row


class SchoolsStream(CleverStream):
    name = "schools"
    path = "/schools"
    schema = record_schema("School")


class TermsStream(CleverStream):
    name = "terms"
    path = "/terms"
    schema = record_schema("Term")


class CoursesStream(CleverStream):
    name = "courses"
    path = "/courses"
    schema = record_schema("Course")


class SectionsStream(CleverStream):
    name = "sections"
    path = "/sections"
    schema = record_schema("Section")


class ResourcesStream(CleverStream):
    name = "resources"
    path = "/resources"
    schema = record_schema("Resource")


class UsersStream(CleverStream):
    """Every user with all their roles; `user_roles` narrows it to users holding those roles."""

    name = "users"
    path = "/users"
    schema = record_schema("User")

    _role: str | None = None

    @cached_property
    def roles(self) -> list[str]:
        return list(dict.fromkeys(self.config.get("user_roles") or []))

    def filter_params(self) -> dict[str, t.Any]:
        return {"role": self._role} if self._role else {}

    def read_district(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        if len(self.roles) <= 1:
            self._role = self.roles[0] if self.roles else None
            yield from self.request_records(context)
            return
        # Clever filters on one role per request. A user holding two of the wanted roles comes
        # back once per role: emit it once (only such users need remembering).
        emitted_multi_role: set[str] = set()
        for role in self.roles:
            self._role = role
            for user in self.request_records(context):
                held = [r for r in self.roles if r in (user.get("roles") or {})]
                if len(held) > 1:
                    if user["id"] in emitted_multi_role:
                        continue
                    emitted_multi_role.add(user["id"])
                yield user
        self._role = None


class EventsStream(CleverStream):
    """Clever's change feed, oldest first, read from each district's bookmark onwards."""

    name = "events"
    path = "/events"
    schema = event_schema()
    replication_key = "id"
    # Event ids are ObjectIDs: fixed-width hex that sorts in feed order, so the bookmark is
    # simply the last id read, and a run stopped at any page resumes right after it.
    is_sorted = True

    def filter_params(self) -> dict[str, t.Any]:
        record_types = self.config.get("event_record_types") or []
        return {"record_type": list(record_types)} if record_types else {}

    def get_url_params(
        self, context: Context | None, next_page_token: ParseResult | None
    ) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        bookmark = self.get_starting_replication_key_value(context)
        if bookmark:
            params["starting_after"] = bookmark
        return params
